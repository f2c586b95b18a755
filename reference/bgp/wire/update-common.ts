// The UPDATE nearly every speaker sends, decoded in one pass: IPv4 withdrawn routes and NLRI,
// and only ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF and COMMUNITIES, each well formed and
// once. Anything else (another attribute, a flag, length or value the general decoder would
// report, a field that does not parse) returns null and the message goes to the general decoder
// (update.ts, attributes-decode.ts), which stays the reference for what a message decodes to:
// for the messages this path accepts both give the same result, RFC 7606 checks included
// (update-common.test.ts holds them to that).

import { decodeAsPath } from './aspath.ts';
import { AttributeCode, AttributeFlag, OPTIONAL_NON_TRANSITIVE, OPTIONAL_TRANSITIVE, ORIGINS, WELL_KNOWN } from './attribute-format.ts';
import { communityTexts, isUnicastHostAddress, nextHopText } from './attribute-table.ts';
import { readU32 } from './bytes.ts';
import { decodePrefixes } from './nlri.ts';
import { AFI_IPV4, BGP_HEADER_LENGTH, type AttributeLayout, type PathAttributes, type Route, type UpdateMessage } from './types.ts';

// Module-level copies: imported bindings cost a getter call per use under tsx's module transform.
const IPV4 = AFI_IPV4;
const BODY_START = BGP_HEADER_LENGTH;
const ORIGIN = AttributeCode.ORIGIN;
const AS_PATH = AttributeCode.AS_PATH;
const NEXT_HOP = AttributeCode.NEXT_HOP;
const MED = AttributeCode.MED;
const LOCAL_PREF = AttributeCode.LOCAL_PREF;
const COMMUNITIES = AttributeCode.COMMUNITIES;
const EXTENDED_LENGTH = AttributeFlag.EXTENDED_LENGTH;
const CATEGORY_BITS = OPTIONAL_TRANSITIVE;
const WELL_KNOWN_CATEGORY = WELL_KNOWN;
const OPTIONAL_NON_TRANSITIVE_CATEGORY = OPTIONAL_NON_TRANSITIVE;
const OPTIONAL_TRANSITIVE_CATEGORY = OPTIONAL_TRANSITIVE;
const ORIGIN_NAMES = ORIGINS;
/** RFC 4271 5 / RFC 7606 3(d): what an UPDATE with NLRI in its NLRI field must carry. */
const MANDATORY = (1 << ORIGIN) | (1 << AS_PATH) | (1 << NEXT_HOP);
const u32 = readU32;
const prefixes = decodePrefixes;
const asPathSegments = decodeAsPath;
const communities = communityTexts;
const hostAddress = isUnicastHostAddress;
const nextHop = nextHopText;

/** The whole UPDATE (header included, already checked), or null: use the general decoder. */
export function decodeCommonUpdate(bytes: Uint8Array, as4: boolean, addPath: boolean): UpdateMessage | null {
  const end = bytes.length;
  let p = BODY_START;
  const withdrawnLength = (bytes[p] << 8) | bytes[p + 1];
  p += 2;
  if (p + withdrawnLength + 2 > end) return null;
  const withdrawn: Route[] = [];
  if (withdrawnLength > 0 && prefixes(bytes, p, p + withdrawnLength, IPV4, addPath, withdrawn) !== null) return null;
  p += withdrawnLength;
  const attributesEnd = p + 2 + ((bytes[p] << 8) | bytes[p + 1]);
  p += 2;
  if (attributesEnd > end) return null;

  const attributes: PathAttributes = {};
  const layout: AttributeLayout[] = [];
  let seen = 0; // one bit per attribute code; every code taken here is below 32
  while (p < attributesEnd) {
    const flags = bytes[p];
    const headerSize = flags & EXTENDED_LENGTH ? 4 : 3;
    if (attributesEnd - p < headerSize) return null;
    const code = bytes[p + 1];
    const length = headerSize === 4 ? (bytes[p + 2] << 8) | bytes[p + 3] : bytes[p + 2];
    const value = p + headerSize;
    const valueEnd = value + length;
    if (valueEnd > attributesEnd || code > 31 || (seen & (1 << code)) !== 0) return null;
    seen |= 1 << code;
    const category = flags & CATEGORY_BITS;
    switch (code) {
      case ORIGIN:
        if (category !== WELL_KNOWN_CATEGORY || length !== 1 || bytes[value] > 2) return null;
        attributes.origin = ORIGIN_NAMES[bytes[value]];
        break;
      case AS_PATH: {
        if (category !== WELL_KNOWN_CATEGORY) return null;
        const segments = asPathSegments(bytes, value, valueEnd, as4 ? 4 : 2);
        if (typeof segments === 'string') return null;
        attributes.asPath = segments;
        break;
      }
      case NEXT_HOP: {
        if (category !== WELL_KNOWN_CATEGORY || length !== 4) return null;
        const address = u32(bytes, value);
        if (!hostAddress(address)) return null;
        attributes.nextHop = nextHop(address);
        break;
      }
      case MED:
        if (category !== OPTIONAL_NON_TRANSITIVE_CATEGORY || length !== 4) return null;
        attributes.med = u32(bytes, value);
        break;
      case LOCAL_PREF:
        if (category !== WELL_KNOWN_CATEGORY || length !== 4) return null;
        attributes.localPref = u32(bytes, value);
        break;
      case COMMUNITIES:
        if (category !== OPTIONAL_TRANSITIVE_CATEGORY || length === 0 || length % 4 !== 0) return null;
        attributes.communities = communities(bytes, value, valueEnd);
        break;
      default:
        return null;
    }
    layout.push({ code, flags, length });
    p = valueEnd;
  }

  const nlri: Route[] = [];
  if (attributesEnd < end) {
    if (prefixes(bytes, attributesEnd, end, IPV4, addPath, nlri) !== null) return null;
    if ((seen & MANDATORY) !== MANDATORY) return null;
  }
  return { type: 'UPDATE', withdrawn, attributes, nlri, layout };
}
