import { describe, expect, it } from 'vitest';
import { loadFixture } from '../lab/fixture/load.ts';
import { carriesPrefix, sameSubnet, speakerSessions } from './sessions.ts';

describe('speakerSessions', () => {
  it("seed-000: each node peers with the router's loopback id, multihop, leaving by its own link", () => {
    const { topology } = loadFixture('fixtures/seed-000-cilium-two-subnets');
    expect(speakerSessions(topology)).toEqual([
      { speakerNode: 'node1', speakerAddress: '10.0.1.10', speakerAsn: 65000, ifname: 'eth1', peerNode: 'router', peerAddress: '192.168.121.16', peerAsn: 65100, multihop: true, families: ['ipv4-unicast'] },
      { speakerNode: 'node2', speakerAddress: '10.0.2.10', speakerAsn: 65000, ifname: 'eth1', peerNode: 'router', peerAddress: '192.168.121.16', peerAsn: 65100, multihop: true, families: ['ipv4-unicast'] },
    ]);
  });

  it('seed-002: addresses given by containerlab exec lines count (server1 on net0)', () => {
    const { topology } = loadFixture('fixtures/seed-002-spine-leaf');
    const server1 = speakerSessions(topology).find((s) => s.speakerNode === 'server1')!;
    expect(server1).toMatchObject({ speakerAddress: '10.1.5.10', ifname: 'net0', peerNode: 'leaf0', peerAddress: '10.1.5.1', multihop: false });
  });

  it("a multihop IPv6 neighbour is reached from the node's IPv6 address, not its first (IPv4) one", () => {
    const { topology } = loadFixture('fixtures/corpus-cilium-perfamily');
    const node1 = topology.nodes.find((n) => n.name === 'node1')!;
    node1.neighbors = [{ address: 'fd00:99::1', asn: 65099, multihop: 4 }];
    expect(speakerSessions(topology).find((s) => s.speakerNode === 'node1')).toMatchObject({ speakerAddress: 'fd00:1:1::11', ifname: 'eth1', multihop: true });
  });

  it('sameSubnet', () => {
    expect(sameSubnet('10.0.1.10/24', '10.0.1.2')).toBe(true);
    expect(sameSubnet('10.0.1.10/24', '10.0.2.2')).toBe(false);
    expect(sameSubnet('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(sameSubnet('bogus', '10.0.0.1')).toBe(false);
    expect(sameSubnet('fd00:1:1::11/64', 'fd00:1:1::1')).toBe(true);
    expect(sameSubnet('fd00:1:1::11/64', 'fd00:1:2::1')).toBe(false);
    expect(sameSubnet('fd00:255:11::/127', 'fd00:255:11::1')).toBe(true);
    expect(sameSubnet('10.0.1.10/24', 'fd00::1')).toBe(false);
    expect(sameSubnet('fd00::/64', '10.0.0.1')).toBe(false);
  });

  it('clab-cilium-dualstack: an IPv4 and an IPv6 session per node, each on the link, each with its family', () => {
    const { topology } = loadFixture('fixtures/clab-cilium-dualstack');
    const node1 = speakerSessions(topology).filter((s) => s.speakerNode === 'node1');
    expect(node1).toEqual([
      { speakerNode: 'node1', speakerAddress: '10.1.1.11', speakerAsn: 4200001000, ifname: 'eth1', peerNode: 'leaf1', peerAddress: '10.1.1.1', peerAsn: 4200000001, multihop: false, families: ['ipv4-unicast'] },
      { speakerNode: 'node1', speakerAddress: 'fd00:1:1::11', speakerAsn: 4200001000, ifname: 'eth1', peerNode: 'leaf1', peerAddress: 'fd00:1:1::1', peerAsn: 4200000001, multihop: false, families: ['ipv6-unicast'] },
    ]);
    expect(carriesPrefix(node1[0]!, '10.244.1.0/24')).toBe(true);
    expect(carriesPrefix(node1[0]!, 'fd00:244:1::/64')).toBe(false);
    expect(carriesPrefix(node1[1]!, 'fd00:244:1::/64')).toBe(true);
  });
});
