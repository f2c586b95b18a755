// Which links a TCP conversation crossed, from per-link captures: the segments of each
// direction seen on each link, counted by connection (the client's port). Used by
// podcidr.export (pod to pod across racks) and dsr.return-path (forward via the load-balancer
// node, replies from the VIP on a link that bypasses it).
import { existsSync, readFileSync } from 'node:fs';
import { parseTcpSegment, type TcpSegment } from '../capture/link.ts';
import { TcpFlag } from '../../reference/net/numbers.ts';
import { readCapture } from '../capture/pcap-reader.ts';

export interface TcpMatch {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  /** Only the first segment of each connection (SYN without ACK), or SYN-ACK when the server sends. */
  syn?: boolean;
}

/** A TCP segment and its capture time (seconds since the epoch). */
export type TimedSegment = TcpSegment & { ts: number };

/** A capture tcpdump has not written its header to yet reads as no segments; anything else that is not a capture throws. */
export function tcpSegments(bytes: Uint8Array): TimedSegment[] {
  const out: TimedSegment[] = [];
  if (bytes.length < 24) return out;
  readCapture(bytes, (frame, ts, linkType) => {
    const s = parseTcpSegment(frame, linkType);
    if (s) out.push({ ...s, ts });
  });
  return out;
}

/** `since` (seconds since the epoch): only segments captured from then on, e.g. this attempt's. */
export function tcpSegmentsInFile(file: string, since = 0): TimedSegment[] {
  return existsSync(file) ? tcpSegments(readFileSync(file)).filter((s) => s.ts >= since) : [];
}

export function matches(s: TcpSegment, m: TcpMatch): boolean {
  return (
    (m.src === undefined || s.srcIp === m.src) &&
    (m.dst === undefined || s.dstIp === m.dst) &&
    (m.srcPort === undefined || s.srcPort === m.srcPort) &&
    (m.dstPort === undefined || s.dstPort === m.dstPort) &&
    (m.syn === undefined || ((s.flags & TcpFlag.SYN) !== 0) === m.syn)
  );
}

/** Connections (by the client's port) with at least one matching segment. `clientSide`: which port is the client's. */
export function connections(segments: readonly TcpSegment[], m: TcpMatch, clientSide: 'src' | 'dst'): Set<number> {
  const out = new Set<number>();
  for (const s of segments) if (matches(s, m)) out.add(clientSide === 'src' ? s.srcPort : s.dstPort);
  return out;
}

export interface LinkSegments {
  /** "node:ifname" */
  link: string;
  segments: readonly TimedSegment[];
}

export interface Conversation {
  client: string;
  server: string;
  port: number;
  /** Client ports of the connections the client opened and judged. */
  clientPorts: ReadonlySet<number>;
}

export interface ConversationPath {
  /** Links where the client's segments to the server were seen, with the number of connections. */
  forward: Record<string, number>;
  /** Links where the server's replies were seen. */
  replies: Record<string, number>;
}

/**
 * The links the first matching segment crossed, in the order it crossed them (capture times of
 * one kernel clock; every link must be captured for the list to be the whole path). Only copies
 * of that segment count (same sequence numbers): a later attempt may take another path.
 */
export function hopsOf(links: readonly LinkSegments[], m: TcpMatch): string[] {
  let first: TimedSegment | undefined;
  for (const { segments } of links) {
    const s = segments.find((x) => matches(x, m));
    if (s && (!first || s.ts < first.ts)) first = s;
  }
  if (!first) return [];
  const same = (s: TimedSegment) => matches(s, m) && s.seq === first.seq && s.ack === first.ack;
  const seen: Array<{ link: string; ts: number }> = [];
  for (const { link, segments } of links) {
    const copy = segments.find(same);
    if (copy) seen.push({ link, ts: copy.ts });
  }
  return seen.sort((a, b) => a.ts - b.ts).map((x) => x.link);
}

/** Per link, how many of the conversation's connections crossed it in each direction. */
export function conversationPath(links: readonly LinkSegments[], c: Conversation): ConversationPath {
  const forward: Record<string, number> = {};
  const replies: Record<string, number> = {};
  const ours = (ports: Set<number>) => [...ports].filter((p) => c.clientPorts.has(p)).length;
  for (const { link, segments } of links) {
    const f = ours(connections(segments, { src: c.client, dst: c.server, dstPort: c.port }, 'src'));
    const r = ours(connections(segments, { src: c.server, dst: c.client, srcPort: c.port }, 'dst'));
    if (f > 0) forward[link] = f;
    if (r > 0) replies[link] = r;
  }
  return { forward, replies };
}

export interface ReturnPathRoles {
  client: string;
  vip: string;
  port: number;
  /** Links of the load-balancer node(s): forward traffic must cross one, replies none. */
  lbLinks: readonly string[];
  /** The link replies must take instead (e.g. the client's own link). */
  bypassLink: string;
  clientPorts: ReadonlySet<number>;
}

export interface ReturnPathVerdict {
  /** Connections whose packets to the VIP reached a load-balancer node link. */
  forwardViaLb: number;
  /** Connections the load-balancer node passed on with the destination rewritten (any address but the VIP). */
  forwardedOn: number;
  /** Connections answered from the VIP on the bypass link. */
  repliesOnBypass: number;
  /** Connections with a reply (from the VIP or any other source) on a load-balancer node link. */
  repliesViaLb: number;
  problems: string[];
}

/** DSR: every connection went to the VIP through a load-balancer node, and came back from the VIP on the bypass link and never through that node. */
export function judgeReturnPath(links: readonly LinkSegments[], roles: ReturnPathRoles): ReturnPathVerdict {
  const ours = (ports: Set<number>) => new Set([...ports].filter((p) => roles.clientPorts.has(p)));
  const union = (sets: Set<number>[]) => new Set(sets.flatMap((s) => [...s]));
  const on = (names: readonly string[]) => links.filter((l) => names.includes(l.link));
  const lb = on(roles.lbLinks);
  const bypass = on([roles.bypassLink]);
  const forwardViaLb = ours(union(lb.map((l) => connections(l.segments, { src: roles.client, dst: roles.vip, dstPort: roles.port }, 'src'))));
  const forwardedOn = ours(
    union(lb.map((l) => new Set(l.segments.filter((s) => s.srcIp === roles.client && s.dstIp !== roles.vip && s.dstPort === roles.port).map((s) => s.srcPort)))),
  );
  const repliesOnBypass = ours(union(bypass.map((l) => connections(l.segments, { src: roles.vip, dst: roles.client, srcPort: roles.port }, 'dst'))));
  const repliesViaLb = ours(union(lb.map((l) => connections(l.segments, { dst: roles.client, srcPort: roles.port }, 'dst'))));
  const problems: string[] = [];
  const total = roles.clientPorts.size;
  const missing = (seen: Set<number>) => [...roles.clientPorts].filter((p) => !seen.has(p)).slice(0, 5).join(', ');
  if (lb.length === 0) problems.push(`no capture of the load-balancer node link(s) ${roles.lbLinks.join(', ')}`);
  if (bypass.length === 0) problems.push(`no capture of the bypass link ${roles.bypassLink}`);
  if (forwardViaLb.size < total)
    problems.push(`${total - forwardViaLb.size} of ${total} connections to ${roles.vip}:${roles.port} never reached the load-balancer node (client ports ${missing(forwardViaLb)})`);
  if (repliesOnBypass.size < total)
    problems.push(`${total - repliesOnBypass.size} of ${total} connections got no reply from ${roles.vip}:${roles.port} on ${roles.bypassLink} (client ports ${missing(repliesOnBypass)})`);
  if (repliesViaLb.size > 0) problems.push(`${repliesViaLb.size} connections had replies to ${roles.client} on the load-balancer node link(s): the return path did not bypass it`);
  return { forwardViaLb: forwardViaLb.size, forwardedOn: forwardedOn.size, repliesOnBypass: repliesOnBypass.size, repliesViaLb: repliesViaLb.size, problems };
}
