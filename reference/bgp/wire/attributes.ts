// Path attributes: decode with RFC 7606 error handling, encode in type-code order.
// Each error decision carries the RFC section it follows.

import { ipToBytes, ipv4ToBytes, ipv4ToString, ipv6ToString } from './addr.ts';
import { as4PathSegments, decodeAsPath, mergeAs4Path, needsAs4Path, writeAsPath } from './aspath.ts';
import { ByteWriter, checkUint, fromHex, readU16, readU32, toHex } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode, updateError } from './errors.ts';
import { decodePrefixes, prepareRoutes, writeRoutes, type WireRoute } from './nlri.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  AS_TRANS,
  familyKey,
  type AsPathSegment,
  type AttributeLayout,
  type CodecContext,
  type MpReach,
  type MpUnreach,
  type PathAttributes,
  type Route,
  type UpdateError,
} from './types.ts';

export const AttributeFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const AttributeCode = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MED: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITIES: 32,
} as const;

const A = AttributeCode;
const WELL_KNOWN = AttributeFlag.TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE = AttributeFlag.OPTIONAL;
const OPTIONAL_TRANSITIVE = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE;

/** The Optional and Transitive bits each known attribute must carry (RFC 4271 5, RFC 7606 3(c)). */
const CATEGORY_FLAGS: Record<number, number> = {
  [A.ORIGIN]: WELL_KNOWN,
  [A.AS_PATH]: WELL_KNOWN,
  [A.NEXT_HOP]: WELL_KNOWN,
  [A.MED]: OPTIONAL_NON_TRANSITIVE,
  [A.LOCAL_PREF]: WELL_KNOWN,
  [A.ATOMIC_AGGREGATE]: WELL_KNOWN,
  [A.AGGREGATOR]: OPTIONAL_TRANSITIVE,
  [A.COMMUNITIES]: OPTIONAL_TRANSITIVE,
  [A.ORIGINATOR_ID]: OPTIONAL_NON_TRANSITIVE,
  [A.CLUSTER_LIST]: OPTIONAL_NON_TRANSITIVE,
  [A.MP_REACH_NLRI]: OPTIONAL_NON_TRANSITIVE,
  [A.MP_UNREACH_NLRI]: OPTIONAL_NON_TRANSITIVE,
  [A.EXTENDED_COMMUNITIES]: OPTIONAL_TRANSITIVE,
  [A.AS4_PATH]: OPTIONAL_TRANSITIVE,
  [A.AS4_AGGREGATOR]: OPTIONAL_TRANSITIVE,
  [A.LARGE_COMMUNITIES]: OPTIONAL_TRANSITIVE,
};

export const ATTRIBUTE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(AttributeCode).map(([name, code]) => [code, name]),
);

/** Attributes whose malformation is handled by discarding them alone (RFC 7606 7.6, 7.7; RFC 6793 6). */
const DISCARDED_WHEN_MALFORMED = new Set<number>([A.ATOMIC_AGGREGATE, A.AGGREGATOR, A.AS4_PATH, A.AS4_AGGREGATOR]);

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export interface DecodedAttributes {
  attributes: PathAttributes;
  layout: AttributeLayout[];
}

function isDecodedFamily(afi: number, safi: number): boolean {
  return (afi === AFI_IPV4 || afi === AFI_IPV6) && (safi === 1 || safi === 2);
}

function attributeName(code: number): string {
  return ATTRIBUTE_NAMES[code] ?? `attribute ${code}`;
}

/**
 * Decodes the path attributes in bytes[start, end). Non-fatal problems are appended to `errors`;
 * session-reset ones throw BgpError. `hasIpv4Nlri` tells whether the NLRI field is non-empty
 * (for the well-known mandatory check).
 */
export function decodeAttributes(
  bytes: Uint8Array,
  start: number,
  end: number,
  ctx: CodecContext,
  hasIpv4Nlri: boolean,
  errors: UpdateError[],
): DecodedAttributes {
  const attributes: PathAttributes = {};
  const layout: AttributeLayout[] = [];
  const as4 = ctx.as4 === true;
  const seen = new Uint8Array(256);
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: { asn: number; address: string } | undefined;

  let p = start;
  while (p < end) {
    const flags = bytes[p];
    const headerSize = flags & AttributeFlag.EXTENDED_LENGTH ? 4 : 3;
    if (end - p < headerSize) {
      // RFC 7606 4: too few bytes left for an attribute header -> treat-as-withdraw.
      errors.push(updateError('treat-as-withdraw', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, `${end - p} stray bytes after the last attribute`));
      break;
    }
    const code = bytes[p + 1];
    const length = headerSize === 4 ? readU16(bytes, p + 2) : bytes[p + 2];
    const valueStart = p + headerSize;
    const valueEnd = valueStart + length;
    layout.push({ code, flags, length });
    if (valueEnd > end) {
      if (code === A.MP_REACH_NLRI || code === A.MP_UNREACH_NLRI) {
        // RFC 7606 5.3 / RFC 4760 7: the MP NLRI cannot be located, so no withdraw is possible.
        throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `${attributeName(code)} overruns the attributes`);
      }
      // RFC 7606 4: attribute length exceeds the Total Attribute Length -> treat-as-withdraw.
      errors.push(updateError('treat-as-withdraw', UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, code, `${attributeName(code)} length ${length} overruns the attributes`));
      break;
    }
    p = valueEnd;

    if (seen[code]) {
      if (code === A.MP_REACH_NLRI || code === A.MP_UNREACH_NLRI) {
        // RFC 7606 3(g): a repeated MP_REACH/MP_UNREACH -> session reset.
        throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `${attributeName(code)} appears twice`);
      }
      // RFC 7606 3(g): other repeated attributes: keep the first, discard the rest.
      errors.push(updateError('attribute-discard', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, code, `${attributeName(code)} repeated, later copy discarded`));
      continue;
    }
    seen[code] = 1;

    const expectedFlags = CATEGORY_FLAGS[code];
    if (expectedFlags === undefined) {
      if ((flags & AttributeFlag.OPTIONAL) === 0) {
        // RFC 4271 6.3 (RFC 7606 keeps it): an unrecognized well-known attribute -> session reset.
        throw new BgpError(
          ErrorCode.UPDATE,
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          `type ${code} with the optional bit clear`,
          bytes.slice(valueStart - headerSize, valueEnd),
        );
      }
      (attributes.unknown ??= []).push({ code, flags, hex: toHex(bytes, valueStart, valueEnd) });
      continue;
    }

    const malformedAction = DISCARDED_WHEN_MALFORMED.has(code) ? 'attribute-discard' : 'treat-as-withdraw';
    if ((flags & OPTIONAL_TRANSITIVE) !== expectedFlags) {
      // RFC 7606 3(c): wrong Optional/Transitive bits -> treat-as-withdraw (attribute-discard for
      // the attributes whose own rule is attribute-discard).
      errors.push(updateError(malformedAction, UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, code, `${attributeName(code)} flags 0x${flags.toString(16)}`));
      if (malformedAction === 'attribute-discard') continue;
    }
    const lengthError = (action: UpdateError['action'], expected: string) =>
      errors.push(updateError(action, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, code, `${attributeName(code)} length ${length}, expected ${expected}`));

    switch (code) {
      case A.ORIGIN:
        // RFC 7606 7.1: bad length or undefined value -> treat-as-withdraw.
        if (length !== 1) lengthError('treat-as-withdraw', '1');
        else if (bytes[valueStart] > 2) {
          errors.push(updateError('treat-as-withdraw', UpdateSubcode.INVALID_ORIGIN, code, `ORIGIN value ${bytes[valueStart]}`));
        } else attributes.origin = ORIGINS[bytes[valueStart]];
        break;
      case A.AS_PATH: {
        // RFC 7606 7.2: a malformed AS_PATH -> treat-as-withdraw.
        const segments = decodeAsPath(bytes, valueStart, valueEnd, as4 ? 4 : 2);
        if (typeof segments === 'string') {
          errors.push(updateError('treat-as-withdraw', UpdateSubcode.MALFORMED_AS_PATH, code, segments));
        } else attributes.asPath = segments;
        break;
      }
      case A.NEXT_HOP:
        // RFC 7606 7.3: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError('treat-as-withdraw', '4');
        else attributes.nextHop = ipv4ToString(bytes, valueStart);
        break;
      case A.MED:
        // RFC 7606 7.4: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError('treat-as-withdraw', '4');
        else attributes.med = readU32(bytes, valueStart);
        break;
      case A.LOCAL_PREF:
        // RFC 7606 7.5: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError('treat-as-withdraw', '4');
        else attributes.localPref = readU32(bytes, valueStart);
        break;
      case A.ATOMIC_AGGREGATE:
        // RFC 7606 7.6: bad length -> attribute-discard.
        if (length !== 0) lengthError('attribute-discard', '0');
        else attributes.atomicAggregate = true;
        break;
      case A.AGGREGATOR: {
        // RFC 7606 7.7: bad length (6 on 2-octet sessions, 8 on 4-octet ones) -> attribute-discard.
        const asnSize = as4 ? 4 : 2;
        if (length !== asnSize + 4) lengthError('attribute-discard', String(asnSize + 4));
        else {
          attributes.aggregator = {
            asn: as4 ? readU32(bytes, valueStart) : readU16(bytes, valueStart),
            address: ipv4ToString(bytes, valueStart + asnSize),
          };
        }
        break;
      }
      case A.COMMUNITIES:
        // RFC 7606 7.8: length not a non-zero multiple of 4 -> treat-as-withdraw.
        if (length === 0 || length % 4 !== 0) lengthError('treat-as-withdraw', 'a non-zero multiple of 4');
        else {
          const communities: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 4) communities.push(readU16(bytes, q) + ':' + readU16(bytes, q + 2));
          attributes.communities = communities;
        }
        break;
      case A.ORIGINATOR_ID:
        // RFC 7606 7.9: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError('treat-as-withdraw', '4');
        else attributes.originatorId = ipv4ToString(bytes, valueStart);
        break;
      case A.CLUSTER_LIST:
        // RFC 7606 7.10: length not a non-zero multiple of 4 -> treat-as-withdraw.
        if (length === 0 || length % 4 !== 0) lengthError('treat-as-withdraw', 'a non-zero multiple of 4');
        else {
          const ids: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 4) ids.push(ipv4ToString(bytes, q));
          attributes.clusterList = ids;
        }
        break;
      case A.MP_REACH_NLRI: {
        const reach = decodeMpReach(bytes, valueStart, valueEnd, ctx);
        if (reach === null) (attributes.unknown ??= []).push({ code, flags, hex: toHex(bytes, valueStart, valueEnd) });
        else attributes.mpReach = reach;
        break;
      }
      case A.MP_UNREACH_NLRI: {
        const unreach = decodeMpUnreach(bytes, valueStart, valueEnd, ctx);
        if (unreach === null) (attributes.unknown ??= []).push({ code, flags, hex: toHex(bytes, valueStart, valueEnd) });
        else attributes.mpUnreach = unreach;
        break;
      }
      case A.EXTENDED_COMMUNITIES:
        // RFC 7606 7.14: length not a non-zero multiple of 8 -> treat-as-withdraw.
        if (length === 0 || length % 8 !== 0) lengthError('treat-as-withdraw', 'a non-zero multiple of 8');
        else {
          const values: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 8) values.push(toHex(bytes, q, q + 8));
          attributes.extendedCommunities = values;
        }
        break;
      case A.AS4_PATH: {
        // RFC 6793 4.1: between two 4-octet speakers AS4_PATH is discarded (seen only in layout).
        if (as4) break;
        const segments = decodeAsPath(bytes, valueStart, valueEnd, 4);
        // RFC 6793 6 / RFC 7606 7.2-style: a malformed AS4_PATH (or one with confederation
        // segments) -> attribute-discard.
        if (typeof segments === 'string') {
          errors.push(updateError('attribute-discard', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, code, `AS4_PATH: ${segments}`));
        } else if (segments.some((s) => s.type === 'confed-sequence' || s.type === 'confed-set')) {
          errors.push(updateError('attribute-discard', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, code, 'AS4_PATH carries confederation segments'));
        } else as4Path = segments;
        break;
      }
      case A.AS4_AGGREGATOR:
        // RFC 6793 4.1: discarded between two 4-octet speakers.
        if (as4) break;
        // RFC 6793 6: bad length -> attribute-discard.
        if (length !== 8) lengthError('attribute-discard', '8');
        else as4Aggregator = { asn: readU32(bytes, valueStart), address: ipv4ToString(bytes, valueStart + 4) };
        break;
      case A.LARGE_COMMUNITIES:
        // RFC 8092 6: length not a non-zero multiple of 12 -> treat-as-withdraw.
        if (length === 0 || length % 12 !== 0) lengthError('treat-as-withdraw', 'a non-zero multiple of 12');
        else {
          const values: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 12) values.push(readU32(bytes, q) + ':' + readU32(bytes, q + 4) + ':' + readU32(bytes, q + 8));
          attributes.largeCommunities = values;
        }
        break;
    }
  }

  if (!as4) applyAs4Attributes(attributes, as4Path, as4Aggregator);
  checkMandatory(attributes, seen, hasIpv4Nlri, errors);
  return { attributes, layout };
}

/** RFC 6793 4.2.3: rebuild real ASNs from AS4_AGGREGATOR / AS4_PATH on a 2-octet session. */
function applyAs4Attributes(
  attributes: PathAttributes,
  as4Path: AsPathSegment[] | undefined,
  as4Aggregator: { asn: number; address: string } | undefined,
): void {
  // An AGGREGATOR set by a 2-octet speaker (AS other than AS_TRANS) voids both AS4 attributes.
  if (attributes.aggregator && attributes.aggregator.asn !== AS_TRANS) return;
  if (attributes.aggregator && as4Aggregator) attributes.aggregator = as4Aggregator;
  if (attributes.asPath && as4Path) attributes.asPath = mergeAs4Path(attributes.asPath, as4Path);
}

/** RFC 7606 3(d): a missing well-known mandatory attribute -> treat-as-withdraw. */
function checkMandatory(attributes: PathAttributes, seen: Uint8Array, hasIpv4Nlri: boolean, errors: UpdateError[]): void {
  const announces = hasIpv4Nlri || attributes.mpReach !== undefined;
  if (!announces) return;
  const required: number[] = [A.ORIGIN, A.AS_PATH];
  // RFC 4760 3: NEXT_HOP is needed only for NLRI in the NLRI field.
  if (hasIpv4Nlri) required.push(A.NEXT_HOP);
  for (const code of required) {
    if (seen[code]) continue;
    errors.push(updateError('treat-as-withdraw', UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, code, `${attributeName(code)} missing`));
  }
}

function mpError(detail: string): BgpError {
  return new BgpError(ErrorCode.UPDATE, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, detail);
}

/** Valid next hop lengths per AFI: 4 for IPv4 (16/32 for RFC 8950), 16 or 32 (with link-local) for IPv6. */
function nextHopLengthValid(afi: number, length: number): boolean {
  return length === 16 || length === 32 || (afi === AFI_IPV4 && length === 4);
}

/** null: a family this codec does not decode (kept raw by the caller). */
function decodeMpReach(bytes: Uint8Array, start: number, end: number, ctx: CodecContext): MpReach | null {
  // RFC 7606 7.11: an MP_REACH_NLRI too short for its fixed fields -> session reset.
  if (end - start < 5) throw mpError(`MP_REACH_NLRI length ${end - start}`);
  const afi = readU16(bytes, start);
  const safi = bytes[start + 2];
  if (!isDecodedFamily(afi, safi)) return null;
  const nextHopLength = bytes[start + 3];
  const nextHopStart = start + 4;
  // RFC 7606 7.11: next hop length inconsistent with the AFI or the attribute -> session reset.
  if (!nextHopLengthValid(afi, nextHopLength) || nextHopStart + nextHopLength + 1 > end) {
    throw mpError(`MP_REACH_NLRI next hop length ${nextHopLength} for AFI ${afi}`);
  }
  const nextHops: string[] = [];
  if (nextHopLength === 4) nextHops.push(ipv4ToString(bytes, nextHopStart));
  else {
    nextHops.push(ipv6ToString(bytes, nextHopStart));
    if (nextHopLength === 32) nextHops.push(ipv6ToString(bytes, nextHopStart + 16));
  }
  const nlriStart = nextHopStart + nextHopLength + 1; // one reserved byte, ignored on receipt (RFC 4760 3)
  const nlri: Route[] = [];
  const problem = decodePrefixes(bytes, nlriStart, end, afi, ctx.addPath?.has(familyKey(afi, safi)) ?? false, nlri);
  // RFC 7606 5.3: NLRI that cannot be parsed -> session reset.
  if (problem !== null) throw mpError(`MP_REACH_NLRI: ${problem}`);
  return { afi, safi, nextHops, nlri };
}

function decodeMpUnreach(bytes: Uint8Array, start: number, end: number, ctx: CodecContext): MpUnreach | null {
  // RFC 7606 7.12: an MP_UNREACH_NLRI too short for AFI/SAFI -> session reset.
  if (end - start < 3) throw mpError(`MP_UNREACH_NLRI length ${end - start}`);
  const afi = readU16(bytes, start);
  const safi = bytes[start + 2];
  // Any family's End-of-RIB (empty MP_UNREACH, RFC 4724 2) is decoded; other contents only for ours.
  if (end - start === 3) return { afi, safi, withdrawn: [] };
  if (!isDecodedFamily(afi, safi)) return null;
  const withdrawn: Route[] = [];
  const problem = decodePrefixes(bytes, start + 3, end, afi, ctx.addPath?.has(familyKey(afi, safi)) ?? false, withdrawn);
  // RFC 7606 5.3: withdrawn NLRI that cannot be parsed -> session reset.
  if (problem !== null) throw mpError(`MP_UNREACH_NLRI: ${problem}`);
  return { afi, safi, withdrawn };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Starts an attribute: flags, code, two length bytes. `endAttribute` fills the length and, when
 * the value fits one byte and the extended-length flag was not asked for, drops the spare byte.
 */
function beginAttribute(w: ByteWriter, flags: number, code: number): number {
  const at = w.length;
  w.u8(flags | AttributeFlag.EXTENDED_LENGTH).u8(code).u16(0);
  return at;
}

function endAttribute(w: ByteWriter, at: number, keepExtended: boolean): void {
  const length = w.length - at - 4;
  checkUint(length, 16, `attribute ${w.getU8(at + 1)} length`);
  if (length > 255 || keepExtended) {
    w.setU16(at + 2, length);
    return;
  }
  w.setU8(at, w.getU8(at) & ~AttributeFlag.EXTENDED_LENGTH);
  w.remove(at + 3, 1);
  w.setU8(at + 2, length);
}

function writeAttribute(w: ByteWriter, flags: number, code: number, value: (w: ByteWriter) => void): void {
  const at = beginAttribute(w, flags, code);
  value(w);
  endAttribute(w, at, false);
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

function writeMpReach(w: ByteWriter, reach: MpReach, routes: readonly WireRoute[], addPath: boolean): void {
  const nextHops = reach.nextHops.map((hop) => {
    const bytes = ipToBytes(hop);
    if (reach.nextHops.length > 1 && bytes.length !== 16) throw new RangeError(`MP_REACH_NLRI: next hop ${hop} must be IPv6 when two are given`);
    return bytes;
  });
  const nextHopLength = nextHops.reduce((sum, hop) => sum + hop.length, 0);
  if (!nextHopLengthValid(reach.afi, nextHopLength)) {
    throw new RangeError(`MP_REACH_NLRI: next hops [${reach.nextHops.join(', ')}] do not fit AFI ${reach.afi}`);
  }
  w.u16(checkUint(reach.afi, 16, 'MP_REACH_NLRI afi')).u8(checkUint(reach.safi, 8, 'MP_REACH_NLRI safi')).u8(nextHopLength);
  for (const hop of nextHops) w.bytes(hop);
  w.u8(0);
  writeRoutes(w, routes, addPath);
}

export function writeMpReachAttribute(w: ByteWriter, reach: MpReach, routes: readonly WireRoute[], addPath: boolean): void {
  writeAttribute(w, OPTIONAL_NON_TRANSITIVE, A.MP_REACH_NLRI, (v) => writeMpReach(v, reach, routes, addPath));
}

export function writeMpUnreachAttribute(w: ByteWriter, afi: number, safi: number, routes: readonly WireRoute[], addPath: boolean): void {
  writeAttribute(w, OPTIONAL_NON_TRANSITIVE, A.MP_UNREACH_NLRI, (v) => {
    v.u16(checkUint(afi, 16, 'MP_UNREACH_NLRI afi')).u8(checkUint(safi, 8, 'MP_UNREACH_NLRI safi'));
    writeRoutes(v, routes, addPath);
  });
}

export function addPathFor(ctx: CodecContext, afi: number, safi: number): boolean {
  return ctx.addPath?.has(familyKey(afi, safi)) ?? false;
}

export interface EncodeAttributesOptions {
  /** Leave MP_REACH_NLRI / MP_UNREACH_NLRI out (encodeUpdates writes them per chunk). */
  skipMp?: boolean;
}

/**
 * Writes every attribute of `attributes` in type-code order (unknown ones placed by their code,
 * with their flags as given). On a 2-octet session, ASNs above 65535 go out as AS_TRANS with
 * AS4_PATH / AS4_AGGREGATOR alongside (RFC 6793 4.2.2).
 */
export function writeAttributes(w: ByteWriter, attributes: PathAttributes, ctx: CodecContext, options: EncodeAttributesOptions = {}): void {
  const as4 = ctx.as4 === true;
  const writers: Array<{ code: number; write: () => void }> = [];
  const add = (code: number, flags: number, value: (v: ByteWriter) => void) =>
    writers.push({ code, write: () => writeAttribute(w, flags, code, value) });

  const a = attributes;
  if (a.origin !== undefined) {
    const value = ORIGINS.indexOf(a.origin);
    if (value < 0) throw new RangeError(`ORIGIN: unknown value "${a.origin}"`);
    add(A.ORIGIN, WELL_KNOWN, (v) => v.u8(value));
  }
  const sendsAs4Path = !as4 && a.asPath !== undefined && needsAs4Path(a.asPath);
  if (a.asPath !== undefined) {
    const path = a.asPath;
    add(A.AS_PATH, WELL_KNOWN, (v) => writeAsPath(v, path, as4 ? 4 : 2));
    if (sendsAs4Path) add(A.AS4_PATH, OPTIONAL_TRANSITIVE, (v) => writeAsPath(v, as4PathSegments(path), 4));
  }
  if (a.nextHop !== undefined) {
    const hop = ipv4ToBytes(a.nextHop);
    add(A.NEXT_HOP, WELL_KNOWN, (v) => v.bytes(hop));
  }
  if (a.med !== undefined) {
    const med = checkUint(a.med, 32, 'MED');
    add(A.MED, OPTIONAL_NON_TRANSITIVE, (v) => v.u32(med));
  }
  if (a.localPref !== undefined) {
    const pref = checkUint(a.localPref, 32, 'LOCAL_PREF');
    add(A.LOCAL_PREF, WELL_KNOWN, (v) => v.u32(pref));
  }
  if (a.atomicAggregate) add(A.ATOMIC_AGGREGATE, WELL_KNOWN, () => {});
  if (a.aggregator !== undefined) {
    const asn = checkUint(a.aggregator.asn, 32, 'AGGREGATOR asn');
    const address = ipv4ToBytes(a.aggregator.address);
    if (as4) add(A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
    else {
      // With AS4_PATH on the wire, a plain AGGREGATOR would make the receiver drop AS4_PATH
      // (RFC 6793 4.2.3), so the aggregator then travels as AS_TRANS + AS4_AGGREGATOR too.
      const viaAs4Aggregator = asn > 0xffff || sendsAs4Path;
      add(A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u16(viaAs4Aggregator ? AS_TRANS : asn).bytes(address));
      if (viaAs4Aggregator) add(A.AS4_AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
    }
  }
  if (a.communities !== undefined) {
    const values = a.communities.map(parseCommunity);
    add(A.COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((c) => v.u32(c)));
  }
  if (a.originatorId !== undefined) {
    const id = ipv4ToBytes(a.originatorId);
    add(A.ORIGINATOR_ID, OPTIONAL_NON_TRANSITIVE, (v) => v.bytes(id));
  }
  if (a.clusterList !== undefined) {
    const ids = a.clusterList.map((id) => ipv4ToBytes(id));
    add(A.CLUSTER_LIST, OPTIONAL_NON_TRANSITIVE, (v) => ids.forEach((id) => v.bytes(id)));
  }
  if (!options.skipMp && a.mpReach !== undefined) {
    const reach = a.mpReach;
    const addPath = addPathFor(ctx, reach.afi, reach.safi);
    const routes = prepareRoutes(reach.nlri, reach.afi, addPath, 'MP_REACH_NLRI');
    writers.push({ code: A.MP_REACH_NLRI, write: () => writeMpReachAttribute(w, reach, routes, addPath) });
  }
  if (!options.skipMp && a.mpUnreach !== undefined) {
    const { afi, safi, withdrawn } = a.mpUnreach;
    const addPath = addPathFor(ctx, afi, safi);
    const routes = prepareRoutes(withdrawn, afi, addPath, 'MP_UNREACH_NLRI');
    writers.push({ code: A.MP_UNREACH_NLRI, write: () => writeMpUnreachAttribute(w, afi, safi, routes, addPath) });
  }
  if (a.extendedCommunities !== undefined) {
    const values = a.extendedCommunities;
    values.forEach((hex) => fromHex(hex, 'EXTENDED_COMMUNITIES'));
    add(A.EXTENDED_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((hex) => writeExtendedCommunity(v, hex)));
  }
  if (a.largeCommunities !== undefined) {
    const values = a.largeCommunities;
    add(A.LARGE_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((text) => writeLargeCommunity(v, text)));
  }
  for (const unknown of a.unknown ?? []) {
    const code = checkUint(unknown.code, 8, 'attribute code');
    const flags = checkUint(unknown.flags, 8, `attribute ${code} flags`);
    const value = fromHex(unknown.hex, `attribute ${code}`);
    writers.push({
      code,
      write: () => {
        const at = beginAttribute(w, flags, code);
        w.bytes(value);
        endAttribute(w, at, (flags & AttributeFlag.EXTENDED_LENGTH) !== 0);
      },
    });
  }

  writers.sort((x, y) => x.code - y.code); // stable: unknown attributes keep their order
  for (const writer of writers) writer.write();
}

