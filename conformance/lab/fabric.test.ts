import { describe, expect, it } from 'vitest';
import { fabricNodeCount, fabricTopology, LEAF_ASN_BASE, nodePrefix, NODE_ASN_BASE, SPINE_ASN } from './fabric.ts';
import { routerKindOf } from './model.ts';

const ip = (a: string) => a.split('/')[0]!;
const toInt = (a: string) => ip(a).split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe('fabricTopology', () => {
  const shape = { spines: 4, leaves: 32, nodesPerLeaf: 4 };
  const t = fabricTopology(shape);
  const byName = new Map(t.nodes.map((n) => [n.name, n]));

  it('has the counts of the shape: nodes, links, roles and daemon kinds', () => {
    expect(t.name).toBe('fabric-4x32x4');
    expect(t.nodes).toHaveLength(164);
    expect(fabricNodeCount(shape)).toBe(164);
    expect(t.links).toHaveLength(4 * 32 + 32 * 4);
    const roles = (r: string) => t.nodes.filter((n) => n.role === r);
    expect(roles('spine').map(routerKindOf)).toEqual(Array(4).fill('frr'));
    expect(roles('leaf').map(routerKindOf)).toEqual(Array(32).fill('frr'));
    expect(roles('k8s-node')).toHaveLength(128);
    expect(roles('k8s-node').every((n) => n.kind === 'speaker' && n.standIn === 'gobgp')).toBe(true);
    const sessions = t.nodes.reduce((sum, n) => sum + n.neighbors.length, 0);
    expect(sessions).toBe(2 * t.links.length); // both ends of every link peer
  });

  it('gives every interface one address, unique across the fabric, and both ends of a link one /31', () => {
    const all = t.nodes.flatMap((n) => Object.values(n.interfaces).flat());
    expect(new Set(all).size).toBe(all.length);
    expect(all.every((a) => a.endsWith('/31'))).toBe(true);
    for (const l of t.links) {
      const a = byName.get(l.a.node)!.interfaces[l.a.ifname]!;
      const b = byName.get(l.b.node)!.interfaces[l.b.ifname]!;
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      expect(toInt(a[0]!) >> 1).toBe(toInt(b[0]!) >> 1);
      expect(toInt(a[0]!)).not.toBe(toInt(b[0]!));
    }
    // every interface of a node is the end of exactly one link, and names fit Linux's 15 bytes
    for (const n of t.nodes) {
      const ends = t.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === n.name).map((e) => e.ifname).sort();
      expect(ends).toEqual(Object.keys(n.interfaces).sort());
    }
    const ids = t.nodes.map((n) => n.routerId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('peers eBGP on the link with 4-octet ASNs: one AS for the spines, one per leaf and per node', () => {
    const asns = t.nodes.map((n) => n.asn!);
    expect(asns.every((a) => a > 65535 && a <= 4_294_967_294)).toBe(true);
    expect(t.nodes.filter((n) => n.role === 'spine').every((n) => n.asn === SPINE_ASN)).toBe(true);
    const others = t.nodes.filter((n) => n.role !== 'spine').map((n) => n.asn);
    expect(new Set(others).size).toBe(others.length);
    expect(byName.get('leaf3')!.asn).toBe(LEAF_ASN_BASE + 3);
    expect(byName.get('node1-2')!.asn).toBe(NODE_ASN_BASE + 6);
    const owner = new Map(t.nodes.flatMap((n) => Object.values(n.interfaces).flat().map((a) => [ip(a), n] as const)));
    for (const n of t.nodes) {
      for (const nb of n.neighbors) {
        const peer = owner.get(nb.address)!;
        expect(peer, `${n.name} -> ${nb.address}`).toBeDefined();
        expect(nb.asn).toBe(peer.asn);
        expect(peer.asn).not.toBe(n.asn); // eBGP everywhere
        expect(peer.neighbors.some((back) => owner.get(back.address) === n)).toBe(true);
      }
    }
  });

  it('gives each node one /24 of its own, expected in every spine FIB', () => {
    const nodes = t.nodes.filter((n) => n.role === 'k8s-node');
    const prefixes = nodes.flatMap((n) => n.announce);
    expect(prefixes).toHaveLength(128);
    expect(new Set(prefixes).size).toBe(128);
    expect(prefixes.every((p) => /^10\.\d+\.\d+\.0\/24$/.test(p))).toBe(true);
    for (const s of t.nodes.filter((n) => n.role === 'spine')) expect(s.expectRoutes).toEqual(prefixes);
    for (const l of t.nodes.filter((n) => n.role === 'leaf')) expect(l.expectRoutes).toEqual([]);
    expect(fabricTopology({ ...shape, leafFib: true }).nodes.find((n) => n.role === 'leaf')!.expectRoutes).toHaveLength(128);
    expect(nodePrefix(0)).toBe('10.128.0.0/24');
    expect(nodePrefix(257)).toBe('10.129.1.0/24');
  });

  it('takes a daemon kind per role and stays unique at 500 nodes', () => {
    const big = fabricTopology({ spines: 4, leaves: 62, nodesPerLeaf: 7, spineKind: 'bird', leafKind: 'frr', nodeKind: 'bird' });
    expect(big.nodes).toHaveLength(500);
    expect(big.nodes.filter((n) => n.role === 'spine').every((n) => n.kind === 'bird')).toBe(true);
    expect(big.nodes.filter((n) => n.role === 'k8s-node').every((n) => n.standIn === 'bird')).toBe(true);
    const all = big.nodes.flatMap((n) => Object.values(n.interfaces).flat());
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(big.nodes.flatMap((n) => n.announce)).size).toBe(434);
  });

  it('refuses shapes it cannot address', () => {
    expect(() => fabricTopology({ spines: 0, leaves: 2, nodesPerLeaf: 1 })).toThrow(/spines/);
    expect(() => fabricTopology({ spines: 2, leaves: 2, nodesPerLeaf: 1.5 })).toThrow(/nodesPerLeaf/);
    expect(() => fabricTopology({ spines: 65, leaves: 2, nodesPerLeaf: 1 })).toThrow(/address plan/);
  });
});
