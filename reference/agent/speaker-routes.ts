// Drives an in-process Speaker towards a desired state: builds its configuration from the
// node's BGP instance, and announces / withdraws the routes that changed. Each peer gets an
// export policy accepting exactly the prefixes meant for it (so nothing learned from one peer
// is passed to another, as a Kubernetes node's speaker does not transit); the policy terms are
// updated in place before the routes they concern change, so no session restarts for a route.
import { readConfig, type SpeakerConfig } from '../bgp/config.ts';
import { parsePrefixListEntry, type Policy } from '../bgp/policy.ts';
import { parsePrefix } from '../bgp/prefix.ts';
import type { Speaker } from '../bgp/speaker.ts';
import type { DesiredRoute, DesiredState } from './desired.ts';

export function exportPolicyName(peer: string): string {
  return `agent-export-${peer}`;
}

/** The speaker configuration for a node's BGP instance (routes are announced separately). */
export function speakerConfigFor(bgp: NonNullable<DesiredState['bgp']>, file: string): SpeakerConfig {
  const policies: Record<string, unknown> = {};
  for (const peer of bgp.peers) policies[exportPolicyName(peer.name)] = { default: 'reject', terms: [] };
  // The speaker advertises one restart time in its GR capability (RFC 4724 3) for every session:
  // the longest any peer config asks for; peers without gracefulRestart get no capability.
  const grTimes = bgp.peers.flatMap((p) => (p.gracefulRestart ? [p.gracefulRestart.restartTime] : []));
  return readConfig(
    {
      routerId: bgp.routerId,
      localAs: bgp.localAsn,
      ...(bgp.listenPort !== undefined && bgp.listenPort > 0 ? { listen: { address: '0.0.0.0', port: bgp.listenPort } } : {}),
      multipath: { relax: true },
      ...(grTimes.length > 0 ? { gracefulRestart: { enabled: true, restartTime: Math.max(...grTimes) } } : {}),
      policies,
      peers: bgp.peers.map((p) => ({
        name: p.name,
        address: p.address,
        asn: p.asn,
        port: p.port,
        ...(p.localAddress ? { localAddress: p.localAddress } : {}),
        families: p.families,
        // An IPv6 session carrying IPv4 unicast has no IPv4 next hop to give (an IPv6-only
        // node): RFC 8950 extended next hop is offered, and used when the peer offers it too.
        ...(p.address.includes(':') && p.families.includes('ipv4-unicast') ? { extendedNextHop: true } : {}),
        ...(p.addPath ? { addPath: p.addPath } : {}),
        holdTime: p.holdTime,
        connectRetry: p.connectRetry,
        ...(p.multihopTtl !== undefined ? { multihop: p.multihopTtl } : {}),
        gracefulRestart: p.gracefulRestart !== undefined,
        export: exportPolicyName(p.name),
      })),
    },
    file,
  );
}

function routeKey(route: Pick<DesiredRoute, 'prefix' | 'pathId'>): string {
  return `${route.prefix}#${route.pathId}`;
}

/** Applies route changes to one running speaker; `current` is what it was last given. */
export class SpeakerRoutes {
  private current = new Map<string, DesiredRoute>();

  constructor(private readonly speaker: Speaker) {}

  get announced(): DesiredRoute[] {
    return [...this.current.values()];
  }

  sync(routes: DesiredRoute[]): void {
    const wanted = new Map(routes.map((r) => [routeKey(r), r]));
    this.updatePolicies(routes);
    for (const [key, route] of this.current) {
      const next = wanted.get(key);
      // A route whose peers changed is withdrawn and announced again, so export policy is re-run.
      if (!next || JSON.stringify(next.peers) !== JSON.stringify(route.peers)) this.withdraw(route);
    }
    for (const [key, route] of wanted) {
      const previous = this.current.get(key);
      if (previous && JSON.stringify(previous) === JSON.stringify(route)) continue;
      this.announce(route);
    }
    this.current = wanted;
  }

  /** Prefix terms per peer. Withdrawals need no term: they follow from the RIB, not the policy. */
  private updatePolicies(routes: DesiredRoute[]): void {
    for (const peer of this.speaker.peers) {
      const policy: Policy | undefined = this.speaker.config.policies.get(exportPolicyName(peer.config.name));
      if (!policy) continue;
      const prefixes = new Set<string>();
      for (const r of routes) if (r.peers.includes(peer.config.name)) prefixes.add(r.prefix);
      const entries = [...prefixes].sort().map((p) => parsePrefixListEntry(p)).filter((e) => typeof e !== 'string');
      policy.terms.splice(0, policy.terms.length, ...(entries.length > 0 ? [{ action: 'accept' as const, match: { prefixes: entries } }] : []));
    }
  }

  private announce(route: DesiredRoute): void {
    const parsed = parsePrefix(route.prefix);
    if (typeof parsed === 'string') throw new Error(`route ${route.prefix}: ${parsed}`);
    this.speaker.announce(
      {
        prefix: parsed.prefix,
        afi: parsed.afi,
        origin: 'igp',
        ...(route.nextHop ? { nextHop: route.nextHop } : {}),
        ...(route.localPref !== undefined ? { localPref: route.localPref } : {}),
        ...(route.communities.length > 0 ? { communities: route.communities } : {}),
        ...(route.largeCommunities.length > 0 ? { largeCommunities: route.largeCommunities } : {}),
      },
      route.pathId,
    );
  }

  private withdraw(route: DesiredRoute): void {
    const parsed = parsePrefix(route.prefix);
    if (typeof parsed !== 'string') this.speaker.withdrawLocal(parsed.afi, parsed.prefix, route.pathId);
  }

  withdrawAll(): void {
    for (const route of this.current.values()) this.withdraw(route);
    this.current.clear();
  }
}
