// Ethernet frames the L2 announcer reads and writes: ARP (RFC 826, gratuitous per RFC 5227)
// and ICMPv6 neighbour solicitation / advertisement (RFC 4861). Decoders return null for
// anything that is not a well-formed frame of their kind: the announcer sees every frame its
// capture filter lets through and must never throw on one.

import { EtherType, IpProtocol } from '../net/numbers.ts';

const ETHERNET_HEADER = 14;
const ARP_LENGTH = 28;
const IPV6_HEADER = 40;
const ICMPV6_NEIGHBOR_SOLICITATION = 135;
const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const NDP_MESSAGE_LENGTH = 24; // type, code, checksum, 4 bytes flags/reserved, 16 bytes target
const OPTION_SOURCE_LINK_ADDRESS = 1;
const OPTION_TARGET_LINK_ADDRESS = 2;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const ZERO_MAC = new Uint8Array(6);
/** ff02::1, all nodes on the link: where an unsolicited advertisement goes. */
export const ALL_NODES_IPV6 = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export interface ArpMessage {
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

export interface ArpFrame extends ArpMessage {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
}

export interface NeighborSolicitation {
  ethSrc: Uint8Array;
  ethDst: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  target: Uint8Array;
  /** The solicitor's link address option, when present. */
  sourceLinkAddress: Uint8Array | null;
}

export interface NeighborAdvertisement {
  ethSrc: Uint8Array;
  ethDst: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  target: Uint8Array;
  solicited: boolean;
  override: boolean;
  targetLinkAddress: Uint8Array | null;
}

function etherType(frame: Uint8Array): number {
  return frame.length < ETHERNET_HEADER ? -1 : (frame[12] << 8) | frame[13];
}

function writeEthernet(frame: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  frame.set(dst.subarray(0, 6), 0);
  frame.set(src.subarray(0, 6), 6);
  frame[12] = type >> 8;
  frame[13] = type & 0xff;
}

export function decodeArp(frame: Uint8Array): ArpFrame | null {
  if (etherType(frame) !== EtherType.ARP || frame.length < ETHERNET_HEADER + ARP_LENGTH) return null;
  const a = ETHERNET_HEADER;
  const isEthernetIpv4 = frame[a] === 0 && frame[a + 1] === 1 && frame[a + 2] === 0x08 && frame[a + 3] === 0x00 &&
    frame[a + 4] === 6 && frame[a + 5] === 4;
  if (!isEthernetIpv4) return null;
  return {
    ethDst: frame.slice(0, 6),
    ethSrc: frame.slice(6, 12),
    op: (frame[a + 6] << 8) | frame[a + 7],
    senderMac: frame.slice(a + 8, a + 14),
    senderIp: frame.slice(a + 14, a + 18),
    targetMac: frame.slice(a + 18, a + 24),
    targetIp: frame.slice(a + 24, a + 28),
  };
}

export function encodeArp(f: ArpFrame): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER + ARP_LENGTH);
  writeEthernet(frame, f.ethDst, f.ethSrc, EtherType.ARP);
  const a = ETHERNET_HEADER;
  frame.set([0, 1, 0x08, 0x00, 6, 4, f.op >> 8, f.op & 0xff], a);
  frame.set(f.senderMac.subarray(0, 6), a + 8);
  frame.set(f.senderIp.subarray(0, 4), a + 14);
  frame.set(f.targetMac.subarray(0, 6), a + 18);
  frame.set(f.targetIp.subarray(0, 4), a + 24);
  return frame;
}

/** The reply claiming `request.targetIp` for `ourMac`, sent back to the requester only. */
export function arpReplyTo(request: ArpMessage, ourMac: Uint8Array): Uint8Array {
  return encodeArp({
    ethDst: request.senderMac,
    ethSrc: ourMac,
    op: ARP_REPLY,
    senderMac: ourMac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/**
 * Gratuitous ARP in the RFC 5227 announcement form (a broadcast request whose sender and target
 * address are both `ip`). Neighbours that already have an entry for `ip` update it to `mac`.
 */
export function gratuitousArp(mac: Uint8Array, ip: Uint8Array): Uint8Array {
  return encodeArp({ ethDst: BROADCAST_MAC, ethSrc: mac, op: ARP_REQUEST, senderMac: mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip });
}

/** RFC 4443 section 2.3: one's complement sum over the IPv6 pseudo-header and the ICMPv6 message. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  const length = message.length;
  sum += (length >>> 16) + (length & 0xffff) + IpProtocol.ICMPV6;
  for (let i = 0; i + 1 < length; i += 2) sum += (message[i] << 8) | message[i + 1];
  if (length % 2 === 1) sum += message[length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface Icmpv6Packet {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  message: Uint8Array; // view into the frame
}

/** An ICMPv6 message straight after the IPv6 header, hop limit 255 as NDP requires, checksum valid. */
function decodeNdpPacket(frame: Uint8Array, wantedType: number): Icmpv6Packet | null {
  if (etherType(frame) !== EtherType.IPV6 || frame.length < ETHERNET_HEADER + IPV6_HEADER + NDP_MESSAGE_LENGTH) return null;
  const ip = ETHERNET_HEADER;
  if (frame[ip] >> 4 !== 6 || frame[ip + 6] !== IpProtocol.ICMPV6 || frame[ip + 7] !== 255) return null;
  const payloadLength = (frame[ip + 4] << 8) | frame[ip + 5];
  const start = ip + IPV6_HEADER;
  if (payloadLength < NDP_MESSAGE_LENGTH || start + payloadLength > frame.length) return null;
  const message = frame.subarray(start, start + payloadLength);
  if (message[0] !== wantedType || message[1] !== 0) return null;
  const srcIp = frame.slice(ip + 8, ip + 24);
  const dstIp = frame.slice(ip + 24, ip + 40);
  if (icmpv6Checksum(srcIp, dstIp, message) !== 0) return null;
  return { ethDst: frame.slice(0, 6), ethSrc: frame.slice(6, 12), srcIp, dstIp, message };
}

/** The link address carried in option `type`, or null; undefined when the options are malformed. */
function findLinkAddressOption(options: Uint8Array, type: number): Uint8Array | null | undefined {
  let found: Uint8Array | null = null;
  for (let at = 0; at < options.length;) {
    if (at + 2 > options.length) return undefined;
    const length = options[at + 1] * 8;
    if (length === 0 || at + length > options.length) return undefined; // RFC 4861 7.1.1: length 0 is invalid
    if (options[at] === type && length >= 8) found = options.slice(at + 2, at + 8);
    at += length;
  }
  return found;
}

export function decodeNeighborSolicitation(frame: Uint8Array): NeighborSolicitation | null {
  const packet = decodeNdpPacket(frame, ICMPV6_NEIGHBOR_SOLICITATION);
  if (!packet) return null;
  const target = packet.message.slice(8, 24);
  if (target[0] === 0xff) return null; // RFC 4861 7.1.1: the target must not be multicast
  const sourceLinkAddress = findLinkAddressOption(packet.message.subarray(NDP_MESSAGE_LENGTH), OPTION_SOURCE_LINK_ADDRESS);
  if (sourceLinkAddress === undefined) return null;
  return { ethSrc: packet.ethSrc, ethDst: packet.ethDst, srcIp: packet.srcIp, dstIp: packet.dstIp, target, sourceLinkAddress };
}

export function decodeNeighborAdvertisement(frame: Uint8Array): NeighborAdvertisement | null {
  const packet = decodeNdpPacket(frame, ICMPV6_NEIGHBOR_ADVERTISEMENT);
  if (!packet) return null;
  const targetLinkAddress = findLinkAddressOption(packet.message.subarray(NDP_MESSAGE_LENGTH), OPTION_TARGET_LINK_ADDRESS);
  if (targetLinkAddress === undefined) return null;
  const flags = packet.message[4];
  return {
    ethSrc: packet.ethSrc,
    ethDst: packet.ethDst,
    srcIp: packet.srcIp,
    dstIp: packet.dstIp,
    target: packet.message.slice(8, 24),
    solicited: (flags & NA_FLAG_SOLICITED) !== 0,
    override: (flags & NA_FLAG_OVERRIDE) !== 0,
    targetLinkAddress,
  };
}

/** A neighbour advertisement with a target link-address option; the router flag is never set. */
export function encodeNeighborAdvertisement(na: NeighborAdvertisement): Uint8Array {
  const messageLength = NDP_MESSAGE_LENGTH + (na.targetLinkAddress ? 8 : 0);
  const frame = new Uint8Array(ETHERNET_HEADER + IPV6_HEADER + messageLength);
  writeEthernet(frame, na.ethDst, na.ethSrc, EtherType.IPV6);
  const ip = ETHERNET_HEADER;
  frame[ip] = 0x60;
  frame[ip + 4] = messageLength >> 8;
  frame[ip + 5] = messageLength & 0xff;
  frame[ip + 6] = IpProtocol.ICMPV6;
  frame[ip + 7] = 255;
  frame.set(na.srcIp.subarray(0, 16), ip + 8);
  frame.set(na.dstIp.subarray(0, 16), ip + 24);
  const message = frame.subarray(ip + IPV6_HEADER);
  message[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  message[4] = (na.solicited ? NA_FLAG_SOLICITED : 0) | (na.override ? NA_FLAG_OVERRIDE : 0);
  message.set(na.target.subarray(0, 16), 8);
  if (na.targetLinkAddress) {
    message[24] = OPTION_TARGET_LINK_ADDRESS;
    message[25] = 1;
    message.set(na.targetLinkAddress.subarray(0, 6), 26);
  }
  const checksum = icmpv6Checksum(na.srcIp, na.dstIp, message);
  message[2] = checksum >> 8;
  message[3] = checksum & 0xff;
  return frame;
}

/** 33:33 + the low 32 bits of an IPv6 multicast address (RFC 2464 section 7). */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, group[12], group[13], group[14], group[15]);
}

function isUnspecified(ip: Uint8Array): boolean {
  return ip.every((b) => b === 0);
}

/**
 * The answer claiming `solicitation.target` for `ourMac`. The advertisement is sent from the
 * target address itself, as Linux does for its own addresses. A solicitation from the unspecified
 * address is duplicate address detection: the answer then goes to all nodes, unsolicited
 * (RFC 4861 7.2.4).
 */
export function neighborAdvertisementFor(solicitation: NeighborSolicitation, ourMac: Uint8Array): Uint8Array {
  const fromDad = isUnspecified(solicitation.srcIp);
  return encodeNeighborAdvertisement({
    ethSrc: ourMac,
    ethDst: fromDad ? ipv6MulticastMac(ALL_NODES_IPV6) : solicitation.sourceLinkAddress ?? solicitation.ethSrc,
    srcIp: solicitation.target,
    dstIp: fromDad ? ALL_NODES_IPV6 : solicitation.srcIp,
    target: solicitation.target,
    solicited: !fromDad,
    override: true,
    targetLinkAddress: ourMac,
  });
}

/** Unsolicited advertisement with the override flag: neighbours with an entry for `target` switch to `mac`. */
export function unsolicitedNeighborAdvertisement(mac: Uint8Array, target: Uint8Array): Uint8Array {
  return encodeNeighborAdvertisement({
    ethSrc: mac,
    ethDst: ipv6MulticastMac(ALL_NODES_IPV6),
    srcIp: target,
    dstIp: ALL_NODES_IPV6,
    target,
    solicited: false,
    override: true,
    targetLinkAddress: mac,
  });
}
