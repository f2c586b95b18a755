// Watches peerproof's dockerd on behalf of users that can no longer give their lease back: a run
// killed with SIGKILL runs no `finally`, so when it was the engine's last user nobody would stop
// the engine. Started (detached) next to the engine by ensureEngine(); every few seconds it sweeps
// the leases, and once no live process, no lab left up and no `docker start` holds the engine
// (twice in a row) it stops it through releaseEngine() (same lock, same host-settings restore as
// any last user) and exits. It exits too when the engine it watches is gone.
//
//   engine-watchdog.ts DATA_ROOT RUN_DIR DOCKERD_PID
import { existsSync } from 'node:fs';
import { engineRunning, releaseEngine, sweepLeases, watchedEnginePid, type EnginePaths } from './docker-engine.ts';

const [dataRoot, runDir, pidText] = process.argv.slice(2);
if (!dataRoot || !runDir || !pidText) throw new Error('usage: engine-watchdog.ts DATA_ROOT RUN_DIR DOCKERD_PID');
const paths: EnginePaths = { dataRoot, runDir };
const dockerd = Number(pidText);
const everyMs = Number(process.env.PEERPROOF_WATCHDOG_MS ?? 2000);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} watchdog ${process.pid}: ${line}\n`);

let idleBefore = false;
for (;;) {
  await new Promise((r) => setTimeout(r, everyMs));
  if (!engineRunning(paths) || watchedEnginePid(paths) !== dockerd) {
    log(`dockerd ${dockerd} is gone: exiting`);
    break;
  }
  const { users, runs, stale } = sweepLeases(paths);
  if (stale.length > 0) log(`released stale leases ${stale.join(', ')}`);
  const idle = users.length === 0 && runs.length === 0 && !existsSync(`${runDir}/kept`);
  if (idle && idleBefore) {
    const result = await releaseEngine(paths, null);
    log(`no live lease: ${result.outcome}${result.restored.length ? ` (restored ${result.restored.join('; ')})` : ''}`);
    if (result.outcome === 'stopped') break;
  }
  idleBefore = idle;
}
