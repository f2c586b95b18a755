import { describe, expect, it } from 'vitest';
import type { RouteEntry } from '../lab/kinds/kind.ts';
import { walkKernelPath, type RouteLookup } from './kernel-path.ts';

const route = (prefix: string, ...nexthops: string[]): RouteEntry => ({ prefix, nexthops, table: 'fib' });

/** node -> the route its kernel would pick for the one destination of a test. */
function tables(byNode: Record<string, RouteEntry | null>): RouteLookup {
  return async (node) => byNode[node] ?? null;
}

const owners: Record<string, string> = { '10.0.1.2': 'router', '10.0.2.10': 'node2', '10.0.3.10': 'node3', '10.0.2.2': 'router' };
const ownerOf = (address: string) => owners[address];
const last = { node: 'node2', ifname: 'pp1' };

describe('walkKernelPath', () => {
  it('follows gateways to the on-link route of the last hop', async () => {
    const path = await walkKernelPath(
      tables({ node1: route('0.0.0.0/0', '10.0.1.2'), router: route('172.31.254.64/26', '10.0.2.10'), node2: route('172.31.254.74/32', 'pp1') }),
      ownerOf,
      'node1',
      '172.31.254.74',
      last,
    );
    expect(path).toEqual({ hops: ['node1 via 10.0.1.2', 'router via 10.0.2.10', 'node2 dev pp1'], problems: [], settled: false });
  });

  it('names the hop whose kernel has no route yet (the RIB may already hold it)', async () => {
    const path = await walkKernelPath(tables({ node1: route('0.0.0.0/0', '10.0.1.2'), router: null }), ownerOf, 'node1', '172.31.254.74', last);
    expect(path.problems).toEqual(['router has no kernel route to 172.31.254.74']);
    expect(path.settled).toBe(false);
  });

  it('is incomplete while any branch of a multipath route is', async () => {
    const path = await walkKernelPath(
      tables({ node1: route('0.0.0.0/0', '10.0.2.10', '10.0.3.10'), node2: route('172.31.254.74/32', 'pp1'), node3: route('0.0.0.0/0', 'blackhole') }),
      ownerOf,
      'node1',
      '172.31.254.74',
      last,
    );
    expect(path.hops).toContain('node2 dev pp1');
    expect(path.problems).toEqual(['node3 routes 172.31.254.74 (0.0.0.0/0) as blackhole, expected it on node2:pp1']);
  });

  it('refuses a gateway outside the lab and an on-link route on the wrong node or link', async () => {
    const outside = await walkKernelPath(tables({ node1: route('0.0.0.0/0', '192.0.2.1') }), ownerOf, 'node1', '172.31.254.74', last);
    expect(outside.problems).toEqual(['node1 routes 172.31.254.74 (0.0.0.0/0) via 192.0.2.1, an address no lab node holds']);
    const wrongLink = await walkKernelPath(tables({ node2: route('172.31.254.64/26', 'eth1') }), ownerOf, 'node2', '172.31.254.74', last);
    expect(wrongLink.problems).toEqual(['node2 routes 172.31.254.74 (172.31.254.64/26) on-link on eth1, expected it on node2:pp1']);
    // A more specific route (a BGP /32 via a gateway) may still come.
    expect(wrongLink.settled).toBe(false);
  });

  it("is settled when the destination's own host route is on-link on another device: nothing can be more specific", async () => {
    // Two pods with one address: node1's own pod answers for it, whatever BGP installs.
    const local = await walkKernelPath(tables({ node1: route('172.31.254.74/32', 'pp9') }), ownerOf, 'node1', '172.31.254.74', last);
    expect(local.problems).toEqual(['node1 routes 172.31.254.74 (172.31.254.74/32) on-link on pp9, expected it on node2:pp1']);
    expect(local.settled).toBe(true);
    const blackhole = await walkKernelPath(tables({ node1: route('172.31.254.74/32', 'blackhole') }), ownerOf, 'node1', '172.31.254.74', last);
    expect(blackhole.settled).toBe(false);
    const v6 = await walkKernelPath(tables({ node1: route('fd00::74/128', 'pp9') }), ownerOf, 'node1', 'fd00::74', last);
    expect(v6.settled).toBe(true);
  });

  it('stops on a routing loop', async () => {
    const path = await walkKernelPath(
      tables({ node1: route('0.0.0.0/0', '10.0.1.2'), router: route('0.0.0.0/0', '10.0.1.2') }),
      ownerOf,
      'node1',
      '172.31.254.74',
      last,
    );
    expect(path.problems).toEqual(['routing loop towards 172.31.254.74: node1 > router > router']);
  });

  it('walks a node two branches meet on once', async () => {
    const lookup: RouteLookup = async (node) =>
      ({ node1: route('0.0.0.0/0', '10.0.1.2', '10.0.3.10'), router: route('172.31.254.64/26', '10.0.2.10'), node3: route('172.31.254.64/26', '10.0.2.10'), node2: route('172.31.254.74/32', 'pp1') })[node] ?? null;
    const path = await walkKernelPath(lookup, ownerOf, 'node1', '172.31.254.74', last);
    expect(path.problems).toEqual([]);
    expect(path.hops.filter((h) => h === 'node2 dev pp1')).toHaveLength(1);
  });
});
