// The way a packet would take through the lab as the kernels' FIBs stand now: from a node, the
// longest route matching the destination, then the node owning each of its gateways, until the
// route is on-link on the expected last hop. Every next hop of a multipath route is followed, so
// the way is ready only when every branch is. Traffic sent before then is lost to a FIB that
// still converges (a BGP RIB can hold a route the kernel does not yet have).
import { isIP } from 'node:net';
import { nodeOwning } from '../checks/sessions.ts';
import { parseIpRoutes, type RouteEntry } from '../lab/kinds/kind.ts';
import type { Lab } from '../lab/lab.ts';

export interface KernelPath {
  /** "node via gateway" / "node dev ifname" steps seen, in walk order. */
  hops: string[];
  /** Why the way is not complete; empty when every branch reaches the last hop. */
  problems: string[];
  /**
   * A problem no FIB convergence can fix: the destination's own host route (/32, /128), on-link on
   * another device than the last hop's (a pod or an address on that node). No route is more
   * specific, and routing daemons install routes via gateways, so waiting for one is pointless.
   */
  settled: boolean;
}

/** The most specific route the node's kernel holds for `destination`, or null. */
export type RouteLookup = (node: string, destination: string) => Promise<RouteEntry | null>;

const MAX_HOPS = 16;

export async function walkKernelPath(
  lookup: RouteLookup,
  ownerOf: (address: string) => string | undefined,
  from: string,
  destination: string,
  last: { node: string; ifname: string },
): Promise<KernelPath> {
  const hops: string[] = [];
  const problems: string[] = [];
  let settled = false;
  // Branches of a multipath route may meet again (two spines, one leaf): a node is walked once.
  const walked = new Set<string>();
  const walk = async (node: string, before: string[]): Promise<void> => {
    if (before.includes(node)) {
      problems.push(`routing loop towards ${destination}: ${[...before, node].join(' > ')}`);
      return;
    }
    if (walked.has(node)) return;
    walked.add(node);
    if (before.length >= MAX_HOPS) {
      problems.push(`more than ${MAX_HOPS} hops towards ${destination}: ${before.join(' > ')}`);
      return;
    }
    const route = await lookup(node, destination);
    if (!route || route.nexthops.length === 0) {
      problems.push(`${node} has no kernel route to ${destination}`);
      return;
    }
    for (const hop of route.nexthops) {
      if (isIP(hop)) {
        hops.push(`${node} via ${hop}`);
        const owner = ownerOf(hop);
        if (owner) await walk(owner, [...before, node]);
        else problems.push(`${node} routes ${destination} (${route.prefix}) via ${hop}, an address no lab node holds`);
      } else if (node === last.node && hop === last.ifname) {
        hops.push(`${node} dev ${hop}`);
      } else {
        const unreachable = ['blackhole', 'unreachable', 'prohibit'].includes(hop);
        const how = unreachable ? `as ${hop}` : `on-link on ${hop}`;
        if (!unreachable && route.prefix === `${destination}/${isIP(destination) === 6 ? 128 : 32}`) settled = true;
        problems.push(`${node} routes ${destination} (${route.prefix}) ${how}, expected it on ${last.node}:${last.ifname}`);
      }
    }
  };
  await walk(from, []);
  return { hops, problems, settled };
}

/** `ip -4 route show match ADDRESS` in the node, most specific first. */
export function kernelRouteLookup(lab: Lab): RouteLookup {
  return async (node, destination) => {
    const r = await lab.node(node).exec(['ip', '-4', '-j', 'route', 'show', 'table', 'main', 'match', destination]);
    if (r.code !== 0) throw new Error(`ip route show match ${destination} on ${node} failed: ${r.stderr.trim()}`);
    const routes = parseIpRoutes(r.stdout);
    return routes.sort((a, b) => prefixLength(b.prefix) - prefixLength(a.prefix))[0] ?? null;
  };
}

function prefixLength(prefix: string): number {
  return Number(prefix.split('/')[1] ?? 32);
}

/** The kernel path from `from` to `destination` in a running lab. */
export function kernelPath(lab: Lab, from: string, destination: string, last: { node: string; ifname: string }): Promise<KernelPath> {
  return walkKernelPath(kernelRouteLookup(lab), (address) => nodeOwning(lab.topology, address)?.name, from, destination, last);
}
