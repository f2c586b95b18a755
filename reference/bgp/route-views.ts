// What the speaker holds per peer, as the status API shows it: the routes sent (Adj-RIB-Out)
// and received (the peer's paths in the RIB), with their attributes in text.
import type { Speaker } from './speaker.ts';
import type { Peer } from './speaker-peer.ts';
import { SAFI_UNICAST, familyKey } from './wire/index.ts';

export interface AdvertisedRoute {
  prefix: string;
  pathId?: number;
  nextHop?: string;
  asPath?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
}

export function advertisedRoutes(speaker: Speaker, peer: Peer, limit = Infinity): AdvertisedRoute[] {
  const routes: AdvertisedRoute[] = [];
  if (limit <= 0) return routes;
  for (const [afi, out] of peer.out) {
    for (const key of out.single.keySnapshot()) {
      if (routes.length >= limit) return routes;
      routes.push(describe(speaker, speaker.prefixOf(afi, key), out.single.get(key)));
    }
    for (const [key, paths] of out.multi) {
      for (const [pathId, id] of paths) {
        if (routes.length >= limit) return routes;
        routes.push({ ...describe(speaker, speaker.prefixOf(afi, key), id), pathId });
      }
    }
  }
  return routes;
}

export function receivedRoutes(speaker: Speaker, peer: Peer, limit = Infinity): AdvertisedRoute[] {
  const routes: AdvertisedRoute[] = [];
  if (limit <= 0) return routes;
  for (const [afi, rib] of speaker.ribs) {
    if (rib.pathsFrom(peer.source) === 0) continue;
    rib.forEachPrefix((key) => {
      for (const path of rib.sortedPaths(key)) {
        if (routes.length >= limit || rib.pathSource(path) !== peer.source) continue;
        const route = describe(speaker, speaker.prefixOf(afi, key), rib.pathAttributes(path));
        if (addPathReceived(peer, afi)) route.pathId = rib.pathIdOf(path);
        routes.push(route);
      }
    });
  }
  return routes;
}

function addPathReceived(peer: Peer, afi: number): boolean {
  return peer.session.negotiated?.receiveContext.addPath?.has(familyKey(afi, SAFI_UNICAST)) ?? false;
}

function describe(speaker: Speaker, prefix: string, attrId: number): AdvertisedRoute {
  const a = speaker.store.get(attrId);
  const route: AdvertisedRoute = { prefix };
  if (a.nextHop) route.nextHop = a.nextHop;
  route.asPath = (a.asPath ?? []).map((s) => (s.type === 'set' ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
  if (a.med !== undefined) route.med = a.med;
  if (a.localPref !== undefined) route.localPref = a.localPref;
  if (a.communities) route.communities = a.communities;
  if (a.largeCommunities) route.largeCommunities = a.largeCommunities;
  return route;
}
