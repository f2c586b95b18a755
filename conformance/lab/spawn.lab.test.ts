// lab.spawn: a process a case starts in a node belongs to the lab (the ledger lists it, stop()
// ends it), and one that dies unasked is named by assertRunning and by the readiness waits
// instead of a timeout; stopping it on purpose is not a death.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLab } from './lab.ts';
import { emptyNode, type LabTopology } from './model.ts';
import { isRoot, pidAlive } from './netns.ts';
import { leftovers } from './teardown.ts';

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-spawn-'));
chmodSync(runsRoot, 0o755);
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

const topology: LabTopology = { name: 'spawn', nodes: [emptyNode('n1', 'host')], links: [] };

describe.skipIf(!isRoot())('lab.spawn', () => {
  it('names a process that exits unasked, ignores one stopped on purpose, and ends the rest at stop()', async () => {
    const lab = await startLab(topology, { runsRoot });
    try {
      const dir = lab.ledger.nodeDir('n1');
      const stopped = await lab.spawn('n1', ['sleep', '30'], { label: 'sleeper', logFile: join(dir, 'sleeper.log') });
      const kept = await lab.spawn('n1', ['sleep', '30'], { label: 'keeper', logFile: join(dir, 'keeper.log') });
      await stopped.stop('SIGTERM', 1000);
      lab.assertRunning();
      const doomed = await lab.spawn('n1', ['sh', '-c', 'exit 3'], { label: 'doomed', logFile: join(dir, 'doomed.log') });
      expect(await doomed.exited).toBe(3);
      expect(() => lab.assertRunning()).toThrow(new RegExp(`process n1 doomed pid ${doomed.pid} exited early \\(code 3\\)`));
      expect(lab.ledger.entries().some((e) => e.t === 'proc' && e.label === 'keeper' && e.pid === kept.pid)).toBe(true);
      expect(pidAlive(kept.pid)).toBe(true);
      await lab.stop();
      expect(pidAlive(kept.pid)).toBe(false);
      expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
    } finally {
      await lab.stop();
    }
  });
});
