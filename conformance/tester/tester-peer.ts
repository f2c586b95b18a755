// The scripted tester peer: one BGP session from a tester address to the speaker under test
// (SUT), driven step by step by a clause test or the fuzzer. It sends what the codec builds (or
// hand-made bytes), waits on what the SUT sends back, and keeps a transcript of both directions
// with times, which is the evidence a report shows for a failure.
import net from 'node:net';
import { RawPeer, type RawOpen } from '../../reference/bgp/raw-peer.ts';
import {
  directionContext,
  encodeMessage,
  isEndOfRib,
  type BgpMessage,
  type Capability,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../../reference/bgp/wire/index.ts';
import { errorText } from '../../reference/bgp/wire/index.ts';

export interface TranscriptEntry {
  /** ms since the peer was created */
  at: number;
  dir: 'sent' | 'received' | 'closed' | 'note';
  /** one line: message type and its salient fields */
  what: string;
  hex?: string;
}

/** Failure of a clause expectation: its message says what was expected and what came instead. */
export class ExpectationFailed extends Error {
  constructor(message: string, readonly transcript: TranscriptEntry[]) {
    super(message);
    this.name = 'ExpectationFailed';
  }
}

export type MessageOf<T extends BgpMessage['type']> = Extract<BgpMessage, { type: T }>;

export function describeMessage(m: BgpMessage): string {
  switch (m.type) {
    case 'OPEN':
      return `OPEN v${m.version} AS ${m.as4 ?? m.myAs} hold ${m.holdTime} id ${m.bgpId} caps [${m.capabilities.map((c) => c.name ?? c.code).join(',')}]`;
    case 'NOTIFICATION':
      return `NOTIFICATION ${m.code}/${m.subcode} (${errorText(m.code, m.subcode)})${m.data ? ` data ${m.data}` : ''}`;
    case 'UPDATE': {
      if (isEndOfRib(m)) return `UPDATE End-of-RIB${m.attributes.mpUnreach ? ` afi ${m.attributes.mpUnreach.afi}` : ' ipv4'}`;
      const nlri = [...m.nlri, ...(m.attributes.mpReach?.nlri ?? [])].map((r) => (r.pathId !== undefined ? `${r.prefix}#${r.pathId}` : r.prefix));
      const withdrawn = [...m.withdrawn, ...(m.attributes.mpUnreach?.withdrawn ?? [])].map((r) => r.prefix);
      const a = m.attributes;
      const attrs = [
        a.origin && `origin ${a.origin}`,
        a.asPath && `as-path ${a.asPath.map((s) => (s.type === 'sequence' ? s.asns.join(' ') : `{${s.asns.join(',')}}`)).join(' ')}`,
        a.nextHop && `nh ${a.nextHop}`,
        a.mpReach && `mp-nh ${a.mpReach.nextHops.join(',')}`,
        a.med !== undefined && `med ${a.med}`,
        a.localPref !== undefined && `lp ${a.localPref}`,
        a.communities && `comm ${a.communities.join(' ')}`,
        a.unknown?.length && `unknown ${a.unknown.map((u) => `${u.code}/0x${u.flags.toString(16)}`).join(' ')}`,
      ].filter(Boolean);
      return `UPDATE${nlri.length ? ` nlri ${nlri.join(' ')}` : ''}${withdrawn.length ? ` withdrawn ${withdrawn.join(' ')}` : ''}${attrs.length ? ` [${attrs.join('; ')}]` : ''}`;
    }
    case 'ROUTE-REFRESH':
      return `ROUTE-REFRESH afi ${m.afi} safi ${m.safi} subtype ${m.subtype}`;
    case 'UNKNOWN':
      return `UNKNOWN type ${m.typeCode}`;
    default:
      return m.type;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class TesterPeer extends RawPeer {
  readonly transcript: TranscriptEntry[] = [];
  private readonly born = Date.now();
  /** Index into `messages` of the next message a wait looks at. */
  private cursor = 0;
  /** How many of `messages` are in the transcript. */
  private recorded = 0;
  sentOpen: OpenMessage | null = null;

  constructor(socket: net.Socket, readonly label: string) {
    super(socket, true);
    socket.on('close', () => this.transcript.push({ at: Date.now() - this.born, dir: 'closed', what: 'TCP connection closed by the SUT or the network' }));
  }

  /** Opens the TCP connection only (no OPEN yet). */
  static async connect(connect: net.NetConnectOpts, label: string, timeoutMs = 5000): Promise<TesterPeer> {
    const socket = net.connect(connect);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: TCP connect timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => (clearTimeout(timer), resolve()));
      socket.once('error', (err) => (clearTimeout(timer), reject(new Error(`${label}: TCP connect failed: ${err.message}`))));
    });
    return new TesterPeer(socket, label);
  }

  /** Wraps a socket the SUT opened to us (the SUT is the active side). */
  static accepted(socket: net.Socket, label: string): TesterPeer {
    return new TesterPeer(socket, label);
  }

  note(what: string): void {
    this.transcript.push({ at: Date.now() - this.born, dir: 'note', what });
  }

  /** Sends a message the codec encodes (in this session's context), or raw bytes as they are. */
  sendMessage(message: BgpMessage | Uint8Array, what?: string): void {
    const bytes = message instanceof Uint8Array ? message : encodeMessage(message, this.sendContext());
    if (!(message instanceof Uint8Array) && message.type === 'OPEN') this.sentOpen = message;
    this.transcript.push({ at: Date.now() - this.born, dir: 'sent', what: what ?? (message instanceof Uint8Array ? `${bytes.length} raw bytes` : describeMessage(message)), hex: hex(bytes) });
    if (!this.closed) this.send(bytes);
  }

  /** The codec context of what we send, once both OPENs are known (ADD-PATH, AS4). */
  sendContext() {
    const theirs = this.openReceived();
    if (!this.sentOpen || !theirs) return { as4: this.as4 };
    return directionContext(this.sentOpen, theirs);
  }

  sendOpen(open: RawOpen & { version?: number; myAs?: number }): void {
    const as4 = open.capabilities.some((c) => c.code === 65);
    this.as4 = as4;
    this.sendMessage({ type: 'OPEN', version: open.version ?? 4, myAs: open.myAs ?? (open.asn > 65535 ? 23456 : open.asn), holdTime: open.holdTime, bgpId: open.bgpId, as4: as4 ? open.asn : null, capabilities: open.capabilities });
  }

  /** Brings the transcript up to date with what arrived (waits call it; a test may too). */
  sync(): void {
    if (this.recorded < this.messages.length) {
      for (; this.recorded < this.messages.length; this.recorded++) {
        const i = this.recorded;
        this.transcript.push({ at: this.receivedAt[i]! - this.born, dir: 'received', what: describeMessage(this.messages[i]!), hex: hex(this.receivedBytes[i]!) });
      }
      this.transcript.sort((a, b) => a.at - b.at);
    }
    const theirs = this.openReceived();
    if (theirs && this.sentOpen) {
      const ctx = directionContext(theirs, this.sentOpen);
      this.receiveContext = ctx;
      this.as4 = Boolean(ctx.as4);
    }
  }

  /**
   * Waits for the next message (after the ones earlier waits consumed) that `match` accepts;
   * messages before it are consumed too. Returns null when the time runs out or the connection
   * closes first.
   */
  async next<M extends BgpMessage = BgpMessage>(match: (m: BgpMessage) => m is M, timeoutMs: number): Promise<M | null>;
  async next(match: (m: BgpMessage) => boolean, timeoutMs: number): Promise<BgpMessage | null>;
  async next(match: (m: BgpMessage) => boolean, timeoutMs: number): Promise<BgpMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.sync();
      while (this.cursor < this.messages.length) {
        const m = this.messages[this.cursor++]!;
        if (match(m)) return m;
      }
      if (this.closed || Date.now() >= deadline) return null;
      await this.activity(deadline - Date.now());
    }
  }

  /** Skips everything received so far: later waits only see what arrives after this point. */
  drain(): void {
    this.sync();
    this.cursor = this.messages.length;
  }

  private fail(message: string): never {
    this.sync();
    throw new ExpectationFailed(`${this.label}: ${message}`, this.transcript);
  }

  /** The SUT's OPEN (fails if none within the time). */
  async expectOpen(timeoutMs = 5000): Promise<OpenMessage> {
    const m = await this.next((x): x is OpenMessage => x.type === 'OPEN', timeoutMs);
    return m ?? this.fail(`expected the SUT's OPEN within ${timeoutMs} ms, ${this.closed ? 'the connection closed' : 'none came'}${this.lastNotification()}`);
  }

  /** A NOTIFICATION with this code (and subcode, when given). */
  async expectNotification(code: number, subcode?: number, timeoutMs = 5000): Promise<NotificationMessage> {
    const m = await this.next((x): x is NotificationMessage => x.type === 'NOTIFICATION', timeoutMs);
    if (!m) return this.fail(`expected NOTIFICATION ${code}/${subcode ?? '*'} (${errorText(code, subcode ?? 0)}) within ${timeoutMs} ms, ${this.closed ? 'the connection closed without one' : 'none came'}`);
    if (m.code !== code || (subcode !== undefined && m.subcode !== subcode)) {
      this.fail(`expected NOTIFICATION ${code}/${subcode ?? '*'} (${errorText(code, subcode ?? 0)}), got ${describeMessage(m)}`);
    }
    return m;
  }

  /** No NOTIFICATION and no close for `ms` (the SUT kept the session). */
  async expectNoNotification(ms: number): Promise<void> {
    const m = await this.next((x) => x.type === 'NOTIFICATION', ms);
    if (m) this.fail(`expected the session to stay up, got ${describeMessage(m)}`);
    if (this.closed) this.fail('expected the session to stay up, the connection closed');
  }

  /** The connection closes within the time (after a NOTIFICATION or not). */
  async expectClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.activity(deadline - Date.now());
    if (!this.closed) this.fail(`expected the SUT to close the connection within ${timeoutMs} ms`);
  }

  /** The next UPDATE that `match` accepts (End-of-RIB markers are skipped unless `match` wants them). */
  async expectUpdate(match: (u: UpdateMessage) => boolean, what: string, timeoutMs = 10_000): Promise<UpdateMessage> {
    const m = await this.next((x): x is UpdateMessage => x.type === 'UPDATE' && match(x), timeoutMs);
    return m ?? this.fail(`expected an UPDATE ${what} within ${timeoutMs} ms${this.closed ? ' (the connection closed)' : ''}${this.lastNotification()}`);
  }

  /** An UPDATE announcing `prefix` (IPv4 NLRI or MP_REACH). */
  expectAnnounced(prefix: string, timeoutMs = 10_000): Promise<UpdateMessage> {
    return this.expectUpdate((u) => announces(u, prefix), `announcing ${prefix}`, timeoutMs);
  }

  /** An UPDATE withdrawing `prefix`. */
  expectWithdrawn(prefix: string, timeoutMs = 10_000): Promise<UpdateMessage> {
    return this.expectUpdate((u) => withdraws(u, prefix), `withdrawing ${prefix}`, timeoutMs);
  }

  /** No UPDATE that `match` accepts arrives for `ms`. */
  async expectNoUpdate(match: (u: UpdateMessage) => boolean, what: string, ms: number): Promise<void> {
    const m = await this.next((x) => x.type === 'UPDATE' && match(x), ms);
    if (m) this.fail(`expected no UPDATE ${what}, got ${describeMessage(m)}`);
  }

  private lastNotification(): string {
    const n = this.notification();
    return n ? `; the SUT sent ${describeMessage(n)}` : '';
  }

  /** Closes our side and stops the keepalives. */
  override close(): void {
    this.sync();
    super.close();
  }
}

export function announces(u: UpdateMessage, prefix: string): boolean {
  return u.nlri.some((r) => r.prefix === prefix) || Boolean(u.attributes.mpReach?.nlri.some((r) => r.prefix === prefix));
}

export function withdraws(u: UpdateMessage, prefix: string): boolean {
  return u.withdrawn.some((r) => r.prefix === prefix) || Boolean(u.attributes.mpUnreach?.withdrawn.some((r) => r.prefix === prefix));
}

/** The capabilities a tester offers unless a test says otherwise: IPv4 + IPv6 unicast, AS4, route refresh. */
export function defaultCapabilities(asn: number): Capability[] {
  return [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
    { code: 1, name: 'multiprotocol', afi: 2, safi: 1 },
    { code: 2, name: 'route-refresh' },
    { code: 65, name: 'as4', asn },
  ];
}
