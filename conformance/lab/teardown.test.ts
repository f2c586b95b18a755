import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.ts';
import { downAll, downRun } from './teardown.ts';
import { tempDirs } from '../../reference/testing/temp-dirs.ts';

const tempDir = tempDirs();

describe('downAll', () => {
  it('leaves runs of live processes alone, takes down orphaned ones, skips runs already down', async () => {
    const root = tempDir('pp-down-');
    const live = Ledger.create(root, 'live01', 'netns', 'f');
    live.record({ t: 'netns', name: 'pp-live01-never-created' });
    const orphan = Ledger.create(root, 'orph01', 'netns', 'f');
    orphan.record({ t: 'netns', name: 'pp-orph01-never-created' });
    orphan.transferOwnership(0);
    const done = Ledger.create(root, 'done01', 'netns', 'f');
    done.record({ t: 'down', at: new Date().toISOString() });

    const results = await downAll(root);
    expect(results.sort((a, b) => a.runId.localeCompare(b.runId))).toEqual([
      { runId: 'live01', removed: [], skipped: `owned by live process ${process.pid}` },
      { runId: 'orph01', removed: [] },
    ]);
    expect(orphan.summary().down).toBe(true);
    expect(live.summary().down).toBe(false);
  });

  it('downRun names a run that does not exist', async () => {
    const root = tempDir('pp-down-');
    await expect(downRun('nope', root)).rejects.toThrow(`no run "nope" in ${root}`);
  });
});
