import { join, resolve } from 'node:path';
import { backendFactory } from './backends/index.ts';
import { defaultRunsRoot, indexedRuns, Ledger, listRuns, type RunSummary } from './ledger.ts';
import { namespaceExists } from './netns.ts';
import { ownProcessAlive } from './proc.ts';

// Removal of runs from their ledgers: one run by id (`lab down RUN`), or every run whose owner
// is gone (`lab down --all`, after a crash or for labs `lab up` left running).

export interface DownResult {
  runId: string;
  removed: string[];
  skipped?: string;
}

async function down(run: RunSummary): Promise<DownResult> {
  const removed = await backendFactory(run.backend).cleanupRun(run);
  // Speakers under test from the user's image (docker:IMAGE) run in containers beside a netns lab.
  if (run.backend !== 'docker' && run.entries.some((e) => e.t === 'resource' && e.backend === 'docker'))
    removed.push(...(await backendFactory('docker').cleanupRun(run)));
  const ledger = new Ledger(run.runDir);
  ledger.collectState();
  ledger.markDown();
  return { runId: run.runId, removed };
}

export async function downRun(runId: string, runsRoot: string = defaultRunsRoot): Promise<DownResult> {
  const run = new Ledger(join(runsRoot, runId)).summary();
  if (!run.runId) throw new Error(`no run "${runId}" in ${runsRoot}`);
  return down(run);
}

/**
 * Every run not already down whose owning process is gone; live runs of other processes are left
 * alone. With `indexed`, also the crashed runs of every other runs folder (the run index: report
 * dirs of `peerproof run --report DIR`, a killed shard's among them).
 */
export async function downAll(runsRoot: string = defaultRunsRoot, opts: { includeLive?: boolean; indexed?: boolean } = {}): Promise<DownResult[]> {
  const results: DownResult[] = [];
  const runs = listRuns(runsRoot);
  // From other runs folders only crashed runs (owner gone): a lab left up there (`lab up
  // --runs-dir`, owner 0) is that folder's to take down.
  if (opts.indexed)
    for (const run of indexedRuns()) if (run.ownerPid > 0 && !run.ownerAlive && !runs.some((r) => resolve(r.runDir) === run.runDir)) runs.push(run);
  for (const run of runs) {
    if (run.down) continue;
    if (run.ownerAlive && !opts.includeLive) {
      results.push({ runId: run.runId, removed: [], skipped: `owned by live process ${run.ownerPid}` });
      continue;
    }
    results.push(await down(run));
  }
  return results;
}

/** What of a run is still on the machine: namespaces and processes its ledger names. */
export function leftovers(runDir: string): { namespaces: string[]; pids: number[] } {
  const entries = new Ledger(runDir).entries();
  const namespaces = entries.flatMap((e) => (e.t === 'netns' && namespaceExists(e.name) ? [e.name] : []));
  const pids = entries.flatMap((e) => (e.t === 'proc' && e.pid !== undefined && ownProcessAlive(e.pid, e.start) ? [e.pid] : []));
  return { namespaces, pids };
}
