import { describe, expect, it } from 'vitest';
import { loadFixture } from '../lab/fixture/load.ts';
import { sameSubnet, speakerSessions } from './sessions.ts';

describe('speakerSessions', () => {
  it("seed-000: each node peers with the router's loopback id, multihop, leaving by its own link", () => {
    const { topology } = loadFixture('fixtures/seed-000-cilium-two-subnets');
    expect(speakerSessions(topology)).toEqual([
      { speakerNode: 'node1', speakerAddress: '10.0.1.10', speakerAsn: 65000, ifname: 'eth1', peerNode: 'router', peerAddress: '192.168.121.16', peerAsn: 65100, multihop: true },
      { speakerNode: 'node2', speakerAddress: '10.0.2.10', speakerAsn: 65000, ifname: 'eth1', peerNode: 'router', peerAddress: '192.168.121.16', peerAsn: 65100, multihop: true },
    ]);
  });

  it('seed-002: addresses given by containerlab exec lines count (server1 on net0)', () => {
    const { topology } = loadFixture('fixtures/seed-002-spine-leaf');
    const server1 = speakerSessions(topology).find((s) => s.speakerNode === 'server1')!;
    expect(server1).toMatchObject({ speakerAddress: '10.1.5.10', ifname: 'net0', peerNode: 'leaf0', peerAddress: '10.1.5.1', multihop: false });
  });

  it('sameSubnet', () => {
    expect(sameSubnet('10.0.1.10/24', '10.0.1.2')).toBe(true);
    expect(sameSubnet('10.0.1.10/24', '10.0.2.2')).toBe(false);
    expect(sameSubnet('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(sameSubnet('bogus', '10.0.0.1')).toBe(false);
  });
});
