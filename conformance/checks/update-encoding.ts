// update.encoding: judges the BGP messages one speaker sent on one session, as decoded from a
// capture. Pure: messages in, findings out (each with the RFC clause and its level).
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { ATTRIBUTE_BY_CODE } from '../../reference/bgp/wire/attribute-table.ts';
import { AttributeCode, AttributeFlag, attributeName } from '../../reference/bgp/wire/attribute-format.ts';
import { isEndOfRib, type OpenMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';

export interface Finding {
  level: 'MUST' | 'SHOULD';
  rfc: string;
  text: string;
}

export interface EncodingVerdict {
  findings: Finding[];
  updates: number;
  prefixes: number;
  endOfRib: boolean;
  largestMessage: number;
}

const OPTIONAL = AttributeFlag.OPTIONAL;
const TRANSITIVE = AttributeFlag.TRANSITIVE;
const MP_REACH_NLRI = AttributeCode.MP_REACH_NLRI;
const MP_UNREACH_NLRI = AttributeCode.MP_UNREACH_NLRI;
const AS4_PATH = 17;
const MAX_MESSAGE = 4096;

export interface SessionEnds {
  /** Address the speaker sent from. */
  speaker: string;
  peer: string;
  speakerAsn: number;
  peerAsn: number;
  /** Directly connected eBGP: NEXT_HOP must be the speaker's own address on the link. */
  directEbgp: boolean;
}

/** The address of a decoded message's endpoint ("10.0.1.2:179", "[2001:db8::1]:179"). */
export function hostOf(endpoint: string): string {
  const v6 = /^\[(.*)\]:\d+$/.exec(endpoint);
  if (v6) return v6[1]!;
  return endpoint.replace(/:\d+$/, '');
}

/** Messages of one direction (speaker -> peer), in capture order. */
export function sentBy(messages: readonly DecodedMessage[], ends: { speaker: string; peer: string }): DecodedMessage[] {
  return messages.filter((m) => hostOf(m.src) === ends.speaker && hostOf(m.dst) === ends.peer);
}

export function checkUpdateEncoding(sent: readonly DecodedMessage[], received: readonly DecodedMessage[], ends: SessionEnds): EncodingVerdict {
  const findings: Finding[] = [];
  const must = (rfc: string, text: string) => findings.push({ level: 'MUST', rfc, text });
  const should = (rfc: string, text: string) => findings.push({ level: 'SHOULD', rfc, text });
  const openOf = (ms: readonly DecodedMessage[]) => ms.find((m) => m.type === 'OPEN')?.message as OpenMessage | undefined;
  const ourOpen = openOf(sent);
  const theirOpen = openOf(received);
  const as4 = ourOpen?.as4 != null && theirOpen?.as4 != null;
  let updates = 0;
  let prefixes = 0;
  let endOfRib = false;
  let largestMessage = 0;
  const attributeSets = new Map<string, number>();
  for (const m of sent) {
    largestMessage = Math.max(largestMessage, m.length);
    if (m.length > MAX_MESSAGE) must('RFC 4271 4.1', `${m.type} of ${m.length} octets exceeds ${MAX_MESSAGE}`);
    if (m.type !== 'UPDATE') continue;
    if (m.message === null) {
      must('RFC 4271 4.3', `UPDATE at ${m.ts.toFixed(6)} does not parse: ${m.error ?? 'unknown error'}`);
      continue;
    }
    const u = m.message as UpdateMessage;
    updates++;
    if (isEndOfRib(u)) {
      endOfRib = true;
      continue;
    }
    const layout = u.layout ?? [];
    const codes = layout.map((l) => l.code);
    const at = `UPDATE at ${m.ts.toFixed(6)}`;
    const dup = codes.find((c, i) => codes.indexOf(c) !== i);
    if (dup !== undefined) must('RFC 4271 5', `${at}: attribute type ${dup} appears twice`);
    // RFC 7606 5.1: MP_REACH_NLRI / MP_UNREACH_NLRI go first; the rest ascend by type (RFC 4271 5).
    const rest = codes[0] === MP_REACH_NLRI || codes[0] === MP_UNREACH_NLRI ? codes.slice(1) : codes;
    if (rest.some((c, i) => i > 0 && c < rest[i - 1]!)) should('RFC 4271 5', `${at}: attributes not in ascending type order (${codes.join(', ')})`);
    const mpAt = codes.findIndex((c) => c === MP_REACH_NLRI || c === MP_UNREACH_NLRI);
    if (mpAt > 0) should('RFC 7606 5.1', `${at}: ${attributeName(codes[mpAt]!)} is attribute ${mpAt + 1}, not the first (${codes.join(', ')})`);
    for (const l of layout) {
      const expected = ATTRIBUTE_BY_CODE[l.code]?.flags;
      if (expected !== undefined && (l.flags & (OPTIONAL | TRANSITIVE)) !== expected)
        must('RFC 4271 4.3', `${at}: attribute ${l.code} flags 0x${l.flags.toString(16)}, expected optional/transitive bits 0x${expected.toString(16)}`);
    }
    for (const e of u.errors ?? []) must('RFC 4271 4.3', `${at}: ${e.message}`);
    const a = u.attributes;
    const announced = u.nlri.length + (a.mpReach?.nlri.length ?? 0);
    prefixes += announced;
    if (announced === 0) continue;
    const attributesKey = JSON.stringify({ ...a, mpReach: a.mpReach && { ...a.mpReach, nlri: [] } });
    attributeSets.set(attributesKey, (attributeSets.get(attributesKey) ?? 0) + 1);
    if (!a.origin) must('RFC 4271 5.1.1', `${at}: no ORIGIN`);
    if (!a.asPath) must('RFC 4271 5.1.2', `${at}: no AS_PATH`);
    if (u.nlri.length > 0 && !a.nextHop) must('RFC 4271 5.1.3', `${at}: IPv4 NLRI without NEXT_HOP`);
    if (a.mpReach && a.mpReach.nextHops.length === 0) must('RFC 4760 3', `${at}: MP_REACH_NLRI without a next hop`);
    const ebgp = ends.speakerAsn !== ends.peerAsn;
    if (ebgp && a.asPath) {
      const first = a.asPath[0];
      if (!first || first.type !== 'sequence' || first.asns[0] !== ends.speakerAsn)
        must('RFC 4271 5.1.2', `${at}: AS_PATH does not start with the speaker's AS ${ends.speakerAsn} (${JSON.stringify(a.asPath)})`);
    }
    if (!ebgp && a.asPath && a.asPath.length > 0) {
      // Towards an internal peer the path is passed on unchanged: empty for what the speaker
      // originates, never with its own AS prepended (only a route from an external peer has one).
      const first = a.asPath[0]!;
      if (first.type === 'sequence' && first.asns[0] === ends.speakerAsn)
        must('RFC 4271 5.1.2', `${at}: AS_PATH to an internal peer starts with the speaker's own AS ${ends.speakerAsn} (${JSON.stringify(a.asPath)})`);
      else should('RFC 4271 5.1.2', `${at}: AS_PATH to an internal peer is not empty (${JSON.stringify(a.asPath)}): right only for a route learned from an external peer`);
    }
    if (!ebgp && a.localPref === undefined) must('RFC 4271 5.1.5', `${at}: no LOCAL_PREF in an UPDATE to an internal peer`);
    if (ebgp && a.localPref !== undefined) must('RFC 4271 5.1.5', `${at}: LOCAL_PREF ${a.localPref} sent to an external peer`);
    if (as4 && codes.includes(AS4_PATH)) must('RFC 6793 4.1', `${at}: AS4_PATH sent although both speakers are 4-octet capable`);
    if (ends.directEbgp && u.nlri.length > 0 && a.nextHop && a.nextHop !== ends.speaker)
      must('RFC 4271 5.1.3', `${at}: NEXT_HOP ${a.nextHop} is not the speaker's address ${ends.speaker} on the shared subnet`);
  }
  for (const [set, count] of attributeSets) {
    if (count > 1) should('RFC 4271 9.2', `${count} UPDATEs carry identical attributes (${set.slice(0, 80)}...) and could have been packed into one`);
  }
  if (!endOfRib) should('RFC 4724 2', 'no End-of-RIB marker after the initial update');
  return { findings, updates, prefixes, endOfRib, largestMessage };
}
