import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, listRuns, processStartTime } from './ledger.ts';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function root(): string {
  const r = mkdtempSync(join(tmpdir(), 'pp-ledger-'));
  roots.push(r);
  return r;
}

describe('Ledger', () => {
  it('records entries in order and reads them back', () => {
    const ledger = Ledger.create(root(), 'abc123', 'netns', 'fixtures/x');
    ledger.record({ t: 'netns', name: 'pp-abc123-r1' });
    ledger.record({ t: 'proc', node: 'r1', label: 'bgpd', argv: ['bgpd'], pid: 42 });
    const s = ledger.summary();
    expect(s).toMatchObject({ runId: 'abc123', backend: 'netns', fixture: 'fixtures/x', ownerPid: process.pid, ownerAlive: true, down: false });
    expect(s.entries.map((e) => e.t)).toEqual(['run', 'netns', 'proc']);
  });

  it('refuses to reuse a run folder', () => {
    const r = root();
    Ledger.create(r, 'same', 'netns', 'f');
    expect(() => Ledger.create(r, 'same', 'netns', 'f')).toThrow(/already exists/);
  });

  it('a detached run has no live owner; a down run says so', () => {
    const r = root();
    const ledger = Ledger.create(r, 'r1', 'netns', 'f');
    ledger.transferOwnership(0);
    expect(ledger.summary().ownerAlive).toBe(false);
    ledger.record({ t: 'down', at: new Date().toISOString() });
    expect(listRuns(r).map((s) => [s.runId, s.down])).toEqual([['r1', true]]);
  });

  it('skips a line torn by a crash', () => {
    const ledger = Ledger.create(root(), 'torn', 'netns', 'f');
    ledger.record({ t: 'netns', name: 'pp-torn-a' });
    appendFileSync(ledger.file, '{"t":"netns","na');
    expect(ledger.entries().filter((e) => e.t === 'netns')).toHaveLength(1);
  });

  it('tells a recycled pid from the owner by its start time', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 1)).toBeNull();
  });
});
