// The replay engine: plays the recorded side of a conversation over one live TCP session. It
// sends the recorded OPEN (BGP identifier changed only on a clash with the peer's), then the
// recorded messages byte for byte at their recorded pace (optionally compressed), with next hops
// mapped to the lab's addresses. KEEPALIVEs are not replayed but generated: they keep this
// session alive at its own negotiated hold time (a malformed one, e.g. with a body, is replayed). Everything the peer sends is reported as it
// arrives, with the session state it implies.

import { connect, type Socket } from 'node:net';
import { messageLengthAt } from '../../reference/bgp/wire/index.ts';
import { bgpIdOf, mapNextHops, withBgpId, type AddressMap } from './rewrite.ts';
import { bytesToHex, hexToBytes, type Recording } from './recording.ts';

export type SessionStateName = 'Connect' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Idle';

export type PlayerEvent =
  | { kind: 'state'; t: number; state: SessionStateName; reason?: string }
  | { kind: 'received'; t: number; type: string; hex: string }
  | { kind: 'sent'; t: number; index: number; type: string; hex: string }
  | { kind: 'done'; t: number; sent: number; skipped: number }
  | { kind: 'error'; t: number; message: string; /** The engine stopped: no `done` will follow. */ fatal?: boolean };

export interface PlayerOptions {
  /** Recorded gaps are divided by this (2 = twice as fast). */
  speed?: number;
  /** Longest wait between two messages, seconds, after compression. */
  maxGap?: number;
  /** Seconds to keep listening after the last message before reporting `done`. */
  settle?: number;
  /** How long to wait for the peer's OPEN, then for Established, seconds. */
  openTimeout?: number;
  addressMap?: AddressMap;
  /** BGP identifier used when the recorded one equals the peer's. */
  fallbackBgpId?: string;
  /** The replay opened the TCP connection: it sends its OPEN at once instead of first waiting for the peer's. */
  active?: boolean;
}

const MSG_TYPES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };
const KEEPALIVE = Uint8Array.from([...new Array<number>(16).fill(0xff), 0, 19, 4]);

export function typeOf(bytes: Uint8Array): string {
  return MSG_TYPES[bytes[18] ?? 0] ?? 'UNKNOWN';
}

export class ReplayPlayer {
  private readonly start = Date.now();
  private state: SessionStateName = 'Connect';
  private buffer: Uint8Array = new Uint8Array(0);
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private waiters: Array<() => void> = [];
  private peerOpen: Uint8Array | null = null;
  private closed = false;
  private openSent = false;

  constructor(
    private readonly recording: Recording,
    private readonly socket: Socket,
    private readonly emit: (e: PlayerEvent) => void,
    private readonly opts: PlayerOptions = {},
  ) {}

  private now(): number {
    return (Date.now() - this.start) / 1000;
  }

  private setState(state: SessionStateName, reason?: string): void {
    if (this.state === state) return;
    this.state = state;
    this.emit({ kind: 'state', t: this.now(), state, ...(reason ? { reason } : {}) });
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs;
      const check = () => {
        if (predicate()) return resolve(true);
        if (this.closed || Date.now() >= deadline) return resolve(predicate());
        this.waiters.push(check);
        setTimeout(check, Math.min(200, Math.max(1, deadline - Date.now()))).unref();
      };
      check();
    });
  }

  private send(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Plays the recording; resolves when all is sent and the settle time has passed (or the session ended). */
  async run(): Promise<void> {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => {
      this.closed = true;
      this.stopKeepalives();
      this.setState('Idle', this.isIdle() ? undefined : 'TCP connection closed by the peer');
    });
    this.socket.on('error', (err) => this.emit({ kind: 'error', t: this.now(), message: err.message }));
    const openTimeoutMs = (this.opts.openTimeout ?? 10) * 1000;
    const played = this.recording.messages.filter((m) => m.from === 'played');
    const openIndex = played.findIndex((m) => m.type === 'OPEN');
    let open = hexToBytes(played[openIndex]!.hex);
    // The peer speaks first when it connected to us; its OPEN tells whether our identifier clashes.
    if (!this.opts.active) await this.until(() => this.peerOpen !== null, Math.min(openTimeoutMs, 2000));
    const peerId = this.peerOpen ? bgpIdOf(this.peerOpen) : null;
    if (peerId !== null && peerId === bgpIdOf(open) && this.opts.fallbackBgpId) open = withBgpId(open, this.opts.fallbackBgpId);
    this.sendRecorded(open, openIndex);
    this.openSent = true;
    if (this.peerOpen !== null) this.confirm(this.peerOpen);
    else this.setState('OpenSent');
    if (!(await this.until(() => this.peerOpen !== null || this.isIdle(), openTimeoutMs)) || this.isIdle()) return this.finish(0, played.length - 1);
    if (!(await this.until(() => this.current() === 'Established' || this.isIdle(), openTimeoutMs)) || this.isIdle())
      return this.finish(0, played.length - 1);

    const rest = played.slice(openIndex + 1);
    let previous = played[openIndex]!.t;
    let sent = 0;
    let skipped = 0;
    const speed = this.opts.speed ?? 1;
    const maxGap = this.opts.maxGap ?? 5;
    for (const [i, m] of rest.entries()) {
      const gap = Math.min(maxGap, Math.max(0, m.t - previous) / speed);
      previous = m.t;
      if (gap > 0) await this.until(() => this.isIdle(), gap * 1000);
      if (this.isIdle()) {
        skipped = rest.length - i;
        break;
      }
      if (m.type === 'KEEPALIVE' && m.hex === bytesToHex(KEEPALIVE)) continue;
      let bytes = hexToBytes(m.hex);
      if (m.type === 'UPDATE' && this.opts.addressMap) bytes = mapNextHops(bytes, this.opts.addressMap);
      this.sendRecorded(bytes, openIndex + 1 + i);
      sent++;
      if (m.type === 'NOTIFICATION') {
        // The recorded side closed the session here; so does the replay.
        skipped = rest.length - i - 1;
        this.setState('Idle', 'recorded NOTIFICATION sent');
        this.stop();
        break;
      }
    }
    await this.until(() => this.isIdle(), (this.opts.settle ?? 2) * 1000);
    this.finish(sent, skipped);
  }

  private current(): SessionStateName {
    return this.state;
  }

  private isIdle(): boolean {
    return this.state === 'Idle';
  }

  private finish(sent: number, skipped: number): void {
    this.emit({ kind: 'done', t: this.now(), sent, skipped });
  }

  private sendRecorded(bytes: Uint8Array, index: number): void {
    this.send(bytes);
    this.emit({ kind: 'sent', t: this.now(), index, type: typeOf(bytes), hex: bytesToHex(bytes) });
  }

  private onData(chunk: Buffer): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let at = 0;
    while (joined.length - at >= 19) {
      const length = messageLengthAt(joined, at);
      if (length === null) {
        this.emit({ kind: 'error', t: this.now(), message: `peer sent bytes that are not a BGP message at stream offset ${at}` });
        this.stop();
        return;
      }
      if (joined.length - at < length) break;
      this.onMessage(joined.slice(at, at + length));
      at += length;
    }
    this.buffer = joined.slice(at);
  }

  private onMessage(bytes: Uint8Array): void {
    const type = typeOf(bytes);
    this.emit({ kind: 'received', t: this.now(), type, hex: bytesToHex(bytes) });
    if (type === 'OPEN' && this.peerOpen === null) {
      this.peerOpen = bytes;
      if (this.openSent) this.confirm(bytes);
    } else if (type === 'KEEPALIVE' && this.state === 'OpenConfirm') {
      this.setState('Established');
    } else if (type === 'NOTIFICATION') {
      this.setState('Idle', `NOTIFICATION ${bytes[19]}/${bytes[20]} from the peer`);
      this.stop();
    }
    this.wake();
  }

  /** Both OPENs are out: acknowledge theirs and keep the session alive from now on. */
  private confirm(open: Uint8Array): void {
    this.setState('OpenConfirm');
    const ours = this.recording.played.holdTime ?? 90;
    const theirs = open.length >= 29 ? (open[22]! << 8) | open[23]! : 0;
    const hold = Math.min(ours, theirs);
    this.send(KEEPALIVE);
    if (hold > 0) {
      this.keepaliveTimer = setInterval(() => this.send(KEEPALIVE), Math.max(1, Math.floor(hold / 3)) * 1000);
      this.keepaliveTimer.unref();
    }
  }

  private stopKeepalives(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  /** Ends the session without a NOTIFICATION (the recorded one, if any, was already sent). */
  stop(): void {
    this.stopKeepalives();
    if (!this.closed) this.socket.end();
    this.closed = true;
    this.wake();
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Source address (the replay's address on the link). */
  localAddress?: string;
  /** Epoch ms after which no further attempt starts. */
  deadline: number;
  /** ConnectRetry: first wait between attempts, ms; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** One attempt's bound (a SYN nobody answers), ms. */
  attemptMs?: number;
  onAttempt?: (attempt: number, error: string | null) => void;
}

/**
 * Opens the TCP connection of an active replay: retries with a bounded ConnectRetry (as a BGP
 * speaker's Connect state does) until the peer accepts or the deadline passes; null then.
 */
export async function connectWithRetry(opts: ConnectOptions): Promise<Socket | null> {
  let wait = opts.retryMs ?? 1000;
  for (let attempt = 1; Date.now() < opts.deadline; attempt++) {
    const attemptMs = Math.max(1, Math.min(opts.attemptMs ?? 3000, opts.deadline - Date.now()));
    const outcome = await new Promise<Socket | string>((resolve) => {
      const socket = connect({ host: opts.host, port: opts.port, ...(opts.localAddress && { localAddress: opts.localAddress }) });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(`no answer within ${attemptMs} ms`);
      }, attemptMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(err.message);
      });
    });
    opts.onAttempt?.(attempt, typeof outcome === 'string' ? outcome : null);
    if (typeof outcome !== 'string') return outcome;
    const pause = Math.min(wait, opts.deadline - Date.now());
    if (pause <= 0) break;
    await new Promise((r) => setTimeout(r, pause));
    wait = Math.min(wait * 2, opts.maxRetryMs ?? 5000);
  }
  return null;
}
