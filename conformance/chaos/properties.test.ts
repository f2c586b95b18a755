import { describe, expect, it } from 'vitest';
import type { RouteEntry } from '../lab/kinds/index.ts';
import { labLink, labNode, type LabTopology } from '../lab/model.ts';
import { deadNextHops, fabricRouters, otherEnd } from './faults.ts';
import { duplicates, missing, pathCounts, pathsViaDead, type Expectation, type LabState } from './properties.ts';

// r1 -- r2 directly; r2 -- bridge br -- s1, s2 (speakers)
const topology: LabTopology = {
  name: 't',
  nodes: [
    labNode('r1', 'frr', { interfaces: { eth1: ['10.0.12.1/24'] }, loopback: ['1.1.1.1/32'] }),
    labNode('r2', 'frr', { interfaces: { eth1: ['10.0.12.2/24'], eth2: ['10.0.5.1/24'] } }),
    labNode('br', 'bridge'),
    labNode('s1', 'speaker', { interfaces: { net0: ['10.0.5.10/24'] } }),
    labNode('s2', 'speaker', { interfaces: { net0: ['10.0.5.11/24'] } }),
  ],
  links: [labLink('r1', 'eth1', 'r2', 'eth1'), labLink('r2', 'eth2', 'br', 'p0'), labLink('s1', 'net0', 'br', 'p1'), labLink('s2', 'net0', 'br', 'p2')],
};
const set = (s: Set<string>) => [...s].sort();

describe('dead next hops of a fault', () => {
  it('a router-router link down kills both ends\' addresses on it, for every observer', () => {
    const f = { id: 0, kind: 'link-down' as const, node: 'r1', ifname: 'eth1', holdS: 7 };
    expect(set(deadNextHops(topology, f, 'r2'))).toEqual(['10.0.12.1', '10.0.12.2']);
    expect(set(deadNextHops(topology, f, 'r1'))).toEqual(['10.0.12.1', '10.0.12.2']);
  });

  it('a link to a bridge: others lose the node\'s address there, the node loses the bridge\'s other members', () => {
    const f = { id: 0, kind: 'link-down' as const, node: 'r2', ifname: 'eth2', holdS: 7 };
    expect(set(deadNextHops(topology, f, 'r1'))).toEqual(['10.0.5.1']);
    expect(set(deadNextHops(topology, f, 'r2'))).toEqual(['10.0.5.10', '10.0.5.11']);
  });

  it('a killed or stopped router kills all its addresses (loopback too) for the others; loss kills nothing', () => {
    expect(set(deadNextHops(topology, { id: 0, kind: 'daemon-kill', node: 'r1', holdS: 7 }, 'r2'))).toEqual(['1.1.1.1', '10.0.12.1']);
    expect(deadNextHops(topology, { id: 0, kind: 'daemon-stop', node: 'r1', holdS: 7 }, 'r1').size).toBe(0);
    expect(deadNextHops(topology, { id: 0, kind: 'loss', node: 'r1', ifname: 'eth1', percent: 50, holdS: 7 }, 'r2').size).toBe(0);
  });

  it('topology helpers: the other end of a link, the fabric routers', () => {
    expect(otherEnd(topology, 's1', 'net0')).toEqual({ node: 'br', ifname: 'p1' });
    expect(otherEnd(topology, 's1', 'eth9')).toBeNull();
    expect(fabricRouters(topology)).toEqual(['r1', 'r2']);
  });
});

const rib = (entries: Record<string, Array<[string, string[]]>>) =>
  new Map(Object.entries(entries).map(([node, routes]) => [node, routes.map(([prefix, nexthops]): RouteEntry => ({ prefix, nexthops, table: 'rib' }))]));

describe('property helpers', () => {
  it('pathsViaDead lists each path through a next hop dead for its router', () => {
    const r = rib({ r1: [['10.98.0.0/24', ['10.0.12.2', '10.0.13.2']]], r2: [['10.98.1.0/24', ['10.0.12.2']]] });
    expect(pathsViaDead(r, (o) => new Set(o === 'r1' ? ['10.0.12.2'] : []))).toEqual(['r1 10.98.0.0/24 via 10.0.12.2']);
  });

  it('duplicates: a path held more often than in the baseline (ADD-PATH copies in the baseline are fine)', () => {
    const baseline = pathCounts(rib({ r1: [['10.0.0.1/32', ['10.0.1.10', '10.0.1.10']], ['10.98.0.0/24', ['10.0.12.2']]] }));
    expect(duplicates(baseline, baseline)).toEqual([]);
    const now = pathCounts(rib({ r1: [['10.0.0.1/32', ['10.0.1.10', '10.0.1.10']], ['10.98.0.0/24', ['10.0.12.2', '10.0.12.2']]] }));
    expect(duplicates(now, baseline)).toEqual(['r1 10.98.0.0/24 via 10.0.12.2 x2 (baseline 1)']);
  });

  it('missing: sessions not Established and routes absent or without a next hop, by key', () => {
    const wanted: Expectation[] = [
      { key: 's', node: 'r1', kind: 'session', peer: '10.0.12.2' },
      { key: 'a', node: 'r1', kind: 'route', prefix: '10.98.0.0/24', table: 'fib' },
      { key: 'b', node: 'r1', kind: 'route', prefix: '10.98.1.0/24', table: 'rib' },
    ];
    const state: LabState = {
      sessions: new Map([['r1', [{ peer: '10.0.12.2', state: 'Active' }]]]),
      rib: rib({ r1: [['10.98.1.0/24', []]] }),
      fib: new Map([['r1', [{ prefix: '10.98.0.0/24', nexthops: ['10.0.12.2'], table: 'fib' }]]]),
    };
    expect(missing(state, wanted)).toEqual(['s', 'b']);
    state.sessions.set('r1', [{ peer: '10.0.12.2', state: 'Established' }]);
    expect(missing(state, wanted)).toEqual(['b']);
  });
});

describe('third-party next hops', () => {
  it('pathsViaDead leaves out prefixes another live speaker announces via the restarted node', () => {
    const r = rib({ peer1: [['10.0.0.1/32', ['10.0.1.20', '10.0.2.20']], ['10.0.0.8/32', ['10.0.1.20']]] });
    expect(pathsViaDead(r, () => new Set(['10.0.1.20']), new Set(['10.0.0.1/32']))).toEqual(['peer1 10.0.0.8/32 via 10.0.1.20']);
  });
});
