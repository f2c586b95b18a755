// Peels a captured frame down to its TCP segment: link layer (Ethernet with 802.1Q/802.1ad tags,
// Linux cooked v1/v2, raw IP, BSD loopback), IPv4 or IPv6 (extension headers skipped), TCP.

import { ipv6ToString } from '../../reference/bgp/wire/addr.ts';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
/** DLT_RAW's value on some BSDs; libpcap writes 101 to files, but older captures carry these. */
const LINKTYPE_RAW_BSD_12 = 12;
const LINKTYPE_RAW_BSD_14 = 14;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TcpSegment {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
}

export function isSupportedLinkType(linkType: number): boolean {
  return linkLayerLength(linkType) !== undefined;
}

function linkLayerLength(linkType: number): number | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return 14;
    case LINKTYPE_LINUX_SLL:
      return 16;
    case LINKTYPE_LINUX_SLL2:
      return 20;
    case LINKTYPE_NULL:
      return 4;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD_12:
    case LINKTYPE_RAW_BSD_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return 0;
    default:
      return undefined;
  }
}

/** The TCP segment a frame carries, or null for anything else (ARP, UDP, fragments, short frames). */
export function parseTcpSegment(frame: Uint8Array, linkType: number): TcpSegment | null {
  let offset: number;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return null;
      offset = 12;
      etherType = (frame[offset]! << 8) | frame[offset + 1]!;
      while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD) {
        offset += 4;
        if (offset + 2 > frame.length) return null;
        etherType = (frame[offset]! << 8) | frame[offset + 1]!;
      }
      offset += 2;
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return null;
      etherType = (frame[14]! << 8) | frame[15]!;
      offset = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return null;
      etherType = (frame[0]! << 8) | frame[1]!;
      offset = 20;
      break;
    case LINKTYPE_NULL: {
      // Address family in host byte order of the capturing machine: 2 = IPv4; 24, 28, 30 = IPv6.
      if (frame.length < 4) return null;
      const family = frame[0] === 0 ? frame[3]! : frame[0]!;
      etherType = family === 2 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
      offset = 4;
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD_12:
    case LINKTYPE_RAW_BSD_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      if (frame.length < 1) return null;
      etherType = frame[0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
      offset = 0;
      break;
    default:
      return null;
  }
  if (etherType === ETHERTYPE_IPV4) return parseIpv4(frame, offset);
  if (etherType === ETHERTYPE_IPV6) return parseIpv6(frame, offset);
  return null;
}

function parseIpv4(frame: Uint8Array, offset: number): TcpSegment | null {
  if (offset + 20 > frame.length || frame[offset]! >> 4 !== 4) return null;
  const headerLength = (frame[offset]! & 0x0f) * 4;
  const totalLength = (frame[offset + 2]! << 8) | frame[offset + 3]!;
  if (frame[offset + 9] !== 6 || headerLength < 20) return null;
  // Fragments: only a whole datagram carries a whole TCP header; BGP peers do not fragment.
  const fragment = ((frame[offset + 6]! << 8) | frame[offset + 7]!) & 0x3fff;
  if (fragment !== 0) return null;
  // Ethernet pads short frames: the IP total length says where the datagram really ends.
  // A TSO capture writes 0 as total length; then the frame end is the datagram end.
  const end = totalLength === 0 ? frame.length : Math.min(frame.length, offset + totalLength);
  const srcIp = `${frame[offset + 12]}.${frame[offset + 13]}.${frame[offset + 14]}.${frame[offset + 15]}`;
  const dstIp = `${frame[offset + 16]}.${frame[offset + 17]}.${frame[offset + 18]}.${frame[offset + 19]}`;
  return parseTcp(frame, offset + headerLength, end, srcIp, dstIp);
}

const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTH = 51;
const IPV6_DEST_OPTS = 60;
const IPV6_MOBILITY = 135;

function parseIpv6(frame: Uint8Array, offset: number): TcpSegment | null {
  if (offset + 40 > frame.length || frame[offset]! >> 4 !== 6) return null;
  const payloadLength = (frame[offset + 4]! << 8) | frame[offset + 5]!;
  const end = payloadLength === 0 ? frame.length : Math.min(frame.length, offset + 40 + payloadLength);
  let next = frame[offset + 6]!;
  let header = offset + 40;
  while (next !== 6) {
    if (header + 8 > end) return null;
    switch (next) {
      case IPV6_HOP_BY_HOP:
      case IPV6_ROUTING:
      case IPV6_DEST_OPTS:
      case IPV6_MOBILITY:
        next = frame[header]!;
        header += (frame[header + 1]! + 1) * 8;
        break;
      case IPV6_FRAGMENT: {
        const fragmentOffsetAndMore = ((frame[header + 2]! << 8) | frame[header + 3]!) & 0xfff9;
        if (fragmentOffsetAndMore !== 0) return null; // a real fragment, not an atomic one
        next = frame[header]!;
        header += 8;
        break;
      }
      case IPV6_AUTH:
        next = frame[header]!;
        header += (frame[header + 1]! + 2) * 4;
        break;
      default:
        return null; // not TCP (ICMPv6, UDP, no next header, ...)
    }
  }
  return parseTcp(frame, header, end, ipv6ToString(frame, offset + 8), ipv6ToString(frame, offset + 24));
}

function parseTcp(frame: Uint8Array, offset: number, end: number, srcIp: string, dstIp: string): TcpSegment | null {
  if (offset + 20 > end) return null;
  const dataOffset = (frame[offset + 12]! >> 4) * 4;
  if (dataOffset < 20 || offset + dataOffset > end) return null;
  return {
    srcIp,
    dstIp,
    srcPort: (frame[offset]! << 8) | frame[offset + 1]!,
    dstPort: (frame[offset + 2]! << 8) | frame[offset + 3]!,
    seq: ((frame[offset + 4]! << 24) | (frame[offset + 5]! << 16) | (frame[offset + 6]! << 8) | frame[offset + 7]!) >>> 0,
    ack: ((frame[offset + 8]! << 24) | (frame[offset + 9]! << 16) | (frame[offset + 10]! << 8) | frame[offset + 11]!) >>> 0,
    flags: frame[offset + 13]!,
    payload: frame.subarray(offset + dataOffset, end),
  };
}
