// Capture -> recording: finds the BGP conversations (TCP connections with port 179 on one side)
// with the capture stage's reader and reassembler, keeps each message's raw bytes and time, and
// picks which side the replay plays.

import { decodeMessage } from '../../reference/bgp/wire/index.ts';
import type { OpenMessage } from '../../reference/bgp/wire/types.ts';
import { BGP_PORT } from '../capture/decode-capture.ts';
import { parseTcpSegment } from '../capture/link.ts';
import { TcpFlag } from '../../reference/net/numbers.ts';
import { readCapture } from '../capture/pcap-reader.ts';
import { TcpReassembler } from '../capture/tcp-reassembly.ts';
import { bytesToHex, endpointFromOpen, RECORDING_VERSION, type RecordedMessage, type Recording } from './recording.ts';

const TYPE_NAMES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

export interface Conversation {
  stream: number;
  /** "ip:port" of each endpoint, in order of first message. */
  endpoints: [string, string];
  /** The endpoint that sent the connection's SYN, when the capture holds it. */
  opener?: string;
  messages: Array<{ ts: number; src: string; type: string; bytes: Uint8Array }>;
  warnings: string[];
}

export class NoConversationError extends Error {}

/** Every BGP conversation of the capture, in order of first appearance. */
export function findConversations(capture: Uint8Array): Conversation[] {
  const byStream = new Map<number, Conversation>();
  const conversation = (stream: number, src: string, dst: string): Conversation => {
    let c = byStream.get(stream);
    if (!c) byStream.set(stream, (c = { stream, endpoints: [src, dst], messages: [], warnings: [] }));
    return c;
  };
  const reassembler = new TcpReassembler({
    onMessage(dir, message, ts) {
      conversation(dir.connection, dir.src, dir.dst).messages.push({ ts, src: dir.src, type: TYPE_NAMES[message[18]!] ?? 'UNKNOWN', bytes: message.slice() });
    },
    onNotice(dir, notice) {
      conversation(dir.connection, dir.src, dir.dst).warnings.push(`${dir.src} -> ${dir.dst}: ${notice.kind} at seq ${notice.seq}`);
    },
  });
  const synSenders = new Set<string>();
  const endpoint = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  readCapture(capture, (frame, ts, linkType) => {
    const segment = parseTcpSegment(frame, linkType);
    if (segment === null || (segment.srcPort !== BGP_PORT && segment.dstPort !== BGP_PORT)) return;
    if ((segment.flags & TcpFlag.SYN) !== 0 && (segment.flags & TcpFlag.ACK) === 0) synSenders.add(endpoint(segment.srcIp, segment.srcPort));
    reassembler.push(segment, ts);
  });
  reassembler.finish();
  for (const c of byStream.values()) {
    const opener = c.endpoints.find((e) => synSenders.has(e));
    if (opener) c.opener = opener;
  }
  return [...byStream.values()].filter((c) => c.messages.length > 0).sort((a, b) => a.stream - b.stream);
}

/** "10.0.0.1:179" or "[fd00::1]:179" -> address and port. */
export function splitEndpoint(endpoint: string): { address: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`not an endpoint: ${endpoint}`);
  return { address: m[1]!, port: Number(m[2]) };
}

export interface RecordOptions {
  /** TCP stream index (as `peerproof decode` numbers them); default: the first with UPDATEs. */
  stream?: number;
  /** Address of the side to play; default: the side that sent the most UPDATEs. */
  side?: string;
  /** Name of the capture, kept in the recording. */
  file?: string;
}

export function recordingFromCapture(capture: Uint8Array, opts: RecordOptions = {}): Recording {
  const conversations = findConversations(capture);
  if (conversations.length === 0) throw new NoConversationError('no BGP conversation (TCP port 179) in the capture');
  let chosen: Conversation | undefined;
  if (opts.stream !== undefined) {
    chosen = conversations.find((c) => c.stream === opts.stream);
    if (!chosen) throw new NoConversationError(`no BGP conversation with stream ${opts.stream}; streams: ${conversations.map(describe).join('; ')}`);
  } else {
    chosen = conversations.find((c) => c.messages.some((m) => m.type === 'UPDATE')) ?? conversations[0]!;
  }
  const [a, b] = chosen.endpoints;
  const updates = (src: string) => chosen!.messages.filter((m) => m.src === src && m.type === 'UPDATE').length;
  let played = updates(b) > updates(a) ? b : a;
  if (opts.side !== undefined) {
    const match = chosen.endpoints.find((e) => splitEndpoint(e).address === opts.side);
    if (!match) throw new NoConversationError(`stream ${chosen.stream} has no endpoint ${opts.side} (endpoints: ${chosen.endpoints.join(', ')})`);
    played = match;
  }
  const peer = played === a ? b : a;
  const opens = new Map<string, OpenMessage | null>();
  for (const m of chosen.messages) {
    if (m.type !== 'OPEN' || opens.has(m.src)) continue;
    try {
      const msg = decodeMessage(m.bytes);
      opens.set(m.src, msg.type === 'OPEN' ? msg : null);
    } catch {
      opens.set(m.src, null);
    }
  }
  if (!opens.get(played)) throw new NoConversationError(`stream ${chosen.stream}: the OPEN of ${played} is not in the capture (or does not decode); a replay needs it`);
  const t0 = chosen.messages[0]!.ts;
  const messages: RecordedMessage[] = chosen.messages.map((m) => ({
    t: Math.round((m.ts - t0) * 1e6) / 1e6,
    from: m.src === played ? 'played' : 'peer',
    type: m.type,
    hex: bytesToHex(m.bytes),
  }));
  const end = (e: string) => {
    const { address, port } = splitEndpoint(e);
    return endpointFromOpen(address, port, opens.get(e) ?? null);
  };
  return {
    version: RECORDING_VERSION,
    source: { kind: 'capture', file: opts.file ?? '(memory)', stream: chosen.stream },
    played: end(played),
    peer: end(peer),
    ...(chosen.opener && { opener: chosen.opener === played ? ('played' as const) : ('peer' as const) }),
    messages,
  };
}

export function describe(c: Conversation): string {
  const count = (type: string) => c.messages.filter((m) => m.type === type).length;
  return `stream ${c.stream} ${c.endpoints[0]} <-> ${c.endpoints[1]}: ${c.messages.length} messages (${count('OPEN')} OPEN, ${count('UPDATE')} UPDATE, ${count('NOTIFICATION')} NOTIFICATION)`;
}
