// Public API of the BGP wire codec.

export * from './types.ts';
export { decodeMessage, encodeMessage } from './message.ts';
export { encodeUpdates } from './update.ts';
export { BgpError, ErrorCode, HeaderSubcode, OpenSubcode, UpdateSubcode, RouteRefreshSubcode, errorText } from './errors.ts';
export { directionContext } from './negotiate.ts';
export { messageLengthAt } from './header.ts';
export { readIpv4Nlri, scanIpv4Nlri } from './nlri.ts';
export { endOfRib, endOfRibFamily, isEndOfRib } from './end-of-rib.ts';
export { AttributeCode, AttributeFlag, ATTRIBUTE_NAMES } from './attribute-format.ts';
export {
  formatPrefix,
  ipToBytes,
  ipv4NumberToString,
  ipv4ToBytes,
  ipv4ToString,
  ipv6ToString,
  isIpv6Text,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  type ParsedPrefix,
} from './addr.ts';
