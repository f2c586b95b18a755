// Small helpers the FSM, capability, MP-BGP, AS4 and shutdown clause files share: raw attribute
// walks of what the SUT sent, "the SUT closed without answering", "a new session comes up
// again", and hand-built OPENs / MP attributes the codec refuses to encode.
import { parsePrefix, type BgpMessage, type NotificationMessage, type OpenMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { attribute, rawMessage } from '../tester/bytes.ts';
import { defaultCapabilities, describeMessage, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext } from './clause.ts';

export interface RawAttribute {
  flags: number;
  code: number;
  value: number[];
}

/** The path attributes of an UPDATE the SUT sent, as they were on the wire (no AS4 merge). */
export function rawAttributesOf(peer: TesterPeer, update: UpdateMessage): RawAttribute[] {
  const index = peer.messages.indexOf(update as BgpMessage);
  const bytes = peer.receivedBytes[index];
  if (!bytes) throw new Error('rawAttributesOf: this UPDATE was not received by this peer');
  let p = 19;
  const withdrawnLength = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2 + withdrawnLength;
  const attributesLength = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 2;
  const end = p + attributesLength;
  const out: RawAttribute[] = [];
  while (p < end) {
    const flags = bytes[p]!;
    const code = bytes[p + 1]!;
    const extended = (flags & 0x10) !== 0;
    const length = extended ? (bytes[p + 2]! << 8) | bytes[p + 3]! : bytes[p + 2]!;
    const start = p + (extended ? 4 : 3);
    out.push({ flags, code, value: [...bytes.subarray(start, start + length)] });
    p = start + length;
  }
  return out;
}

/** The ASNs of an AS_PATH / AS4_PATH value, every segment flattened, `size` octets each. */
export function pathAsns(value: readonly number[], size: 2 | 4): number[] {
  const asns: number[] = [];
  for (let p = 0; p + 2 <= value.length; ) {
    const count = value[p + 1]!;
    p += 2;
    for (let k = 0; k < count && p + size <= value.length; k++, p += size) {
      asns.push(size === 2 ? (value[p]! << 8) | value[p + 1]! : ((value[p]! << 24) | (value[p + 1]! << 16) | (value[p + 2]! << 8) | value[p + 3]!) >>> 0);
    }
  }
  return asns;
}

/** A 2-octet AS_PATH (one AS_SEQUENCE), as a 2-octet (OLD) speaker sends it. */
export const asPath2 = (...asns: number[]): number[] => attribute(0x40, 2, asns.length ? [2, asns.length, ...asns.flatMap((a) => [(a >> 8) & 255, a & 255])] : []);

/** An AS4_PATH (code 17, optional transitive) of one AS_SEQUENCE. */
export const as4Path = (...asns: number[]): number[] =>
  attribute(0xc0, 17, [2, asns.length, ...asns.flatMap((a) => [a >>> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255])]);


/** Prefix octets (length, then the significant octets) of an IPv4 or IPv6 prefix. */
export function prefixOctets(prefix: string): number[] {
  const p = parsePrefix(prefix);
  return [p.length, ...p.bytes.slice(0, Math.ceil(p.length / 8))];
}

/** An MP_REACH_NLRI attribute with next-hop bytes given as they are (any length). */
export function mpReachRaw(afi: number, safi: number, nextHop: readonly number[], prefixes: string[]): number[] {
  return attribute(0x90, 14, [afi >> 8, afi & 255, safi, nextHop.length, ...nextHop, 0, ...prefixes.flatMap(prefixOctets)]);
}

/** The 16 octets of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function mappedV6(ipv4: string): number[] {
  return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ipv4.split('.').map(Number)];
}

/** An OPEN built by hand: `parameters` are the optional parameters' octets as they are. */
export function rawOpen(asn: number, holdTime: number, bgpId: string, parameters: readonly number[]): Uint8Array {
  return rawMessage(1, [4, (asn >> 8) & 255, asn & 255, holdTime >> 8, holdTime & 255, ...bgpId.split('.').map(Number), parameters.length, ...parameters]);
}

/** One capabilities optional parameter (type 2) holding the given capability TLVs. */
export const capabilityParameter = (...caps: number[][]): number[] => {
  const body = caps.flat();
  return [2, body.length, ...body];
};
export const capTlv = (code: number, value: readonly number[]): number[] => [code, value.length, ...value];

/** The FSM Error NOTIFICATION (code 5) with one of the allowed subcodes. */
export async function expectFsmError(peer: TesterPeer, subcodes: number[], timeoutMs = 5000): Promise<NotificationMessage> {
  const n = await peer.expectNotification(5, undefined, timeoutMs);
  if (!subcodes.includes(n.subcode)) throw new ExpectationFailed(`expected FSM Error with subcode ${subcodes.join(' or ')}, got ${describeMessage(n)}`, peer.transcript);
  return n;
}

/** The SUT closes the connection within the time and sends no NOTIFICATION before it does. */
export async function expectQuietClose(peer: TesterPeer, timeoutMs = 5000): Promise<void> {
  const n = await peer.next((m) => m.type === 'NOTIFICATION', timeoutMs);
  if (n) throw new ExpectationFailed(`${peer.label}: expected the SUT to close without a NOTIFICATION of its own, got ${describeMessage(n)}`, peer.transcript);
  await peer.expectClosed(Math.min(timeoutMs, 2000));
}

/**
 * A new session from slot i comes up within `withinMs` (the SUT released the old one): tries
 * every second, since a SUT may refuse for a moment while it tears the old connection down.
 */
export async function reestablish(t: ClauseContext, i = 0, withinMs = 15_000): Promise<TesterPeer> {
  const deadline = Date.now() + withinMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      return await t.establish(i);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const message = last instanceof Error ? last.message : String(last);
  throw new ExpectationFailed(`no new session from slot ${i} came up within ${withinMs / 1000} s after the old one ended: ${message}`, last instanceof ExpectationFailed ? last.transcript : []);
}

/** The capability codes in the SUT's OPEN. */
export const capabilityCodes = (peer: TesterPeer): number[] => peer.openReceived()?.capabilities.map((c) => c.code) ?? [];

/**
 * A route sent from slot 0 reaches slot 1: both sessions come up (slot 0 first; `a` and `b` are
 * sessions made otherwise), `a` sends `update` and slot 1 receives `prefix` announced.
 */
export async function propagated(t: ClauseContext, update: BgpMessage | Uint8Array, prefix: string, o: { label?: string; a?: TesterPeer; b?: TesterPeer } = {}): Promise<{ a: TesterPeer; b: TesterPeer; u: UpdateMessage }> {
  const a = o.a ?? (await t.establish(0));
  const b = o.b ?? (await t.establish(1));
  a.sendMessage(update, o.label);
  const u = await b.expectAnnounced(prefix);
  return { a, b, u };
}

/** Slot 0 Established with Hold Time 3 offered; how many KEEPALIVEs the SUT sends within `ms` (the session must stay up meanwhile). */
export async function keepalivesAtHoldTime3(t: ClauseContext, ms: number): Promise<{ peer: TesterPeer; count: number }> {
  const peer = await t.establish(0, { holdTime: 3 });
  peer.drain();
  const start = Date.now();
  let count = 0;
  while (Date.now() - start < ms) if (await peer.next((m) => m.type === 'KEEPALIVE', ms - (Date.now() - start))) count++;
  if (peer.closed) throw new ExpectationFailed('the session closed while KEEPALIVEs were counted', peer.transcript);
  return { peer, count };
}

/** The SUT's next message on `peer` within 5 s is a KEEPALIVE; else fails with "`expected`, got …". */
export async function expectKeepalive(peer: TesterPeer, expected = "expected the SUT's KEEPALIVE"): Promise<void> {
  const m = await peer.next((x) => x.type === 'KEEPALIVE' || x.type === 'NOTIFICATION', 5000);
  if (!m || m.type !== 'KEEPALIVE') throw new ExpectationFailed(`${expected}, got ${m ? describeMessage(m) : 'nothing'}`, peer.transcript);
}

/** The connection the SUT opens to slot 0 (an ebgp-active slot) within `ms`, its OPEN received. */
export async function acceptSutConnection(t: ClauseContext, ms: number): Promise<TesterPeer> {
  const peer = await t.accept(0, ms);
  await peer.expectOpen();
  return peer;
}

/** A connection to the SUT (slot 0) and the OPEN the SUT sends on it; ours not sent yet. */
export async function sutOpen(t: ClauseContext): Promise<{ peer: TesterPeer; open: OpenMessage }> {
  const peer = await t.connect();
  return { peer, open: await peer.expectOpen() };
}

/** A connection to the SUT (slot 0) on which the tester sends a hand-built OPEN with these optional-parameter octets. */
export async function sendRawOpen(t: ClauseContext, parameters: readonly number[], what: string): Promise<TesterPeer> {
  const slot = t.slots[0]!;
  const peer = await t.connect();
  peer.sendMessage(rawOpen(slot.asn, 9, slot.address, parameters), what);
  return peer;
}

type OpenFields = Parameters<TesterPeer['sendOpen']>[0];

/** The OPEN slot i sends by default (its AS and address, hold time 9, the default capabilities for its AS), `over` replacing fields. */
export function slotOpen(t: ClauseContext, over: Partial<OpenFields> = {}, i = 0): OpenFields {
  const slot = t.slots[i]!;
  const asn = over.asn ?? slot.asn;
  return { asn, bgpId: slot.address, holdTime: 9, capabilities: defaultCapabilities(asn), ...over };
}

/** A new connection from slot 0 on which the tester sends slotOpen(t, over) at once. */
export async function connectWithOpen(t: ClauseContext, over: Partial<OpenFields> = {}): Promise<TesterPeer> {
  const peer = await t.connect();
  peer.sendOpen(slotOpen(t, over));
  return peer;
}
