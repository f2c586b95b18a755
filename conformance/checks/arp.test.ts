import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../lab/fixture/load.ts';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { parseIpv4, parseMac } from '../../reference/l2/addresses.ts';
import { ARP_REQUEST, BROADCAST_MAC, arpReplyTo, encodeArp, gratuitousArp, type ArpMessage } from '../../reference/l2/frames.ts';
import { announcementsOf, arpExchange, arpFrames, firstTakeover, l2Targets } from './arp.ts';

const CLIENT = '02:00:00:00:00:20';
const NODE1 = '02:00:00:00:00:11';
const NODE2 = '02:00:00:00:00:12';
const VIP = '10.0.5.100';
const ZERO = new Uint8Array(6);

const request = (target = VIP): ArpMessage => ({
  op: ARP_REQUEST,
  senderMac: parseMac(CLIENT),
  senderIp: parseIpv4('10.0.5.20'),
  targetMac: ZERO,
  targetIp: parseIpv4(target),
});
const requestFrame = (target = VIP) => encodeArp({ ...request(target), ethDst: BROADCAST_MAC, ethSrc: parseMac(CLIENT) });
const replyFrom = (mac: string) => arpReplyTo(request(), parseMac(mac));
const garpFrom = (mac: string) => gratuitousArp(parseMac(mac), parseIpv4(VIP));
const at = (ts: number, frame: Uint8Array) => ({ ts, frame });

describe('ARP exchange on the client link', () => {
  it('counts requests and the replies to them by sender MAC', () => {
    const frames = arpFrames([
      at(1.0, requestFrame()), at(1.001, replyFrom(NODE1)),
      at(1.2, requestFrame()), at(1.201, replyFrom(NODE1)),
      at(1.4, requestFrame()), at(1.401, replyFrom(NODE1)),
    ]);
    expect(arpExchange(frames, VIP, CLIENT)).toEqual({ requests: 3, replies: 3, repliesBy: { [NODE1]: 3 }, unanswered: 0, answeredMoreThanOnce: 0 });
  });

  it('shows two owners answering one request, and a request left unanswered', () => {
    const frames = arpFrames([
      at(1.0, requestFrame()), at(1.001, replyFrom(NODE1)), at(1.002, replyFrom(NODE2)),
      at(1.2, requestFrame()),
    ]);
    const x = arpExchange(frames, VIP, CLIENT);
    expect(x.repliesBy).toEqual({ [NODE1]: 1, [NODE2]: 1 });
    expect(x.answeredMoreThanOnce).toBe(1);
    expect(x.unanswered).toBe(1);
  });

  it('ignores other targets, announcements, non-ARP and truncated frames', () => {
    const ipv4Packet = new Uint8Array(60);
    ipv4Packet.set([0x08, 0x00], 12);
    const frames = arpFrames([
      at(1, requestFrame('10.0.5.1')),
      at(2, garpFrom(NODE2)),
      at(3, ipv4Packet),
      at(4, requestFrame().subarray(0, 30)),
      at(5, new Uint8Array(0)),
    ]);
    expect(frames).toHaveLength(2);
    expect(arpExchange(frames, VIP, CLIENT)).toMatchObject({ requests: 0, replies: 0 });
  });
});

describe('gratuitous ARP', () => {
  const frames = [at(1, replyFrom(NODE1)), at(1.5, garpFrom(NODE1)), at(3, requestFrame()), at(4.2, garpFrom(NODE2)), at(4.35, garpFrom(NODE2))];

  it('lists announcements of the VIP with their sender', () => {
    expect(announcementsOf(arpFrames(frames), VIP)).toEqual([{ ts: 1.5, mac: NODE1 }, { ts: 4.2, mac: NODE2 }, { ts: 4.35, mac: NODE2 }]);
    expect(announcementsOf(arpFrames(frames), '10.0.5.101')).toEqual([]);
  });

  it('finds the first takeover by another MAC after a time', () => {
    expect(firstTakeover(arpFrames(frames), VIP, 2, NODE1)).toEqual({ ts: 4.2, mac: NODE2 });
    expect(firstTakeover(arpFrames(frames), VIP, 1, NODE2)).toEqual({ ts: 1.5, mac: NODE1 });
    expect(firstTakeover(arpFrames(frames), VIP, 5, NODE1)).toBeNull();
  });
});

describe('L2 targets declared by a fixture', () => {
  const fixtureDir = fileURLToPath(new URL('../../fixtures/seed-003-rack-lb/', import.meta.url));
  const model = loadClusterFolder(join(fixtureDir, 'cluster'));
  const topology = loadFixture(fixtureDir).topology;

  it('seed-003: 10.0.5.100 on rack0 net0, asked from client2', () => {
    const targets = l2Targets(model, allocateCluster(model), topology);
    expect(targets).toHaveLength(1);
    const [t] = targets;
    expect(t).toMatchObject({ policy: 'l2-lb-policy-for-rack0', service: 'default/nginx-service-l2', vip: VIP, interfaces: ['^net0$'], client: { node: 'client2', ifname: 'net0', address: '10.0.5.20' } });
    expect(t!.candidates).toEqual([
      { node: 'rack0-node1', matching: ['net0'], notMatching: [] },
      { node: 'rack0-node2', matching: ['net0'], notMatching: [] },
    ]);
  });

  it('a policy without interface patterns matches every link; one selecting no node leaves nobody to ask', () => {
    const [policy] = model.l2Announcements;
    const anyInterface = { ...model, l2Announcements: [{ ...policy!, interfaces: [] }] };
    expect(l2Targets(anyInterface, allocateCluster(anyInterface), topology)[0]!.candidates.map((c) => c.matching)).toEqual([['net0'], ['net0']]);
    const noNode = { ...model, l2Announcements: [{ ...policy!, nodeSelector: { type: 'labels' as const, matchLabels: { rack: 'rack9' }, matchExpressions: [] } }] };
    expect(l2Targets(noNode, allocateCluster(noNode), topology)[0]).toMatchObject({ vip: VIP, candidates: [], client: null });
  });

  it('a cluster without an L2 policy has no targets', () => {
    const noL2 = { ...model, l2Announcements: [] };
    expect(l2Targets(noL2, allocateCluster(noL2), topology)).toEqual([]);
  });
});
