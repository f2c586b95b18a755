// Runs clause tests against one SUT: each test gets its own tester slots (so tests run at the
// same time without sharing a session), a verdict, its duration and the transcript of every
// session it opened (the evidence of a failure: what was sent, what came back).
import type { Sut, TesterSlot } from '../tester/sut.ts';
import { defaultCapabilities, ExpectationFailed, TesterPeer, type TranscriptEntry } from '../tester/tester-peer.ts';
import { ClauseSkipped, type ClauseContext, type ClauseTest } from './clause.ts';

export type ClauseStatus = 'passed' | 'failed' | 'skipped' | 'broken';

export interface ClauseResult {
  id: string;
  status: ClauseStatus;
  /** why it failed, was skipped or broke */
  reason?: string;
  durationMs: number;
  /** per tester session: its label and transcript */
  sessions: Array<{ label: string; transcript: TranscriptEntry[] }>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const SLOT_REST_MS = 1000;

/** Slots of a SUT handed out to tests, least recently used first (a slot whose session was just reset may still be in the SUT's idle hold). */
class SlotPool {
  private readonly free: TesterSlot[];
  private readonly waiters: Array<() => void> = [];
  constructor(slots: TesterSlot[]) {
    this.free = [...slots];
  }
  async take(roles: TesterSlot['role'][]): Promise<TesterSlot[]> {
    for (;;) {
      const picked: TesterSlot[] = [];
      for (const role of roles) {
        const slot = this.free.find((s) => s.role === role && !picked.includes(s));
        if (!slot) break;
        picked.push(slot);
      }
      if (picked.length === roles.length) {
        for (const s of picked) this.free.splice(this.free.indexOf(s), 1);
        return picked;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  /**
   * A slot comes back after a rest: the SUT may still be tearing down the session the test just
   * closed, and a new OPEN on the same neighbour would meet it (Cease / Connection Collision).
   */
  give(slots: TesterSlot[]): void {
    setTimeout(() => {
      this.free.push(...slots);
      for (const w of this.waiters.splice(0)) w();
    }, SLOT_REST_MS);
  }
}

/** Why `test` cannot run on `sut`, or null. */
export function cannotRun(test: ClauseTest, sut: Sut): string | null {
  for (const need of test.needs ?? []) {
    const why = sut.lacks[need];
    if (why) return why;
  }
  const roles = test.slots ?? ['ebgp'];
  for (const role of new Set(roles)) {
    const have = sut.slots.filter((s) => s.role === role).length;
    const want = roles.filter((r) => r === role).length;
    if (have < want) return `the SUT was configured with ${have} ${role} tester slot(s), the test needs ${want}`;
  }
  return null;
}

export async function runClause(test: ClauseTest, sut: Sut, slots: TesterSlot[]): Promise<ClauseResult> {
  const started = Date.now();
  const peers: TesterPeer[] = [];
  const label = (i: number, how: string) => `${how} ${slots[i]!.role} slot ${slots[i]!.index} (${slots[i]!.address})`;
  const slotAt = (i: number) => {
    const slot = slots[i];
    if (!slot) throw new Error(`${test.id} uses slot ${i} but declares ${slots.length}`);
    return slot;
  };
  const ctx: ClauseContext = {
    sut: sut.info,
    slots,
    async connect(i = 0) {
      const peer = new TesterPeer(await sut.connect(slotAt(i)), label(i, 'tester'));
      peers.push(peer);
      return peer;
    },
    async establish(i = 0, open = {}) {
      const slot = slotAt(i);
      const peer = await ctx.connect(i);
      const asn = open.asn ?? slot.asn;
      peer.sendOpen({ asn, bgpId: open.bgpId ?? slot.address, holdTime: open.holdTime ?? 9, capabilities: open.capabilities ?? defaultCapabilities(asn) });
      const theirs = await peer.expectOpen(10_000);
      peer.sendMessage({ type: 'KEEPALIVE' });
      await peer.next((m) => m.type === 'KEEPALIVE', 10_000);
      if (peer.closed || peer.notification()) throw new ExpectationFailed(`${peer.label}: session did not reach Established${peer.notification() ? ` (NOTIFICATION ${peer.notification()!.code}/${peer.notification()!.subcode})` : ''}`, peer.transcript);
      const hold = Math.min(theirs.holdTime, open.holdTime ?? 9);
      if (hold > 0) peer.startKeepalives(Math.max(1000, (hold * 1000) / 3));
      peer.sync();
      return peer;
    },
    async accept(i = 0, timeoutMs = 30_000) {
      const peer = new TesterPeer(await sut.accept(slotAt(i), timeoutMs), label(i, 'tester (SUT active)'));
      peers.push(peer);
      return peer;
    },
    receivedFrom: (i = 0) => sut.receivedFrom(slotAt(i)),
    skip(reason: string): never {
      throw new ClauseSkipped(reason);
    },
  };
  let status: ClauseStatus = 'passed';
  let reason: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = test.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    await Promise.race([
      test.run(ctx),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`test did not finish within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (err) {
    if (err instanceof ClauseSkipped) status = 'skipped';
    else if (err instanceof ExpectationFailed) status = 'failed';
    else status = 'broken';
    reason = (err as Error).message;
  } finally {
    clearTimeout(timer);
    for (const p of peers) p.close();
  }
  return { id: test.id, status, reason, durationMs: Date.now() - started, sessions: peers.map((p) => ({ label: p.label, transcript: p.transcript })) };
}

/**
 * Runs `tests` against `sut`, up to `concurrency` at once (each holds its own slots), in catalogue
 * order as far as slots allow; `onResult` hears each verdict as it comes.
 */
export async function runClauses(tests: readonly ClauseTest[], sut: Sut, opts: { concurrency?: number; onResult?: (r: ClauseResult) => void } = {}): Promise<ClauseResult[]> {
  const pool = new SlotPool(sut.slots);
  const results = new Map<string, ClauseResult>();
  const queue = [...tests];
  const worker = async () => {
    for (let test = queue.shift(); test; test = queue.shift()) {
      const why = cannotRun(test, sut);
      let result: ClauseResult;
      if (why) result = { id: test.id, status: 'skipped', reason: why, durationMs: 0, sessions: [] };
      else {
        const slots = await pool.take(test.slots ?? ['ebgp']);
        try {
          result = await runClause(test, sut, slots);
        } finally {
          pool.give(slots);
        }
      }
      results.set(test.id, result);
      opts.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  return tests.map((t) => results.get(t.id)!);
}
