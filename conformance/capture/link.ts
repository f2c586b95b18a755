// Peels a captured frame down to its TCP segment: link layer (Ethernet with 802.1Q/802.1ad tags,
// Linux cooked v1/v2, raw IP, BSD loopback), IPv4 or IPv6 (extension headers skipped), TCP.

import { ipv6ToString } from '../../reference/bgp/wire/addr.ts';
import { EtherType, IpProtocol, LinkType, LinkTypeRawBsd } from '../../reference/net/numbers.ts';

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
    case LinkType.ETHERNET:
      return 14;
    case LinkType.LINUX_SLL:
      return 16;
    case LinkType.LINUX_SLL2:
      return 20;
    case LinkType.NULL:
      return 4;
    case LinkType.RAW:
    case LinkTypeRawBsd[0]:
    case LinkTypeRawBsd[1]:
    case LinkType.IPV4:
    case LinkType.IPV6:
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
    case LinkType.ETHERNET: {
      if (frame.length < 14) return null;
      offset = 12;
      etherType = (frame[offset]! << 8) | frame[offset + 1]!;
      while (etherType === EtherType.VLAN || etherType === EtherType.QINQ || etherType === EtherType.QINQ_OLD) {
        offset += 4;
        if (offset + 2 > frame.length) return null;
        etherType = (frame[offset]! << 8) | frame[offset + 1]!;
      }
      offset += 2;
      break;
    }
    case LinkType.LINUX_SLL:
      if (frame.length < 16) return null;
      etherType = (frame[14]! << 8) | frame[15]!;
      offset = 16;
      break;
    case LinkType.LINUX_SLL2:
      if (frame.length < 20) return null;
      etherType = (frame[0]! << 8) | frame[1]!;
      offset = 20;
      break;
    case LinkType.NULL: {
      // Address family in host byte order of the capturing machine: 2 = IPv4; 24, 28, 30 = IPv6.
      if (frame.length < 4) return null;
      const family = frame[0] === 0 ? frame[3]! : frame[0]!;
      etherType = family === 2 ? EtherType.IPV4 : EtherType.IPV6;
      offset = 4;
      break;
    }
    case LinkType.RAW:
    case LinkTypeRawBsd[0]:
    case LinkTypeRawBsd[1]:
    case LinkType.IPV4:
    case LinkType.IPV6:
      if (frame.length < 1) return null;
      etherType = frame[0]! >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
      offset = 0;
      break;
    default:
      return null;
  }
  if (etherType === EtherType.IPV4) return parseIpv4(frame, offset);
  if (etherType === EtherType.IPV6) return parseIpv6(frame, offset);
  return null;
}

function parseIpv4(frame: Uint8Array, offset: number): TcpSegment | null {
  if (offset + 20 > frame.length || frame[offset]! >> 4 !== 4) return null;
  const headerLength = (frame[offset]! & 0x0f) * 4;
  const totalLength = (frame[offset + 2]! << 8) | frame[offset + 3]!;
  if (frame[offset + 9] !== IpProtocol.TCP || headerLength < 20) return null;
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

function parseIpv6(frame: Uint8Array, offset: number): TcpSegment | null {
  if (offset + 40 > frame.length || frame[offset]! >> 4 !== 6) return null;
  const payloadLength = (frame[offset + 4]! << 8) | frame[offset + 5]!;
  const end = payloadLength === 0 ? frame.length : Math.min(frame.length, offset + 40 + payloadLength);
  let next = frame[offset + 6]!;
  let header = offset + 40;
  while (next !== IpProtocol.TCP) {
    if (header + 8 > end) return null;
    switch (next) {
      case IpProtocol.HOP_BY_HOP:
      case IpProtocol.ROUTING:
      case IpProtocol.DEST_OPTS:
      case IpProtocol.MOBILITY:
        next = frame[header]!;
        header += (frame[header + 1]! + 1) * 8;
        break;
      case IpProtocol.FRAGMENT: {
        const fragmentOffsetAndMore = ((frame[header + 2]! << 8) | frame[header + 3]!) & 0xfff9;
        if (fragmentOffsetAndMore !== 0) return null; // a real fragment, not an atomic one
        next = frame[header]!;
        header += 8;
        break;
      }
      case IpProtocol.AUTH:
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
