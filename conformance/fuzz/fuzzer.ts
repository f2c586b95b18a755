// The fuzz run: sessions from the SUT's tester slots, batches of the seeded stream (generate.ts)
// each judged by the oracle (oracle.ts); every distinct finding is then re-run on fresh sessions
// and shrunk (shrink.ts) to the fewest messages and bytes that still show it.
import type { Sut, TesterSlot } from '../tester/sut.ts';
import { FuzzStream, type FuzzCase } from './generate.ts';
import { judge, type FindingKind, type Verdict } from './oracle.ts';
import { DEFAULT_TIMING, FuzzSession, probeConnect, restartable, TESTER_HOLD_TIME, type SessionTiming } from './session.ts';
import { ddmin, shrinkBytes, type ShrinkBudget } from './shrink.ts';
import { runOpenCase } from './open-case.ts';

export interface FuzzOptions {
  seed: number;
  /** stop after this many messages (default 2000 unless `durationS` is given) */
  messages?: number;
  durationS?: number;
  /** most messages in one batch before the fence */
  batchSize?: number;
  /** re-runs allowed to shrink one finding */
  shrinkTries?: number;
  /** distinct findings shrunk (the rest are reported unshrunk) */
  maxShrunk?: number;
  timing?: SessionTiming;
  /** sessions run side by side (each on its own slots and stream; default 4, at most half the ebgp slots) */
  workers?: number;
  log?: (line: string) => void;
}

export interface Finding {
  id: string;
  verdict: Verdict;
  /** 'open': the message is an OPEN on a fresh connection; 'session': UPDATEs etc. after Established */
  mode: 'open' | 'session';
  role: TesterSlot['role'];
  /** how many batches showed this signature */
  count: number;
  /** where the first occurrence's session began: stream index x workers + worker (orders findings the same way on every run) */
  firstCase: number;
  labels: string[];
  /** what the first occurrence sent (after the handshake) */
  original: Uint8Array[];
  /** later occurrences (up to 4), tried in turn when the first does not reproduce: a crash ends every worker's session, not only the guilty one's */
  others: Array<{ original: Uint8Array[]; labels: string[] }>;
  shrunk?: Uint8Array[];
  reproduced?: boolean;
  tries?: number;
  /** the session the last successful reproduction ran on: OPENs (hex) and slot, for the fixture */
  evidence?: { slot: TesterSlot; ourOpen: string; theirOpen: string };
}

export interface FuzzResult {
  seed: number;
  sut: string;
  messagesSent: number;
  messagesJudged: number;
  sessions: number;
  openCases: number;
  /** times a crashed lab daemon was started again to go on */
  restarts: number;
  durationMs: number;
  /** of durationMs: sending and judging the stream, then reproducing and shrinking the findings */
  fuzzMs: number;
  shrinkMs: number;
  findings: Finding[];
  /** runs where the harness could not judge (e.g. no slot would establish) */
  notes: string[];
}

/** Starts a crashed lab SUT again, once for all workers that notice; false when it cannot be (or is not a lab SUT). */
class Recovery {
  private pending: Promise<boolean> | null = null;
  /** restarts failed in a row; at MAX_FAILED_RESTARTS the SUT is left down */
  private failed = 0;
  constructor(private readonly sut: Sut, private readonly result: FuzzResult, private readonly log: (line: string) => void) {}
  async ensureUp(): Promise<boolean> {
    const r = restartable(this.sut);
    if (!r || r.alive()) return r !== null;
    if (this.failed >= MAX_FAILED_RESTARTS) return false;
    this.pending ??= (async () => {
      this.log('the SUT process exited: restarting it');
      try {
        await r.recover();
        this.result.restarts++;
        this.failed = 0;
        return true;
      } catch (err) {
        this.failed++;
        this.result.notes.push(`restart failed: ${(err as Error).message}`);
        return false;
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }
}

class SlotPool {
  private readonly next = new Map<string, number>();
  constructor(readonly slots: TesterSlot[]) {}
  has(role: TesterSlot['role']): boolean {
    return this.slots.some((s) => s.role === role);
  }
  take(role: TesterSlot['role']): TesterSlot {
    const of = this.slots.filter((s) => s.role === role);
    const i = this.next.get(role) ?? 0;
    this.next.set(role, i + 1);
    return of[i % of.length]!;
  }
  count(role: TesterSlot['role']): number {
    return this.slots.filter((s) => s.role === role).length;
  }
}

/** A session on the next slot of `role` that comes up; tries each slot of the role once. */
async function openSession(sut: Sut, pool: SlotPool, role: TesterSlot['role'], timing: SessionTiming, errors: string[]): Promise<FuzzSession | null> {
  for (let i = 0; i < pool.count(role); i++) {
    const slot = pool.take(role);
    try {
      return await FuzzSession.open(sut, slot, timing);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return null;
}

export async function fuzz(sut: Sut, opts: FuzzOptions): Promise<FuzzResult> {
  const log = opts.log ?? (() => undefined);
  const timing = opts.timing ?? DEFAULT_TIMING;
  const limit = opts.messages ?? (opts.durationS ? Infinity : 2000);
  const deadline = opts.durationS ? Date.now() + opts.durationS * 1000 : Infinity;
  const usable = sut.slots.filter((s) => s.role === 'ebgp' || s.role === 'addpath');
  const ebgp = usable.filter((s) => s.role === 'ebgp');
  if (ebgp.length === 0) throw new Error(`the SUT ${sut.info.name} has no ebgp tester slot`);
  // Workers run sessions side by side, each on its own slots with its own stream (seed, worker) and
  // its own share of the messages, so what each sends does not depend on timing.
  const workers = Math.max(1, Math.min(opts.workers ?? 4, Math.floor(ebgp.length / 2) || 1));
  const started = Date.now();
  const result: FuzzResult = { seed: opts.seed, sut: sut.info.name, messagesSent: 0, messagesJudged: 0, sessions: 0, openCases: 0, restarts: 0, durationMs: 0, fuzzMs: 0, shrinkMs: 0, findings: [], notes: [] };
  const bySignature = new Map<string, Finding>();
  const record = (verdict: Verdict, mode: Finding['mode'], role: TesterSlot['role'], sent: Uint8Array[], labels: string[], firstCase: number) => {
    const known = bySignature.get(verdict.signature);
    if (known) {
      known.count++;
      // Keep the earliest occurrence by stream position, so which one is kept does not depend on which worker got there first.
      if (firstCase < known.firstCase) {
        known.others.unshift({ original: known.original, labels: known.labels });
        Object.assign(known, { verdict, mode, role, firstCase, labels, original: sent });
      } else known.others.push({ original: sent, labels });
      known.others.splice(4);
      return;
    }
    const finding: Finding = { id: '', verdict, mode, role, count: 1, firstCase, labels, original: sent, others: [] };
    bySignature.set(verdict.signature, finding);
    log(`finding: ${verdict.text} [${labels[labels.length - 1] ?? ''}]`);
  };
  const recovery = new Recovery(sut, result, log);
  const pools = Array.from({ length: workers }, (_, w) => new SlotPool([...ebgp.filter((_, i) => i % workers === w), ...usable.filter((s) => s.role === 'addpath').filter((_, i) => i % workers === w)]));
  await Promise.all(
    pools.map((pool, w) => {
      const quota = limit === Infinity ? Infinity : Math.floor(limit / workers) + (w < limit % workers ? 1 : 0);
      const order: Record_ = (v, mode, role, sent, labels, index) => record(v, mode, role, sent, labels, index * workers + w);
      return runWorker(sut, pool, new FuzzStream(workers === 1 ? opts.seed : opts.seed * 1000 + w), { quota, deadline, batchSize: opts.batchSize ?? 20, timing, recovery }, result, order);
    }),
  );
  result.fuzzMs = Date.now() - started;
  result.findings = [...bySignature.values()].sort((a, b) => a.firstCase - b.firstCase);
  result.findings.forEach((f, i) => (f.id = `${String(i + 1).padStart(3, '0')}-${f.verdict.kind}`));
  const shrinkPool = new SlotPool(usable);
  let shrunk = 0;
  // The budget of shrunk findings goes to the worst first: a dead or silent SUT before a wrong subcode.
  const worstFirst = [...result.findings].sort((a, b) => SEVERITY.indexOf(a.verdict.kind) - SEVERITY.indexOf(b.verdict.kind) || a.firstCase - b.firstCase);
  for (const finding of worstFirst) {
    if (finding.verdict.kind === 'sut-died' && finding.original.length === 0) continue;
    if (shrunk++ >= (opts.maxShrunk ?? 10)) break;
    await shrinkFinding(sut, shrinkPool, finding, opts.shrinkTries ?? 150, timing, recovery);
    log(`finding ${finding.id}: ${finding.reproduced ? `shrunk from ${finding.original.length} to ${finding.shrunk!.length} message(s) in ${finding.tries} tries` : `not reproduced on a fresh session (${finding.tries} tries)`}`);
  }
  result.durationMs = Date.now() - started;
  result.shrinkMs = result.durationMs - result.fuzzMs;
  return result;
}

const SEVERITY: FindingKind[] = ['sut-died', 'closed-without-notification', 'unresponsive', 'route-accepted', 'unexpected-reset', 'missing-reset', 'wrong-code', 'wrong-subcode'];

/** How long a worker waits for a slot the SUT will take again (a daemon's idle hold / error wait after a reset), restarts not counted. */
const SLOT_WAIT_MS = 60_000;
/** A lab daemon that fails to come back this many times in a row is left down (the run ends with a note). */
const MAX_FAILED_RESTARTS = 3;

/**
 * A session on a slot of `role`, else of the other role, retried every second until one comes up
 * (BIRD refuses a neighbour for its error wait time after a reset; GoBGP holds it idle). The
 * fallback role makes the messages depend on timing; it is only taken when the preferred role's
 * slots are all held back.
 */
async function sessionWithin(sut: Sut, pool: SlotPool, role: TesterSlot['role'], plan: { timing: SessionTiming; recovery: Recovery; deadline: number }, errors: string[], fallback = true): Promise<FuzzSession | null> {
  let until = Math.min(Date.now() + SLOT_WAIT_MS, Math.max(plan.deadline, Date.now() + 5000));
  const roles: Array<TesterSlot['role']> = role === 'addpath' && fallback ? ['addpath', 'ebgp'] : [role];
  for (;;) {
    // A restart (GoBGP panics often; one that dies again while coming up takes up to a minute) is not the slots' wait.
    const restarting = Date.now();
    await plan.recovery.ensureUp();
    until += Date.now() - restarting;
    for (const r of roles) {
      const session = await openSession(sut, pool, r, plan.timing, errors);
      if (session) return session;
    }
    if (Date.now() >= until) return null;
    await new Promise((res) => setTimeout(res, 1000));
  }
}

type Record_ = (verdict: Verdict, mode: Finding['mode'], role: TesterSlot['role'], sent: Uint8Array[], labels: string[], firstCase: number) => void;

async function runWorker(
  sut: Sut,
  pool: SlotPool,
  stream: FuzzStream,
  plan: { quota: number; deadline: number; batchSize: number; timing: SessionTiming; recovery: Recovery },
  result: FuzzResult,
  record: Record_,
): Promise<void> {
  let sent = 0;
  const more = () => sent < plan.quota && Date.now() < plan.deadline;
  const count = (n: number) => {
    sent += n;
    result.messagesSent += n;
    result.messagesJudged += n;
  };
  while (more()) {
    const role = stream.nextSessionAddPath(pool.has('addpath')) ? 'addpath' : 'ebgp';
    const errors: string[] = [];
    const session = await sessionWithin(sut, pool, role, plan, errors);
    if (!session) {
      const slot = pool.take('ebgp');
      const refused = (await probeConnect(sut, slot)) === 'refused';
      result.notes.push(`no slot reached Established within ${SLOT_WAIT_MS / 1000} s (${errors[errors.length - 1] ?? '?'})${refused ? '; connections refused' : ''}`);
      if (refused) record({ kind: 'sut-died', signature: 'sut-died|connect', text: 'the SUT refuses connections' }, 'session', role, [], [], sent);
      return;
    }
    const sessionRole = session.slot.role;
    result.sessions++;
    const g = { asn: session.slot.asn, address: session.slot.address, addPath: sessionRole === 'addpath', bgpId: session.slot.address, holdTime: TESTER_HOLD_TIME };
    const labels: string[] = [];
    let first = -1;
    let pendingOpen: FuzzCase | null = null;
    while (more() && session.alive) {
      const batch: FuzzCase[] = [];
      while (batch.length < plan.batchSize && sent + batch.length < plan.quota) {
        const c = stream.next(g);
        if (first < 0) first = c.index;
        if (c.source === 'open') {
          pendingOpen = c;
          break;
        }
        batch.push(c);
        if (session.expect(c.bytes).action === 'session-reset') break;
      }
      if (batch.length > 0) {
        const batchLabels = batch.map((c) => `${c.source} #${c.index}: ${c.label}`);
        labels.push(...batchLabels);
        const { expectations, observed } = await session.sendBatch(batch.map((c) => c.bytes), batchLabels);
        count(batch.length);
        const verdict = judge(expectations, observed, TESTER_HOLD_TIME * 1000);
        if (verdict) record(verdict, 'session', sessionRole, session.sent.map((x) => x.bytes), labels.slice(), first);
        if (!observed.settled) break;
      }
      if (pendingOpen) break;
    }
    session.close();
    if (pendingOpen) {
      const verdict = await runOpenCase(sut, pool.take('ebgp'), pendingOpen.bytes);
      result.openCases++;
      count(1);
      if (verdict) record(verdict, 'open', 'ebgp', [pendingOpen.bytes], [`open #${pendingOpen.index}: ${pendingOpen.label}`], pendingOpen.index);
    }
  }
}

/**
 * Whether `messages`, sent on a fresh session of the finding's role (batches ending at each
 * message the RFC says resets the session), show the finding's signature again.
 */
async function reproduces(sut: Sut, pool: SlotPool, finding: Finding, messages: Uint8Array[], timing: SessionTiming, recovery: Recovery): Promise<boolean> {
  if (finding.mode === 'open') {
    await recovery.ensureUp();
    const slot = pool.take('ebgp');
    const verdict = await runOpenCase(sut, slot, messages[0]!);
    if (verdict?.signature === finding.verdict.signature) finding.evidence = { slot, ourOpen: Buffer.from(messages[0]!).toString('hex'), theirOpen: '' };
    return verdict?.signature === finding.verdict.signature;
  }
  const session = await sessionWithin(sut, pool, finding.role, { timing, recovery, deadline: 0 }, [], false);
  if (!session) return false;
  try {
    let batch: Uint8Array[] = [];
    for (let i = 0; i < messages.length; i++) {
      batch.push(messages[i]!);
      if (i < messages.length - 1 && session.expect(messages[i]!).action !== 'session-reset') continue;
      const { expectations, observed } = await session.sendBatch(batch);
      batch = [];
      const verdict = judge(expectations, observed, TESTER_HOLD_TIME * 1000);
      if (verdict?.signature === finding.verdict.signature) {
        const opens = session.openBytes();
        finding.evidence = { slot: session.slot, ourOpen: opens.ours, theirOpen: opens.theirs };
        return true;
      }
      if (verdict || !observed.settled) return false;
    }
    return false;
  } finally {
    session.close();
  }
}

async function shrinkFinding(sut: Sut, pool: SlotPool, finding: Finding, tries: number, timing: SessionTiming, recovery: Recovery): Promise<void> {
  // Two tries are kept for the first reproduction and the final check; ddmin spends the rest.
  const budget: ShrinkBudget = { tries: Math.max(0, tries - 2) };
  const spent = () => tries - 2 - budget.tries;
  const test = (messages: Uint8Array[]) => reproduces(sut, pool, finding, messages, timing, recovery);
  finding.reproduced = await test(finding.original);
  let spentOnOthers = 0;
  for (const other of finding.others) {
    if (finding.reproduced || budget.tries <= 0) break;
    budget.tries--;
    spentOnOthers++;
    if (await test(other.original)) {
      finding.reproduced = true;
      finding.original = other.original;
      finding.labels = other.labels;
    }
  }
  if (!finding.reproduced) {
    finding.tries = 1 + spentOnOthers;
    return;
  }
  // The guilty message is the last of its batch; what follows it in `original` never mattered.
  let messages = await ddmin(finding.original, test, budget);
  const last = messages[messages.length - 1]!;
  const smaller = await shrinkBytes(last, (candidate) => test([...messages.slice(0, -1), candidate]), budget);
  messages = [...messages.slice(0, -1), smaller];
  // The final run leaves the evidence (OPENs, slot) of exactly this sequence for the fixture.
  if (!(await test(messages))) messages = finding.original;
  finding.shrunk = messages;
  finding.tries = spent() + 2;
}
