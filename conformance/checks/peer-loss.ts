// What a router may do with the routes of a peer whose BGP daemon died without a NOTIFICATION
// (RFC 4724 4.2), from the graceful-restart capability that peer sent in its OPENs, and which of
// the routers' paths a lost peer takes with it.
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { familyKey, type OpenMessage } from '../../reference/bgp/wire/index.ts';
import type { RouteEntry } from '../lab/kinds/index.ts';
import { hostOf } from './update-encoding.ts';

export interface RestartOffer {
  restartTime: number;
  /** "afi/safi" families the sender can restart with (keeps forwarding or not). */
  families: string[];
}

/**
 * The graceful-restart capability in the last OPEN `from` sent in these messages: null when no
 * OPEN of it was captured, `false` when it sent one without the capability.
 */
export function restartOffer(messages: readonly DecodedMessage[], from: string): RestartOffer | false | null {
  const opens = messages.filter((m) => m.type === 'OPEN' && m.message !== null && hostOf(m.src) === from);
  const last = opens.at(-1)?.message as OpenMessage | undefined;
  if (!last) return null;
  const gr = last.capabilities.find((c) => c.code === 64);
  if (!gr || gr.name !== 'graceful-restart') return false;
  return { restartTime: gr.restartTime, families: gr.families.map((f) => familyKey(f.afi, f.safi)) };
}

export type PeerLossOutcome = 'withdrawn' | 'stale-kept';

/**
 * RFC 4724 4.2: a receiving speaker keeps a lost peer's routes as stale only for the families
 * the peer listed in its graceful-restart capability (and only if it is GR-aware itself, which
 * the capture of the lost peer's side does not show: then both outcomes are allowed). Without
 * the family listed, the routes MUST go. An unknown offer allows both.
 */
export function allowedPeerLossOutcomes(offer: RestartOffer | false | null, family = familyKey(1, 1)): PeerLossOutcome[] {
  if (offer === null) return ['withdrawn', 'stale-kept'];
  if (offer === false || !offer.families.includes(family)) return ['withdrawn'];
  return ['stale-kept', 'withdrawn'];
}

export interface RouterPath {
  node: string;
  prefix: string;
}

/**
 * The RIB entries a killed BGP daemon can take with it: those of routers that held a session
 * with it, less their own static routes. A daemon kill leaves its node's kernel forwarding, so a
 * router without a session to it keeps paths whose next hop it reaches through that node (BIRD
 * shows a recursive next hop's gateway, not the BGP next hop), and a static never goes.
 */
export function bgpRibsOfPeers(
  ribs: ReadonlyMap<string, readonly RouteEntry[]>,
  withSession: ReadonlySet<string>,
  staticPrefixes: (node: string) => ReadonlySet<string>,
): Map<string, RouteEntry[]> {
  return new Map([...ribs].filter(([node]) => withSession.has(node)).map(([node, rib]) => [node, rib.filter((r) => !staticPrefixes(node).has(r.prefix))]));
}

/** Paths of each router's RIB whose next hop is one of `addresses` (a lost peer's). */
export function pathsVia(ribs: ReadonlyMap<string, readonly RouteEntry[]>, addresses: ReadonlySet<string>): RouterPath[] {
  const out: RouterPath[] = [];
  for (const [node, rib] of ribs) for (const r of rib) if (r.nexthops.some((h) => addresses.has(h))) out.push({ node, prefix: r.prefix });
  return out;
}

/** `expected` paths missing from the RIBs (a prefix present with any next hop counts). */
export function missingPaths(ribs: ReadonlyMap<string, readonly RouteEntry[]>, expected: readonly RouterPath[]): RouterPath[] {
  return expected.filter((p) => !(ribs.get(p.node) ?? []).some((r) => r.prefix === p.prefix && r.nexthops.length > 0));
}

export const pathText = (p: RouterPath) => `${p.node} ${p.prefix}`;
