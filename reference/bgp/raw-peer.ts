// A BGP peer made of one stream socket, for feeding a speaker bytes no real router would send:
// the codec builds the well-formed messages, `rawUpdate` hand-built ones. It decodes what the
// other side answers (a reply it cannot decode is recorded, never thrown) and notices the close.
// Used by the speaker's RFC 7606 tests and by the suite's negative.malformed-update case.
import net from 'node:net';
import { decodeMessage, encodeMessage, messageLengthAt, type BgpMessage, type Capability, type CodecContext, type NotificationMessage } from './wire/index.ts';

export interface RawOpen {
  asn: number;
  bgpId: string;
  holdTime: number;
  capabilities: Capability[];
}

export class RawPeer {
  readonly messages: BgpMessage[] = [];
  /** When each of `messages` arrived (Date.now()), same index. */
  readonly receivedAt: number[] = [];
  /** Every message received, as bytes, same index as `messages` (undecodable ones are not there). */
  readonly receivedBytes: Uint8Array[] = [];
  /** Replies that did not decode, in words. */
  readonly undecodable: string[] = [];
  closed = false;
  closedAt: number | null = null;
  /** How the bytes this side receives decode (ADD-PATH families once both OPENs are known). */
  receiveContext: CodecContext;
  private buffer = Buffer.alloc(0);
  private keepalives: NodeJS.Timeout | null = null;
  /** Who waits in `activity` for the next message or the close. */
  private waiters: Array<() => void> = [];

  constructor(
    protected readonly socket: net.Socket,
    /** 4-octet AS numbers in this session's AS_PATH (both sides offered capability 65). */
    public as4 = true,
  ) {
    this.receiveContext = { as4 };
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      const before = this.messages.length + this.undecodable.length;
      for (;;) {
        const length = messageLengthAt(this.buffer, 0);
        if (length === null || this.buffer.length < length) break;
        try {
          const bytes = Uint8Array.from(this.buffer.subarray(0, length));
          this.messages.push(decodeMessage(bytes, { ...this.receiveContext, as4: this.as4 }));
          this.receivedAt.push(Date.now());
          this.receivedBytes.push(bytes);
        } catch (err) {
          this.undecodable.push((err as Error).message);
        }
        this.buffer = this.buffer.subarray(length);
      }
      if (this.messages.length + this.undecodable.length > before) this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      this.stopKeepalives();
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Connects, sends OPEN + KEEPALIVE and waits for the other side's KEEPALIVE (Established).
   * `connect`: any net.connect options (TCP, or a unix socket path relaying a TCP session).
   */
  static async open(connect: net.NetConnectOpts, open: RawOpen, timeoutMs = 5000): Promise<RawPeer> {
    const socket = net.connect(connect);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const as4 = open.capabilities.some((c) => c.code === 65);
    const peer = new RawPeer(socket, as4);
    socket.write(encodeMessage({ type: 'OPEN', version: 4, myAs: open.asn > 65535 ? 23456 : open.asn, holdTime: open.holdTime, bgpId: open.bgpId, as4: as4 ? open.asn : null, capabilities: open.capabilities }));
    socket.write(encodeMessage({ type: 'KEEPALIVE' }));
    try {
      await until(() => peer.messages.some((m) => m.type === 'KEEPALIVE') || peer.closed, timeoutMs, 'the peer to answer OPEN with KEEPALIVE');
    } catch (err) {
      peer.close();
      throw err;
    }
    if (peer.closed) throw new Error(`session closed during OPEN${peer.notification() ? ` with NOTIFICATION ${peer.notification()!.code}/${peer.notification()!.subcode}` : ''}`);
    return peer;
  }

  /** Resolves when the next message arrives or the connection closes, or after `ms` (at once if it is closed). */
  activity(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.push(done);
    });
  }

  private wake(): void {
    for (const done of [...this.waiters]) done();
  }

  /** The other side's OPEN, once received. */
  openReceived(): Extract<BgpMessage, { type: 'OPEN' }> | undefined {
    return this.messages.find((m): m is Extract<BgpMessage, { type: 'OPEN' }> => m.type === 'OPEN');
  }

  notification(): NotificationMessage | undefined {
    return this.messages.find((m): m is NotificationMessage => m.type === 'NOTIFICATION');
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Keeps a short negotiated hold time from expiring while a test takes its time. */
  startKeepalives(everyMs: number): void {
    this.stopKeepalives();
    this.keepalives = setInterval(() => !this.closed && this.socket.write(encodeMessage({ type: 'KEEPALIVE' })), everyMs);
  }

  stopKeepalives(): void {
    if (this.keepalives) clearInterval(this.keepalives);
    this.keepalives = null;
  }

  close(): void {
    this.stopKeepalives();
    this.socket.destroy();
  }
}

/** Resolves once `probe` holds; rejects after `timeoutMs` naming `what`. */
export async function until(probe: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An UPDATE from raw withdrawn-routes, path-attribute and NLRI bytes (lengths filled in, nothing checked). */
export function rawUpdate(attributes: readonly number[], nlri: readonly number[], withdrawn: readonly number[] = []): Uint8Array {
  const body = [withdrawn.length >> 8, withdrawn.length & 255, ...withdrawn, attributes.length >> 8, attributes.length & 255, ...attributes, ...nlri];
  const length = 19 + body.length;
  return new Uint8Array([...new Array<number>(16).fill(0xff), length >> 8, length & 255, 2, ...body]);
}
