// The speaker's sending side: what changed in the RIB goes to every established peer through
// RFC 4271 5.1 rules and its export policy, as packed UPDATEs held in a per-peer Adj-RIB-Out,
// batched by MRAI; full-table dumps with End-of-RIB (RFC 4724 2), and their re-sending on a
// ROUTE-REFRESH (RFC 2918, enhanced with BoRR/EoRR: RFC 7313).
import type { RouteAttributes } from './attributes.ts';
import { dependsOnPrefix, evaluatePolicy, rejectsAll, type PolicyContext } from './policy.ts';
import { LOCAL_SOURCE } from './rib.ts';
import type { Speaker } from './speaker.ts';
import { AdjRibOut, familyAfi, normaliseAddress, type Peer } from './speaker-peer.ts';
import { CeaseSubcode, ErrorCode } from './wire/errors.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  AttributeFlag,
  SAFI_UNICAST,
  encodeMessage,
  encodeUpdates,
  endOfRib,
  familyKey,
  ipv4NumberToString,
  type PathAttributes,
  type Route,
  type RouteRefreshMessage,
} from './wire/index.ts';

const DUMP_BATCH = 20_000;

// RFC 1997 well-known communities.
const NO_EXPORT = '65535:65281';
const NO_ADVERTISE = '65535:65282';
const NO_EXPORT_SUBCONFED = '65535:65283';

function keysOf(sets: Map<number, Set<number>>, afi: number): Set<number> {
  let set = sets.get(afi);
  if (!set) sets.set(afi, (set = new Set()));
  return set;
}

function mappedIpv6(ipv4: string): string {
  return `::ffff:${ipv4}`;
}

export class Exporter {
  private flushTimer: NodeJS.Timeout | null = null;
  /** Prefix keys changed since the last distribute(), per family. */
  private changedKeys = new Map<number, Set<number>>();
  /** The keys whose best path may have changed: all a peer without ADD-PATH needs. */
  private bestChangedKeys = new Map<number, Set<number>>();
  /**
   * Per family, whether an established peer is sent ADD-PATH, so that changedKeys is read at
   * all. Forgotten at each distribute(), which every session up and down calls.
   */
  private readonly allChangesWanted = new Map<number, boolean>();
  private readonly warned = new Set<string>();

  constructor(private readonly speaker: Speaker) {}

  stop(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  othersEstablished(except: Peer): boolean {
    return this.speaker.peers.some((p) => p !== except && p.session.established !== null);
  }

  /**
   * Records that a prefix's paths changed. One set per family for all peers, handed out to the
   * established peers' own pending sets at the next flush (distribute): a set per peer per change
   * was 50 Set.adds per path with 50 peers up, 60 % of our CPU ingesting 50 x 20k paths
   * (bench/bgperf.bench.ts), and the peers sending the same prefixes now count once per flush.
   * Called right after the RIB change, whose bestMayHaveChanged it reads.
   */
  changed(afi: number, key: number): void {
    if (this.wantsAllChanges(afi)) keysOf(this.changedKeys, afi).add(key);
    if (this.speaker.rib(afi).bestMayHaveChanged) keysOf(this.bestChangedKeys, afi).add(key);
    this.scheduleFlush();
  }

  /**
   * Hands the keys changed since the last call to every peer whose session is up now. Called
   * before any peer's pending sets are read or cleared (flush, session up or down), so each peer
   * gets exactly the changes made while it was up, as when they were recorded per peer. The sets
   * are shared, not copied: 50 peers' copies of 100k keys were 5M Set entries at once, the
   * speaker's peak memory in the bgperf shape (bench/bgperf.bench.ts).
   */
  distribute(): void {
    this.allChangesWanted.clear();
    if (this.changedKeys.size === 0 && this.bestChangedKeys.size === 0) return;
    const all = this.changedKeys;
    const best = this.bestChangedKeys;
    this.changedKeys = new Map();
    this.bestChangedKeys = new Map();
    const families = new Set([...all.keys(), ...best.keys()]);
    for (const peer of this.speaker.peers) {
      if (peer.session.established === null) continue;
      for (const afi of families) {
        const keys = (this.addPathSend(peer, afi) ? all : best).get(afi);
        if (keys === undefined || keys.size === 0) continue;
        let list = peer.pending.get(afi);
        if (!list) peer.pending.set(afi, (list = []));
        list.push(keys);
      }
    }
  }

  private wantsAllChanges(afi: number): boolean {
    let wanted = this.allChangesWanted.get(afi);
    if (wanted === undefined) {
      wanted = this.speaker.peers.some((peer) => peer.session.established !== null && this.addPathSend(peer, afi));
      this.allChangesWanted.set(afi, wanted);
    }
    return wanted;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.speaker.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.distribute();
      for (const peer of this.speaker.peers) if (!peer.dumping) this.guarded(peer, () => this.flush(peer));
    }, this.speaker.config.mraiMs);
  }

  /** An encoding failure toward one peer resets that session; it never takes the speaker down. */
  guarded(peer: Peer, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.speaker.log('error', `${peer.session.name}: cannot send updates: ${(err as Error).message}`);
      peer.session.reset({ code: ErrorCode.CEASE, subcode: CeaseSubcode.OUT_OF_RESOURCES }, `cannot send updates: ${(err as Error).message}`);
    }
  }

  flush(peer: Peer): void {
    const connection = peer.session.established;
    if (!connection) return;
    this.distribute();
    for (const [afi, sets] of peer.pending) {
      if (!this.carries(peer, afi)) continue;
      this.sendChanges(peer, afi, sets.length === 1 ? sets[0]! : new Set(sets.flatMap((keys) => [...keys])));
    }
    peer.pending.clear();
  }

  private carries(peer: Peer, afi: number): boolean {
    return peer.session.negotiated?.families.includes(familyKey(afi, SAFI_UNICAST)) === true && !peer.disabled.has(afi);
  }

  private addPathSend(peer: Peer, afi: number): boolean {
    return peer.session.negotiated?.sendContext.addPath?.has(familyKey(afi, SAFI_UNICAST)) ?? false;
  }

  async dumpAll(peer: Peer): Promise<void> {
    const families = peer.session.negotiated!.families.map(familyAfi);
    for (const afi of families) await this.dumpFamily(peer, afi, false);
    this.guarded(peer, () => this.flush(peer));
  }

  /** Sends the whole table of one family, then End-of-RIB (or, for enhanced refresh, BoRR..EoRR). */
  private async dumpFamily(peer: Peer, afi: number, enhanced: boolean): Promise<void> {
    const connection = peer.session.established;
    if (!connection || !this.carries(peer, afi)) return;
    peer.dumping = true;
    try {
      if (enhanced) connection.write(encodeMessage({ type: 'ROUTE-REFRESH', afi, safi: SAFI_UNICAST, subtype: 1 }));
      // In address order, not hash order: receivers keep prefix trees, which an ordered stream
      // fills with fewer cache misses (FRR took a full table faster so in bench/speaker.bench.ts).
      const keys = this.speaker.rib(afi).sortedPrefixKeys();
      for (let i = 0; i < keys.length; i += DUMP_BATCH) {
        if (peer.session.established !== connection) return;
        this.guarded(peer, () => this.sendChanges(peer, afi, Array.from(keys.subarray(i, i + DUMP_BATCH))));
        if (i + DUMP_BATCH < keys.length) await new Promise((resolve) => setImmediate(resolve));
      }
      if (peer.session.established !== connection) return;
      const ctx = peer.session.negotiated!.sendContext;
      if (enhanced) connection.write(encodeMessage({ type: 'ROUTE-REFRESH', afi, safi: SAFI_UNICAST, subtype: 2 }));
      else if (!peer.endOfRibSent.has(afi)) {
        connection.write(encodeMessage(endOfRib(afi, SAFI_UNICAST), ctx));
        peer.endOfRibSent.add(afi);
      }
    } finally {
      peer.dumping = false;
    }
  }

  /** Compares what the peer should have for these prefixes with its Adj-RIB-Out, sends the difference. */
  private sendChanges(peer: Peer, afi: number, keys: Iterable<number>): void {
    const connection = peer.session.established!;
    const negotiated = peer.session.negotiated!;
    let out = peer.out.get(afi);
    if (!out) peer.out.set(afi, (out = new AdjRibOut()));
    // A peer that takes nothing and holds nothing (`export: none`) has nothing to compare: with
    // 50 such peers, 5M evaluations per 100k changed prefixes, each ending in "not sent".
    if (out.count === 0 && rejectsAll(peer.exportPolicy)) return;
    const addPath = this.addPathSend(peer, afi);
    const announce = new Map<number, Array<Route & { key: number }>>();
    const withdrawn: Route[] = [];
    const exportCache = new Map<number, number>();
    const perPrefix = dependsOnPrefix(peer.exportPolicy);
    const rib = this.speaker.rib(afi);
    for (const key of keys) {
      // The prefix as text only for what is sent (most keys send nothing: a reject policy, an
      // unchanged best path): one string per key and peer was much of the garbage of a flush.
      let prefix: string | undefined;
      if (!addPath) {
        const current = out.single.get(key);
        const best = rib.bestPath(key);
        const want = best >= 0 ? this.exportedId(peer, afi, key, best, perPrefix, exportCache) : -1;
        if (current === want) {
          if (want >= 0) this.speaker.store.release(want);
          continue;
        }
        if (current >= 0) {
          this.speaker.store.release(current);
          out.count -= 1;
        }
        if (want >= 0) {
          out.single.set(key, want);
          out.count += 1;
          let list = announce.get(want);
          if (!list) announce.set(want, (list = []));
          list.push({ prefix: (prefix ??= this.speaker.prefixOf(afi, key)), key });
        } else {
          out.single.delete(key);
          withdrawn.push({ prefix: (prefix ??= this.speaker.prefixOf(afi, key)) });
        }
        continue;
      }
      const desired = this.desiredPaths(peer, afi, key, perPrefix, exportCache);
      const current = out.multi.get(key) ?? new Map<number, number>();
      const next = new Map<number, number>();
      for (const { pathId, attrId } of desired) {
        next.set(pathId, attrId);
        if (current.get(pathId) === attrId) {
          this.speaker.store.release(attrId);
          continue;
        }
        let list = announce.get(attrId);
        if (!list) announce.set(attrId, (list = []));
        list.push({ prefix: (prefix ??= this.speaker.prefixOf(afi, key)), pathId, key });
      }
      for (const [pathId, attrId] of current) {
        this.speaker.store.release(attrId);
        if (!next.has(pathId)) withdrawn.push({ prefix: (prefix ??= this.speaker.prefixOf(afi, key)), pathId });
      }
      // The ids in `next` keep the references taken by desiredPaths.
      for (const [pathId, attrId] of next) if (current.get(pathId) === attrId) this.speaker.store.retain(attrId);
      out.count += next.size - current.size;
      if (next.size > 0) out.multi.set(key, next);
      else out.multi.delete(key);
    }
    for (const id of exportCache.values()) this.speaker.store.release(id);
    const ctx = negotiated.sendContext;
    const announcements: Uint8Array[] = [];
    for (const [attrId, routes] of announce) {
      try {
        announcements.push(...encodeUpdates({ withdrawn: [], attributes: this.wireAttributes(afi, attrId, negotiated.extendedNextHop), nlri: routes }, ctx));
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        // RFC 8654 4 / RFC 4271 9.2: a route whose attributes do not fit a 4096-octet UPDATE is
        // not sent to this peer, and a version of it sent before is withdrawn; the session stays.
        this.warnOnce(peer, `routes not sent, their path attributes do not fit one UPDATE: ${err.message}`);
        for (const route of routes) withdrawn.push(this.unsend(out, route, attrId));
      }
    }
    const messages = withdrawn.length > 0 ? encodeUpdates({ withdrawn, attributes: {}, nlri: [] }, ctx) : [];
    messages.push(...announcements);
    peer.session.counters.updatesOut += messages.length;
    connection.writeMany(messages);
  }

  /** Takes a route that could not be encoded back out of the Adj-RIB-Out; returns its withdrawal. */
  private unsend(out: AdjRibOut, route: Route & { key: number }, attrId: number): Route {
    const { prefix, pathId, key } = route;
    if (pathId === undefined) out.single.delete(key);
    else {
      const paths = out.multi.get(key)!;
      paths.delete(pathId);
      if (paths.size === 0) out.multi.delete(key);
    }
    out.count -= 1;
    this.speaker.store.release(attrId);
    return pathId === undefined ? { prefix } : { prefix, pathId };
  }

  /** The ADD-PATH paths this peer should hold for a prefix: [{pathId, attrId}] with one reference each. */
  private desiredPaths(peer: Peer, afi: number, key: number, perPrefix: boolean, exportCache: Map<number, number>): Array<{ pathId: number; attrId: number }> {
    const limit = peer.config.addPathSendMax > 0 ? peer.config.addPathSendMax : Infinity;
    const result: Array<{ pathId: number; attrId: number }> = [];
    for (const path of this.speaker.rib(afi).sortedPaths(key)) {
      if (result.length >= limit) break;
      const attrId = this.exportedId(peer, afi, key, path, perPrefix, exportCache);
      // Path ids we send are our path numbers + 1: stable while the path lives.
      if (attrId >= 0) result.push({ pathId: path + 1, attrId });
    }
    return result;
  }

  /**
   * The attribute set this peer is sent for one path of a prefix, with a reference taken, or -1
   * when the path is not sent to it. No allocation when exportCache (per flush) answers.
   */
  private exportedId(peer: Peer, afi: number, key: number, path: number, perPrefix: boolean, exportCache: Map<number, number>): number {
    const rib = this.speaker.rib(afi);
    const source = rib.pathSource(path);
    if (source === peer.source) return -1;
    let reflectedFrom: Peer | undefined;
    if (source !== LOCAL_SOURCE && !peer.session.ebgp && !this.speaker.sources.get(source).ebgp) {
      // iBGP split horizon, unless we reflect (RFC 4456 6): a client's routes go to every iBGP
      // peer, a non-client's to the clients only.
      reflectedFrom = this.speaker.peers.find((p) => p.source === source);
      if (!reflectedFrom || !(reflectedFrom.config.routeReflectorClient || peer.config.routeReflectorClient)) return -1;
    }
    const attrId = rib.pathAttributes(path);
    // Reflected attributes depend on the source (ORIGINATOR_ID), not only on the attribute set.
    const cacheable = !perPrefix && !reflectedFrom;
    let outId = cacheable ? exportCache.get(attrId) : undefined;
    if (outId === undefined) {
      const exported = this.exportAttributes(peer, afi, this.speaker.store.get(attrId), source === LOCAL_SOURCE, this.speaker.prefixOf(afi, key), reflectedFrom);
      outId = exported ? this.speaker.store.intern(exported) : -1;
      // Not cached: intern's reference is the caller's.
      if (!cacheable) return outId;
      exportCache.set(attrId, outId);
    }
    if (outId < 0) return -1;
    this.speaker.store.retain(outId);
    return outId;
  }

  policyContext(peer: Peer, afi: number): PolicyContext {
    return { localAs: this.speaker.config.localAs, selfNextHop: this.selfNextHop(peer, afi) };
  }

  private selfNextHop(peer: Peer, afi: number): string {
    const local = normaliseAddress(peer.session.established?.localAddress ?? peer.config.localAddress);
    const localIsV6 = local.includes(':');
    if (afi === AFI_IPV4) {
      if (peer.config.nextHop && peer.config.nextHop !== 'self') return peer.config.nextHop;
      return local;
    }
    if (peer.config.nextHop6 && peer.config.nextHop6 !== 'self') return peer.config.nextHop6;
    return localIsV6 ? local : mappedIpv6(local);
  }

  /** RFC 4271 5.1 rules for what leaves the AS, then the peer's export policy. */
  private exportAttributes(peer: Peer, afi: number, attrs: RouteAttributes, local: boolean, prefix: string, reflectedFrom?: Peer): RouteAttributes | null {
    // RFC 1997: NO_ADVERTISE goes to no peer; NO_EXPORT and NO_EXPORT_SUBCONFED stay inside the
    // AS (no confederations here, so the two are the same: no eBGP peer).
    const communities = attrs.communities;
    if (communities !== undefined) {
      if (communities.includes(NO_ADVERTISE)) return null;
      if (peer.session.ebgp && (communities.includes(NO_EXPORT) || communities.includes(NO_EXPORT_SUBCONFED))) return null;
    }
    const out: RouteAttributes = { ...attrs };
    const forceSelf = (afi === AFI_IPV4 ? peer.config.nextHop : peer.config.nextHop6) === 'self';
    const explicitLocal = local && attrs.nextHop !== undefined && attrs.nextHop.includes(':') === (afi === AFI_IPV6);
    if (forceSelf || (!explicitLocal && (peer.session.ebgp || local))) {
      const self = this.selfNextHop(peer, afi);
      if (self.includes(':') && afi === AFI_IPV4 && !peer.session.negotiated?.extendedNextHop) {
        this.warnOnce(peer, `no IPv4 next hop for IPv4 routes on this IPv6 session (set nextHop on the peer or negotiate extended next hop); IPv4 routes are not sent`);
        return null;
      }
      out.nextHop = self;
    }
    if (out.nextHop !== attrs.nextHop) delete out.nextHopLinkLocal;
    if (afi === AFI_IPV4 && out.nextHop?.includes(':') && !peer.session.negotiated?.extendedNextHop) {
      // An IPv4 route learnt with an IPv6 next hop (RFC 8950) and passed on unchanged (iBGP): a
      // peer without the extended next hop capability cannot be told that next hop, so it does
      // not get the route (rather than a session reset for the whole table).
      this.warnOnce(peer, `IPv4 routes with an IPv6 next hop are not sent: this peer did not negotiate extended next hop (RFC 8950)`);
      return null;
    }
    if (peer.session.ebgp) {
      const path = attrs.asPath ?? [];
      const first = path[0];
      out.asPath =
        first && first.type === 'sequence' && first.asns.length < 255
          ? [{ type: 'sequence', asns: [this.speaker.config.localAs, ...first.asns] }, ...path.slice(1)]
          : [{ type: 'sequence', asns: [this.speaker.config.localAs] }, ...path];
      delete out.localPref;
      if (!local) delete out.med; // MED is not passed on to other ASes (RFC 4271 5.1.4)
      delete out.originatorId;
      delete out.clusterList;
    } else {
      out.localPref = attrs.localPref ?? 100;
      out.asPath = attrs.asPath ?? [];
      if (reflectedFrom) {
        // RFC 4456 8: ORIGINATOR_ID is the originator's BGP identifier unless the route has one;
        // our CLUSTER_ID goes in front of the CLUSTER_LIST.
        out.originatorId = attrs.originatorId ?? reflectedFrom.session.negotiated?.peerOpen.bgpId ?? ipv4NumberToString(this.speaker.sources.get(reflectedFrom.source).routerId);
        out.clusterList = [this.speaker.config.clusterId, ...(attrs.clusterList ?? [])];
      }
    }
    out.origin = attrs.origin ?? 'igp';
    if (!local && attrs.unknown) {
      // RFC 4271 5: an unrecognized optional non-transitive attribute is not passed along; an
      // unrecognized optional transitive one is, with the Partial bit set.
      const passed = attrs.unknown.filter((u) => (u.flags & AttributeFlag.TRANSITIVE) !== 0).map((u) => ({ ...u, flags: u.flags | AttributeFlag.PARTIAL }));
      if (passed.length > 0) out.unknown = passed;
      else delete out.unknown;
    }
    return evaluatePolicy(peer.exportPolicy, prefix, out, this.policyContext(peer, afi));
  }

  private warnOnce(peer: Peer, message: string): void {
    const key = `${peer.config.name} ${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.speaker.log('warn', `${peer.session.name}: ${message}`);
  }

  private wireAttributes(afi: number, attrId: number, extendedNextHop: boolean): PathAttributes {
    const { nextHop, nextHopLinkLocal, ...rest } = this.speaker.store.get(attrId);
    const attributes: PathAttributes = { ...rest };
    if (afi === AFI_IPV6) {
      attributes.mpReach = { afi, safi: SAFI_UNICAST, nextHops: nextHopLinkLocal ? [nextHop!, nextHopLinkLocal] : [nextHop!], nlri: [] };
    } else if (nextHop?.includes(':')) {
      // RFC 8950: an IPv6 next hop for IPv4 routes travels in MP_REACH_NLRI.
      if (!extendedNextHop) throw new Error(`IPv6 next hop ${nextHop} for IPv4 routes needs the extended next hop capability`);
      attributes.mpReach = { afi, safi: SAFI_UNICAST, nextHops: [nextHop], nlri: [] };
    } else attributes.nextHop = nextHop;
    return attributes;
  }

  releaseOut(out: AdjRibOut): void {
    for (const key of out.single.keySnapshot()) this.speaker.store.release(out.single.get(key));
    for (const paths of out.multi.values()) for (const id of paths.values()) this.speaker.store.release(id);
  }

  /**
   * The peer's own BoRR / EoRR (RFC 7313 4): at BoRR its routes of the family turn stale; the
   * ones it re-advertises before EoRR become fresh again (FamilyRib.update clears the flag), the
   * rest go at EoRR. An EoRR without a BoRR has nothing to purge.
   */
  private peerRefreshMarker(peer: Peer, message: RouteRefreshMessage): void {
    const negotiated = peer.session.negotiated!;
    const { afi } = message;
    if (!negotiated.enhancedRouteRefresh || !negotiated.families.includes(familyKey(afi, message.safi)) || !this.speaker.ribs.has(afi)) return;
    const rib = this.speaker.rib(afi);
    if (message.subtype === 1) {
      if (negotiated.peerOpen.capabilities.some((c) => c.code === 64) && !peer.endOfRibReceived.has(afi)) {
        // RFC 7313 4: a BoRR from a graceful-restart peer before its End-of-RIB is ignored.
        this.speaker.log('warn', `${peer.session.name}: BoRR for AFI ${afi} before the peer's End-of-RIB: ignored`);
        return;
      }
      peer.refreshing.add(afi);
      const marked = rib.markStale(peer.source);
      this.speaker.log('info', `${peer.session.name}: BoRR for AFI ${afi}: ${marked} routes stale until re-advertised`);
    } else if (peer.refreshing.delete(afi)) {
      const removed = rib.removeSource(peer.source, true, (key) => this.changed(afi, key));
      this.speaker.log('info', `${peer.session.name}: EoRR for AFI ${afi}: ${removed} stale routes removed`);
    }
  }

  onRouteRefresh(peer: Peer, message: RouteRefreshMessage): void {
    if (message.subtype === 1 || message.subtype === 2) return this.peerRefreshMarker(peer, message);
    if (message.subtype !== 0) return; // RFC 7313 5: other subtypes are ignored
    const family = familyKey(message.afi, message.safi);
    const negotiated = peer.session.negotiated!;
    if (!negotiated.families.includes(family)) {
      this.speaker.log('warn', `${peer.session.name}: ROUTE-REFRESH for ${family}, which was not negotiated: ignored`);
      return;
    }
    peer.routeRefreshesReceived += 1;
    this.speaker.log('info', `${peer.session.name}: ROUTE-REFRESH for ${family}: sending the Adj-RIB-Out again`);
    const out = peer.out.get(message.afi);
    if (out) this.releaseOut(out);
    peer.out.delete(message.afi);
    void this.dumpFamily(peer, message.afi, negotiated.enhancedRouteRefresh).then(() => this.guarded(peer, () => this.flush(peer)));
  }
}
