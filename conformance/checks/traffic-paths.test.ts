import { describe, expect, it } from 'vitest';
import { LinkType, TcpFlag } from '../../reference/net/numbers.ts';
import { writePcap } from '../capture/testing/capture-writer.ts';
import { connections, conversationPath, hopsOf, judgeReturnPath, tcpSegments, type LinkSegments, type TimedSegment } from './traffic-paths.ts';

const CLIENT = '10.0.5.20';
const VIP = '10.0.5.100';
const BACKEND = '10.1.1.134';

function seg(srcIp: string, srcPort: number, dstIp: string, dstPort: number, flags: number, ts = 1): TimedSegment {
  return { srcIp, dstIp, srcPort, dstPort, seq: 0, ack: 0, flags, payload: new Uint8Array(0), ts };
}

/** One connection of a DSR conversation as each link sees it. */
function dsrConnection(port: number) {
  return {
    toVip: seg(CLIENT, port, VIP, 80, TcpFlag.SYN),
    rewritten: seg(CLIENT, port, BACKEND, 80, TcpFlag.SYN),
    fromVip: seg(VIP, 80, CLIENT, port, TcpFlag.SYN | TcpFlag.ACK),
  };
}

function dsrLinks(ports: number[], opts: { replyViaLb?: number[]; noReply?: number[] } = {}): LinkSegments[] {
  const c = ports.map((p) => ({ p, ...dsrConnection(p) }));
  return [
    { link: 'client2:net0', segments: c.flatMap((x) => [x.toVip, ...(opts.noReply?.includes(x.p) ? [] : [x.fromVip])]) },
    { link: 'rack0-node1:net0', segments: c.flatMap((x) => [x.toVip, x.rewritten, ...(opts.replyViaLb?.includes(x.p) ? [x.fromVip] : [])]) },
    { link: 'rack1-node2:net0', segments: c.flatMap((x) => [x.rewritten, x.fromVip]) },
  ];
}

const roles = (ports: number[]) => ({ client: CLIENT, vip: VIP, port: 80, lbLinks: ['rack0-node1:net0'], bypassLink: 'client2:net0', clientPorts: new Set(ports) });

describe('judgeReturnPath', () => {
  const ports = [43000, 43001, 43002];

  it('accepts forward through the load-balancer node and replies from the VIP only on the bypass link', () => {
    const v = judgeReturnPath(dsrLinks(ports), roles(ports));
    expect(v).toEqual({ forwardViaLb: 3, forwardedOn: 3, repliesOnBypass: 3, repliesViaLb: 0, problems: [] });
  });

  it('fails when a reply goes back through the load-balancer node', () => {
    const v = judgeReturnPath(dsrLinks(ports, { replyViaLb: [43001] }), roles(ports));
    expect(v.repliesViaLb).toBe(1);
    expect(v.problems).toEqual(['1 connections had replies to 10.0.5.20 on the load-balancer node link(s): the return path did not bypass it']);
  });

  it('counts replies from the backend address (no source rewrite) on the load-balancer link too', () => {
    const links = dsrLinks(ports);
    links[1] = { ...links[1]!, segments: [...links[1]!.segments, seg(BACKEND, 80, CLIENT, 43002, TcpFlag.SYN | TcpFlag.ACK)] };
    expect(judgeReturnPath(links, roles(ports)).repliesViaLb).toBe(1);
  });

  it('fails when connections got no reply from the VIP on the bypass link', () => {
    const v = judgeReturnPath(dsrLinks(ports, { noReply: [43000, 43002] }), roles(ports));
    expect(v.repliesOnBypass).toBe(1);
    expect(v.problems[0]).toBe('2 of 3 connections got no reply from 10.0.5.100:80 on client2:net0 (client ports 43000, 43002)');
  });

  it('fails when the traffic never reached the load-balancer node, and names missing captures', () => {
    const links = dsrLinks(ports).filter((l) => l.link !== 'rack0-node1:net0');
    const v = judgeReturnPath(links, roles(ports));
    expect(v.problems).toContain('no capture of the load-balancer node link(s) rack0-node1:net0');
    expect(v.problems).toContain('3 of 3 connections to 10.0.5.100:80 never reached the load-balancer node (client ports 43000, 43001, 43002)');
  });

  it('ignores connections the case did not open', () => {
    const v = judgeReturnPath(dsrLinks([...ports, 50000], { replyViaLb: [50000] }), roles(ports));
    expect(v.problems).toEqual([]);
  });
});

describe('conversationPath and hopsOf', () => {
  const A = '10.98.0.10';
  const B = '10.98.2.10';
  const links: LinkSegments[] = [
    { link: 'leaf1:eth1', segments: [seg(A, 42000, B, 8080, TcpFlag.SYN, 3), seg(B, 8080, A, 42000, TcpFlag.SYN | TcpFlag.ACK, 6)] },
    { link: 'server1:net0', segments: [seg(A, 42000, B, 8080, TcpFlag.SYN, 1), seg(A, 42001, B, 8080, TcpFlag.SYN, 1.5), seg(B, 8080, A, 42000, TcpFlag.SYN | TcpFlag.ACK, 8)] },
    { link: 'leaf0:eth1', segments: [seg(A, 42000, B, 8080, TcpFlag.SYN, 2), seg(B, 8080, A, 42000, TcpFlag.SYN | TcpFlag.ACK, 7)] },
  ];

  it('counts connections per link and direction', () => {
    const path = conversationPath(links, { client: A, server: B, port: 8080, clientPorts: new Set([42000, 42001]) });
    expect(path.forward).toEqual({ 'leaf1:eth1': 1, 'server1:net0': 2, 'leaf0:eth1': 1 });
    expect(path.replies).toEqual({ 'leaf1:eth1': 1, 'server1:net0': 1, 'leaf0:eth1': 1 });
  });

  it('orders the links one segment crossed by capture time', () => {
    expect(hopsOf(links, { src: A, srcPort: 42000, dst: B, syn: true })).toEqual(['server1:net0', 'leaf0:eth1', 'leaf1:eth1']);
    expect(hopsOf(links, { src: B, dstPort: 42000 })).toEqual(['leaf1:eth1', 'leaf0:eth1', 'server1:net0']);
  });

  it('follows only copies of the first matching segment, not a later attempt on another path', () => {
    const retry = (ts: number, link: string) => ({ link, segments: [{ ...seg(A, 42000, B, 8080, TcpFlag.SYN, ts), seq: 99 }] });
    expect(hopsOf([...links, retry(0.5, 'spine1:eth1')], { src: A, srcPort: 42000, syn: true })).toEqual(['spine1:eth1']);
    expect(hopsOf([...links, retry(9, 'spine1:eth1')], { src: A, srcPort: 42000, syn: true })).toEqual(['server1:net0', 'leaf0:eth1', 'leaf1:eth1']);
  });

  it('connections() tells the client port from either side', () => {
    expect(connections(links[1]!.segments, { src: A }, 'src')).toEqual(new Set([42000, 42001]));
    expect(connections(links[1]!.segments, { dst: A }, 'dst')).toEqual(new Set([42000]));
  });
});

describe('tcpSegments', () => {
  it('reads TCP segments with their capture time from an Ethernet pcap and skips other frames', () => {
    const ip = [0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 5, 20, 10, 0, 5, 100];
    const tcp = [0xa7, 0xf8, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, TcpFlag.SYN, 0xff, 0xff, 0, 0, 0, 0];
    const eth = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    const arp = [...eth.slice(0, 12), 0x08, 0x06, ...new Array(28).fill(0)];
    const bytes = writePcap(
      [
        { data: Uint8Array.from([...eth, ...ip, ...tcp]), ts: 1700000000.5, linkType: LinkType.ETHERNET },
        { data: Uint8Array.from(arp), ts: 1700000001, linkType: LinkType.ETHERNET },
      ],
      'us',
    );
    const segments = tcpSegments(bytes);
    expect(segments).toHaveLength(1);
    expect(segments[0]).toMatchObject({ srcIp: CLIENT, dstIp: VIP, srcPort: 43000, dstPort: 80, flags: TcpFlag.SYN, ts: 1700000000.5 });
  });

  it('reads nothing from a capture whose header is not written yet, and names a file that is not a capture', () => {
    expect(tcpSegments(new Uint8Array(0))).toEqual([]);
    expect(tcpSegments(Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0]))).toEqual([]);
    expect(() => tcpSegments(new TextEncoder().encode('this is not a packet capture at all'))).toThrow(/not a pcap or pcapng file/);
  });

  it('keeps the segments before a torn last frame', () => {
    const ip = [0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 5, 20, 10, 0, 5, 100];
    const tcp = [0xa7, 0xf8, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, TcpFlag.SYN, 0xff, 0xff, 0, 0, 0, 0];
    const eth = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    const frame = { data: Uint8Array.from([...eth, ...ip, ...tcp]), ts: 1, linkType: LinkType.ETHERNET };
    const bytes = writePcap([frame, frame], 'us');
    expect(tcpSegments(bytes.subarray(0, bytes.length - 10))).toHaveLength(1);
  });
});
