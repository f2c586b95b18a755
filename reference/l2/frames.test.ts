import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6, parseMac } from './addresses.ts';
import {
  ARP_REPLY,
  ARP_REQUEST,
  arpReplyTo,
  decodeArp,
  decodeNeighborAdvertisement,
  decodeNeighborSolicitation,
  gratuitousArp,
  icmpv6Checksum,
  neighborAdvertisementFor,
  unsolicitedNeighborAdvertisement,
} from './frames.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Captured with tcpdump -xx between two namespaces on this machine (Linux 6.18): 10.9.0.1
// (02:00:00:00:00:0a) asks for 10.9.0.2 (02:00:00:00:00:0b), which answers.
const KERNEL_ARP_REQUEST = hex('ffffffffffff 02000000000a 0806 0001 0800 0604 0001 02000000000a 0a090001 000000000000 0a090002');
const KERNEL_ARP_REPLY = hex('02000000000a 02000000000b 0806 0001 0800 0604 0002 02000000000b 0a090002 02000000000a 0a090001');
// Same pair over IPv6: fd00:9::1 solicits fd00:9::2, the kernel advertises (S and O set).
const KERNEL_NS = hex(`3333ff000002 02000000000a 86dd 6000 0000 0020 3aff
  fd000009000000000000000000000001 ff0200000000000000000001ff000002
  8700 7d7c 00000000 fd000009000000000000000000000002 0101 02000000000a`);
const KERNEL_NA = hex(`02000000000a 02000000000b 86dd 6000 0000 0020 3aff
  fd000009000000000000000000000002 fd000009000000000000000000000001
  8800 1c76 60000000 fd000009000000000000000000000002 0201 02000000000b`);

describe('ARP', () => {
  it('decodes a request the kernel sent', () => {
    const arp = decodeArp(KERNEL_ARP_REQUEST)!;
    expect(arp.op).toBe(ARP_REQUEST);
    expect(formatMac(arp.ethSrc)).toBe('02:00:00:00:00:0a');
    expect(formatIpv4(arp.senderIp)).toBe('10.9.0.1');
    expect(formatIpv4(arp.targetIp)).toBe('10.9.0.2');
  });

  it('answers a request with the same bytes as the kernel', () => {
    const request = decodeArp(KERNEL_ARP_REQUEST)!;
    expect(arpReplyTo(request, parseMac('02:00:00:00:00:0b'))).toEqual(KERNEL_ARP_REPLY);
    expect(decodeArp(KERNEL_ARP_REPLY)!.op).toBe(ARP_REPLY);
  });

  it('builds a gratuitous ARP as a broadcast request for its own address', () => {
    const garp = gratuitousArp(parseMac('02:00:00:00:00:0b'), parseIpv4('10.0.5.100'));
    expect(garp).toEqual(hex('ffffffffffff 02000000000b 0806 0001 0800 0604 0001 02000000000b 0a000564 000000000000 0a000564'));
  });

  it('rejects truncated, non-ARP and non-Ethernet/IPv4 ARP frames', () => {
    expect(decodeArp(KERNEL_ARP_REQUEST.subarray(0, 41))).toBeNull();
    expect(decodeArp(KERNEL_NS)).toBeNull();
    const otherHardware = KERNEL_ARP_REQUEST.slice();
    otherHardware[15] = 6; // IEEE 802 hardware type
    expect(decodeArp(otherHardware)).toBeNull();
  });
});

describe('ICMPv6 neighbour discovery', () => {
  it('computes the checksum over the pseudo-header (the kernel frames check out)', () => {
    const message = KERNEL_NA.subarray(54).slice();
    message[2] = 0;
    message[3] = 0;
    expect(icmpv6Checksum(parseIpv6('fd00:9::2'), parseIpv6('fd00:9::1'), message)).toBe(0x1c76);
  });

  it('decodes a solicitation the kernel sent', () => {
    const ns = decodeNeighborSolicitation(KERNEL_NS)!;
    expect(formatIpv6(ns.target)).toBe('fd00:9::2');
    expect(formatIpv6(ns.srcIp)).toBe('fd00:9::1');
    expect(formatMac(ns.sourceLinkAddress!)).toBe('02:00:00:00:00:0a');
  });

  it('answers a solicitation with the same bytes as the kernel', () => {
    const ns = decodeNeighborSolicitation(KERNEL_NS)!;
    expect(neighborAdvertisementFor(ns, parseMac('02:00:00:00:00:0b'))).toEqual(KERNEL_NA);
  });

  it('answers duplicate address detection to all nodes, not solicited', () => {
    const ns = decodeNeighborSolicitation(KERNEL_NS)!;
    const dad = { ...ns, srcIp: new Uint8Array(16), sourceLinkAddress: null };
    const na = decodeNeighborAdvertisement(neighborAdvertisementFor(dad, parseMac('02:00:00:00:00:0b')))!;
    expect(formatIpv6(na.dstIp)).toBe('ff02::1');
    expect(formatMac(na.ethDst)).toBe('33:33:00:00:00:01');
    expect(na.solicited).toBe(false);
  });

  it('builds an unsolicited override advertisement to all nodes', () => {
    const frame = unsolicitedNeighborAdvertisement(parseMac('02:00:00:00:00:0b'), parseIpv6('fd00:5::100'));
    const na = decodeNeighborAdvertisement(frame)!;
    expect(na).toMatchObject({ solicited: false, override: true });
    expect(formatIpv6(na.target)).toBe('fd00:5::100');
    expect(formatIpv6(na.dstIp)).toBe('ff02::1');
    expect(formatMac(na.targetLinkAddress!)).toBe('02:00:00:00:00:0b');
    expect(formatMac(frame.subarray(0, 6))).toBe('33:33:00:00:00:01');
  });

  it('drops solicitations with a bad checksum, hop limit below 255, a zero-length option or a multicast target', () => {
    const badChecksum = KERNEL_NS.slice();
    badChecksum[56] ^= 1;
    const forwarded = KERNEL_NS.slice();
    forwarded[21] = 254;
    const zeroOption = KERNEL_NS.slice();
    zeroOption[79] = 0;
    for (const frame of [badChecksum, forwarded, zeroOption]) expect(decodeNeighborSolicitation(frame)).toBeNull();
    expect(decodeNeighborSolicitation(KERNEL_NA)).toBeNull();
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, asNdp) => {
        const frame = bytes.slice();
        if (asNdp && frame.length > 54) frame.set([0x86, 0xdd], 12);
        decodeArp(frame);
        decodeNeighborSolicitation(frame);
        decodeNeighborAdvertisement(frame);
      }),
    );
  });
});

describe('address text forms', () => {
  it('round-trips and rejects garbage with a message', () => {
    expect(formatIpv6(parseIpv6('fd00:0009::0002'))).toBe('fd00:9::2');
    expect(formatMac(parseMac('2:0:0:0:0:B'))).toBe('02:00:00:00:00:0b');
    expect(() => parseIpv4('10.0.5')).toThrow(/not an IPv4 address/);
    expect(() => parseMac('02:00')).toThrow(/not a MAC address/);
  });
});
