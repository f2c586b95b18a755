// One row per path attribute this codec knows (after BIRD's bgp_attr_table): its code, name, the
// Optional/Transitive bits it must carry, what RFC 7606 does with it when it is malformed and
// which clause says so, and its decoder and encoder. The decode loop, the encoder, the error
// handling and docs/attributes.md all read these rows.

import { ipv4NumberToString, ipv4ToBytes, ipv4ToString } from './addr.ts';
import { as4PathSegments, decodeAsPath, needsAs4Path, writeAsPath } from './aspath.ts';
import { AttributeCode, OPTIONAL_NON_TRANSITIVE, OPTIONAL_TRANSITIVE, ORIGINS, WELL_KNOWN, attributeName, writeAttribute } from './attribute-format.ts';
import { ByteWriter, checkUint, fromHex, readU16, readU32, toHex } from './bytes.ts';
import { UpdateSubcode, updateError } from './errors.ts';
import { addPathFor, decodeMpReach, decodeMpUnreach, writeMpReachAttribute, writeMpUnreachAttribute } from './mp-nlri.ts';
import { prepareRoutes } from './nlri.ts';
import { AS_TRANS, type AsPathSegment, type CodecContext, type PathAttributes, type UpdateError } from './types.ts';

const A = AttributeCode;
const u16 = readU16;
const u32 = readU32;

/** What happens to an UPDATE carrying this attribute malformed. */
export type MalformedAction = 'treat-as-withdraw' | 'attribute-discard' | 'session-reset';

/** Per-UPDATE decode state the rows write into. */
export interface AttributeDecodeState {
  attributes: PathAttributes;
  errors: UpdateError[];
  ctx: CodecContext;
  as4: boolean;
  /** AS4_PATH / AS4_AGGREGATOR as read on a 2-octet session, merged after the loop (RFC 6793 4.2.3). */
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
}

/** Per-UPDATE encode state: `add` queues one attribute, written later in type-code order. */
export interface AttributeEncodeState {
  attributes: PathAttributes;
  ctx: CodecContext;
  as4: boolean;
  w: ByteWriter;
  add(code: number, write: () => void): void;
}

export interface AttributeDescriptor {
  code: number;
  name: string;
  /** The Optional and Transitive bits it must carry (RFC 4271 5, RFC 7606 3(c)). */
  flags: number;
  /** RFC 7606's action for a malformed value or length; wrong flags get it too, except session-reset rows (treat-as-withdraw, 3(c)). */
  malformed: MalformedAction;
  /** The clause that prescribes `malformed`. */
  rfc: string;
  /** Reads bytes[start, end) (the value); `headerStart` is where the attribute's flags byte is. */
  decode(bytes: Uint8Array, start: number, end: number, headerStart: number, flags: number, s: AttributeDecodeState): void;
  /** Queues the attribute when `s.attributes` has it. */
  encode(s: AttributeEncodeState): void;
}

function lengthError(s: AttributeDecodeState, row: Pick<AttributeDescriptor, 'code' | 'malformed'>, length: number, expected: string): void {
  s.errors.push(
    updateError(row.malformed as UpdateError['action'], UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, row.code, `${attributeName(row.code)} length ${length}, expected ${expected}`),
  );
}

function valueError(s: AttributeDecodeState, row: Pick<AttributeDescriptor, 'code' | 'malformed'>, subcode: number, detail: string): void {
  s.errors.push(updateError(row.malformed as UpdateError['action'], subcode, row.code, detail));
}

/** Not 0.0.0.0, not multicast or reserved (224/3), which covers 255.255.255.255 too. */
export function isUnicastHostAddress(address: number): boolean {
  return address !== 0 && address >>> 29 !== 7;
}

let lastNextHop = -1;
let lastNextHopText = '';

/** NEXT_HOP text, remembered for the next message: one peer sends the same next hop over and over. */
export function nextHopText(address: number): string {
  if (address !== lastNextHop) {
    lastNextHop = address;
    lastNextHopText = ipv4NumberToString(address);
  }
  return lastNextHopText;
}

/** COMMUNITIES values in bytes[start, end) (a multiple of 4 long) as "asn:value". */
export function communityTexts(bytes: Uint8Array, start: number, end: number): string[] {
  const communities: string[] = [];
  for (let q = start; q < end; q += 4) communities.push(u16(bytes, q) + ':' + u16(bytes, q + 2));
  return communities;
}

/** RFC 7606 7.8, 7.10, 7.14 and RFC 8092 6 make a zero-length list malformed: refuse to send one. */
function nonEmpty<T>(list: readonly T[], name: string): readonly T[] {
  if (list.length === 0) throw new RangeError(`${name}: an empty list would be a malformed attribute; leave the field out instead`);
  return list;
}

function parseCommunity(text: string): number {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match || Number(match[1]) > 0xffff || Number(match[2]) > 0xffff) throw new RangeError(`COMMUNITIES: bad community "${text}"`);
  return ((Number(match[1]) << 16) | Number(match[2])) >>> 0;
}

function writeLargeCommunity(w: ByteWriter, text: string): void {
  const parts = text.split(':');
  if (parts.length !== 3 || !parts.every((part) => /^\d+$/.test(part) && Number(part) <= 0xffffffff)) {
    throw new RangeError(`LARGE_COMMUNITIES: bad community "${text}"`);
  }
  for (const part of parts) w.u32(Number(part));
}

function writeExtendedCommunity(w: ByteWriter, hex: string): void {
  const bytes = fromHex(hex, 'EXTENDED_COMMUNITIES');
  if (bytes.length !== 8) throw new RangeError(`EXTENDED_COMMUNITIES: "${hex}" is not 8 bytes`);
  w.bytes(bytes);
}

/** On a 2-octet session, whether AS_PATH needs AS4_PATH beside it (an ASN above 65535 in it). */
function sendsAs4Path(s: AttributeEncodeState): boolean {
  return !s.as4 && s.attributes.asPath !== undefined && needsAs4Path(s.attributes.asPath);
}

/** Queues a fixed-flags attribute whose value `value` writes. Unnamed closures: see writeAttributes. */
function queue(s: AttributeEncodeState, code: number, flags: number, value: (v: ByteWriter) => void): void {
  s.add(code, () => writeAttribute(s.w, flags, code, value));
}

function row(r: Omit<AttributeDescriptor, 'name'>): AttributeDescriptor {
  return { ...r, name: attributeName(r.code) };
}

export const ATTRIBUTE_TABLE: readonly AttributeDescriptor[] = [
  row({
    code: A.ORIGIN,
    flags: WELL_KNOWN,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.1',
    decode(bytes, start, end, _h, _f, s) {
      if (end - start !== 1) lengthError(s, this, end - start, '1');
      else if (bytes[start] > 2) valueError(s, this, UpdateSubcode.INVALID_ORIGIN, `ORIGIN value ${bytes[start]}`);
      else s.attributes.origin = ORIGINS[bytes[start]];
    },
    encode(s) {
      const origin = s.attributes.origin;
      if (origin === undefined) return;
      const value = ORIGINS.indexOf(origin);
      if (value < 0) throw new RangeError(`ORIGIN: unknown value "${origin}"`);
      queue(s, A.ORIGIN, WELL_KNOWN, (v) => v.u8(value));
    },
  }),
  row({
    code: A.AS_PATH,
    flags: WELL_KNOWN,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.2',
    decode(bytes, start, end, _h, _f, s) {
      const segments = decodeAsPath(bytes, start, end, s.as4 ? 4 : 2);
      if (typeof segments === 'string') valueError(s, this, UpdateSubcode.MALFORMED_AS_PATH, segments);
      else s.attributes.asPath = segments;
    },
    encode(s) {
      const path = s.attributes.asPath;
      if (path !== undefined) queue(s, A.AS_PATH, WELL_KNOWN, (v) => writeAsPath(v, path, s.as4 ? 4 : 2));
    },
  }),
  row({
    code: A.NEXT_HOP,
    flags: WELL_KNOWN,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.3',
    decode(bytes, start, end, _h, _f, s) {
      if (end - start !== 4) return lengthError(s, this, end - start, '4');
      const address = u32(bytes, start);
      // An address that is no host's (RFC 4271 6.3).
      if (!isUnicastHostAddress(address)) valueError(s, this, UpdateSubcode.INVALID_NEXT_HOP, `NEXT_HOP ${ipv4ToString(bytes, start)}`);
      else s.attributes.nextHop = nextHopText(address);
    },
    encode(s) {
      if (s.attributes.nextHop === undefined) return;
      const hop = ipv4ToBytes(s.attributes.nextHop);
      queue(s, A.NEXT_HOP, WELL_KNOWN, (v) => v.bytes(hop));
    },
  }),
  row({
    code: A.MED,
    flags: OPTIONAL_NON_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.4',
    decode(bytes, start, end, _h, _f, s) {
      if (end - start !== 4) lengthError(s, this, end - start, '4');
      else s.attributes.med = u32(bytes, start);
    },
    encode(s) {
      if (s.attributes.med === undefined) return;
      const med = checkUint(s.attributes.med, 32, 'MED');
      queue(s, A.MED, OPTIONAL_NON_TRANSITIVE, (v) => v.u32(med));
    },
  }),
  row({
    code: A.LOCAL_PREF,
    flags: WELL_KNOWN,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.5',
    decode(bytes, start, end, _h, _f, s) {
      if (end - start !== 4) lengthError(s, this, end - start, '4');
      else s.attributes.localPref = u32(bytes, start);
    },
    encode(s) {
      if (s.attributes.localPref === undefined) return;
      const pref = checkUint(s.attributes.localPref, 32, 'LOCAL_PREF');
      queue(s, A.LOCAL_PREF, WELL_KNOWN, (v) => v.u32(pref));
    },
  }),
  row({
    code: A.ATOMIC_AGGREGATE,
    flags: WELL_KNOWN,
    malformed: 'attribute-discard',
    rfc: 'RFC 7606 7.6',
    decode(_b, start, end, _h, _f, s) {
      if (end - start !== 0) lengthError(s, this, end - start, '0');
      else s.attributes.atomicAggregate = true;
    },
    encode(s) {
      if (s.attributes.atomicAggregate) queue(s, A.ATOMIC_AGGREGATE, WELL_KNOWN, () => {});
    },
  }),
  row({
    code: A.AGGREGATOR,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'attribute-discard',
    rfc: 'RFC 7606 7.7',
    decode(bytes, start, end, _h, _f, s) {
      // 6 octets on 2-octet sessions, 8 on 4-octet ones.
      const asnSize = s.as4 ? 4 : 2;
      if (end - start !== asnSize + 4) return lengthError(s, this, end - start, String(asnSize + 4));
      const asn = s.as4 ? u32(bytes, start) : u16(bytes, start);
      // RFC 7607 2: an aggregating AS of 0.
      if (asn === 0) valueError(s, this, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'AGGREGATOR with AS 0');
      else s.attributes.aggregator = { asn, address: ipv4ToString(bytes, start + asnSize) };
    },
    encode(s) {
      const aggregator = s.attributes.aggregator;
      if (aggregator === undefined) return;
      const asn = checkUint(aggregator.asn, 32, 'AGGREGATOR asn');
      const address = ipv4ToBytes(aggregator.address);
      if (s.as4) return queue(s, A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
      // With AS4_PATH on the wire, a plain AGGREGATOR would make the receiver drop AS4_PATH
      // (RFC 6793 4.2.3), so the aggregator then travels as AS_TRANS + AS4_AGGREGATOR too.
      const viaAs4Aggregator = asn > 0xffff || sendsAs4Path(s);
      queue(s, A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u16(viaAs4Aggregator ? AS_TRANS : asn).bytes(address));
      if (viaAs4Aggregator) queue(s, A.AS4_AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
    },
  }),
  row({
    code: A.COMMUNITIES,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.8',
    decode(bytes, start, end, _h, _f, s) {
      const length = end - start;
      if (length === 0 || length % 4 !== 0) lengthError(s, this, length, 'a non-zero multiple of 4');
      else s.attributes.communities = communityTexts(bytes, start, end);
    },
    encode(s) {
      if (s.attributes.communities === undefined) return;
      const values = nonEmpty(s.attributes.communities, 'COMMUNITIES').map(parseCommunity);
      queue(s, A.COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((c) => v.u32(c)));
    },
  }),
  row({
    code: A.ORIGINATOR_ID,
    flags: OPTIONAL_NON_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.9',
    decode(bytes, start, end, _h, _f, s) {
      if (end - start !== 4) lengthError(s, this, end - start, '4');
      else s.attributes.originatorId = ipv4ToString(bytes, start);
    },
    encode(s) {
      if (s.attributes.originatorId === undefined) return;
      const id = ipv4ToBytes(s.attributes.originatorId);
      queue(s, A.ORIGINATOR_ID, OPTIONAL_NON_TRANSITIVE, (v) => v.bytes(id));
    },
  }),
  row({
    code: A.CLUSTER_LIST,
    flags: OPTIONAL_NON_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.10',
    decode(bytes, start, end, _h, _f, s) {
      const length = end - start;
      if (length === 0 || length % 4 !== 0) return lengthError(s, this, length, 'a non-zero multiple of 4');
      const ids: string[] = [];
      for (let q = start; q < end; q += 4) ids.push(ipv4ToString(bytes, q));
      s.attributes.clusterList = ids;
    },
    encode(s) {
      if (s.attributes.clusterList === undefined) return;
      const ids = nonEmpty(s.attributes.clusterList, 'CLUSTER_LIST').map((id) => ipv4ToBytes(id));
      queue(s, A.CLUSTER_LIST, OPTIONAL_NON_TRANSITIVE, (v) => ids.forEach((id) => v.bytes(id)));
    },
  }),
  row({
    code: A.MP_REACH_NLRI,
    flags: OPTIONAL_NON_TRANSITIVE,
    malformed: 'session-reset',
    rfc: 'RFC 7606 5.3, 7.11',
    decode(bytes, start, end, headerStart, flags, s) {
      const reach = decodeMpReach(bytes, headerStart, start, end, s.ctx);
      if (reach === null) (s.attributes.unknown ??= []).push({ code: A.MP_REACH_NLRI, flags, hex: toHex(bytes, start, end) });
      else s.attributes.mpReach = reach;
    },
    encode(s) {
      const reach = s.attributes.mpReach;
      if (reach === undefined) return;
      const addPath = addPathFor(s.ctx, reach.afi, reach.safi);
      const routes = prepareRoutes(reach.nlri, reach.afi, addPath, 'MP_REACH_NLRI');
      s.add(A.MP_REACH_NLRI, () => writeMpReachAttribute(s.w, reach, routes, addPath));
    },
  }),
  row({
    code: A.MP_UNREACH_NLRI,
    flags: OPTIONAL_NON_TRANSITIVE,
    malformed: 'session-reset',
    rfc: 'RFC 7606 5.3, 7.12',
    decode(bytes, start, end, headerStart, flags, s) {
      const unreach = decodeMpUnreach(bytes, headerStart, start, end, s.ctx);
      if (unreach === null) (s.attributes.unknown ??= []).push({ code: A.MP_UNREACH_NLRI, flags, hex: toHex(bytes, start, end) });
      else s.attributes.mpUnreach = unreach;
    },
    encode(s) {
      if (s.attributes.mpUnreach === undefined) return;
      const { afi, safi, withdrawn } = s.attributes.mpUnreach;
      const addPath = addPathFor(s.ctx, afi, safi);
      const routes = prepareRoutes(withdrawn, afi, addPath, 'MP_UNREACH_NLRI');
      s.add(A.MP_UNREACH_NLRI, () => writeMpUnreachAttribute(s.w, afi, safi, routes, addPath));
    },
  }),
  row({
    code: A.EXTENDED_COMMUNITIES,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 7606 7.14',
    decode(bytes, start, end, _h, _f, s) {
      const length = end - start;
      if (length === 0 || length % 8 !== 0) return lengthError(s, this, length, 'a non-zero multiple of 8');
      const values: string[] = [];
      for (let q = start; q < end; q += 8) values.push(toHex(bytes, q, q + 8));
      s.attributes.extendedCommunities = values;
    },
    encode(s) {
      if (s.attributes.extendedCommunities === undefined) return;
      const values = nonEmpty(s.attributes.extendedCommunities, 'EXTENDED_COMMUNITIES');
      values.forEach((hex) => fromHex(hex, 'EXTENDED_COMMUNITIES'));
      queue(s, A.EXTENDED_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((hex) => writeExtendedCommunity(v, hex)));
    },
  }),
  row({
    code: A.AS4_PATH,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'attribute-discard',
    rfc: 'RFC 6793 6',
    decode(bytes, start, end, _h, _f, s) {
      // RFC 6793 4.1: between two 4-octet speakers AS4_PATH is discarded (seen only in layout).
      if (s.as4) return;
      const segments = decodeAsPath(bytes, start, end, 4);
      if (typeof segments === 'string') valueError(s, this, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `AS4_PATH: ${segments}`);
      else if (segments.some((g) => g.type === 'confed-sequence' || g.type === 'confed-set'))
        valueError(s, this, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'AS4_PATH carries confederation segments');
      else s.as4Path = segments;
    },
    encode(s) {
      const path = s.attributes.asPath;
      if (path !== undefined && sendsAs4Path(s)) queue(s, A.AS4_PATH, OPTIONAL_TRANSITIVE, (v) => writeAsPath(v, as4PathSegments(path), 4));
    },
  }),
  row({
    code: A.AS4_AGGREGATOR,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'attribute-discard',
    rfc: 'RFC 6793 6',
    decode(bytes, start, end, _h, _f, s) {
      // RFC 6793 4.1: discarded between two 4-octet speakers.
      if (s.as4) return;
      if (end - start !== 8) lengthError(s, this, end - start, '8');
      // RFC 7607 2: AS 0.
      else if (u32(bytes, start) === 0) valueError(s, this, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, 'AS4_AGGREGATOR with AS 0');
      else s.as4Aggregator = { asn: u32(bytes, start), address: ipv4ToString(bytes, start + 4) };
    },
    encode() {
      // Written with AGGREGATOR, whose row decides whether it is needed (RFC 6793 4.2.2).
    },
  }),
  row({
    code: A.LARGE_COMMUNITIES,
    flags: OPTIONAL_TRANSITIVE,
    malformed: 'treat-as-withdraw',
    rfc: 'RFC 8092 6',
    decode(bytes, start, end, _h, _f, s) {
      const length = end - start;
      if (length === 0 || length % 12 !== 0) return lengthError(s, this, length, 'a non-zero multiple of 12');
      const values: string[] = [];
      for (let q = start; q < end; q += 12) values.push(u32(bytes, q) + ':' + u32(bytes, q + 4) + ':' + u32(bytes, q + 8));
      s.attributes.largeCommunities = values;
    },
    encode(s) {
      if (s.attributes.largeCommunities === undefined) return;
      const values = nonEmpty(s.attributes.largeCommunities, 'LARGE_COMMUNITIES');
      queue(s, A.LARGE_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((text) => writeLargeCommunity(v, text)));
    },
  }),
];

/** The row of each code, or undefined for codes this codec does not decode (kept as `unknown`). */
export const ATTRIBUTE_BY_CODE: ReadonlyArray<AttributeDescriptor | undefined> = (() => {
  const byCode: Array<AttributeDescriptor | undefined> = new Array(256).fill(undefined);
  for (const r of ATTRIBUTE_TABLE) byCode[r.code] = r;
  return byCode;
})();

/** docs/attributes.md: the table as a network engineer reads it. */
export function renderAttributeTable(): string {
  const bits = (flags: number) => (flags === WELL_KNOWN ? 'well-known' : flags === OPTIONAL_TRANSITIVE ? 'optional transitive' : 'optional non-transitive');
  return [
    '# Path attributes the codec knows',
    '',
    'Generated from the rows of `reference/bgp/wire/attribute-table.ts`, which drive the decoder, the encoder and the',
    'RFC 7606 handling; a unit test fails when this file and the table differ. Regenerate with',
    '`npx tsx -e "import(\'./reference/bgp/wire/attribute-table.ts\').then((m) => process.stdout.write(m.renderAttributeTable()))" > docs/attributes.md`.',
    'Any other type code is kept as an unknown attribute (optional) or resets the session',
    '(well-known: RFC 4271 6.3). Wrong Optional/Transitive bits get the malformed action, except rows that reset the',
    'session, whose wrong flags are treat-as-withdraw (RFC 7606 3(c)). A repeated attribute is discarded after its first',
    'copy, a repeated MP_REACH_NLRI / MP_UNREACH_NLRI resets the session (RFC 7606 3(g)).',
    '',
    '| code | attribute | category | when malformed | clause |',
    '|---:|---|---|---|---|',
    ...ATTRIBUTE_TABLE.map((r) => `| ${r.code} | ${r.name} | ${bits(r.flags)} | ${r.malformed} | ${r.rfc} |`),
    '',
  ].join('\n');
}
