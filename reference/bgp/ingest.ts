// The speaker's receiving side: an UPDATE goes through RFC 7606 handling, loop detection and the
// peer's import policy into the RIB. A packed UPDATE whose attribute bytes were seen before is
// read as NLRI only, in two tight loops (readIpv4Nlri into key columns, FamilyRib.updateMany).
import { AttributeStore, type RouteAttributes } from './attributes.ts';
import type { Notification } from './fsm.ts';
import { dependsOnPrefix, evaluatePolicy } from './policy.ts';
import { FamilyRib, SourceRegistry } from './rib.ts';
import type { Speaker } from './speaker.ts';
import { FAMILY_OF_AFI, normaliseAddress, type Peer } from './speaker-peer.ts';
import { CeaseSubcode, ErrorCode } from './wire/errors.ts';
import { AFI_IPV4, SAFI_UNICAST, decodeMessage, endOfRibFamily, familyKey, readIpv4Nlri, type Route, type UpdateError, type UpdateMessage } from './wire/index.ts';

let packedIngestPrimed = false;

/** LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST: attributes an external peer's UPDATE has no say in. */
const DISCARDED_FROM_EBGP = new Set([5, 9, 10]);

/**
 * Runs a few synthetic prefixes through the packed-UPDATE path (readIpv4Nlri, updateMany) on a
 * throwaway RIB, once per process. V8 optimises those loops from the type feedback of their first
 * runs; when that lacked keys above 2^31 or a table growth, the optimised code is thrown away
 * at the first such prefix of a real table and compiled again (5-20 ms of CPU each time on a busy
 * machine, in the middle of the first table). Costs well under a millisecond.
 */
export function primePackedIngest(): void {
  if (packedIngestPrimed) return;
  packedIngestPrimed = true;
  const nlri: number[] = [];
  for (let i = 0; i < 64; i++) nlri.push(24, (i * 61 + 1) & 255, i, 0, 32, 255 - i, 1, 2, i, 16, 128 + i, 3);
  const bytes = new Uint8Array(nlri);
  const keys = new Float64Array(bytes.length);
  const pathIds = new Uint32Array(bytes.length);
  const store = new AttributeStore();
  const attrId = store.intern({ origin: 'igp' });
  const rib = new FamilyRib(store, new SourceRegistry(), {}, 4);
  let changes = 0;
  for (let round = 0; round < 2; round++) {
    for (let at = 0; at < bytes.length; at += 12 * 16) {
      const count = readIpv4Nlri(bytes, at, Math.min(at + 12 * 16, bytes.length), false, keys, pathIds);
      rib.updateMany(keys, pathIds, count, 1, attrId, () => changes++);
    }
  }
  if (rib.prefixCount !== 192 || changes !== 192) throw new Error(`packed ingest self-check: ${rib.prefixCount} prefixes, ${changes} changes`);
}

export class Ingest {
  /** Scratch columns of the packed-UPDATE path (readIpv4Nlri -> FamilyRib.updateMany). */
  private nlriKeys = new Float64Array(4096);
  private nlriPathIds = new Uint32Array(4096);
  private readonly changedIpv4 = (key: number): void => this.speaker.exporter.changed(AFI_IPV4, key);

  constructor(private readonly speaker: Speaker) {}

  onUpdate(peer: Peer, frame: Uint8Array): void {
    const negotiated = peer.session.negotiated!;
    const end = frame.length;
    const withdrawnLength = (frame[19]! << 8) | frame[20]!;
    const attributesAt = 21 + withdrawnLength + 2;
    if (attributesAt <= end && withdrawnLength === 0 && !peer.disabled.has(AFI_IPV4)) {
      const attributesLength = (frame[attributesAt - 2]! << 8) | frame[attributesAt - 1]!;
      const nlriAt = attributesAt + attributesLength;
      if (nlriAt < end) {
        const cached = peer.attributeCache.get(Buffer.from(frame.buffer, frame.byteOffset + attributesAt, attributesLength).toString('latin1'));
        if (cached !== undefined && this.ingestPacked(peer, frame, nlriAt, cached)) return;
      }
    }
    const message = decodeMessage(frame, negotiated.receiveContext) as UpdateMessage;
    this.applyUpdate(peer, message, frame);
  }

  /** Fast path: the attribute bytes were seen before, so only the NLRI need reading. */
  private ingestPacked(peer: Peer, frame: Uint8Array, nlriAt: number, attrId: number): boolean {
    const rib = this.speaker.rib(AFI_IPV4);
    const before = rib.pathsFrom(peer.source);
    let count: number;
    try {
      count = this.readNlri(peer, frame, nlriAt);
    } catch {
      // Let the full decoder name the error (it throws the same BgpError, which resets the session).
      return false;
    }
    rib.updateMany(this.nlriKeys, this.nlriPathIds, count, peer.source, attrId, this.exporting(peer) ? this.changedIpv4 : undefined);
    peer.prefixesReceived += count;
    if (rib.pathsFrom(peer.source) !== before) this.checkMaxPrefixes(peer);
    return true;
  }

  /** The IPv4 NLRI field of an UPDATE frame (from nlriAt to its end) into the scratch columns. */
  private readNlri(peer: Peer, frame: Uint8Array, nlriAt: number): number {
    const addPath = peer.session.negotiated!.receiveContext.addPath?.has(familyKey(AFI_IPV4, SAFI_UNICAST)) ?? false;
    if (this.nlriKeys.length < frame.length - nlriAt) {
      this.nlriKeys = new Float64Array(frame.length - nlriAt);
      this.nlriPathIds = new Uint32Array(frame.length - nlriAt);
    }
    return readIpv4Nlri(frame, nlriAt, frame.length, addPath, this.nlriKeys, this.nlriPathIds);
  }

  /**
   * Whether a change to this peer's routes can change what we send anyone: another session is
   * up, or we have sent this peer routes (its own may now replace them). Otherwise nothing
   * needs queueing; a session that comes up later gets the whole table.
   */
  private exporting(peer: Peer): boolean {
    return this.speaker.exporter.othersEstablished(peer) || [...peer.out.values()].some((out) => out.count > 0);
  }

  private applyUpdate(peer: Peer, message: UpdateMessage, frame: Uint8Array): void {
    const errors = message.errors ?? [];
    for (const error of errors) this.speaker.log('warn', `${peer.session.name}: ${error.message} -> ${error.action}`);
    const disable = errors.find((e) => e.action === 'afi-safi-disable');
    if (disable) {
      const afi = message.attributes.mpReach?.afi ?? message.attributes.mpUnreach?.afi ?? AFI_IPV4;
      this.disableFamily(peer, afi, disable.message);
      return;
    }
    const eor = endOfRibFamily(message);
    if (eor) {
      this.speaker.restart.onEndOfRib(peer, eor.afi);
      return;
    }
    // RFC 4271 5.1.5, RFC 7606 7.5 / 7.9 / 7.10: from an external peer LOCAL_PREF, ORIGINATOR_ID
    // and CLUSTER_LIST are discarded, malformed or not: their own errors do not withdraw the
    // route (one overrunning the attribute list still does, RFC 7606 4).
    const ebgp = peer.session.ebgp;
    const discarded = (e: UpdateError) => ebgp && e.attribute !== undefined && DISCARDED_FROM_EBGP.has(e.attribute) && !e.overrun;
    const treatAsWithdraw = errors.some((e) => e.action === 'treat-as-withdraw' && !discarded(e));
    const { mpReach, mpUnreach, ...rest } = message.attributes;
    if (ebgp) {
      delete rest.localPref;
      delete rest.originatorId;
      delete rest.clusterList;
    }
    for (const route of message.withdrawn) this.withdrawFromPeer(peer, AFI_IPV4, route);
    if (mpUnreach && !peer.disabled.has(mpUnreach.afi)) for (const route of mpUnreach.withdrawn) this.withdrawFromPeer(peer, mpUnreach.afi, route);

    const announce = (afi: number, routes: Route[], nextHops: string[] | undefined) => {
      if (routes.length === 0 || peer.disabled.has(afi) || !this.speaker.ribs.has(afi)) return;
      // RFC 4760 8: routes of a family the peer did not negotiate are not ours to install.
      if (!peer.session.negotiated?.families.includes(familyKey(afi, SAFI_UNICAST))) {
        this.speaker.log('warn', `${peer.session.name}: ignoring ${routes.length} route(s) of AFI ${afi}, a family not negotiated with this peer`);
        return;
      }
      if (treatAsWithdraw || this.isLoop(rest) || (!peer.session.ebgp && this.isReflectionLoop(rest))) {
        for (const route of routes) this.withdrawFromPeer(peer, afi, route);
        return;
      }
      const attrs: RouteAttributes = { ...rest };
      // RFC 4271 5 / 9.1.3: an unrecognized optional non-transitive attribute is quietly ignored, not passed on.
      if (attrs.unknown) {
        const transitive = attrs.unknown.filter((u) => (u.flags & 0x40) !== 0);
        if (transitive.length > 0) attrs.unknown = transitive;
        else delete attrs.unknown;
      }
      // RFC 8092 2: a receiver silently removes redundant large community values.
      if (attrs.largeCommunities && new Set(attrs.largeCommunities).size !== attrs.largeCommunities.length) attrs.largeCommunities = [...new Set(attrs.largeCommunities)];
      if (nextHops) {
        attrs.nextHop = nextHops[0];
        if (nextHops[1]) attrs.nextHopLinkLocal = nextHops[1];
      }
      // RFC 4271 6.3: a NEXT_HOP that is our own address is semantically incorrect: log it and
      // ignore the route (no NOTIFICATION).
      if (this.isOwnAddress(peer, attrs.nextHop)) {
        this.speaker.log('warn', `${peer.session.name}: NEXT_HOP ${attrs.nextHop} is our own address: route ignored (RFC 4271 6.3)`);
        for (const route of routes) this.withdrawFromPeer(peer, afi, route);
        return;
      }
      const perPrefix = dependsOnPrefix(peer.importPolicy);
      const ctx = this.speaker.exporter.policyContext(peer, afi);
      const shared = perPrefix ? null : evaluatePolicy(peer.importPolicy, '', attrs, ctx);
      const sharedId = shared ? this.speaker.store.intern(shared) : -1;
      const before = this.speaker.rib(afi).pathsFrom(peer.source);
      if (shared && afi === AFI_IPV4 && routes === message.nlri) {
        // The NLRI field as numbers, as for a packed UPDATE: no prefix text parsed back (the
        // decoder has already checked the field).
        const withdrawnLength = (frame[19]! << 8) | frame[20]!;
        const attributesAt = 21 + withdrawnLength + 2;
        const nlriAt = attributesAt + ((frame[attributesAt - 2]! << 8) | frame[attributesAt - 1]!);
        const count = this.readNlri(peer, frame, nlriAt);
        this.speaker.rib(afi).updateMany(this.nlriKeys, this.nlriPathIds, count, peer.source, sharedId, this.exporting(peer) ? this.changedIpv4 : undefined);
        peer.prefixesReceived += count;
        // Remember these attribute bytes for the next packed UPDATE of this peer.
        if (!mpReach && errors.length === 0) this.cacheAttributes(peer, frame, sharedId);
        this.speaker.store.release(sharedId);
        if (this.speaker.rib(afi).pathsFrom(peer.source) !== before) this.checkMaxPrefixes(peer);
        return;
      }
      for (const route of routes) {
        const result = perPrefix ? evaluatePolicy(peer.importPolicy, route.prefix, attrs, ctx) : shared;
        if (!result) {
          this.withdrawFromPeer(peer, afi, route);
          continue;
        }
        const id = perPrefix ? this.speaker.store.intern(result) : sharedId;
        const key = this.speaker.keyOf(afi, route.prefix);
        if (this.speaker.rib(afi).update(key, peer.source, route.pathId ?? 0, id)) this.speaker.exporter.changed(afi, key);
        if (perPrefix) this.speaker.store.release(id);
      }
      peer.prefixesReceived += routes.length;
      if (sharedId >= 0) {
        // Remember these attribute bytes for the next packed UPDATE of this peer.
        if (afi === AFI_IPV4 && message.nlri.length > 0 && !mpReach && errors.length === 0) this.cacheAttributes(peer, frame, sharedId);
        this.speaker.store.release(sharedId);
      }
      if (this.speaker.rib(afi).pathsFrom(peer.source) !== before) this.checkMaxPrefixes(peer);
    };
    announce(AFI_IPV4, message.nlri, undefined);
    if (mpReach) announce(mpReach.afi, mpReach.nlri, mpReach.nextHops);
  }

  private cacheAttributes(peer: Peer, frame: Uint8Array, attrId: number): void {
    const withdrawnLength = (frame[19]! << 8) | frame[20]!;
    const at = 21 + withdrawnLength + 2;
    const length = (frame[at - 2]! << 8) | frame[at - 1]!;
    const key = Buffer.from(frame.buffer, frame.byteOffset + at, length).toString('latin1');
    if (peer.attributeCache.has(key)) return;
    if (peer.attributeCache.size >= 64) this.clearAttributeCache(peer);
    this.speaker.store.retain(attrId);
    peer.attributeCache.set(key, attrId);
  }

  clearAttributeCache(peer: Peer): void {
    for (const id of peer.attributeCache.values()) this.speaker.store.release(id);
    peer.attributeCache.clear();
  }

  /**
   * Whether `nextHop` is the local address of the peer's session (it would point back at us).
   * Not when the peer's own address is that address too (two speakers on one host, as in tests):
   * then the next hop is the peer's as much as ours.
   */
  private isOwnAddress(peer: Peer, nextHop: string | undefined): boolean {
    const connection = peer.session.established;
    if (nextHop === undefined || !connection) return false;
    const local = normaliseAddress(connection.localAddress);
    return local === normaliseAddress(nextHop) && local !== normaliseAddress(connection.socket.remoteAddress);
  }

  /** RFC 4271 9.1.2: a route whose AS_PATH holds our own AS is a loop and is not used. */
  private isLoop(attrs: RouteAttributes): boolean {
    return attrs.asPath?.some((segment) => segment.asns.includes(this.speaker.config.localAs)) ?? false;
  }

  /**
   * RFC 4456 8: a route with our BGP identifier as ORIGINATOR_ID, or our CLUSTER_ID in its
   * CLUSTER_LIST, came back to us through reflection and is ignored.
   */
  private isReflectionLoop(attrs: RouteAttributes): boolean {
    return attrs.originatorId === this.speaker.config.routerId || (attrs.clusterList?.includes(this.speaker.config.clusterId) ?? false);
  }

  private withdrawFromPeer(peer: Peer, afi: number, route: Route): void {
    if (!this.speaker.ribs.has(afi)) return;
    const key = this.speaker.keyOf(afi, route.prefix);
    if (this.speaker.rib(afi).withdraw(key, peer.source, route.pathId ?? 0)) this.speaker.exporter.changed(afi, key);
  }

  private checkMaxPrefixes(peer: Peer): void {
    const max = peer.config.maxPrefixes;
    if (max === undefined || peer.maxPrefixExceeded) return;
    for (const [afi, rib] of this.speaker.ribs) {
      const count = rib.pathsFrom(peer.source);
      if (count <= max) continue;
      peer.maxPrefixExceeded = true;
      this.speaker.log('warn', `${peer.session.name}: maximum-prefix exceeded: ${count} ${FAMILY_OF_AFI[afi]} prefixes received, limit ${peer.config.maxPrefixes}; closing the session (Cease/1)`);
      const data = new Uint8Array(7);
      const view = new DataView(data.buffer);
      view.setUint16(0, afi);
      data[2] = SAFI_UNICAST;
      view.setUint32(3, max);
      peer.session.reset({ code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data } satisfies Notification, `maximum-prefix ${max} exceeded (${count} received)`);
      return;
    }
  }

  disableFamily(peer: Peer, afi: number, reason: string): void {
    this.speaker.log('warn', `${peer.session.name}: ${FAMILY_OF_AFI[afi] ?? `AFI ${afi}`} disabled for this session (RFC 7606 AFI/SAFI disable): ${reason}`);
    peer.disabled.add(afi);
    this.speaker.rib(afi)?.removeSource(peer.source, false, (key) => this.speaker.exporter.changed(afi, key));
  }
}
