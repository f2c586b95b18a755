// A private Docker engine for the lab's docker backend: peerproof starts its own dockerd (no
// engine is preinstalled here or in CI), with its own data root, exec root, pidfile and socket so
// it clashes with nothing else on the machine. dockerd runs with --iptables=false
// --ip-forward=false --bridge=none: lab links are veth pairs moved into the containers'
// namespaces, so Docker networking is not needed, and the host's forwarding and firewall stay as
// they are. The host settings dockerd could touch are still recorded before it first starts and
// put back when stopEngine() stops it, in case a future Docker ignores one of these flags.
// Several peerproof processes share the one engine: each user holds a lease (a file named by its
// PID and a holder name in the run dir), and releaseEngine() stops the engine only for the last
// of them (dead processes' leases do not count), never while another run, or another part of the
// same process, still uses it; an engine started on purpose (`peerproof docker start`) is kept
// until `peerproof docker stop`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { typescriptCommand } from './process-output.ts';
import { processStartTime } from './proc.ts';
import { readHostSettings, restoreHostSettings, run, type HostSettings } from './host-settings.ts';

export { readHostSettings, restoreHostSettings, type HostSettings };

export interface EnginePaths {
  dataRoot: string;
  runDir: string;
}

export const defaultEnginePaths: EnginePaths = {
  dataRoot: '/var/lib/peerproof-docker',
  runDir: '/run/peerproof-docker',
};

export interface Engine {
  pid: number;
  socketPath: string;
  docker: Docker;
  /** True when this call started dockerd (false when it reused a running one). */
  started: boolean;
}

const enginePackages = ['docker.io'];

function files(paths: EnginePaths) {
  return {
    socket: join(paths.runDir, 'docker.sock'),
    pidfile: join(paths.runDir, 'dockerd.pid'),
    execRoot: join(paths.runDir, 'exec'),
    log: join(paths.runDir, 'dockerd.log'),
    hostSettings: join(paths.runDir, 'host-settings.json'),
    leases: join(paths.runDir, 'leases'),
    /** PID and start time of the engine's watchdog (engine-watchdog.ts). */
    watchdog: join(paths.runDir, 'watchdog.pid'),
    /** Present while the engine is kept running on purpose (not stopped by the last run's release). */
    kept: join(paths.runDir, 'kept'),
  };
}

/** Installs Debian packages that are missing (idempotent; a no-op when all are present). */
export function ensureDebianPackages(packages: string[]): void {
  const missing = packages.filter(
    (p) => !run('dpkg-query', ['-W', '-f=${Status}', p]).stdout.includes('install ok installed'),
  );
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', ...missing], {
      env,
      encoding: 'utf8',
    });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq', '-o', 'DPkg::Lock::Timeout=600'], { env });
    r = install();
  }
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${r.stderr.trim()}`);
}

function isOurDockerd(pid: number, socket: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline[0]?.endsWith('dockerd') === true && cmdline.includes(`--host=unix://${socket}`);
  } catch {
    return false;
  }
}

function runningPid(paths: EnginePaths): number | null {
  const f = files(paths);
  if (!existsSync(f.pidfile)) return null;
  const pid = Number(readFileSync(f.pidfile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isOurDockerd(pid, f.socket) ? pid : null;
}

/**
 * Runs `fn` while holding `lock` (a file naming the holder's PID; a dead holder's lock is taken
 * over), so two processes (two test files, a test and a bench) do not start or build twice.
 */
export async function withFileLock<T>(lock: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = '';
      try {
        holder = readFileSync(lock, 'utf8').trim();
      } catch {
        continue; // released between our two looks
      }
      // An empty file is a holder between creating and writing it: wait, do not take it over.
      if (holder && !existsSync(`/proc/${holder}`)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`lock ${lock} still held by pid ${holder || '?'} after ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPing(docker: Docker, pid: number, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await docker.ping();
      return;
    } catch (err) {
      lastError = err;
    }
    if (!existsSync(`/proc/${pid}`)) break;
    await sleep(200);
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
  throw new Error(`dockerd (pid ${pid}) did not answer on its socket: ${String(lastError)}\n${tail}`);
}

export interface EngineUse {
  /** The engine stays up when its last user releases it, until stopEngine(). */
  keep?: boolean;
  /**
   * Which part of this process holds the lease (default `process`: held until the process
   * exits, for users that never release). releaseEngine(paths, holder) gives back that one only.
   */
  holder?: string;
}

/**
 * Returns a running peerproof engine, starting dockerd if none of ours runs (idempotent: an
 * engine started earlier, by this or another process, is reused through its pidfile), and
 * records the caller as one of its users (a lease, given back by releaseEngine()).
 */
export async function ensureEngine(paths: EnginePaths = defaultEnginePaths, opts: EngineUse = {}): Promise<Engine> {
  mkdirSync(paths.runDir, { recursive: true });
  return withFileLock(join(paths.runDir, 'start.lock'), async () => {
    const engine = await startOrReuse(paths);
    takeLease(paths, process.pid, opts.holder);
    if (opts.keep) writeFileSync(files(paths).kept, String(process.pid));
    return engine;
  });
}

const DEFAULT_HOLDER = 'process';
/** Prefix of a lease held by a lab left running (`lab up`), not by a process: live until released. */
const RUN_LEASE = 'run.';

function leaseFile(paths: EnginePaths, pid: number, holder: string): string {
  if (!/^[\w-]+$/.test(holder)) throw new Error(`engine lease holder "${holder}": expected letters, digits, _ or -`);
  return join(files(paths).leases, `${pid}.${holder}`);
}

function runLeaseFile(paths: EnginePaths, runId: string): string {
  if (!/^[\w-]+$/.test(runId)) throw new Error(`engine lease of run "${runId}": expected letters, digits, _ or -`);
  return join(files(paths).leases, `${RUN_LEASE}${runId}`);
}

/** Records `pid` (this process by default) as a user of the engine, for `holder`. */
export function takeLease(paths: EnginePaths = defaultEnginePaths, pid: number = process.pid, holder = DEFAULT_HOLDER): void {
  mkdirSync(files(paths).leases, { recursive: true });
  const started = processStartTime(pid);
  if (started === null) throw new Error(`process ${pid} does not exist: it cannot hold an engine lease`);
  writeFileSync(leaseFile(paths, pid, holder), started);
}

/**
 * Hands this process's `holder` lease over to lab run `runId`, which stays up after the process
 * exits (`lab up`): the run's lease keeps the engine until releaseEngine(paths, { runId }) (`lab
 * down`). The run lease is written before the process lease goes, so no release in between sees
 * the engine unused.
 */
export function handLeaseToRun(paths: EnginePaths = defaultEnginePaths, runId: string, holder = DEFAULT_HOLDER): void {
  mkdirSync(files(paths).leases, { recursive: true });
  writeFileSync(runLeaseFile(paths, runId), String(process.pid));
  rmSync(leaseFile(paths, process.pid, holder), { force: true });
}

export interface LeaseSweep {
  /** Processes that hold a lease and still run. */
  users: number[];
  /** Labs left running (`lab up`) that hold a lease. */
  runs: string[];
  /** Leases removed because their process is gone (or its PID now names another process). */
  stale: string[];
}

/**
 * Every lease check goes through here: a lease whose process is gone, or whose PID was reused by
 * a process started at another time (/proc/PID/stat field 22 differs from the one recorded), is
 * stale and removed.
 */
export function sweepLeases(paths: EnginePaths = defaultEnginePaths): LeaseSweep {
  const dir = files(paths).leases;
  const sweep: LeaseSweep = { users: [], runs: [], stale: [] };
  if (!existsSync(dir)) return sweep;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(RUN_LEASE)) {
      sweep.runs.push(name.slice(RUN_LEASE.length));
      continue;
    }
    const pid = Number(name.split('.')[0]);
    let recorded = '';
    try {
      recorded = readFileSync(join(dir, name), 'utf8').trim();
    } catch {
      continue; // given back meanwhile
    }
    if (Number.isInteger(pid) && pid > 0 && recorded !== '' && processStartTime(pid) === recorded) sweep.users.push(pid);
    else {
      rmSync(join(dir, name), { force: true });
      sweep.stale.push(name);
    }
  }
  sweep.users = [...new Set(sweep.users)].sort((a, b) => a - b);
  sweep.runs.sort();
  return sweep;
}

/** PIDs of the processes that hold a lease and still run; leases of dead processes (or reused PIDs) are removed. */
export function engineUsers(paths: EnginePaths = defaultEnginePaths): number[] {
  return sweepLeases(paths).users;
}

export interface ReleaseResult {
  /** stopped: this was the last user (stopEngine ran); in-use: other live users remain; kept: started on purpose. */
  outcome: 'stopped' | 'in-use' | 'kept';
  /** The processes still using the engine (this one too while another of its holders does). */
  users: number[];
  /** Host settings put back (when stopped). */
  restored: string[];
  /** Labs left running (`lab up`) that still hold the engine. */
  runs?: string[];
  /** Leases of gone processes removed on the way. */
  stale?: string[];
}

/**
 * `holder` of this process (or lab run `runId`, see handLeaseToRun) is done with the engine:
 * gives back its lease, and stops the engine (restoring the host settings) only when no live
 * lease is left and it is not kept. With `holder: null` it gives back nothing and only sweeps
 * stale leases (`lab down --all`).
 */
export async function releaseEngine(
  paths: EnginePaths = defaultEnginePaths,
  holder: string | null | { runId: string } = DEFAULT_HOLDER,
): Promise<ReleaseResult> {
  mkdirSync(paths.runDir, { recursive: true });
  return withFileLock(join(paths.runDir, 'start.lock'), async () => {
    if (typeof holder === 'string') rmSync(leaseFile(paths, process.pid, holder), { force: true });
    else if (holder) rmSync(runLeaseFile(paths, holder.runId), { force: true });
    const { users, runs, stale } = sweepLeases(paths);
    const extra = { ...(runs.length ? { runs } : {}), ...(stale.length ? { stale } : {}) };
    if (users.length > 0 || runs.length > 0) return { outcome: 'in-use', users, restored: [], ...extra };
    if (existsSync(files(paths).kept)) return { outcome: 'kept', users, restored: [], ...extra };
    const { restored } = await stopUnlocked(paths);
    return { outcome: 'stopped', users, restored, ...extra };
  });
}

/**
 * The running engine, without taking a lease (null when none runs): for a process that only
 * reaches containers of a lab another process owns and holds a lease for (a case attached to the
 * runner's lab, `lab exec` on a lab left up). Taking a lease there would keep the engine up after
 * the lab's owner released it, until this process exits.
 */
export async function runningEngine(paths: EnginePaths = defaultEnginePaths): Promise<Engine | null> {
  const pid = runningPid(paths);
  if (pid === null) return null;
  const f = files(paths);
  const docker = new Docker({ socketPath: f.socket });
  await waitForPing(docker, pid, f.log, 30_000);
  return { pid, socketPath: f.socket, docker, started: false };
}

/** Whether an engine of ours runs now (its pidfile names a live dockerd with our socket). */
export function engineRunning(paths: EnginePaths = defaultEnginePaths): boolean {
  return runningPid(paths) !== null;
}

/**
 * Processes of our engine: dockerd, the containerd it started and the containerd shims, found by
 * their command lines naming our exec root or socket (tests assert none is left; stopEngine ends
 * what a killed dockerd left behind).
 */
export function engineProcesses(paths: EnginePaths = defaultEnginePaths): Array<{ pid: number; argv: string[] }> {
  const f = files(paths);
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const bin = (argv[0] ?? '').split('/').pop() ?? '';
    if (!/^(dockerd|containerd|containerd-shim.*)$/.test(bin)) continue;
    if (argv.some((a) => a.includes(f.execRoot + '/') || a.endsWith(f.execRoot) || a.includes(f.socket))) out.push({ pid, argv });
  }
  return out;
}

async function startOrReuse(paths: EnginePaths): Promise<Engine> {
  const f = files(paths);
  const existing = runningPid(paths);
  if (existing !== null) {
    const docker = new Docker({ socketPath: f.socket });
    await waitForPing(docker, existing, f.log, 30_000);
    ensureWatchdog(paths, existing);
    return { pid: existing, socketPath: f.socket, docker, started: false };
  }
  ensureDebianPackages(enginePackages);
  mkdirSync(paths.dataRoot, { recursive: true });
  // Only the first start records: a snapshot left by an engine that died keeps the true originals.
  if (!existsSync(f.hostSettings)) writeFileSync(f.hostSettings, JSON.stringify(readHostSettings(), null, 2));
  rmSync(f.socket, { force: true });
  rmSync(f.pidfile, { force: true });
  const logFd = openSync(f.log, 'a');
  const child = spawn(
    'dockerd',
    [
      `--data-root=${paths.dataRoot}`,
      `--exec-root=${f.execRoot}`,
      `--pidfile=${f.pidfile}`,
      `--host=unix://${f.socket}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
    ],
    { detached: true, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('dockerd could not be started (is docker.io installed?)');
  child.unref();
  const docker = new Docker({ socketPath: f.socket });
  try {
    await waitForPing(docker, pid, f.log, 60_000);
  } catch (err) {
    await stopUnlocked(paths).catch(() => undefined);
    if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
    throw err;
  }
  ensureWatchdog(paths, pid);
  return { pid, socketPath: f.socket, docker, started: true };
}

/** The dockerd PID a watchdog may act for: the running engine's (null when none runs). */
export function watchedEnginePid(paths: EnginePaths = defaultEnginePaths): number | null {
  return runningPid(paths);
}

/** The engine's watchdog if it runs (its recorded start time matches), else null. */
export function watchdogPid(paths: EnginePaths = defaultEnginePaths): number | null {
  try {
    const [pid, started] = readFileSync(files(paths).watchdog, 'utf8').trim().split(' ');
    return pid && started && processStartTime(Number(pid)) === started ? Number(pid) : null;
  } catch {
    return null;
  }
}

/**
 * Starts the watchdog that stops the engine once its last user is gone without releasing (a run
 * killed with SIGKILL), unless one already watches. Called with the start lock held.
 */
function ensureWatchdog(paths: EnginePaths, dockerd: number): void {
  if (watchdogPid(paths) !== null) return;
  const f = files(paths);
  const [cmd, ...args] = typescriptCommand(new URL('./engine-watchdog.ts', import.meta.url), [paths.dataRoot, paths.runDir, String(dockerd)]);
  const logFd = openSync(join(paths.runDir, 'watchdog.log'), 'a');
  const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  if (child.pid === undefined) return;
  child.unref();
  writeFileSync(f.watchdog, `${child.pid} ${processStartTime(child.pid) ?? ''}`);
}

/** Unmounts every mount below `dir` (deepest first): what a killed dockerd or debootstrap left. */
export function unmountUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) run('umount', ['-l', m]);
  return mounts;
}

export interface StopResult {
  stopped: boolean;
  restored: string[];
}

/**
 * Stops peerproof's dockerd (by its pidfile's PID) whoever uses it (`peerproof docker stop`), and
 * puts back the host settings recorded before it first started; every lease and the keep mark
 * go with it. Idempotent: with no engine running it only restores. A run that is done with the
 * engine calls releaseEngine() instead.
 */
export async function stopEngine(paths: EnginePaths = defaultEnginePaths): Promise<StopResult> {
  mkdirSync(paths.runDir, { recursive: true });
  return withFileLock(join(paths.runDir, 'start.lock'), () => stopUnlocked(paths));
}

async function stopUnlocked(paths: EnginePaths): Promise<StopResult> {
  const f = files(paths);
  const pid = runningPid(paths);
  if (pid !== null) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isOurDockerd(pid, f.socket) && Date.now() < deadline) await sleep(100);
    if (isOurDockerd(pid, f.socket)) {
      process.kill(pid, 'SIGKILL');
      while (isOurDockerd(pid, f.socket)) await sleep(100);
    }
  }
  // A dockerd killed with SIGKILL leaves its containerd (and shims) running: end them by PID.
  const orphans = engineProcesses(paths).filter((p) => !p.argv[0]?.endsWith('dockerd'));
  for (const p of orphans) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const orphanDeadline = Date.now() + 10_000;
  while (orphans.some((p) => existsSync(`/proc/${p.pid}`)) && Date.now() < orphanDeadline) await sleep(100);
  for (const p of orphans) if (existsSync(`/proc/${p.pid}`)) process.kill(p.pid, 'SIGKILL');
  if (pid !== null || orphans.length > 0) {
    // A clean shutdown unmounts everything; after a SIGKILL, overlays and the data root's own
    // bind mount would stay.
    unmountUnder(paths.dataRoot);
    unmountUnder(f.execRoot);
  }
  let restored: string[] = [];
  if (existsSync(f.hostSettings)) {
    const saved = JSON.parse(readFileSync(f.hostSettings, 'utf8')) as HostSettings;
    restored = restoreHostSettings(saved);
    rmSync(f.hostSettings);
  }
  rmSync(f.pidfile, { force: true });
  rmSync(f.socket, { force: true });
  rmSync(f.leases, { recursive: true, force: true });
  rmSync(f.kept, { force: true });
  const watchdog = watchdogPid(paths);
  // The watchdog exits by itself once the engine is gone; one that called this waits for us.
  if (watchdog === process.pid) rmSync(f.watchdog, { force: true });
  return { stopped: pid !== null, restored };
}

export function engineSocketPath(paths: EnginePaths = defaultEnginePaths): string {
  return files(paths).socket;
}

/** The path of the recorded host settings (exists while an engine of ours may run). */
export function hostSettingsFile(paths: EnginePaths = defaultEnginePaths): string {
  return files(paths).hostSettings;
}
