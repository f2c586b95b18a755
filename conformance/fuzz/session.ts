// One fuzz session: a TesterPeer from a tester slot to the SUT, brought to Established, then fed
// batches of fuzz messages; after each batch a fence says whether the SUT got through them (a
// ROUTE-REFRESH the SUT answers with its own route, when it offered route refresh; else a short
// settle time), and what it did: NOTIFICATION, close, silence, routes it should not hold.
import net from 'node:net';
import { defaultCapabilities, TesterPeer, announces } from '../tester/tester-peer.ts';
import type { Sut, TesterSlot } from '../tester/sut.ts';
import type { Capability, CodecContext } from '../../reference/bgp/wire/index.ts';
import { expectationOf, mustBeAbsentAfter, type Expectation, type Observed } from './oracle.ts';

export const TESTER_HOLD_TIME = 9;

export interface SessionTiming {
  /** longest wait for the fence (ROUTE-REFRESH answered), ms */
  fenceMs: number;
  /** settle time when the SUT does not offer route refresh, ms */
  settleMs: number;
  /** longest wait for the NOTIFICATION a reset-expected message should bring, ms (without a fence) */
  resetMs: number;
  /** with a fence: how long to wait for that NOTIFICATION before sending the fence behind the message, ms */
  resetGraceMs: number;
}

export const DEFAULT_TIMING: SessionTiming = { fenceMs: 3000, settleMs: 300, resetMs: 3000, resetGraceMs: 100 };

export function testerCapabilities(slot: TesterSlot): Capability[] {
  const caps = defaultCapabilities(slot.asn);
  if (slot.role === 'addpath') caps.push({ code: 69, name: 'add-path', entries: [{ afi: 1, safi: 1, mode: 'both' }, { afi: 2, safi: 1, mode: 'both' }] });
  return caps;
}

/** TCP connect to the slot; 'refused' when the SUT does not listen (any other failure too). */
export async function probeConnect(sut: Sut, slot: TesterSlot): Promise<'ok' | 'refused'> {
  try {
    const socket: net.Socket = await Promise.race([sut.connect(slot), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    socket.destroy();
    return 'ok';
  } catch {
    return 'refused';
  }
}

/** What a lab SUT adds to the interface: whether its BGP process still runs, and a restart. */
export interface Restartable {
  alive(): boolean;
  recover(): Promise<void>;
}

export function restartable(sut: Sut): Restartable | null {
  const r = sut as Partial<Restartable>;
  return typeof r.alive === 'function' && typeof r.recover === 'function' ? (sut as unknown as Restartable) : null;
}

/** Whether the SUT went away: its process exited (a lab daemon), or connections to the slot are refused. */
export async function sutGone(sut: Sut, slot: TesterSlot): Promise<boolean> {
  const r = restartable(sut);
  if (r) {
    for (let i = 0; i < 10 && r.alive(); i++) await new Promise((res) => setTimeout(res, 100));
    if (!r.alive()) return true;
  }
  return (await probeConnect(sut, slot)) === 'refused';
}

export class FuzzSession {
  /** every message sent after the handshake, with what the RFC says about it */
  readonly sent: Array<{ bytes: Uint8Array; expectation: Expectation }> = [];
  readonly fence: boolean;

  private constructor(
    readonly sut: Sut,
    readonly slot: TesterSlot,
    readonly peer: TesterPeer,
    private readonly timing: SessionTiming,
  ) {
    this.fence = Boolean(peer.openReceived()?.capabilities.some((c) => c.code === 2));
  }

  /** Connects from the slot and exchanges OPEN/KEEPALIVE; throws with the reason when the session does not come up. */
  static async open(sut: Sut, slot: TesterSlot, timing = DEFAULT_TIMING): Promise<FuzzSession> {
    const peer = new TesterPeer(await sut.connect(slot), `fuzz ${slot.role} ${slot.address}`);
    try {
      peer.sendOpen({ asn: slot.asn, bgpId: slot.address, holdTime: TESTER_HOLD_TIME, capabilities: testerCapabilities(slot) });
      await peer.expectOpen(10_000);
      peer.sendMessage({ type: 'KEEPALIVE' });
      await peer.next((m) => m.type === 'KEEPALIVE', 10_000);
      const n = peer.notification();
      if (peer.closed || n) throw new Error(`session from ${slot.address} did not reach Established${n ? ` (NOTIFICATION ${n.code}/${n.subcode})` : ''}`);
      peer.startKeepalives((TESTER_HOLD_TIME * 1000) / 3);
      peer.sync();
      return new FuzzSession(sut, slot, peer, timing);
    } catch (err) {
      peer.close();
      throw err;
    }
  }

  /** The codec context of what this session sends (AS4, ADD-PATH as negotiated). */
  context(): CodecContext {
    return this.peer.sendContext();
  }

  get alive(): boolean {
    return !this.peer.closed && !this.peer.notification();
  }

  /** The SUT's OPEN, as bytes (for the fixture's recording). */
  openBytes(): { ours: string; theirs: string } {
    const entries = this.peer.transcript.filter((e) => e.hex && e.what.startsWith('OPEN'));
    return { ours: entries.find((e) => e.dir === 'sent')?.hex ?? '', theirs: entries.find((e) => e.dir === 'received')?.hex ?? '' };
  }

  /** What the RFC says about `bytes` on this session. */
  expect(bytes: Uint8Array): Expectation {
    return expectationOf(bytes, this.context(), this.slot.asn);
  }

  /** Sends the messages, waits for the SUT to get through them, and says what it did. */
  async sendBatch(batch: Uint8Array[], labels: string[] = []): Promise<{ expectations: Expectation[]; observed: Observed }> {
    const expectations = batch.map((bytes) => this.expect(bytes));
    batch.forEach((bytes, i) => {
      this.sent.push({ bytes, expectation: expectations[i]! });
      this.peer.sendMessage(bytes, labels[i]);
    });
    const observed = await this.observe(expectations[expectations.length - 1]?.action === 'session-reset');
    if (this.alive && observed.settled) {
      const absent = mustBeAbsentAfter(this.sent.map((s) => s.expectation));
      if (absent.length > 0) {
        const held = await this.sut.receivedFrom(this.slot);
        observed.acceptedMalformed = held ? absent.filter((p) => held.has(p)) : null;
      }
    }
    return { expectations, observed };
  }

  private async observe(resetExpected: boolean): Promise<Observed> {
    const peer = this.peer;
    const ended = () => peer.closed || peer.notification() !== undefined;
    let settled = false;
    if (resetExpected) {
      // A SUT reads its messages in order: one that answers the fence (sent behind the message)
      // without resetting first has kept the session, so there is no need to sit out resetMs. The
      // answer is the SUT's route, which is only unambiguous once its first advertisement of that
      // route (after Established) has come; the grace lets a prompt NOTIFICATION in first.
      const start = Date.now();
      const fenceNow = () => this.fence && Date.now() - start >= this.timing.resetGraceMs && this.advertised();
      while (!ended() && Date.now() - start < this.timing.resetMs && !fenceNow()) {
        // A message or the close wakes it; the end of the grace is the only other moment the answer changes.
        const elapsed = Date.now() - start;
        await peer.activity((elapsed < this.timing.resetGraceMs ? this.timing.resetGraceMs : this.timing.resetMs) - elapsed);
      }
    }
    if (!ended()) {
      if (this.fence) {
        peer.drain();
        peer.sendMessage({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 }, 'fence: ROUTE-REFRESH ipv4 unicast');
        const origin = this.sut.info.originates.ipv4;
        const m = await peer.next((x) => x.type === 'NOTIFICATION' || (x.type === 'UPDATE' && announces(x, origin)), this.timing.fenceMs);
        settled = m?.type === 'UPDATE';
      } else {
        await new Promise((r) => setTimeout(r, this.timing.settleMs));
        settled = !ended();
      }
    }
    // A close right after a NOTIFICATION is the normal end; give the NOTIFICATION a moment to arrive before a close.
    if (peer.closed && !peer.notification()) await new Promise((r) => setTimeout(r, 50));
    peer.sync();
    const n = peer.notification();
    const lastHeard = peer.receivedAt[peer.receivedAt.length - 1] ?? Date.now();
    const observed: Observed = { closed: peer.closed, settled: settled && !ended(), silentMs: Date.now() - lastHeard };
    if (n) observed.notification = { code: n.code, subcode: n.subcode };
    if (peer.closed && !n) observed.refusedAfter = await sutGone(this.sut, this.slot);
    return observed;
  }

  private sawRoute = false;
  /** Whether the SUT has advertised its own route on this session. */
  private advertised(): boolean {
    const origin = this.sut.info.originates.ipv4;
    this.sawRoute ||= this.peer.messages.some((m) => m.type === 'UPDATE' && announces(m, origin));
    return this.sawRoute;
  }

  /** Ends the session politely (Cease, administrative shutdown) so the SUT does not hold it against the slot. */
  close(): void {
    if (!this.peer.closed) {
      try {
        this.peer.sendMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: '' });
      } catch {
        // the socket is gone
      }
    }
    this.peer.close();
  }
}
