import { appendFileSync, chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStartTime } from './proc.ts';

// The run folder holds everything one lab run produced (ledger, rendered configs, logs, pcaps).
// The ledger is an append-only JSONL file: every namespace, link and process is written here
// BEFORE it is created, so a crashed run can always be cleaned up from disk (`lab down --all`).

export type LedgerEntry =
  | { t: 'run'; runId: string; backend: string; fixture: string; ownerPid: number; ownerStart: string; at: string }
  | { t: 'owner'; ownerPid: number; ownerStart: string; at: string }
  | { t: 'netns'; name: string }
  | { t: 'link'; node: string; ifname: string; peerNode: string; peerIfname: string }
  | { t: 'proc'; node: string; label: string; argv: string[]; pid?: number; /** processStartTime of pid ('' when gone at once) */ start?: string }
  | { t: 'resource'; backend: string; kind: string; id: string }
  | { t: 'state'; dir: string }
  | { t: 'down'; at: string };

/**
 * Where node folders live while a lab is up. Daemons that drop privileges (FRR as `frr`) must
 * traverse every ancestor of their folder, which a clone under a mode-700 home does not allow;
 * /run is traversable by everyone. The run folder's `nodes` links here until the lab is down,
 * when the files are copied back so the report keeps every log and config.
 */
export const STATE_ROOT = '/run/peerproof';

export const defaultRunsRoot = resolve(fileURLToPath(new URL('../../reports/runs', import.meta.url)));

/**
 * One file per run not yet down, named by its run id and holding its run folder's path, whatever
 * runs folder the run uses (`peerproof run --report DIR` puts them under DIR/runs). Created with
 * O_EXCL, so two processes starting labs at once (shards side by side) cannot take the same run
 * id, and read by `lab down --all` so a killed run is found wherever its folder is.
 */
export const RUN_INDEX = join(STATE_ROOT, 'index');

/** Whether a run id is taken by a run of any runs folder that is not down yet. */
export function runIdTaken(runId: string): boolean {
  return existsSync(join(RUN_INDEX, runId));
}

/**
 * An index entry whose run can no longer collide with a new one of the same id: its folder is
 * gone, it is down, or its owner died and none of its namespaces is left.
 */
function staleIndexEntry(runId: string): boolean {
  let runDir: string;
  try {
    runDir = readFileSync(join(RUN_INDEX, runId), 'utf8');
  } catch {
    return true;
  }
  const run = new Ledger(runDir).summary();
  // A folder without its first ledger line yet is a run being created this instant.
  if (run.runId === '') return !existsSync(runDir);
  if (run.runId !== runId || run.down) return true;
  if (run.ownerPid === 0 || run.ownerAlive) return false;
  return !(existsSync('/run/netns') && readdirSync('/run/netns').some((ns) => ns.startsWith(`pp-${runId}-`)));
}

function reserveRunId(runId: string, runDir: string): void {
  try {
    mkdirSync(RUN_INDEX, { recursive: true, mode: 0o755 });
  } catch (err) {
    // Not root: such a process can make no namespace to collide with (ledger unit tests).
    if (['EACCES', 'EPERM', 'EROFS'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(join(RUN_INDEX, runId), runDir, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (attempt > 0 || !staleIndexEntry(runId)) throw new Error(`run id ${runId} is taken by the run in ${readFileSync(join(RUN_INDEX, runId), 'utf8')}`);
      rmSync(join(RUN_INDEX, runId), { force: true });
    }
  }
}

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

export class Ledger {
  readonly file: string;
  constructor(readonly runDir: string) {
    this.file = join(runDir, 'ledger.jsonl');
  }

  static create(runsRoot: string, runId: string, backend: string, fixture: string): Ledger {
    const runDir = resolve(runsRoot, runId);
    if (existsSync(runDir)) throw new Error(`run folder ${runDir} already exists`);
    mkdirSync(runDir, { recursive: true });
    try {
      reserveRunId(runId, runDir);
    } catch (err) {
      rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    const ledger = new Ledger(runDir);
    const ownerStart = processStartTime(process.pid) ?? '';
    ledger.record({ t: 'run', runId, backend, fixture, ownerPid: process.pid, ownerStart, at: new Date().toISOString() });
    return ledger;
  }

  /** The node folder daemons are given (under STATE_ROOT); made, with `runDir/nodes` linking to it, on first use. */
  nodeDir(name: string): string {
    const dir = join(this.ensureStateDir(), 'nodes', name);
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o755 });
    return dir;
  }

  private knownStateDir: string | null = null;

  private ensureStateDir(): string {
    if (this.knownStateDir && existsSync(this.knownStateDir)) return this.knownStateDir;
    const recorded = this.stateDir();
    if (recorded) return (this.knownStateDir = recorded);
    const dir = join(STATE_ROOT, basename(this.runDir));
    this.record({ t: 'state', dir });
    for (const d of [STATE_ROOT, dir, join(dir, 'nodes')]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    const link = join(this.runDir, 'nodes');
    if (existsSync(link)) copyTree(link, join(dir, 'nodes'));
    rmSync(link, { recursive: true, force: true });
    symlinkSync(join(dir, 'nodes'), link);
    return (this.knownStateDir = dir);
  }

  /** The run's state folder, if it ever had one and it was not collected yet. */
  stateDir(): string | null {
    const entry = this.entries().find((e) => e.t === 'state');
    return entry?.t === 'state' && existsSync(entry.dir) ? entry.dir : null;
  }

  /** Copies the node folders back into the run folder (sockets and pipes aside) and removes the state folder. */
  collectState(): void {
    const dir = this.stateDir();
    if (!dir) return;
    const link = join(this.runDir, 'nodes');
    if (existsSync(link) && lstatSync(link).isSymbolicLink()) rmSync(link);
    copyTree(join(dir, 'nodes'), link);
    rmSync(dir, { recursive: true, force: true });
  }

  /** The run is gone from the machine: recorded in the ledger, and out of the run index. */
  markDown(): void {
    this.record({ t: 'down', at: new Date().toISOString() });
    const runId = this.summary().runId;
    const indexed = join(RUN_INDEX, runId);
    if (runId && existsSync(indexed) && readFileSync(indexed, 'utf8') === resolve(this.runDir)) rmSync(indexed, { force: true });
  }

  record(entry: LedgerEntry): void {
    appendFileSync(this.file, JSON.stringify(entry) + '\n');
  }

  entries(): LedgerEntry[] {
    if (!existsSync(this.file)) return [];
    const entries: LedgerEntry[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        entries.push(JSON.parse(line) as LedgerEntry);
      } catch {
        // A line torn by a crash mid-write names nothing we created after it; skip it.
      }
    }
    return entries;
  }

  /** Hand the run over to another process (or to nobody: pid 0 when `lab up` leaves it running). */
  transferOwnership(pid: number): void {
    this.record({ t: 'owner', ownerPid: pid, ownerStart: pid ? processStartTime(pid) ?? '' : '', at: new Date().toISOString() });
  }

  summary(): RunSummary {
    const entries = this.entries();
    const run = entries.find((e) => e.t === 'run');
    let ownerPid = run?.t === 'run' ? run.ownerPid : 0;
    let ownerStart = run?.t === 'run' ? run.ownerStart : '';
    for (const e of entries) if (e.t === 'owner') ({ ownerPid, ownerStart } = e);
    const ownerAlive = ownerPid > 0 && processStartTime(ownerPid) === ownerStart;
    return {
      runId: run?.t === 'run' ? run.runId : '',
      backend: run?.t === 'run' ? run.backend : 'netns',
      fixture: run?.t === 'run' ? run.fixture : '',
      runDir: this.runDir,
      ownerPid,
      ownerAlive,
      down: entries.some((e) => e.t === 'down'),
      entries,
    };
  }
}

function copyTree(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile()) copyFileSync(join(from, e.name), join(to, e.name));
  }
}

export interface RunSummary {
  runId: string;
  backend: string;
  fixture: string;
  runDir: string;
  ownerPid: number;
  ownerAlive: boolean;
  down: boolean;
  entries: LedgerEntry[];
}

/**
 * Runs of every runs folder that are not down, from the run index; entries whose ledger is gone
 * (its folder deleted) or says down are dropped from the index.
 */
export function indexedRuns(): RunSummary[] {
  if (!existsSync(RUN_INDEX)) return [];
  const runs: RunSummary[] = [];
  for (const runId of readdirSync(RUN_INDEX)) {
    let runDir: string;
    try {
      runDir = readFileSync(join(RUN_INDEX, runId), 'utf8');
    } catch {
      continue; // taken down meanwhile
    }
    const summary = new Ledger(runDir).summary();
    if (summary.runId === runId && !summary.down) runs.push(summary);
    else if ((summary.runId === '' && !existsSync(runDir)) || summary.down) rmSync(join(RUN_INDEX, runId), { force: true });
  }
  return runs.sort((a, b) => a.runId.localeCompare(b.runId));
}

export function listRuns(runsRoot: string = defaultRunsRoot): RunSummary[] {
  if (!existsSync(runsRoot)) return [];
  return readdirSync(runsRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runsRoot, d.name, 'ledger.jsonl')))
    .map((d) => new Ledger(join(runsRoot, d.name)).summary());
}
