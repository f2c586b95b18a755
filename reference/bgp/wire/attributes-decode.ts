// Path attributes from the wire, with RFC 7606 error handling: each decision names its section.

import { ipv4NumberToString, ipv4ToString } from './addr.ts';
import { decodeAsPath, mergeAs4Path } from './aspath.ts';
import { AttributeCode, AttributeFlag, CATEGORY_FLAGS, ORIGINS, OPTIONAL_TRANSITIVE, attributeName } from './attribute-format.ts';
import { readU16, readU32, toHex } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode, updateError } from './errors.ts';
import { decodeMpReach, decodeMpUnreach } from './mp-nlri.ts';
import { AS_TRANS, type AsPathSegment, type AttributeLayout, type CodecContext, type PathAttributes, type UpdateError } from './types.ts';

// Module-level copies: the hot loop below reads these per attribute, and imported bindings cost a
// getter call each time under tsx's module transform.
const A = AttributeCode;
const CATEGORY_BITS = OPTIONAL_TRANSITIVE;
const EXTENDED_LENGTH = AttributeFlag.EXTENDED_LENGTH;
const OPTIONAL = AttributeFlag.OPTIONAL;
const ORIGIN_NAMES = ORIGINS;
const u16 = readU16;
const u32 = readU32;
const ipv4NumberText = ipv4NumberToString;

let lastNextHop = -1;
let lastNextHopText = '';

/** NEXT_HOP text, remembered for the next message: one peer sends the same next hop over and over. */
export function nextHopText(address: number): string {
  if (address !== lastNextHop) {
    lastNextHop = address;
    lastNextHopText = ipv4NumberText(address);
  }
  return lastNextHopText;
}
const asPathSegments = decodeAsPath;

/** The Optional/Transitive bits per attribute code, -1 for codes this codec does not decode. */
const CATEGORY_BY_CODE = new Int16Array(256).fill(-1);
for (const [code, category] of Object.entries(CATEGORY_FLAGS)) CATEGORY_BY_CODE[Number(code)] = category;

/** Attribute type codes 64-255 seen in the message being decoded (rare: unknown attributes only). */
const seenHigh = new Uint32Array(6);

/** Attributes whose malformation is handled by discarding them alone (RFC 7606 7.6, 7.7; RFC 6793 6). */
const DISCARDED_WHEN_MALFORMED = new Set<number>([A.ATOMIC_AGGREGATE, A.AGGREGATOR, A.AS4_PATH, A.AS4_AGGREGATOR]);

/** Not 0.0.0.0, not multicast or reserved (224/3), which covers 255.255.255.255 too. */
export function isUnicastHostAddress(address: number): boolean {
  return address !== 0 && address >>> 29 !== 7;
}

/** Bit `code` of a 64-bit set held in two numbers (codes 0-31, 32-63). */
function hasBit(low: number, high: number, code: number): boolean {
  return ((code < 32 ? low : high) & (1 << (code & 31))) !== 0;
}

function lengthError(errors: UpdateError[], action: UpdateError['action'], code: number, length: number, expected: string): void {
  errors.push(updateError(action, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, code, `${attributeName(code)} length ${length}, expected ${expected}`));
}

/**
 * Decodes the path attributes in bytes[start, end) into `attributes`, and their wire order into
 * `layout`. Non-fatal problems are appended to `errors`; session-reset ones throw BgpError.
 * `hasIpv4Nlri` tells whether the NLRI field is non-empty (for the well-known mandatory check).
 */
export function decodeAttributes(
  bytes: Uint8Array,
  start: number,
  end: number,
  ctx: CodecContext,
  hasIpv4Nlri: boolean,
  attributes: PathAttributes,
  layout: AttributeLayout[],
  errors: UpdateError[],
): void {
  const as4 = ctx.as4 === true;
  // Which type codes were seen: codes below 64 (every attribute this codec knows) in two local
  // bit sets, the rest in `seenHigh`, cleared only when used.
  let seenLow = 0;
  let seen32 = 0;
  let usedHigh = false;
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: { asn: number; address: string } | undefined;

  let p = start;
  while (p < end) {
    const flags = bytes[p];
    const headerSize = flags & EXTENDED_LENGTH ? 4 : 3;
    if (end - p < headerSize) {
      // RFC 7606 4: too few bytes left for an attribute header -> treat-as-withdraw.
      errors.push(updateError('treat-as-withdraw', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, undefined, `${end - p} stray bytes after the last attribute`));
      break;
    }
    const code = bytes[p + 1];
    const length = headerSize === 4 ? u16(bytes, p + 2) : bytes[p + 2];
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

    let repeated: boolean;
    if (code < 64) {
      repeated = hasBit(seenLow, seen32, code);
      if (code < 32) seenLow |= 1 << code;
      else seen32 |= 1 << (code & 31);
    } else {
      if (!usedHigh) {
        seenHigh.fill(0);
        usedHigh = true;
      }
      const word = (code - 64) >>> 5;
      repeated = (seenHigh[word] & (1 << (code & 31))) !== 0;
      seenHigh[word] |= 1 << (code & 31);
    }
    if (repeated) {
      if (code === A.MP_REACH_NLRI || code === A.MP_UNREACH_NLRI) {
        // RFC 7606 3(g): a repeated MP_REACH/MP_UNREACH -> session reset.
        throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `${attributeName(code)} appears twice`);
      }
      // RFC 7606 3(g): other repeated attributes: keep the first, discard the rest.
      errors.push(updateError('attribute-discard', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, code, `${attributeName(code)} repeated, later copy discarded`));
      continue;
    }

    const expectedFlags = CATEGORY_BY_CODE[code];
    if (expectedFlags < 0) {
      if ((flags & OPTIONAL) === 0) {
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

    if ((flags & CATEGORY_BITS) !== expectedFlags) {
      const malformedAction = DISCARDED_WHEN_MALFORMED.has(code) ? 'attribute-discard' : 'treat-as-withdraw';
      // RFC 7606 3(c): wrong Optional/Transitive bits -> treat-as-withdraw (attribute-discard for
      // the attributes whose own rule is attribute-discard).
      errors.push(updateError(malformedAction, UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, code, `${attributeName(code)} flags 0x${flags.toString(16)}`));
      if (malformedAction === 'attribute-discard') continue;
    }

    switch (code) {
      case A.ORIGIN:
        // RFC 7606 7.1: bad length or undefined value -> treat-as-withdraw.
        if (length !== 1) lengthError(errors, 'treat-as-withdraw', code, length, '1');
        else if (bytes[valueStart] > 2) {
          errors.push(updateError('treat-as-withdraw', UpdateSubcode.INVALID_ORIGIN, code, `ORIGIN value ${bytes[valueStart]}`));
        } else attributes.origin = ORIGIN_NAMES[bytes[valueStart]];
        break;
      case A.AS_PATH: {
        // RFC 7606 7.2: a malformed AS_PATH -> treat-as-withdraw.
        const segments = asPathSegments(bytes, valueStart, valueEnd, as4 ? 4 : 2);
        if (typeof segments === 'string') {
          errors.push(updateError('treat-as-withdraw', UpdateSubcode.MALFORMED_AS_PATH, code, segments));
        } else attributes.asPath = segments;
        break;
      }
      case A.NEXT_HOP:
        // RFC 7606 7.3: bad length, or an address that is no host's (RFC 4271 6.3) -> treat-as-withdraw.
        if (length !== 4) lengthError(errors, 'treat-as-withdraw', code, length, '4');
        else {
          const address = u32(bytes, valueStart);
          if (!isUnicastHostAddress(address)) {
            errors.push(updateError('treat-as-withdraw', UpdateSubcode.INVALID_NEXT_HOP, code, `NEXT_HOP ${ipv4ToString(bytes, valueStart)}`));
          } else attributes.nextHop = nextHopText(address);
        }
        break;
      case A.MED:
        // RFC 7606 7.4: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError(errors, 'treat-as-withdraw', code, length, '4');
        else attributes.med = u32(bytes, valueStart);
        break;
      case A.LOCAL_PREF:
        // RFC 7606 7.5: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError(errors, 'treat-as-withdraw', code, length, '4');
        else attributes.localPref = u32(bytes, valueStart);
        break;
      case A.ATOMIC_AGGREGATE:
        // RFC 7606 7.6: bad length -> attribute-discard.
        if (length !== 0) lengthError(errors, 'attribute-discard', code, length, '0');
        else attributes.atomicAggregate = true;
        break;
      case A.AGGREGATOR: {
        // RFC 7606 7.7: bad length (6 on 2-octet sessions, 8 on 4-octet ones) -> attribute-discard.
        const asnSize = as4 ? 4 : 2;
        if (length !== asnSize + 4) lengthError(errors, 'attribute-discard', code, length, String(asnSize + 4));
        else {
          const asn = as4 ? u32(bytes, valueStart) : u16(bytes, valueStart);
          // RFC 7607 2 / RFC 7606 7.7: an aggregating AS of 0 -> attribute-discard.
          if (asn === 0) errors.push(updateError('attribute-discard', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, code, 'AGGREGATOR with AS 0'));
          else attributes.aggregator = { asn, address: ipv4ToString(bytes, valueStart + asnSize) };
        }
        break;
      }
      case A.COMMUNITIES:
        // RFC 7606 7.8: length not a non-zero multiple of 4 -> treat-as-withdraw.
        if (length === 0 || length % 4 !== 0) lengthError(errors, 'treat-as-withdraw', code, length, 'a non-zero multiple of 4');
        else {
          attributes.communities = communityTexts(bytes, valueStart, valueEnd);
        }
        break;
      case A.ORIGINATOR_ID:
        // RFC 7606 7.9: bad length -> treat-as-withdraw.
        if (length !== 4) lengthError(errors, 'treat-as-withdraw', code, length, '4');
        else attributes.originatorId = ipv4ToString(bytes, valueStart);
        break;
      case A.CLUSTER_LIST:
        // RFC 7606 7.10: length not a non-zero multiple of 4 -> treat-as-withdraw.
        if (length === 0 || length % 4 !== 0) lengthError(errors, 'treat-as-withdraw', code, length, 'a non-zero multiple of 4');
        else {
          const ids: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 4) ids.push(ipv4ToString(bytes, q));
          attributes.clusterList = ids;
        }
        break;
      case A.MP_REACH_NLRI: {
        const reach = decodeMpReach(bytes, valueStart - headerSize, valueStart, valueEnd, ctx);
        if (reach === null) (attributes.unknown ??= []).push({ code, flags, hex: toHex(bytes, valueStart, valueEnd) });
        else attributes.mpReach = reach;
        break;
      }
      case A.MP_UNREACH_NLRI: {
        const unreach = decodeMpUnreach(bytes, valueStart - headerSize, valueStart, valueEnd, ctx);
        if (unreach === null) (attributes.unknown ??= []).push({ code, flags, hex: toHex(bytes, valueStart, valueEnd) });
        else attributes.mpUnreach = unreach;
        break;
      }
      case A.EXTENDED_COMMUNITIES:
        // RFC 7606 7.14: length not a non-zero multiple of 8 -> treat-as-withdraw.
        if (length === 0 || length % 8 !== 0) lengthError(errors, 'treat-as-withdraw', code, length, 'a non-zero multiple of 8');
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
        if (length !== 8) lengthError(errors, 'attribute-discard', code, length, '8');
        else if (u32(bytes, valueStart) === 0) {
          // RFC 7607 2 / RFC 6793 6: AS 0 -> attribute-discard.
          errors.push(updateError('attribute-discard', UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, code, 'AS4_AGGREGATOR with AS 0'));
        } else as4Aggregator = { asn: u32(bytes, valueStart), address: ipv4ToString(bytes, valueStart + 4) };
        break;
      case A.LARGE_COMMUNITIES:
        // RFC 8092 6: length not a non-zero multiple of 12 -> treat-as-withdraw.
        if (length === 0 || length % 12 !== 0) lengthError(errors, 'treat-as-withdraw', code, length, 'a non-zero multiple of 12');
        else {
          const values: string[] = [];
          for (let q = valueStart; q < valueEnd; q += 12) values.push(readU32(bytes, q) + ':' + readU32(bytes, q + 4) + ':' + readU32(bytes, q + 8));
          attributes.largeCommunities = values;
        }
        break;
    }
  }

  if (!as4) applyAs4Attributes(attributes, as4Path, as4Aggregator);
  checkMandatory(attributes, seenLow, hasIpv4Nlri, errors);
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

/** COMMUNITIES values in bytes[start, end) (a multiple of 4 long) as "asn:value". */
export function communityTexts(bytes: Uint8Array, start: number, end: number): string[] {
  const communities: string[] = [];
  for (let q = start; q < end; q += 4) communities.push(u16(bytes, q) + ':' + u16(bytes, q + 2));
  return communities;
}

/** RFC 7606 3(d): a missing well-known mandatory attribute -> treat-as-withdraw. */
function checkMandatory(attributes: PathAttributes, seenLow: number, hasIpv4Nlri: boolean, errors: UpdateError[]): void {
  if (!hasIpv4Nlri && attributes.mpReach === undefined) return;
  if (!hasBit(seenLow, 0, A.ORIGIN)) missing(errors, A.ORIGIN);
  if (!hasBit(seenLow, 0, A.AS_PATH)) missing(errors, A.AS_PATH);
  // RFC 4760 3: NEXT_HOP is needed only for NLRI in the NLRI field.
  if (hasIpv4Nlri && !hasBit(seenLow, 0, A.NEXT_HOP)) missing(errors, A.NEXT_HOP);
}

function missing(errors: UpdateError[], code: number): void {
  errors.push(updateError('treat-as-withdraw', UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, code, `${attributeName(code)} missing`));
}
