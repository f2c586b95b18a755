import { describe, expect, it } from 'vitest';
import { loadFixture } from '../fixture/load.ts';
import { externalHost, withExternalDevice } from './external.ts';
import { UnsupportedCombination } from './under-test.ts';

const seed000 = () => loadFixture('fixtures/seed-000-cilium-two-subnets').topology;

describe('an external device in place of a speaker node', () => {
  it('keeps the speaker node owning the address and drops the others with their links, sessions, captures and routes', () => {
    const { topology, node } = withExternalDevice(seed000(), '10.0.1.10');
    expect(node).toBe('node1');
    expect(topology.nodes.map((n) => n.name)).toEqual(['router', 'node1', 'client']);
    expect(topology.links.map((l) => `${l.a.node}:${l.a.ifname}-${l.b.node}:${l.b.ifname}`)).toEqual(['router:eth1-node1:eth1', 'router:eth3-client:eth1']);
    const router = topology.nodes.find((n) => n.name === 'router')!;
    expect(Object.keys(router.interfaces)).toEqual(['eth1', 'eth3']);
    expect(router.capture).toEqual(['eth1']);
    expect(router.neighbors.map((n) => n.address)).toEqual(['10.0.1.10']);
    // node2's PodCIDR goes; the VIP both nodes announce stays expected.
    expect(router.expectRoutes).toEqual(['172.31.254.0/26', '192.0.2.0/32']);
    // The device's node keeps its addresses: the cases know the speaker's side of each session from them.
    expect(topology.nodes.find((n) => n.name === 'node1')!.interfaces).toEqual({ eth1: ['10.0.1.10/24'] });
  });

  it('an address no speaker node has is an unsupported combination that lists the choices', () => {
    expect(() => withExternalDevice(seed000(), '10.0.1.2')).toThrow(UnsupportedCombination);
    expect(() => withExternalDevice(seed000(), '10.9.9.9:179')).toThrow(/no speaker node of fixture seed-000-cilium-two-subnets has address 10.9.9.9; configure the device as one of: node1 \(10.0.1.10\); node2 \(10.0.2.10\)/);
  });

  it('reads the host out of ADDRESS[:PORT] and [V6]:PORT', () => {
    expect(externalHost('10.0.1.10:1179')).toBe('10.0.1.10');
    expect(externalHost('[2001:db8::1]:179')).toBe('2001:db8::1');
    expect(externalHost('10.0.1.10')).toBe('10.0.1.10');
  });
});
