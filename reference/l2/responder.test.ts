import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMac, parseIpv4, parseIpv6, parseMac } from './addresses.ts';
import { ARP_REPLY, decodeArp, decodeNeighborAdvertisement, encodeArp, gratuitousArp, ARP_REQUEST } from './frames.ts';
import type { FrameLink } from './links.ts';
import { formatCommand, leaseNameFor, parseCommand } from './main.ts';
import { parseVip, Responder } from './responder.ts';

function recordingLink(mac = '02:00:00:00:00:11'): FrameLink & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return { interfaceName: 'net0', mac: parseMac(mac), sent, send: (frame) => sent.push(frame), close() {} };
}

const CLIENT = parseMac('02:00:00:00:00:20');
const whoHas = (ip: string) =>
  encodeArp({ ethDst: parseMac('ff:ff:ff:ff:ff:ff'), ethSrc: CLIENT, op: ARP_REQUEST, senderMac: CLIENT, senderIp: parseIpv4('10.0.5.20'), targetMac: new Uint8Array(6), targetIp: parseIpv4(ip) });

describe('Responder', () => {
  const vip = parseVip('10.0.5.100');

  it('answers only for announced VIPs, and only while announced', () => {
    const responder = new Responder();
    const link = recordingLink();
    expect(responder.handleFrame(whoHas('10.0.5.100'), link)).toBeNull();
    responder.start([vip]);
    expect(responder.handleFrame(whoHas('10.0.5.101'), link)).toBeNull();
    expect(responder.handleFrame(whoHas('10.0.5.100'), link)).toEqual({ kind: 'arp-reply', vip: '10.0.5.100', to: '02:00:00:00:00:20', interfaceName: 'net0' });
    const reply = decodeArp(link.sent[0])!;
    expect(reply.op).toBe(ARP_REPLY);
    expect(formatMac(reply.senderMac)).toBe('02:00:00:00:00:11');
    expect(formatMac(reply.ethDst)).toBe('02:00:00:00:00:20');
    responder.stop([vip]);
    expect(responder.handleFrame(whoHas('10.0.5.100'), link)).toBeNull();
    expect(link.sent).toHaveLength(1);
  });

  it('ignores its own frames and other nodes\' announcements', () => {
    const responder = new Responder();
    const link = recordingLink();
    responder.start([vip]);
    expect(responder.handleFrame(gratuitousArp(link.mac, vip.bytes), link)).toBeNull();
    expect(responder.handleFrame(gratuitousArp(parseMac('02:00:00:00:00:12'), vip.bytes), link)).toBeNull();
    expect(link.sent).toHaveLength(0);
  });

  it('announces every VIP on every link, IPv4 by gratuitous ARP and IPv6 by unsolicited NA', () => {
    const responder = new Responder();
    const links = [recordingLink('02:00:00:00:00:11'), recordingLink('02:00:00:00:00:21')];
    responder.announce([vip, parseVip('fd00:5::100')], links);
    for (const link of links) {
      expect(link.sent).toHaveLength(2);
      expect(decodeArp(link.sent[0])!.senderMac).toEqual(link.mac);
      expect(decodeNeighborAdvertisement(link.sent[1])!.targetLinkAddress).toEqual(link.mac);
      expect(decodeNeighborAdvertisement(link.sent[1])!.target).toEqual(parseIpv6('fd00:5::100'));
    }
  });

  it('survives any bytes and answers only well-formed questions', () => {
    const responder = new Responder();
    responder.start([vip, parseVip('fd00:5::100')]);
    const link = recordingLink();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.constantFrom(0x0806, 0x86dd, 0x0800), (bytes, etherType) => {
        const frame = bytes.slice();
        if (frame.length >= 14) frame.set([etherType >> 8, etherType & 0xff], 12);
        responder.handleFrame(frame, link);
      }),
    );
    expect(link.sent.every((frame) => decodeArp(frame) !== null || decodeNeighborAdvertisement(frame) !== null)).toBe(true);
  });

  it('rejects a VIP that is not an address', () => {
    expect(() => parseVip('10.0.5.300')).toThrow('not an IPv4 or IPv6 address: "10.0.5.300"');
  });
});

describe('announcer command line', () => {
  it('reads services, interface patterns and timing', () => {
    const command = parseCommand(['--identity', 'node1', '--lease-dir', '/tmp/x', '--service', 'svc-a=10.0.5.100,fd00:5::100', '--interface', '^net0$', '--lease-duration-ms', '900']);
    expect(command.services[0].lease).toBe('svc-a');
    expect(command.services[0].vips.map((v) => v.family)).toEqual([4, 6]);
    expect(command.interfacePatterns[0].test('net0')).toBe(true);
    expect(command.interfacePatterns[0].test('net01')).toBe(false);
    expect(command.timing).toEqual({ leaseDurationMs: 900, renewIntervalMs: 200, retryIntervalMs: 100 });
  });

  it('formats a command an agent can start, which parses back to the same command', () => {
    const command = parseCommand(['--identity', 'node1', '--lease-dir', '/tmp/x', '--service', `${leaseNameFor('default', 'nginx')}=10.0.5.100,fd00:5::100`, '--service', 'b=10.0.5.101', '--interface', '^net0$', '--interface', '^bond\\d+$']);
    expect(command.services[0].lease).toBe('cilium-l2announce-default-nginx');
    const again = parseCommand(formatCommand(command));
    expect(again).toEqual(command);
  });

  it('says what is wrong with bad arguments', () => {
    expect(() => parseCommand(['--lease-dir', '/tmp/x', '--service', 'a=10.0.5.1'])).toThrow(/--identity is required/);
    expect(() => parseCommand(['--identity', 'n', '--lease-dir', '/x', '--service', 'a'])).toThrow(/--service a: expected LEASE=VIP/);
    expect(() => parseCommand(['--identity', 'n', '--lease-dir', '/x', '--service', 'a=banana'])).toThrow(/--service a=banana: not an IPv4 or IPv6 address/);
    expect(() => parseCommand(['--identity', 'n', '--lease-dir', '/x', '--service', 'a=10.0.5.1', '--interface', '(']))
      .toThrow(/--interface \(: not a regular expression/);
    expect(() => parseCommand(['--identity', 'n', '--lease-dir', '/x', '--service', 'a=10.0.5.1', '--renew-interval-ms=0'])).toThrow(/positive number/);
  });
});
