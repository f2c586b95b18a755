import { join } from 'node:path';
import { backendFactory } from './backends/index.ts';
import { defaultRunsRoot, Ledger, listRuns, type RunSummary } from './ledger.ts';
import { namespaceExists, pidAlive } from './netns.ts';

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
  ledger.record({ t: 'down', at: new Date().toISOString() });
  return { runId: run.runId, removed };
}

export async function downRun(runId: string, runsRoot: string = defaultRunsRoot): Promise<DownResult> {
  const run = new Ledger(join(runsRoot, runId)).summary();
  if (!run.runId) throw new Error(`no run "${runId}" in ${runsRoot}`);
  return down(run);
}

/** Every run not already down whose owning process is gone; live runs of other processes are left alone. */
export async function downAll(runsRoot: string = defaultRunsRoot, opts: { includeLive?: boolean } = {}): Promise<DownResult[]> {
  const results: DownResult[] = [];
  for (const run of listRuns(runsRoot)) {
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
  const pids = entries.flatMap((e) => (e.t === 'proc' && e.pid !== undefined && pidAlive(e.pid) ? [e.pid] : []));
  return { namespaces, pids };
}
