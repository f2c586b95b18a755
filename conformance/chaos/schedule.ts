// The fault schedule of a chaos run: a seeded generator (same targets, seed and duration -> the
// same faults, holds and start offsets) and the replayable schedule file (`--schedule FILE`).
// Pure: no lab, no clock, no randomness but the seed.

export type FaultKind = 'link-down' | 'daemon-kill' | 'daemon-stop' | 'speaker-restart' | 'loss';
export const FAULT_KINDS: readonly FaultKind[] = ['link-down', 'daemon-kill', 'daemon-stop', 'speaker-restart', 'loss'];

interface FaultBase {
  /** Position in the schedule it was generated in; kept by shrinking, so subsets name their faults. */
  id: number;
  kind: FaultKind;
  node: string;
  /** Seconds the fault lasts before it is undone. */
  holdS: number;
  /** Planned start, seconds after the lab was ready; without it the fault follows the previous one at once. */
  atS?: number;
  /** Never undone (a schedule file may say so, to reproduce a lasting failure). */
  permanent?: boolean;
}

export type Fault =
  | (FaultBase & { kind: 'link-down'; ifname: string })
  | (FaultBase & { kind: 'daemon-kill' })
  | (FaultBase & { kind: 'daemon-stop' })
  /** graceful: the agent is SIGKILLed (no Cease; peers that negotiated RFC 4724 keep its routes stale); otherwise SIGTERM (Cease, routes withdrawn). */
  | (FaultBase & { kind: 'speaker-restart'; graceful: boolean })
  | (FaultBase & { kind: 'loss'; ifname: string; percent: number });

/** What a fixture offers to break; derived from its topology (faults.ts: faultTargets). */
export interface FaultTargets {
  /** Link ends that can be set down: a router or speaker node's interface (never a bridge's). */
  links: Array<{ node: string; ifname: string }>;
  /** Fabric router nodes whose daemon processes the ledger lists. */
  routers: string[];
  /** Nodes running the reference agent; gr: its config offers graceful restart to a peer. */
  speakers: Array<{ node: string; gr: boolean }>;
}

export interface Schedule {
  version: 1;
  fixture: string;
  seed: number | null;
  durationS: number | null;
  faults: Fault[];
}

/** Seconds one fault is planned to take beyond its hold: undo, reconvergence, property reads. */
export const SETTLE_ESTIMATE_S = 12;

/** mulberry32: small, fast, and the same sequence on every platform for a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const intIn = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

export interface GenerateOptions {
  seed: number;
  durationS: number;
  /** Holds of faults that kill a next hop are at least this long, so the dead-next-hop property is judged (default 7). */
  minDeadHoldS?: number;
}

/**
 * Faults back to back, each planned at `atS` with its hold plus SETTLE_ESTIMATE_S and a 1-4 s
 * gap, until the next would end past `durationS` (at least one fault when any target exists).
 */
export function generateSchedule(fixture: string, targets: FaultTargets, opts: GenerateOptions): Schedule {
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) throw new Error(`seed ${opts.seed}: expected a whole number 0..4294967295`);
  if (!(opts.durationS > 0)) throw new Error(`duration ${opts.durationS}: expected seconds > 0`);
  const rand = prng(opts.seed);
  const minDead = opts.minDeadHoldS ?? 7;
  const kinds: FaultKind[] = [];
  if (targets.links.length > 0) kinds.push('link-down', 'loss');
  if (targets.routers.length > 0) kinds.push('daemon-kill', 'daemon-stop');
  if (targets.speakers.length > 0) kinds.push('speaker-restart');
  const faults: Fault[] = [];
  if (kinds.length === 0) return { version: 1, fixture, seed: opts.seed, durationS: opts.durationS, faults };
  let t = 0;
  for (let id = 0; ; id++) {
    const kind = pick(rand, kinds);
    let fault: Fault;
    if (kind === 'link-down') {
      const end = pick(rand, targets.links);
      fault = { id, kind, node: end.node, ifname: end.ifname, holdS: intIn(rand, minDead, minDead + 8) };
    } else if (kind === 'loss') {
      const end = pick(rand, targets.links);
      fault = { id, kind, node: end.node, ifname: end.ifname, percent: 10 * intIn(rand, 1, 6), holdS: intIn(rand, 3, 12) };
    } else if (kind === 'speaker-restart') {
      const sp = pick(rand, targets.speakers);
      // Graceful (kill, peers may keep stale routes) only where the speaker's config offers RFC 4724.
      const graceful = sp.gr && rand() < 0.5;
      fault = { id, kind, node: sp.node, graceful, holdS: intIn(rand, 2, minDead + 5) };
    } else {
      fault = { id, kind, node: pick(rand, targets.routers), holdS: intIn(rand, minDead, minDead + 8) };
    }
    const slot = fault.holdS + SETTLE_ESTIMATE_S;
    if (faults.length > 0 && t + slot > opts.durationS) break;
    fault.atS = t;
    faults.push(fault);
    t += slot + intIn(rand, 1, 4);
  }
  return { version: 1, fixture, seed: opts.seed, durationS: opts.durationS, faults };
}

/** One line per fault, for the console and the event log. */
export function describeFault(f: Fault): string {
  const where = 'ifname' in f ? `${f.node}:${f.ifname}` : f.node;
  const what =
    f.kind === 'loss' ? `loss ${f.percent}%` : f.kind === 'speaker-restart' ? `speaker-restart (${f.graceful ? 'graceful: SIGKILL' : 'SIGTERM'})` : f.kind === 'daemon-stop' ? 'daemon-stop (SIGSTOP)' : f.kind === 'daemon-kill' ? 'daemon-kill (SIGKILL)' : f.kind;
  return `#${f.id} ${what} ${where} for ${f.holdS}s${f.permanent ? ', never undone' : ''}`;
}

/** The schedule as written to a file (`--schedule` reads it back). */
export function serializeSchedule(s: Schedule): string {
  return JSON.stringify(s, null, 2) + '\n';
}

/** Parses and checks a schedule file; every problem names the fault and field. */
export function parseSchedule(text: string, source = 'schedule'): Schedule {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message})`);
  }
  const d = doc as Partial<Schedule> | null;
  if (!d || typeof d !== 'object' || d.version !== 1) throw new Error(`${source}: expected {"version": 1, "fixture": ..., "faults": [...]}`);
  if (!Array.isArray(d.faults)) throw new Error(`${source}: "faults" must be a list`);
  const problems: string[] = [];
  const ids = new Set<number>();
  (d.faults as unknown[]).forEach((item, i) => {
    const f = item as Record<string, unknown>;
    const at = `${source}: faults[${i}]`;
    if (!f || typeof f !== 'object') return void problems.push(`${at}: not an object`);
    if (!Number.isInteger(f.id) || (f.id as number) < 0) problems.push(`${at}.id: expected a whole number >= 0`);
    else if (ids.has(f.id as number)) problems.push(`${at}.id: ${f.id} is used twice`);
    else ids.add(f.id as number);
    if (!FAULT_KINDS.includes(f.kind as FaultKind)) problems.push(`${at}.kind: "${String(f.kind)}" is not one of ${FAULT_KINDS.join(', ')}`);
    if (typeof f.node !== 'string' || !f.node) problems.push(`${at}.node: expected a node name`);
    if (typeof f.holdS !== 'number' || !(f.holdS >= 0)) problems.push(`${at}.holdS: expected seconds >= 0`);
    if (f.atS !== undefined && !(typeof f.atS === 'number' && f.atS >= 0)) problems.push(`${at}.atS: expected seconds >= 0`);
    if (f.permanent !== undefined && typeof f.permanent !== 'boolean') problems.push(`${at}.permanent: expected true or false`);
    if ((f.kind === 'link-down' || f.kind === 'loss') && typeof f.ifname !== 'string') problems.push(`${at}.ifname: a ${f.kind} needs the interface`);
    if (f.kind === 'loss' && !(typeof f.percent === 'number' && Number.isInteger(f.percent) && f.percent >= 1 && f.percent <= 100)) problems.push(`${at}.percent: expected 1..100`);
    if (f.kind === 'speaker-restart' && typeof f.graceful !== 'boolean') problems.push(`${at}.graceful: expected true or false`);
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return { version: 1, fixture: String(d.fixture ?? ''), seed: d.seed ?? null, durationS: d.durationS ?? null, faults: d.faults as Fault[] };
}

/** Problems of a schedule against a fixture's targets (a node or interface it does not have). */
export function scheduleProblems(s: Schedule, targets: FaultTargets): string[] {
  const out: string[] = [];
  for (const f of s.faults) {
    if (f.kind === 'link-down' || f.kind === 'loss') {
      if (!targets.links.some((l) => l.node === f.node && l.ifname === f.ifname))
        out.push(`fault #${f.id} (${f.kind}): ${f.node}:${f.ifname} is not a link end of this fixture (${targets.links.map((l) => `${l.node}:${l.ifname}`).join(', ')})`);
    } else if (f.kind === 'speaker-restart') {
      const sp = targets.speakers.find((x) => x.node === f.node);
      if (!sp) out.push(`fault #${f.id} (speaker-restart): ${f.node} runs no reference agent (speakers: ${targets.speakers.map((x) => x.node).join(', ') || 'none'})`);
    } else if (!targets.routers.includes(f.node)) {
      out.push(`fault #${f.id} (${f.kind}): ${f.node} is not a fabric router (${targets.routers.join(', ')})`);
    }
  }
  return out;
}
