// Path attributes from the wire, with RFC 7606 error handling: the framing, repeats, unknown
// codes and flags here; each attribute's own value checks in its row of attribute-table.ts.

import { mergeAs4Path } from './aspath.ts';
import { AttributeCode, AttributeFlag, OPTIONAL_TRANSITIVE, attributeName } from './attribute-format.ts';
import { ATTRIBUTE_BY_CODE, type AttributeDecodeState } from './attribute-table.ts';
import { readU16, toHex } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode, updateError } from './errors.ts';
import { AS_TRANS, type AsPathSegment, type AttributeLayout, type CodecContext, type PathAttributes, type UpdateError } from './types.ts';

// Module-level copies: the hot loop below reads these per attribute, and imported bindings cost a
// getter call each time under tsx's module transform.
const A = AttributeCode;
const CATEGORY_BITS = OPTIONAL_TRANSITIVE;
const EXTENDED_LENGTH = AttributeFlag.EXTENDED_LENGTH;
const OPTIONAL = AttributeFlag.OPTIONAL;
const u16 = readU16;
const ROWS = ATTRIBUTE_BY_CODE;

/** Attribute type codes 64-255 seen in the message being decoded (rare: unknown attributes only). */
const seenHigh = new Uint32Array(6);

/** Bit `code` of a 64-bit set held in two numbers (codes 0-31, 32-63). */
function hasBit(low: number, high: number, code: number): boolean {
  return ((code < 32 ? low : high) & (1 << (code & 31))) !== 0;
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
  const state: AttributeDecodeState = { attributes, errors, ctx, as4 };

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
      errors.push({ ...updateError('treat-as-withdraw', UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, code, `${attributeName(code)} length ${length} overruns the attributes`), overrun: true });
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

    const row = ROWS[code];
    if (row === undefined) {
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

    if ((flags & CATEGORY_BITS) !== row.flags) {
      const malformedAction = row.malformed === 'attribute-discard' ? 'attribute-discard' : 'treat-as-withdraw';
      // RFC 7606 3(c): wrong Optional/Transitive bits -> treat-as-withdraw (attribute-discard for
      // the attributes whose own rule is attribute-discard).
      errors.push(updateError(malformedAction, UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, code, `${attributeName(code)} flags 0x${flags.toString(16)}`));
      if (malformedAction === 'attribute-discard') continue;
    }

    row.decode(bytes, valueStart, valueEnd, valueStart - headerSize, flags, state);
  }

  if (!as4) applyAs4Attributes(attributes, state.as4Path, state.as4Aggregator);
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
