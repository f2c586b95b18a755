import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab.ts';
import { emptyNode, type LabTopology } from '../model.ts';
import { eventually } from '../process-output.ts';
import { leftovers } from '../teardown.ts';

// Sessions over IPv6 transport with each daemon kind: FRR in the middle, BIRD on one IPv6 link
// (both offer extended next hop, so BIRD's IPv4 route reaches FRR with an IPv6 next hop, RFC 8950),
// GoBGP on another (IPv6 unicast both ways). Readiness (sessions and expectRoutes) must see them.

let runsRoot = '';

function topology(): LabTopology {
  const frr = emptyNode('frr1', 'frr');
  frr.asn = 65010;
  frr.routerId = '10.1.0.1';
  frr.interfaces = { eth1: ['fd00:a::1/64'], eth2: ['fd00:b::1/64'] };
  frr.neighbors = [
    { address: 'fd00:a::2', asn: 65020, families: ['ipv4-unicast', 'ipv6-unicast'], extendedNexthop: true },
    { address: 'fd00:b::3', asn: 65030, families: ['ipv6-unicast'] },
  ];
  frr.announce = ['2001:db8:1::/48'];
  frr.expectRoutes = ['198.51.100.0/24'];
  const bird = emptyNode('bird1', 'bird');
  bird.asn = 65020;
  bird.routerId = '10.1.0.2';
  bird.interfaces = { eth1: ['fd00:a::2/64'] };
  bird.neighbors = [{ address: 'fd00:a::1', asn: 65010, families: ['ipv4-unicast', 'ipv6-unicast'], extendedNexthop: true }];
  bird.announce = ['198.51.100.0/24', '2001:db8:2::/48'];
  const gobgp = emptyNode('gobgp1', 'gobgp');
  gobgp.asn = 65030;
  gobgp.routerId = '10.1.0.3';
  gobgp.interfaces = { eth1: ['fd00:b::3/64'] };
  gobgp.neighbors = [{ address: 'fd00:b::1', asn: 65010, families: ['ipv6-unicast'] }];
  gobgp.announce = ['2001:db8:3::/48'];
  return {
    name: 'ipv6-sessions',
    nodes: [frr, bird, gobgp],
    links: [
      { a: { node: 'frr1', ifname: 'eth1' }, b: { node: 'bird1', ifname: 'eth1' } },
      { a: { node: 'frr1', ifname: 'eth2' }, b: { node: 'gobgp1', ifname: 'eth1' } },
    ],
  };
}

describe('sessions over IPv6 transport with FRR, BIRD and GoBGP', () => {
  let lab: Lab;
  beforeAll(async () => {
    runsRoot = mkdtempSync(join(tmpdir(), 'pp-kinds6-'));
    chmodSync(runsRoot, 0o755); // FRR runs as user frr
    lab = await startLab(topology(), { runsRoot });
  });
  afterAll(async () => {
    await lab?.stop();
    if (runsRoot) rmSync(runsRoot, { recursive: true, force: true });
  });

  it('each kind reports its IPv6 neighbour Established with the peer ASN', async () => {
    const sessions = await lab.sessions();
    expect(sessions.map((s) => `${s.node}>${s.peer}:${s.peerAsn}:${s.state}`).sort()).toEqual([
      'bird1>fd00:a::1:65010:Established',
      'frr1>fd00:a::2:65020:Established',
      'frr1>fd00:b::3:65030:Established',
      'gobgp1>fd00:b::1:65010:Established',
    ]);
  });

  it("BIRD's IPv4 route reaches FRR with BIRD's IPv6 address as next hop (extended next hop), in the RIB and the kernel", async () => {
    const rib = await lab.node('frr1').rib();
    expect(rib.find((r) => r.prefix === '198.51.100.0/24')?.nexthops).toEqual(['fd00:a::2']);
    // The kernel route is `via inet6 ...`: BIRD sends its global and link-local address, zebra installs the link-local.
    // zebra may install the route via the global address first and move it to the link-local
    // once that resolves: wait for the move (readiness only waited for the route).
    const nexthops = await eventually(async () => {
      const route = (await lab.node('frr1').fib()).find((r) => r.prefix === '198.51.100.0/24');
      return route?.nexthops.every((n) => n.startsWith('fe80::')) ? route.nexthops : null;
    }, 'link-local next hop of 198.51.100.0/24 in frr1 FIB', 30_000).catch(async () => (await lab.node('frr1').fib()).find((r) => r.prefix === '198.51.100.0/24')?.nexthops);
    expect(nexthops).toEqual([expect.stringMatching(/^fe80::/)]);
  });

  it('IPv6 unicast crosses the IPv6 sessions both ways', async () => {
    const nexthopsAt = (node: string, prefix: string) => async () => (await lab.node(node).rib()).find((r) => r.prefix === prefix)?.nexthops ?? null;
    expect(await eventually(nexthopsAt('gobgp1', '2001:db8:1::/48'), 'FRR IPv6 route at GoBGP')).toEqual(['fd00:b::1']);
    expect(await eventually(nexthopsAt('bird1', '2001:db8:1::/48'), 'FRR IPv6 route at BIRD')).toEqual(['fd00:a::1']);
    expect(await eventually(nexthopsAt('frr1', '2001:db8:3::/48'), 'GoBGP IPv6 route at FRR')).toEqual(['fd00:b::3']);
    expect(await eventually(nexthopsAt('frr1', '2001:db8:2::/48'), 'BIRD IPv6 route at FRR')).toEqual(['fd00:a::2']);
  });

  it('stops to nothing', async () => {
    await lab.stop();
    expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});
