import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Ledger } from './ledger.ts';
import { ownProcessAlive, processStartTime } from './proc.ts';

// Low-level helpers over iproute2 for network namespaces. Nothing here touches the host's own
// namespace: veth pairs are created inside one lab namespace with the peer placed directly into
// the other, and every namespace is recorded in the run's ledger before it is created.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
}

/** Runs a command and reports its outcome; never throws for a non-zero exit. */
export function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const reason = err && typeof err.code !== 'number' ? `${err.message}\n` : '';
        resolvePromise({ code, stdout, stderr: reason + stderr });
      },
    );
    if (opts.input !== undefined) {
      // A command that exits without reading its input (a namespace gone, a bad argument) makes
      // the write fail with EPIPE; its exit code and stderr say what happened, so no crash here.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input);
    }
  });
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr.trim()}`);
  }
}

/** Runs a command and returns stdout; throws CommandError naming the command and its stderr. */
export async function runChecked(argv: string[], opts: ExecOptions = {}): Promise<string> {
  const result = await run(argv, opts);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

export function inNamespace(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

export function nsExec(ns: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(inNamespace(ns, argv), opts);
}

export function nsExecChecked(ns: string, argv: string[], opts: ExecOptions = {}): Promise<string> {
  return runChecked(inNamespace(ns, argv), opts);
}

export function namespaceExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

export async function createNamespace(ledger: Ledger, ns: string): Promise<void> {
  ledger.record({ t: 'netns', name: ns });
  await runChecked(['ip', 'netns', 'add', ns]);
  await runChecked(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/** PIDs of every process whose network namespace is `ns` (what `ip netns pids` reports). */
export function namespacePids(ns: string): number[] {
  const nsFile = `/run/netns/${ns}`;
  let target: { dev: number; ino: number };
  try {
    const st = statSync(nsFile);
    target = { dev: st.dev, ino: st.ino };
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = statSync(`/proc/${entry}/ns/net`);
      if (st.ino === target.ino && st.dev === target.dev) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/**
 * PIDs per namespace for many namespaces with ONE walk of /proc (namespacePids walks it once
 * per namespace: at 500 namespaces and thousands of processes that was a million stat calls
 * on the event loop at teardown).
 */
export function pidsByNamespace(names: readonly string[]): Map<string, number[]> {
  const byInode = new Map<string, string>();
  const out = new Map<string, number[]>();
  for (const ns of names) {
    try {
      const st = statSync(`/run/netns/${ns}`);
      byInode.set(`${st.dev}:${st.ino}`, ns);
      out.set(ns, []);
    } catch {
      // gone already
    }
  }
  if (byInode.size === 0) return out;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = statSync(`/proc/${entry}/ns/net`);
      const ns = byInode.get(`${st.dev}:${st.ino}`);
      if (ns) out.get(ns)!.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/**
 * Deletes many namespaces: one /proc walk finds what runs in them (SIGTERM, SIGKILL after
 * `graceMs`), then `ip -batch -force` deletes them in a few processes instead of one each.
 * Missing ones are fine; a namespace still present afterwards is an error naming it.
 */
export async function deleteNamespaces(names: readonly string[], graceMs = 1500): Promise<void> {
  const present = names.filter(namespaceExists);
  if (present.length === 0) return;
  const pids = [...pidsByNamespace(present).values()].flat();
  for (const pid of pids) signal(pid, 'SIGTERM');
  const stubborn = await waitForExit(pids, graceMs);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  await waitForExit(stubborn, 2000);
  const chunks: string[][] = [];
  for (let i = 0; i < present.length; i += 64) chunks.push(present.slice(i, i + 64));
  await mapBounded(chunks, 4, (chunk) => run(['ip', '-force', '-batch', '-'], { input: chunk.map((ns) => `netns del ${ns}`).join('\n') + '\n' }));
  const left = present.filter(namespaceExists);
  // What the batch could not delete gets the one-by-one path, which reports the reason.
  for (const ns of left) await deleteNamespace(ns);
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; like Promise.allSettled +
 * throw-first, it waits for every started call before reporting the first failure, so no
 * creation is still running when the caller cleans up.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

/** True while a process with this PID exists and is not a zombie; a ledger's process: ownProcessAlive with its start time. */
export function pidAlive(pid: number): boolean {
  return ownProcessAlive(pid);
}

export async function waitForExit(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(pidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

/** Sends `sig` to `pid`; a process that is already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM every process in the namespace, then SIGKILL what is left after `graceMs`. */
export async function killNamespaceProcesses(ns: string, graceMs = 1500): Promise<void> {
  const pids = namespacePids(ns);
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  const stubborn = await waitForExit(pids, graceMs);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  await waitForExit(stubborn, 2000);
}

/** Kills what runs in the namespace and deletes it (its links go with it). Missing is fine. */
export async function deleteNamespace(ns: string): Promise<void> {
  if (!namespaceExists(ns)) return;
  await killNamespaceProcesses(ns);
  const result = await run(['ip', 'netns', 'del', ns]);
  if (result.code !== 0 && namespaceExists(ns)) throw new CommandError(['ip', 'netns', 'del', ns], result);
}

export interface NamespaceProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends `sig` (SIGTERM by default), escalates to SIGKILL after `graceMs`, resolves once gone. */
  stop(sig?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Set once the process has exited (before anyone asked it to stop, if `stopping` is still false). */
  exit?: { code: number | null };
  stopping?: boolean;
  label: string;
  logFile: string;
}

/**
 * For labs built by hand in tests: throws, naming the process and the end of its log, when one
 * of `procs` exited without being stopped, so a wait on the lab fails with the cause at once
 * instead of timing out on a refused connection.
 */
export class ProcessExitedError extends Error {
  override name = 'ProcessExitedError';
}

export function assertNoneExited(procs: readonly NamespaceProcess[]): void {
  const dead = procs.filter((p) => p.exit && !p.stopping);
  if (dead.length === 0) return;
  const tail = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n    ');
    } catch {
      return '(no log)';
    }
  };
  throw new ProcessExitedError(dead.map((p) => `${p.label} (pid ${p.pid}) exited with code ${p.exit!.code}; ${p.logFile}:\n    ${tail(p.logFile)}`).join('\n'));
}

export interface SpawnOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  label: string;
  node: string;
  /** stdout becomes a pipe (`child.stdout`) for a caller that reads it; stderr stays in `logFile`. */
  pipeStdout?: boolean;
}

/**
 * Starts a long-running process inside `ns` (`ip netns exec` execs into the command, so the PID
 * is the command's own). It runs in its own session so a terminal's Ctrl-C reaches us, not it,
 * and we stop it in order; `child.unref()` lets a CLI leave it running.
 */
export function spawnInNamespace(ledger: Ledger, ns: string, argv: string[], opts: SpawnOptions): NamespaceProcess {
  ledger.record({ t: 'proc', node: opts.node, label: opts.label, argv });
  const { child, exited } = spawnLogged(['ip', 'netns', 'exec', ns, ...argv], opts);
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]} in namespace ${ns}`);
  const pid = child.pid;
  ledger.record({ t: 'proc', node: opts.node, label: opts.label, argv, pid, start: processStartTime(pid) ?? '' });
  const stopper = processStopper(pid, exited);
  const proc: NamespaceProcess = {
    pid,
    child,
    exited,
    label: opts.label,
    logFile: opts.logFile,
    stop: (sig, graceMs) => {
      proc.stopping = true;
      return stopper(sig, graceMs);
    },
  };
  void exited.then((code) => (proc.exit = { code }));
  return proc;
}

/**
 * Starts `argv` detached (its own session) with stdout and stderr appended to `logFile`
 * (stdout piped instead with `pipeStdout`). `exited` resolves with the exit code, or null when
 * killed by a signal or when it could not start (then `child.pid` is undefined).
 */
export function spawnLogged(
  argv: string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string; pipeStdout?: boolean },
): { child: ChildProcess; exited: Promise<number | null> } {
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', opts.pipeStdout ? 'pipe' : fd, fd],
      detached: true,
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | null>((resolveExit) => {
    if (child.exitCode !== null) resolveExit(child.exitCode);
    child.once('exit', (code) => resolveExit(code));
    child.once('error', () => resolveExit(null));
  });
  return { child, exited };
}

/**
 * A `stop(sig, graceMs)` for a started process: sends `sig` (SIGTERM by default) to `pid`,
 * after `graceMs` SIGKILLs it and `alsoKill` (e.g. a wrapper that waits for it), and resolves
 * once `exited` has. Does nothing once the process has exited.
 */
export function processStopper(pid: number, exited: Promise<number | null>, alsoKill: number[] = []): (sig?: NodeJS.Signals, graceMs?: number) => Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  return async (sig: NodeJS.Signals = 'SIGTERM', graceMs = 2000) => {
    if (done) return;
    signal(pid, sig);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([exited, timer])) === 'timeout') {
      signal(pid, 'SIGKILL');
      for (const other of alsoKill) signal(other, 'SIGKILL');
      await exited;
    }
  };
}

/**
 * Creates a veth pair between two namespaces without passing through the host namespace:
 * the pair is made inside `a.ns` and its peer is placed straight into `b.ns`.
 */
export async function createVeth(
  ledger: Ledger,
  a: { ns: string; node: string; ifname: string },
  b: { ns: string; node: string; ifname: string },
): Promise<void> {
  ledger.record({ t: 'link', node: a.node, ifname: a.ifname, peerNode: b.node, peerIfname: b.ifname });
  await runChecked(['ip', '-n', a.ns, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
  await runChecked(['ip', '-n', a.ns, 'link', 'set', a.ifname, 'up']);
  await runChecked(['ip', '-n', b.ns, 'link', 'set', b.ifname, 'up']);
}

/** The `ip` commands (without `ip -n NS`) that make a bridge and enslave `members`. */
export function bridgeCommands(bridge: string, members: string[]): string[][] {
  return [
    ['link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'],
    ['link', 'set', bridge, 'up'],
    ...members.map((m) => ['link', 'set', m, 'master', bridge]),
  ];
}

export async function createBridge(ns: string, bridge: string, members: string[]): Promise<void> {
  for (const cmd of bridgeCommands(bridge, members)) await runChecked(['ip', '-n', ns, ...cmd]);
}

export async function addAddress(ns: string, ifname: string, cidr: string): Promise<void> {
  const family = cidr.includes(':') ? '-6' : '-4';
  await runChecked(['ip', '-n', ns, family, 'addr', 'add', cidr, 'dev', ifname]);
}

export async function addRoute(ns: string, destination: string, via: { gateway?: string; dev?: string }): Promise<void> {
  const argv = ['ip', '-n', ns, 'route', 'replace', destination];
  if (via.gateway) argv.push('via', via.gateway);
  if (via.dev) argv.push('dev', via.dev);
  await runChecked(argv);
}

export async function setSysctl(ns: string, key: string, value: string): Promise<void> {
  await nsExecChecked(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
