// Node folders live under /run/peerproof/<run> while a lab is up, so daemons that drop privileges
// reach them from a clone under a mode-700 home; the run folder gets the files back at teardown.
// A hand-built lab names a process that died instead of timing out on it.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger, STATE_ROOT } from './ledger.ts';
import { assertNoneExited, createNamespace, deleteNamespace, isRoot, ProcessExitedError, spawnInNamespace } from './netns.ts';
import { downRun } from './teardown.ts';

const privateRoot = mkdtempSync('/root/peerproof-state-test-'); // mode 700, like a clone under /root

afterAll(() => rmSync(privateRoot, { recursive: true, force: true }));

describe.skipIf(!isRoot())('node folders under /run/peerproof', () => {
  it('a daemon running as another user reads its config from a run under a mode-700 folder; the report keeps it', async () => {
    const runId = `st${randomBytes(3).toString('hex')}`;
    const ledger = Ledger.create(privateRoot, runId, 'netns', 'state-test');
    const dir = ledger.nodeDir('r1');
    expect(dir.startsWith(`${STATE_ROOT}/${runId}/`)).toBe(true);
    expect(lstatSync(join(ledger.runDir, 'nodes')).isSymbolicLink()).toBe(true);
    const ns = `pp-${runId}-r1`;
    try {
      await createNamespace(ledger, ns);
      writeFileSync(join(dir, 'daemon.conf'), 'hello from the config\n');
      // `nobody` stands for FRR's `frr` user: it can read the file only if every ancestor is traversable.
      const proc = spawnInNamespace(ledger, ns, ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'cat', join(dir, 'daemon.conf')], {
        logFile: join(dir, 'daemon.log'),
        label: 'reader',
        node: 'r1',
      });
      expect(await proc.exited).toBe(0);
    } finally {
      await downRun(runId, privateRoot);
    }
    expect(existsSync(`${STATE_ROOT}/${runId}`)).toBe(false);
    expect(lstatSync(join(ledger.runDir, 'nodes')).isDirectory()).toBe(true);
    expect(readFileSync(join(ledger.runDir, 'nodes', 'r1', 'daemon.log'), 'utf8')).toBe('hello from the config\n');
  });

  it('names a process that exited early, with the end of its log', async () => {
    const runId = `st${randomBytes(3).toString('hex')}`;
    const ledger = Ledger.create(privateRoot, runId, 'netns', 'state-test');
    const ns = `pp-${runId}-r1`;
    try {
      await createNamespace(ledger, ns);
      const proc = spawnInNamespace(ledger, ns, ['sh', '-c', 'echo cannot open bgpd.conf >&2; exit 3'], {
        logFile: join(ledger.nodeDir('r1'), 'bgpd.log'),
        label: 'bgpd',
        node: 'r1',
      });
      await proc.exited;
      await new Promise((r) => setImmediate(r));
      expect(() => assertNoneExited([proc])).toThrow(ProcessExitedError);
      expect(() => assertNoneExited([proc])).toThrow(/bgpd \(pid \d+\) exited with code 3[^]*cannot open bgpd.conf/);
    } finally {
      await deleteNamespace(ns);
      await downRun(runId, privateRoot);
    }
  });
});
