// Turns captured TCP segments into the BGP messages each direction of each connection carried:
// out-of-order segments wait for the hole to fill, retransmissions and overlaps are trimmed to
// the bytes not yet seen, a capture that starts mid-connection (or resumes after a gap) finds
// its footing on the next 16 x 0xFF marker followed by a plausible header.

import { messageLengthAt } from '../../reference/bgp/wire/index.ts';
import { type TcpSegment } from './link.ts';
import { TcpFlag } from '../../reference/net/numbers.ts';

/** One direction of one TCP connection. */
export interface TcpDirection {
  /** Connection index in order of first appearance (both directions share it, like tshark's tcp.stream). */
  connection: number;
  src: string; // "ip:port", IPv6 as "[addr]:port"
  dst: string;
  /** The SYN of this direction was captured, so the byte stream starts at a message boundary. */
  sawSyn: boolean;
}

export type StreamNotice =
  | { kind: 'gap'; seq: number; bytes: number }
  | { kind: 'resync'; seq: number; skipped: number }
  | { kind: 'incomplete'; seq: number; bytes: number };

export interface ReassemblyListener {
  /**
   * A BGP message (header included); `ts` is the time of the segment that completed it. Where a
   * message must start but its header is broken (marker not all ones, length under 19), it is
   * still delivered: with the octets its length field claims when a message boundary follows
   * them, else its 19-octet header alone (decoding then resynchronises on the next marker).
   * `truncated`: the capture ended inside this message; these are the octets it holds.
   */
  onMessage(direction: TcpDirection, message: Uint8Array, ts: number, truncated?: boolean): void;
  /** `seq` is relative to the direction's first byte (ISN + 1 when the SYN was seen). */
  onNotice(direction: TcpDirection, notice: StreamNotice, ts: number): void;
}

const BGP_HEADER = 19;
const BGP_MAX_MESSAGE = 4096;
/** Out-of-order bytes held before the hole in front of them is declared a capture gap. */
const DEFAULT_MAX_OUT_OF_ORDER = 4 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

interface HeldSegment {
  seq: number;
  data: Uint8Array;
}

class DirectionState implements TcpDirection {
  sawSyn = false;
  /** Absolute sequence number of the first byte; relative sequence numbers count from here. */
  base = 0;
  /** Absolute sequence number of the next byte expected; undefined before any byte or SYN. */
  next: number | undefined = undefined;
  /** Bytes are known to start at a message boundary. */
  synced = false;
  /** Contiguous bytes received that do not yet form a whole message; they end at `next`. */
  partial: Uint8Array = EMPTY;
  held: HeldSegment[] = [];
  heldBytes = 0;
  lastTs = 0;

  constructor(
    readonly connection: number,
    readonly src: string,
    readonly dst: string,
  ) {}
}

export class TcpReassembler {
  private readonly directions = new Map<string, DirectionState>();
  private connections = 0;

  constructor(
    private readonly listener: ReassemblyListener,
    private readonly maxOutOfOrder = DEFAULT_MAX_OUT_OF_ORDER,
  ) {}

  get connectionCount(): number {
    return this.connections;
  }

  push(segment: TcpSegment, ts: number): void {
    const key = `${segment.srcIp}|${segment.srcPort}|${segment.dstIp}|${segment.dstPort}`;
    let dir = this.directions.get(key);
    const isSyn = (segment.flags & TcpFlag.SYN) !== 0;
    if (dir !== undefined && isSyn && (segment.flags & TcpFlag.ACK) === 0 && segment.seq !== ((dir.base - 1) >>> 0)) {
      // A new SYN on a used 4-tuple: a new connection (the old one closed). Settle the old one first.
      const reverseKey = `${segment.dstIp}|${segment.dstPort}|${segment.srcIp}|${segment.srcPort}`;
      this.settle(dir);
      const reverse = this.directions.get(reverseKey);
      if (reverse !== undefined) this.settle(reverse);
      this.directions.delete(key);
      this.directions.delete(reverseKey);
      dir = undefined;
    }
    if (dir === undefined) dir = this.openDirection(key, segment);
    dir.lastTs = ts;

    let seq = segment.seq;
    if (isSyn) {
      if (dir.next === undefined) {
        dir.sawSyn = true;
        dir.synced = true;
        dir.base = (seq + 1) >>> 0;
        dir.next = dir.base;
      }
      seq = (seq + 1) >>> 0;
    }
    const payload = segment.payload;
    if (payload.length === 0) return;
    if (dir.next === undefined) {
      dir.base = seq;
      dir.next = seq;
    }
    const ahead = (seq - dir.next) | 0;
    if (ahead > 0) {
      this.hold(dir, seq, payload, ts);
      return;
    }
    if (-ahead >= payload.length) return; // a retransmission of bytes already seen
    this.deliver(dir, ahead === 0 ? payload : payload.subarray(-ahead), ts);
    if (dir.held.length > 0) this.drainHeld(dir, ts);
  }

  /** End of capture: report the holes still open, decode what lies behind them, flag cut messages. */
  finish(): void {
    for (const dir of this.directions.values()) this.settle(dir);
  }

  /** A direction ends: holes still open are gaps, bytes short of a whole message are reported. */
  private settle(dir: DirectionState): void {
    while (dir.held.length > 0) this.skipGap(dir, dir.lastTs);
    if (dir.partial.length > 0 && dir.next !== undefined) {
      const seq = (dir.next - dir.partial.length - dir.base) >>> 0;
      this.listener.onNotice(dir, { kind: 'incomplete', seq, bytes: dir.partial.length }, dir.lastTs);
      // In sync, the held bytes are the start of a message the capture cut: it appears too.
      // Out of sync they are only a tail kept in case a marker straddles two segments.
      if (dir.synced) this.listener.onMessage(dir, dir.partial, dir.lastTs, true);
      dir.partial = EMPTY;
    }
  }

  private openDirection(key: string, segment: TcpSegment): DirectionState {
    const reverse = this.directions.get(`${segment.dstIp}|${segment.dstPort}|${segment.srcIp}|${segment.srcPort}`);
    const connection = reverse !== undefined ? reverse.connection : this.connections++;
    const dir = new DirectionState(
      connection,
      endpoint(segment.srcIp, segment.srcPort),
      endpoint(segment.dstIp, segment.dstPort),
    );
    this.directions.set(key, dir);
    return dir;
  }

  private hold(dir: DirectionState, seq: number, data: Uint8Array, ts: number): void {
    for (const held of dir.held) {
      if (held.seq === seq && held.data.length >= data.length) return; // retransmitted while held
    }
    dir.held.push({ seq, data });
    dir.heldBytes += data.length;
    while (dir.heldBytes > this.maxOutOfOrder && dir.held.length > 0) this.skipGap(dir, ts);
  }

  /** Delivers every held segment that now touches or overlaps the contiguous stream. */
  private drainHeld(dir: DirectionState, ts: number): void {
    let progressed = true;
    while (progressed && dir.held.length > 0) {
      progressed = false;
      for (let i = 0; i < dir.held.length; i++) {
        const held = dir.held[i]!;
        const ahead = (held.seq - dir.next!) | 0;
        if (ahead > 0) continue;
        dir.held.splice(i, 1);
        dir.heldBytes -= held.data.length;
        if (-ahead < held.data.length) this.deliver(dir, held.data.subarray(-ahead), ts);
        progressed = true;
        break;
      }
    }
  }

  /** Declares the hole before the earliest held segment lost, and resumes decoding after it. */
  private skipGap(dir: DirectionState, ts: number): void {
    let earliest = dir.held[0]!;
    for (const held of dir.held) if (((held.seq - earliest.seq) | 0) < 0) earliest = held;
    const missing = (earliest.seq - dir.next!) >>> 0;
    this.listener.onNotice(dir, { kind: 'gap', seq: (dir.next! - dir.base) >>> 0, bytes: missing }, ts);
    dir.partial = EMPTY;
    dir.synced = false;
    dir.next = earliest.seq;
    this.drainHeld(dir, ts);
  }

  /** Appends contiguous bytes and emits every message they complete. */
  private deliver(dir: DirectionState, data: Uint8Array, ts: number): void {
    const streamEnd = (dir.next! + data.length) >>> 0;
    dir.next = streamEnd;
    let buf: Uint8Array;
    if (dir.partial.length === 0) buf = data;
    else {
      buf = new Uint8Array(dir.partial.length + data.length);
      buf.set(dir.partial, 0);
      buf.set(data, dir.partial.length);
    }
    const end = buf.length;
    const seqOf = (offset: number): number => (streamEnd - (end - offset) - dir.base) >>> 0;
    let offset = 0;
    for (;;) {
      if (!dir.synced) {
        const found = findPlausibleHeader(buf, offset);
        if (found < 0) {
          // Keep the tail: a marker may straddle this segment and the next.
          const keepFrom = Math.max(offset, end - (BGP_HEADER - 1));
          if (keepFrom > offset) this.listener.onNotice(dir, { kind: 'resync', seq: seqOf(offset), skipped: keepFrom - offset }, ts);
          offset = keepFrom;
          break;
        }
        if (found > offset) this.listener.onNotice(dir, { kind: 'resync', seq: seqOf(offset), skipped: found - offset }, ts);
        offset = found;
        dir.synced = true;
      }
      if (end - offset < BGP_HEADER) break;
      const length = (buf[offset + 16]! << 8) | buf[offset + 17]!;
      if (hasMarker(buf, offset) && length >= BGP_HEADER) {
        if (end - offset < length) break;
        this.listener.onMessage(dir, buf.subarray(offset, offset + length), ts);
        offset += length;
        continue;
      }
      // A broken header where a message must start (RFC 4271 6.1): the message appears with its
      // error, then decoding finds its footing on the next marker.
      let size = BGP_HEADER;
      if (length > BGP_HEADER && length <= BGP_MAX_MESSAGE) {
        if (end - offset < length) break; // wait for the octets the length field claims
        if (startsLikeMarker(buf, offset + length)) size = length;
      }
      this.listener.onMessage(dir, buf.subarray(offset, offset + size), ts);
      offset += size;
      dir.synced = false;
    }
    dir.partial = offset < end ? buf.subarray(offset) : EMPTY;
  }
}

export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The octets from `offset` are all 0xFF as far as the buffer (and a 16-octet marker) goes: a boundary may be there. */
function startsLikeMarker(buf: Uint8Array, offset: number): boolean {
  const last = Math.min(buf.length, offset + 16);
  for (let i = offset; i < last; i++) if (buf[i] !== 0xff) return false;
  return true;
}

function hasMarker(buf: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + 16; i++) if (buf[i] !== 0xff) return false;
  return true;
}

/**
 * Index of the first plausible header from `from` (the codec's messageLengthAt: marker, a length
 * the type allows), or -1. A header whose following bytes are present must be followed by another
 * marker, which keeps a run of 0xFF inside an attribute from passing for a header.
 */
export function findPlausibleHeader(buf: Uint8Array, from: number): number {
  const last = buf.length - BGP_HEADER;
  let run = 0;
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0xff) {
      run = 0;
      continue;
    }
    run++;
    if (run < 16) continue;
    const start = i - 15;
    if (start > last) break;
    const length = messageLengthAt(buf, start);
    if (length === null) continue;
    const nextHeader = start + length;
    if (nextHeader + 16 <= buf.length && !hasMarker(buf, nextHeader)) continue;
    return start;
  }
  return -1;
}
