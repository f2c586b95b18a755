import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from './ledger.ts';
import { processStartTime } from './proc.ts';
import { daemonProcesses } from './restart.ts';

const entries: LedgerEntry[] = [
  { t: 'proc', node: 'leaf0', label: 'zebra', argv: ['zebra'] },
  { t: 'proc', node: 'leaf0', label: 'zebra', argv: ['zebra'], pid: 11 },
  { t: 'proc', node: 'leaf0', label: 'bgpd', argv: ['bgpd'], pid: 12 },
  { t: 'proc', node: 'leaf0', label: 'tcpdump:eth1', argv: ['tcpdump'], pid: 13 },
  { t: 'proc', node: 'spine0', label: 'bgpd', argv: ['bgpd'], pid: 21 },
  // restarted after a kill: the old pid is dead, the new one is listed later
  { t: 'proc', node: 'leaf0', label: 'staticd', argv: ['staticd'], pid: 14 },
  { t: 'proc', node: 'leaf0', label: 'staticd', argv: ['staticd'], pid: 15 },
];

describe('daemonProcesses', () => {
  it('lists the live daemon pids of one node from the ledger, without captures or other nodes', () => {
    const alive = (pid: number) => pid !== 14;
    expect(daemonProcesses(entries, 'leaf0', alive)).toEqual([
      { pid: 11, label: 'zebra' },
      { pid: 12, label: 'bgpd' },
      { pid: 15, label: 'staticd' },
    ]);
  });

  it('is empty once every daemon of the node is gone', () => {
    expect(daemonProcesses(entries, 'leaf0', () => false)).toEqual([]);
    expect(daemonProcesses(entries, 'nobody', () => true)).toEqual([]);
  });

  it('does not take a recycled pid for the daemon: a live pid counts only with the start time the ledger recorded', () => {
    const start = processStartTime(process.pid)!;
    const me = (recorded: string | undefined): LedgerEntry[] => [{ t: 'proc', node: 'leaf0', label: 'zebra', argv: ['zebra'], pid: process.pid, ...(recorded === undefined ? {} : { start: recorded }) }];
    expect(daemonProcesses(me(start), 'leaf0')).toEqual([{ pid: process.pid, label: 'zebra', start }]);
    // the pid now belongs to a process started at another time (this one): not the ledger's zebra
    expect(daemonProcesses(me(String(Number(start) - 1)), 'leaf0')).toEqual([]);
    expect(daemonProcesses(me(''), 'leaf0')).toEqual([]);
    // a ledger written before start times were recorded: the pid alone decides
    expect(daemonProcesses(me(undefined), 'leaf0')).toEqual([{ pid: process.pid, label: 'zebra' }]);
  });
});
