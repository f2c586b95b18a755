import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The run folder holds everything one lab run produced (ledger, rendered configs, logs, pcaps).
// The ledger is an append-only JSONL file: every namespace, link and process is written here
// BEFORE it is created, so a crashed run can always be cleaned up from disk (`lab down --all`).

export type LedgerEntry =
  | { t: 'run'; runId: string; backend: string; fixture: string; ownerPid: number; ownerStart: string; at: string }
  | { t: 'owner'; ownerPid: number; ownerStart: string; at: string }
  | { t: 'netns'; name: string }
  | { t: 'link'; node: string; ifname: string; peerNode: string; peerIfname: string }
  | { t: 'proc'; node: string; label: string; argv: string[]; pid?: number }
  | { t: 'resource'; backend: string; kind: string; id: string }
  | { t: 'down'; at: string };

export const defaultRunsRoot = resolve(fileURLToPath(new URL('../../reports/runs', import.meta.url)));

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

/** Start time of a process (field 22 of /proc/PID/stat), so a recycled PID is not mistaken for the owner. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return afterComm[19] ?? null;
  } catch {
    return null;
  }
}

export class Ledger {
  readonly file: string;
  constructor(readonly runDir: string) {
    this.file = join(runDir, 'ledger.jsonl');
  }

  static create(runsRoot: string, runId: string, backend: string, fixture: string): Ledger {
    const runDir = join(runsRoot, runId);
    if (existsSync(runDir)) throw new Error(`run folder ${runDir} already exists`);
    mkdirSync(runDir, { recursive: true });
    const ledger = new Ledger(runDir);
    const ownerStart = processStartTime(process.pid) ?? '';
    ledger.record({ t: 'run', runId, backend, fixture, ownerPid: process.pid, ownerStart, at: new Date().toISOString() });
    return ledger;
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

export function listRuns(runsRoot: string = defaultRunsRoot): RunSummary[] {
  if (!existsSync(runsRoot)) return [];
  return readdirSync(runsRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runsRoot, d.name, 'ledger.jsonl')))
    .map((d) => new Ledger(join(runsRoot, d.name)).summary());
}
