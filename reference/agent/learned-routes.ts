// Routes learned from peers, installed in the node's kernel where the flavour does so (Calico's
// BIRD exports its BGP table to the kernel: a borrowed /32 learned from the route reflector must
// beat the local blackhole of its block). The speaker has no change events, so the agent polls
// its Loc-RIB: best path plus the paths equal to it (ECMP), never a prefix whose best is ours.
import type { Step } from '../datapath/programmer.ts';
import { LOCAL_SOURCE } from '../bgp/rib.ts';
import type { Speaker } from '../bgp/speaker.ts';

/** prefix -> next hops (sorted), for every prefix whose best path was learned from a peer. */
export function learnedRoutes(speaker: Speaker): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [afi, rib] of speaker.ribs) {
    rib.forEachPrefix((key) => {
      const paths = rib.multipath(key);
      if (paths.length === 0 || rib.pathSource(paths[0]!) === LOCAL_SOURCE) return;
      const hops = new Set<string>();
      for (const path of paths) {
        if (rib.pathSource(path) === LOCAL_SOURCE) continue;
        const nextHop = speaker.store.get(rib.pathAttributes(path)).nextHop;
        if (nextHop) hops.add(nextHop);
      }
      if (hops.size > 0) out.set(speaker.prefixOf(afi, key), [...hops].sort());
    });
  }
  return out;
}

export function learnedRouteSteps(routes: Map<string, string[]>): Step[] {
  return [...routes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([prefix, hops]): Step => {
    const via = hops.length === 1 ? ['via', hops[0]!] : hops.flatMap((h) => ['nexthop', 'via', h]);
    return {
      kind: 'command',
      description: `learned ${prefix} via ${hops.join(',')}`,
      apply: ['ip', 'route', 'replace', prefix, ...via, 'proto', 'bgp'],
      remove: ['ip', 'route', 'del', prefix, 'proto', 'bgp'],
    };
  });
}
