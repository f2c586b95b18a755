import { describe, expect, it } from 'vitest';
import { labLink, labNode, type LabTopology } from '../lab/model.ts';
import { blackholeVerdict, flowCut, longestOutage, type ProbeFlow } from './blackhole.ts';
import type { Fault } from './schedule.ts';

describe('longest outage in a window', () => {
  const every = (from: number, to: number, step = 0.2) => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

  it('a healthy flow shows one probe interval', () => {
    expect(longestOutage(every(0, 20), 5, 15).seconds).toBe(0.2);
  });

  it('a hole inside the window: from the last reply before it to the first after it', () => {
    const replies = [...every(0, 6), ...every(13.4, 20)];
    const o = longestOutage(replies, 5, 15);
    expect(o.seconds).toBe(7.4);
    expect(o.at).toBeCloseTo(6);
    expect(o.since).toBeCloseTo(6);
  });

  it('is clipped to the window: a hole that began before it counts from its start, one still open until its end', () => {
    expect(longestOutage([...every(0, 2), ...every(9, 20)], 5, 15)).toEqual({ seconds: 4, at: 5, since: 2 });
    const open = longestOutage(every(0, 11), 5, 15);
    expect(open.seconds).toBe(4);
    expect(open.at).toBeCloseTo(11);
    expect(longestOutage([], 5, 15)).toEqual({ seconds: 10, at: 5, since: -Infinity });
  });
});

// r1 and r2 both reach the bridge br; s1 (on br), s2 (on br and, through its own link, r1), s3 only on r2.
const topology: LabTopology = {
  name: 't',
  nodes: [
    labNode('r1', 'frr', { interfaces: { eth1: ['10.0.1.1/24'], eth2: ['10.0.9.1/24'] } }),
    labNode('r2', 'frr', { interfaces: { eth1: ['10.0.1.2/24'], eth2: ['10.0.3.1/24'] } }),
    labNode('br', 'bridge'),
    labNode('s1', 'speaker', { interfaces: { net0: ['10.0.1.10/24'] } }),
    labNode('s2', 'speaker', { interfaces: { net0: ['10.0.1.11/24'], net1: ['10.0.9.11/24'] } }),
    labNode('s3', 'speaker', { interfaces: { net0: ['10.0.3.10/24'] } }),
  ],
  links: [
    labLink('r1', 'eth1', 'br', 'p1'),
    labLink('r2', 'eth1', 'br', 'p2'),
    labLink('s1', 'net0', 'br', 'p3'),
    labLink('s2', 'net0', 'br', 'p4'),
    labLink('s2', 'net1', 'r1', 'eth2'),
    labLink('s3', 'net0', 'r2', 'eth2'),
  ],
};
const linkDown = (node: string, ifname: string): Fault => ({ id: 0, kind: 'link-down', node, ifname, holdS: 10 });
const toS3: ProbeFlow = { id: 'r1 -> s3', source: 'r1', target: '10.9.3.1', receivers: ['s3'] };
const toVip: ProbeFlow = { id: 'r1 -> vip', source: 'r1', target: '10.0.0.1', receivers: ['s1', 's3'] };

describe('a fault that cuts a flow off', () => {
  it('the only link of the only receiver down cuts it; a receiver that still has a way does not', () => {
    expect(flowCut(topology, toS3, linkDown('s3', 'net0'))).toBe(true);
    expect(flowCut(topology, toS3, linkDown('r2', 'eth2'))).toBe(true);
    expect(flowCut(topology, toVip, linkDown('s3', 'net0'))).toBe(false);
    expect(flowCut(topology, { ...toS3, receivers: ['s2'] }, linkDown('s2', 'net0'))).toBe(false);
  });

  it('a killed or stopped router carries nothing, nor does a restarted speaker answer; the source\'s own fault cuts all its flows', () => {
    expect(flowCut(topology, toS3, { id: 0, kind: 'daemon-kill', node: 'r2', holdS: 10 })).toBe(true);
    expect(flowCut(topology, toVip, { id: 0, kind: 'daemon-stop', node: 'r2', holdS: 10 })).toBe(false);
    expect(flowCut(topology, toS3, { id: 0, kind: 'speaker-restart', node: 's3', graceful: false, holdS: 10 })).toBe(true);
    expect(flowCut(topology, toVip, { id: 0, kind: 'speaker-restart', node: 's3', graceful: false, holdS: 10 })).toBe(false);
    expect(flowCut(topology, toVip, { id: 0, kind: 'daemon-stop', node: 'r1', holdS: 10 })).toBe(true);
  });

  it('the link of the source address down cuts the flow (replies have nowhere to go), another link of the source does not', () => {
    const fromBridge = { ...toVip, sourceIfname: 'eth1' };
    expect(flowCut(topology, fromBridge, linkDown('r1', 'eth1'))).toBe(true);
    expect(flowCut(topology, fromBridge, linkDown('s2', 'net1'))).toBe(false);
    expect(flowCut(topology, { ...toVip, sourceIfname: 'eth2' }, linkDown('s2', 'net1'))).toBe(true);
  });

  it('a way between two speakers on one bridge goes through a router, not straight across it', () => {
    const podToPod: ProbeFlow = { id: 'pod s1 -> pod s2', source: 's1', target: '10.9.2.200', receivers: ['s2'] };
    expect(flowCut(topology, podToPod, linkDown('r2', 'eth1'))).toBe(false); // r1 still on the bridge
    expect(flowCut(topology, podToPod, linkDown('s2', 'net0'))).toBe(false); // br, r1, then s2's own link to r1
    // without r2 on the bridge, r1's link to it down leaves s1 and s2 on the bridge with no router
    const noR2: LabTopology = { ...topology, links: topology.links.filter((l) => !(l.a.node === 'r2' && l.a.ifname === 'eth1')) };
    expect(flowCut(noR2, podToPod, linkDown('r1', 'eth1'))).toBe(true);
    expect(flowCut(noR2, { ...podToPod, source: 's2', receivers: ['s1'] }, linkDown('r1', 'eth1'))).toBe(true);
  });

  it('a host carries nothing through: a second link to a receiver over a host is no way', () => {
    const withHost: LabTopology = {
      ...topology,
      nodes: [...topology.nodes, labNode('h', 'host', { interfaces: { eth0: ['10.0.9.20/24'], eth1: ['10.0.4.1/24'] } })],
      links: [...topology.links, labLink('h', 'eth0', 'r1', 'eth3'), labLink('h', 'eth1', 's3', 'net1')],
    };
    expect(flowCut(withHost, toS3, linkDown('r2', 'eth2'))).toBe(true);
    expect(flowCut(withHost, { ...toS3, receivers: ['h'] }, linkDown('r2', 'eth2'))).toBe(false);
  });

  it('speaker nodes are ends, not transit; loss cuts nothing', () => {
    // s2 links br and r1, but a flow to s1 does not go through s2 when r1's bridge link is down
    expect(flowCut(topology, { ...toS3, receivers: ['s1'] }, linkDown('r1', 'eth1'))).toBe(true);
    expect(flowCut(topology, toS3, { id: 0, kind: 'loss', node: 's3', ifname: 'net0', percent: 90, holdS: 10 })).toBe(false);
  });
});

describe('no-blackhole verdict of a fault', () => {
  const healthy = Array.from({ length: 101 }, (_, i) => 1000 + i * 0.2);
  const holed = healthy.filter((_, i) => i < 20 || i > 66); // none from 1004 to 1013.2
  const window = { from: 1002, to: 1019 };

  it('holds when every judged flow answered within the bound, naming the cut ones it did not judge', () => {
    const v = blackholeVerdict(topology, [toS3, toVip], (f) => (f === toS3 ? [] : healthy), linkDown('s3', 'net0'), window, 8);
    expect(v).toMatchObject({ property: 'no-blackhole', faultId: 0, held: true, seconds: 0.2 });
    expect(v.detail).toBe('longest time without a reply 0.2s over 1 flows (bound 8s); 1 cut off by the fault, not judged (r1 -> s3)');
  });

  it('is violated by a flow without replies past the bound, saying which, how long and from when', () => {
    const v = blackholeVerdict(topology, [toS3, toVip], (f) => (f === toVip ? holed : healthy), linkDown('s1', 'net0'), window, 8);
    expect(v).toMatchObject({ held: false, seconds: 9.6 });
    expect(v.detail).toBe('black-holed past 8s: r1 -> vip 9.6s from +1.8s');
  });

  it('says when a flow was black-holed already before the fault began (a black hole an earlier fault left)', () => {
    const stuck = healthy.filter((t) => t < 1001);
    const v = blackholeVerdict(topology, [toVip], () => stuck, linkDown('s1', 'net0'), window, 8);
    expect(v.detail).toBe('black-holed past 8s: r1 -> vip 17s no reply since 1.2s before the fault');
  });
});
