// The speaker: peers (session.ts) feed the RIB (rib.ts) through import policy, the RIB's
// changes go out to every other established peer through export policy as packed UPDATEs
// (Adj-RIB-Out per peer), with MRAI batching, End-of-RIB, route refresh and graceful restart.
import net from 'node:net';
import { AttributeStore, type RouteAttributes } from './attributes.ts';
import type { FamilyName, PeerConfig, SpeakerConfig, StaticRoute } from './config.ts';
import type { Notification } from './fsm.ts';
import { CeaseSubcode, ErrorCode } from './wire/errors.ts';
import { dependsOnPrefix, evaluatePolicy, type Policy, type PolicyContext } from './policy.ts';
import { Ipv6PrefixIds, ipv4Key, ipv4KeyToPrefix, parseIpv4 } from './prefix.ts';
import { PrefixTable } from './prefix-table.ts';
import { FamilyRib, LOCAL_SOURCE, SourceRegistry } from './rib.ts';
import { PeerSession, type SessionHooks } from './session.ts';
import { TtlControl, configuredTtl, kernelDefaultTtl, type TtlRule } from './ttl.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  SAFI_UNICAST,
  decodeMessage,
  encodeMessage,
  encodeUpdates,
  endOfRib,
  endOfRibFamily,
  familyKey,
  readIpv4Nlri,
  type PathAttributes,
  type Route,
  type RouteRefreshMessage,
  type UpdateMessage,
} from './wire/index.ts';

const FAMILY_OF_AFI: Record<number, FamilyName> = { [AFI_IPV4]: 'ipv4-unicast', [AFI_IPV6]: 'ipv6-unicast' };
const DUMP_BATCH = 20_000;

export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Routes sent to one peer for one family: prefix key -> attribute id (or path id -> attribute id). */
class AdjRibOut {
  readonly single = new PrefixTable();
  readonly multi = new Map<number, Map<number, number>>();
  count = 0;
}

interface Peer {
  session: PeerSession;
  config: PeerConfig;
  source: number;
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** Families (AFI) we still exchange; RFC 7606 AFI/SAFI disable removes one. */
  disabled: Set<number>;
  out: Map<number, AdjRibOut>;
  pending: Map<number, Set<number>>;
  /** Attribute bytes of recent UPDATEs -> interned id (fast path for packed UPDATEs). */
  attributeCache: Map<string, number>;
  staleTimer: NodeJS.Timeout | null;
  staleFamilies: Set<number>;
  maxPrefixExceeded: boolean;
  prefixesReceived: number;
  routeRefreshesReceived: number;
  endOfRibReceived: Set<number>;
  endOfRibSent: Set<number>;
  /** A full table dump in progress, so incremental changes wait for it. */
  dumping: boolean;
}

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

function familyAfi(family: string): number {
  return Number(family.split('/')[0]);
}

function mappedIpv6(ipv4: string): string {
  return `::ffff:${ipv4}`;
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

let packedIngestPrimed = false;

/**
 * Runs a few synthetic prefixes through the packed-UPDATE path (readIpv4Nlri, updateMany) on a
 * throwaway RIB, once per process. V8 optimises those loops from the type feedback of their first
 * runs; when that lacked keys above 2^31 or a table growth, the optimised code is thrown away
 * at the first such prefix of a real table and compiled again (5-20 ms of CPU each time on a busy
 * machine, in the middle of the first table). Costs well under a millisecond.
 */
function primePackedIngest(): void {
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

export class Speaker {
  readonly store = new AttributeStore();
  readonly sources = new SourceRegistry();
  readonly ribs = new Map<number, FamilyRib>();
  readonly ipv6Ids = new Ipv6PrefixIds();
  readonly peers: Peer[] = [];
  /** Scratch columns of the packed-UPDATE path (readIpv4Nlri -> FamilyRib.updateMany). */
  private nlriKeys = new Float64Array(4096);
  private nlriPathIds = new Uint32Array(4096);
  private readonly changedIpv4 = (key: number): void => this.changed(AFI_IPV4, key);
  readonly startedAt = Date.now();
  private server: net.Server | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly ttlControl: TtlControl;

  constructor(
    readonly config: SpeakerConfig,
    readonly log: Logger = () => undefined,
  ) {
    primePackedIngest();
    this.ttlControl = new TtlControl((level, message) => this.log(level, message));
    const options = { multipathRelax: config.multipathRelax, alwaysCompareMed: config.alwaysCompareMed };
    this.ribs.set(AFI_IPV4, new FamilyRib(this.store, this.sources, options));
    this.ribs.set(AFI_IPV6, new FamilyRib(this.store, this.sources, options));
    const hooks: SessionHooks = {
      established: (s) => this.onEstablished(this.peerOf(s)),
      update: (s, frame) => this.onUpdate(this.peerOf(s), frame),
      routeRefresh: (s, m) => this.onRouteRefresh(this.peerOf(s), m),
      down: (s, _reason, retain, negotiated) => this.onDown(this.peerOf(s), retain, negotiated.peerGracefulRestart?.restartTime ?? 0),
      log: (level, message) => this.log(level, message),
    };
    const identity = { routerId: config.routerId, localAs: config.localAs, gracefulRestart: { ...config.gracefulRestart } };
    for (const peerConfig of config.peers) {
      const ebgp = peerConfig.asn !== config.localAs;
      const source = this.sources.add({ local: false, ebgp, peerAs: peerConfig.asn, routerId: 0, address: peerConfig.address });
      this.peers.push({
        session: new PeerSession(peerConfig, identity, hooks),
        config: peerConfig,
        source,
        importPolicy: peerConfig.importPolicy ? config.policies.get(peerConfig.importPolicy) : undefined,
        exportPolicy: peerConfig.exportPolicy ? config.policies.get(peerConfig.exportPolicy) : undefined,
        disabled: new Set(),
        out: new Map(),
        pending: new Map(),
        attributeCache: new Map(),
        staleTimer: null,
        staleFamilies: new Set(),
        maxPrefixExceeded: false,
        prefixesReceived: 0,
        routeRefreshesReceived: 0,
        endOfRibReceived: new Set(),
        endOfRibSent: new Set(),
        dumping: false,
      });
    }
    for (const route of config.routes) this.announce(route);
  }

  /** Starts listening (when configured) and starts every peer. Resolves once listening. */
  async start(): Promise<void> {
    // The TTL rules go in before the first SYN or SYN-ACK; a port-0 listener is known only after listen.
    const ephemeral = this.config.listen?.port === 0;
    if (!ephemeral) await this.installTtl();
    await this.listen();
    if (ephemeral) await this.installTtl();
    this.startPeers();
  }

  /** Puts each peer's TTL on the wire before its first SYN (see ttl.ts); never throws. */
  async installTtl(): Promise<void> {
    if (this.stopped) return;
    const rules: TtlRule[] = this.peers.map((p) => ({
      address: p.config.address,
      peerPort: p.config.port,
      ...(this.config.listen ? { listenPort: this.config.listen.port || this.listenPort } : {}),
      ttl: this.ttlOf(p),
    }));
    await this.ttlControl.install(rules);
  }

  ttlOf(peer: Peer): number {
    return configuredTtl(peer.config, this.config.localAs);
  }

  /** The TTL our packets to this peer carry: the configured one, or the kernel's when not enforced. */
  ttlInUse(peer: Peer): number {
    return this.ttlControl.state.active ? this.ttlOf(peer) : kernelDefaultTtl(peer.config.address.includes(':'));
  }

  startPeers(): void {
    for (const peer of this.peers) peer.session.start();
  }

  async listen(): Promise<void> {
    if (this.config.gracefulRestart.enabled && this.config.gracefulRestart.restarting) {
      // RFC 4724: the Restart State bit only says so while we are coming back.
      setTimeout(() => {
        for (const peer of this.peers) peer.session.identity.gracefulRestart.restarting = false;
      }, this.config.gracefulRestart.restartTime * 1000).unref();
    }
    if (this.config.listen) {
      const server = net.createServer((socket) => this.onIncoming(socket));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.config.listen!.port, this.config.listen!.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.log('info', `listening on ${this.config.listen.address}:${this.listenPort}`);
    }
  }

  get listenPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Stops every session. graceful: no NOTIFICATION to GR peers, so they keep our routes. */
  async stop(graceful = false): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const peer of this.peers) {
      peer.session.stop(graceful);
      if (peer.staleTimer) clearTimeout(peer.staleTimer);
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.ttlControl.remove();
  }

  peerByAddress(address: string): Peer | undefined {
    return this.peers.find((p) => p.config.address === address);
  }

  rib(afi: number): FamilyRib {
    return this.ribs.get(afi)!;
  }

  keyOf(afi: number, prefix: string): number {
    if (afi === AFI_IPV6) return this.ipv6Ids.idOf(prefix);
    const [address, length] = prefix.split('/');
    return ipv4Key(parseIpv4(address!)!, Number(length));
  }

  prefixOf(afi: number, key: number): string {
    return afi === AFI_IPV6 ? this.ipv6Ids.prefixOf(key) : ipv4KeyToPrefix(key);
  }

  /**
   * Adds or replaces a locally originated route. Several paths of one prefix (an agent's
   * next hops on several load-balancer nodes, sent with ADD-PATH) differ by `localPathId`.
   */
  announce(route: StaticRoute, localPathId = 0): void {
    const attrs: RouteAttributes = { origin: route.origin, asPath: [] };
    if (route.nextHop) attrs.nextHop = route.nextHop;
    if (route.med !== undefined) attrs.med = route.med;
    if (route.localPref !== undefined) attrs.localPref = route.localPref;
    if (route.communities) attrs.communities = route.communities;
    if (route.largeCommunities) attrs.largeCommunities = route.largeCommunities;
    const id = this.store.intern(attrs);
    const key = this.keyOf(route.afi, route.prefix);
    if (this.rib(route.afi).update(key, LOCAL_SOURCE, localPathId, id)) this.changed(route.afi, key);
    this.store.release(id);
  }

  withdrawLocal(afi: number, prefix: string, localPathId = 0): void {
    const key = this.keyOf(afi, prefix);
    if (this.rib(afi).withdraw(key, LOCAL_SOURCE, localPathId)) this.changed(afi, key);
  }

  /** Asks a peer to send its routes again (RFC 2918); false when it cannot. */
  requestRefresh(address: string, afi = AFI_IPV4): boolean {
    const peer = this.peerByAddress(address);
    const connection = peer?.session.established;
    if (!connection?.negotiated?.routeRefresh) return false;
    connection.write(encodeMessage({ type: 'ROUTE-REFRESH', afi, safi: SAFI_UNICAST, subtype: 0 }));
    return true;
  }

  // --- receiving ---------------------------------------------------------------------------

  private peerOf(session: PeerSession): Peer {
    return this.peers.find((p) => p.session === session)!;
  }

  private onIncoming(socket: net.Socket): void {
    const remote = normaliseAddress(socket.remoteAddress);
    const peer = this.peerByAddress(remote);
    if (!peer || this.stopped) {
      this.log('warn', `refused connection from ${remote}:${socket.remotePort}: not a configured peer`);
      socket.on('error', () => undefined);
      socket.end(encodeMessage({ type: 'NOTIFICATION', code: ErrorCode.CEASE, subcode: CeaseSubcode.CONNECTION_REJECTED, data: '' }));
      setTimeout(() => socket.destroy(), 200).unref();
      return;
    }
    peer.session.accept(socket);
  }

  private onUpdate(peer: Peer, frame: Uint8Array): void {
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
    const rib = this.rib(AFI_IPV4);
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
    return this.othersEstablished(peer) || [...peer.out.values()].some((out) => out.count > 0);
  }

  private applyUpdate(peer: Peer, message: UpdateMessage, frame: Uint8Array): void {
    const errors = message.errors ?? [];
    for (const error of errors) this.log('warn', `${peer.session.name}: ${error.message} -> ${error.action}`);
    const disable = errors.find((e) => e.action === 'afi-safi-disable');
    if (disable) {
      const afi = message.attributes.mpReach?.afi ?? message.attributes.mpUnreach?.afi ?? AFI_IPV4;
      this.disableFamily(peer, afi, disable.message);
      return;
    }
    const eor = endOfRibFamily(message);
    if (eor) {
      this.onEndOfRib(peer, eor.afi);
      return;
    }
    const treatAsWithdraw = errors.some((e) => e.action === 'treat-as-withdraw');
    const { mpReach, mpUnreach, ...rest } = message.attributes;
    for (const route of message.withdrawn) this.withdrawFromPeer(peer, AFI_IPV4, route);
    if (mpUnreach && !peer.disabled.has(mpUnreach.afi)) for (const route of mpUnreach.withdrawn) this.withdrawFromPeer(peer, mpUnreach.afi, route);

    const announce = (afi: number, routes: Route[], nextHops: string[] | undefined) => {
      if (routes.length === 0 || peer.disabled.has(afi) || !this.ribs.has(afi)) return;
      if (treatAsWithdraw || this.isLoop(rest)) {
        for (const route of routes) this.withdrawFromPeer(peer, afi, route);
        return;
      }
      const attrs: RouteAttributes = { ...rest };
      if (nextHops) {
        attrs.nextHop = nextHops[0];
        if (nextHops[1]) attrs.nextHopLinkLocal = nextHops[1];
      }
      const perPrefix = dependsOnPrefix(peer.importPolicy);
      const ctx = this.policyContext(peer, afi);
      const shared = perPrefix ? null : evaluatePolicy(peer.importPolicy, '', attrs, ctx);
      const sharedId = shared ? this.store.intern(shared) : -1;
      const before = this.rib(afi).pathsFrom(peer.source);
      if (shared && afi === AFI_IPV4 && routes === message.nlri) {
        // The NLRI field as numbers, as for a packed UPDATE: no prefix text parsed back (the
        // decoder has already checked the field).
        const withdrawnLength = (frame[19]! << 8) | frame[20]!;
        const attributesAt = 21 + withdrawnLength + 2;
        const nlriAt = attributesAt + ((frame[attributesAt - 2]! << 8) | frame[attributesAt - 1]!);
        const count = this.readNlri(peer, frame, nlriAt);
        this.rib(afi).updateMany(this.nlriKeys, this.nlriPathIds, count, peer.source, sharedId, this.exporting(peer) ? this.changedIpv4 : undefined);
        peer.prefixesReceived += count;
        // Remember these attribute bytes for the next packed UPDATE of this peer.
        if (!mpReach && errors.length === 0) this.cacheAttributes(peer, frame, sharedId);
        this.store.release(sharedId);
        if (this.rib(afi).pathsFrom(peer.source) !== before) this.checkMaxPrefixes(peer);
        return;
      }
      for (const route of routes) {
        const result = perPrefix ? evaluatePolicy(peer.importPolicy, route.prefix, attrs, ctx) : shared;
        if (!result) {
          this.withdrawFromPeer(peer, afi, route);
          continue;
        }
        const id = perPrefix ? this.store.intern(result) : sharedId;
        const key = this.keyOf(afi, route.prefix);
        if (this.rib(afi).update(key, peer.source, route.pathId ?? 0, id)) this.changed(afi, key);
        if (perPrefix) this.store.release(id);
      }
      peer.prefixesReceived += routes.length;
      if (sharedId >= 0) {
        // Remember these attribute bytes for the next packed UPDATE of this peer.
        if (afi === AFI_IPV4 && message.nlri.length > 0 && !mpReach && errors.length === 0) this.cacheAttributes(peer, frame, sharedId);
        this.store.release(sharedId);
      }
      if (this.rib(afi).pathsFrom(peer.source) !== before) this.checkMaxPrefixes(peer);
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
    this.store.retain(attrId);
    peer.attributeCache.set(key, attrId);
  }

  private clearAttributeCache(peer: Peer): void {
    for (const id of peer.attributeCache.values()) this.store.release(id);
    peer.attributeCache.clear();
  }

  /** RFC 4271 9.1.2: a route whose AS_PATH holds our own AS is a loop and is not used. */
  private isLoop(attrs: RouteAttributes): boolean {
    return attrs.asPath?.some((segment) => segment.asns.includes(this.config.localAs)) ?? false;
  }

  private withdrawFromPeer(peer: Peer, afi: number, route: Route): void {
    if (!this.ribs.has(afi)) return;
    const key = this.keyOf(afi, route.prefix);
    if (this.rib(afi).withdraw(key, peer.source, route.pathId ?? 0)) this.changed(afi, key);
  }

  private checkMaxPrefixes(peer: Peer): void {
    const max = peer.config.maxPrefixes;
    if (max === undefined || peer.maxPrefixExceeded) return;
    for (const [afi, rib] of this.ribs) {
      const count = rib.pathsFrom(peer.source);
      if (count <= max) continue;
      peer.maxPrefixExceeded = true;
      this.log('warn', `${peer.session.name}: maximum-prefix exceeded: ${count} ${FAMILY_OF_AFI[afi]} prefixes received, limit ${peer.config.maxPrefixes}; closing the session (Cease/1)`);
      const data = new Uint8Array(7);
      const view = new DataView(data.buffer);
      view.setUint16(0, afi);
      data[2] = SAFI_UNICAST;
      view.setUint32(3, max);
      peer.session.reset({ code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data } satisfies Notification, `maximum-prefix ${max} exceeded (${count} received)`);
      return;
    }
  }

  private disableFamily(peer: Peer, afi: number, reason: string): void {
    this.log('warn', `${peer.session.name}: ${FAMILY_OF_AFI[afi] ?? `AFI ${afi}`} disabled for this session (RFC 7606 AFI/SAFI disable): ${reason}`);
    peer.disabled.add(afi);
    this.rib(afi)?.removeSource(peer.source, false, (key) => this.changed(afi, key));
  }

  private onEndOfRib(peer: Peer, afi: number): void {
    peer.endOfRibReceived.add(afi);
    if (peer.staleFamilies.delete(afi)) {
      const removed = this.rib(afi).removeSource(peer.source, true, (key) => this.changed(afi, key));
      this.log('info', `${peer.session.name}: End-of-RIB for ${FAMILY_OF_AFI[afi]}, ${removed} stale routes removed`);
      if (peer.staleFamilies.size === 0 && peer.staleTimer) {
        clearTimeout(peer.staleTimer);
        peer.staleTimer = null;
      }
    }
  }

  // --- session events ----------------------------------------------------------------------

  private onEstablished(peer: Peer): void {
    const negotiated = peer.session.negotiated!;
    this.sources.set(peer.source, {
      local: false,
      ebgp: peer.session.ebgp,
      peerAs: peer.config.asn,
      routerId: parseIpv4(negotiated.peerOpen.bgpId) ?? 0,
      address: peer.config.address,
    });
    peer.maxPrefixExceeded = false;
    peer.disabled.clear();
    peer.endOfRibReceived.clear();
    peer.endOfRibSent.clear();
    peer.out.clear();
    peer.pending.clear();
    if (peer.staleFamilies.size > 0) {
      // RFC 4724 4.2: stale routes of families the peer no longer preserves go now.
      const gr = negotiated.peerGracefulRestart;
      for (const afi of [...peer.staleFamilies]) {
        const kept = gr?.families.some((f) => f.afi === afi && f.forwardingState);
        if (!kept) {
          peer.staleFamilies.delete(afi);
          this.rib(afi).removeSource(peer.source, true, (key) => this.changed(afi, key));
        }
      }
    }
    void this.dumpAll(peer);
  }

  private onDown(peer: Peer, retain: boolean, restartTime: number): void {
    this.clearAttributeCache(peer);
    for (const out of peer.out.values()) this.releaseOut(out);
    peer.out.clear();
    peer.pending.clear();
    for (const [afi, rib] of this.ribs) {
      if (rib.pathsFrom(peer.source) === 0) continue;
      if (retain) {
        const marked = rib.markStale(peer.source);
        peer.staleFamilies.add(afi);
        this.log('info', `${peer.session.name}: graceful restart helper: keeping ${marked} ${FAMILY_OF_AFI[afi]} routes stale for up to ${restartTime}s`);
      } else {
        rib.removeSource(peer.source, false, (key) => this.changed(afi, key));
      }
    }
    if (retain && peer.staleFamilies.size > 0) {
      if (peer.staleTimer) clearTimeout(peer.staleTimer);
      peer.staleTimer = setTimeout(() => this.expireStale(peer), Math.max(1, restartTime) * 1000);
      peer.staleTimer.unref();
    }
  }

  private expireStale(peer: Peer): void {
    peer.staleTimer = null;
    for (const afi of peer.staleFamilies) {
      const removed = this.rib(afi).removeSource(peer.source, true, (key) => this.changed(afi, key));
      this.log('warn', `${peer.session.name}: restart time expired, ${removed} stale ${FAMILY_OF_AFI[afi]} routes removed`);
    }
    peer.staleFamilies.clear();
  }

  private onRouteRefresh(peer: Peer, message: RouteRefreshMessage): void {
    if (message.subtype !== 0) return; // BoRR/EoRR from the peer: its own re-advertisement markers
    const family = familyKey(message.afi, message.safi);
    const negotiated = peer.session.negotiated!;
    if (!negotiated.families.includes(family)) {
      this.log('warn', `${peer.session.name}: ROUTE-REFRESH for ${family}, which was not negotiated: ignored`);
      return;
    }
    peer.routeRefreshesReceived += 1;
    this.log('info', `${peer.session.name}: ROUTE-REFRESH for ${family}: sending the Adj-RIB-Out again`);
    const out = peer.out.get(message.afi);
    if (out) this.releaseOut(out);
    peer.out.delete(message.afi);
    void this.dumpFamily(peer, message.afi, negotiated.enhancedRouteRefresh).then(() => this.guarded(peer, () => this.flush(peer)));
  }

  // --- sending -----------------------------------------------------------------------------

  private othersEstablished(except: Peer): boolean {
    return this.peers.some((p) => p !== except && p.session.established !== null);
  }

  /** Records that a prefix's paths changed, for every established peer that may need it. */
  private changed(afi: number, key: number): void {
    let any = false;
    for (const peer of this.peers) {
      if (peer.session.established === null) continue;
      let set = peer.pending.get(afi);
      if (!set) peer.pending.set(afi, (set = new Set()));
      set.add(key);
      any = true;
    }
    if (any) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      for (const peer of this.peers) if (!peer.dumping) this.guarded(peer, () => this.flush(peer));
    }, this.config.mraiMs);
  }

  /** An encoding failure toward one peer resets that session; it never takes the speaker down. */
  private guarded(peer: Peer, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log('error', `${peer.session.name}: cannot send updates: ${(err as Error).message}`);
      peer.session.reset({ code: ErrorCode.CEASE, subcode: CeaseSubcode.OUT_OF_RESOURCES }, `cannot send updates: ${(err as Error).message}`);
    }
  }

  private flush(peer: Peer): void {
    const connection = peer.session.established;
    if (!connection) return;
    for (const [afi, keys] of peer.pending) {
      if (!this.carries(peer, afi)) continue;
      this.sendChanges(peer, afi, [...keys]);
    }
    peer.pending.clear();
  }

  private carries(peer: Peer, afi: number): boolean {
    return peer.session.negotiated?.families.includes(familyKey(afi, SAFI_UNICAST)) === true && !peer.disabled.has(afi);
  }

  private addPathSend(peer: Peer, afi: number): boolean {
    return peer.session.negotiated?.sendContext.addPath?.has(familyKey(afi, SAFI_UNICAST)) ?? false;
  }

  private async dumpAll(peer: Peer): Promise<void> {
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
      const keys = this.rib(afi).sortedPrefixKeys();
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
  private sendChanges(peer: Peer, afi: number, keys: number[]): void {
    const connection = peer.session.established!;
    const negotiated = peer.session.negotiated!;
    let out = peer.out.get(afi);
    if (!out) peer.out.set(afi, (out = new AdjRibOut()));
    const addPath = this.addPathSend(peer, afi);
    const announce = new Map<number, Route[]>();
    const withdrawn: Route[] = [];
    const exportCache = new Map<number, number>();
    for (const key of keys) {
      const prefix = this.prefixOf(afi, key);
      const desired = this.desiredPaths(peer, afi, key, prefix, addPath, exportCache);
      if (!addPath) {
        const current = out.single.get(key);
        const want = desired.length > 0 ? desired[0]!.attrId : -1;
        if (current === want) {
          if (want >= 0) this.store.release(want);
          continue;
        }
        if (current >= 0) {
          this.store.release(current);
          out.count -= 1;
        }
        if (want >= 0) {
          out.single.set(key, want);
          out.count += 1;
          let list = announce.get(want);
          if (!list) announce.set(want, (list = []));
          list.push({ prefix });
        } else {
          out.single.delete(key);
          withdrawn.push({ prefix });
        }
        continue;
      }
      const current = out.multi.get(key) ?? new Map<number, number>();
      const next = new Map<number, number>();
      for (const { pathId, attrId } of desired) {
        next.set(pathId, attrId);
        if (current.get(pathId) === attrId) {
          this.store.release(attrId);
          continue;
        }
        let list = announce.get(attrId);
        if (!list) announce.set(attrId, (list = []));
        list.push({ prefix, pathId });
      }
      for (const [pathId, attrId] of current) {
        this.store.release(attrId);
        if (!next.has(pathId)) withdrawn.push({ prefix, pathId });
      }
      // The ids in `next` keep the references taken by desiredPaths.
      for (const [pathId, attrId] of next) if (current.get(pathId) === attrId) this.store.retain(attrId);
      out.count += next.size - current.size;
      if (next.size > 0) out.multi.set(key, next);
      else out.multi.delete(key);
    }
    for (const id of exportCache.values()) this.store.release(id);
    const ctx = negotiated.sendContext;
    const messages: Uint8Array[] = [];
    if (withdrawn.length > 0) messages.push(...encodeUpdates({ withdrawn, attributes: {}, nlri: [] }, ctx));
    for (const [attrId, routes] of announce) {
      messages.push(...encodeUpdates({ withdrawn: [], attributes: this.wireAttributes(afi, attrId, negotiated.extendedNextHop), nlri: routes }, ctx));
    }
    peer.session.counters.updatesOut += messages.length;
    connection.writeMany(messages);
  }

  /** The paths this peer should hold for a prefix: [{pathId, attrId}] with one reference each. */
  private desiredPaths(
    peer: Peer,
    afi: number,
    key: number,
    prefix: string,
    addPath: boolean,
    exportCache: Map<number, number>,
  ): Array<{ pathId: number; attrId: number }> {
    const rib = this.rib(afi);
    const paths = addPath ? rib.sortedPaths(key) : rib.bestPath(key) >= 0 ? [rib.bestPath(key)] : [];
    const limit = addPath && peer.config.addPathSendMax > 0 ? peer.config.addPathSendMax : Infinity;
    const result: Array<{ pathId: number; attrId: number }> = [];
    const perPrefix = dependsOnPrefix(peer.exportPolicy);
    for (const path of paths) {
      if (result.length >= limit) break;
      const source = rib.pathSource(path);
      if (source === peer.source) continue;
      if (source !== LOCAL_SOURCE && !peer.session.ebgp && !this.sources.get(source).ebgp) continue; // iBGP split horizon
      const attrId = rib.pathAttributes(path);
      let outId = perPrefix ? undefined : exportCache.get(attrId);
      if (outId === undefined) {
        const exported = this.exportAttributes(peer, afi, this.store.get(attrId), source === LOCAL_SOURCE, prefix);
        outId = exported ? this.store.intern(exported) : -1;
        if (!perPrefix) exportCache.set(attrId, outId);
        else if (outId >= 0) {
          result.push({ pathId: path + 1, attrId: outId });
          continue;
        }
      }
      if (outId < 0) continue;
      this.store.retain(outId);
      // Path ids we send are our path numbers + 1: stable while the path lives.
      result.push({ pathId: path + 1, attrId: outId });
    }
    return result;
  }

  private policyContext(peer: Peer, afi: number): PolicyContext {
    return { localAs: this.config.localAs, selfNextHop: this.selfNextHop(peer, afi) };
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
  private exportAttributes(peer: Peer, afi: number, attrs: RouteAttributes, local: boolean, prefix: string): RouteAttributes | null {
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
    if (peer.session.ebgp) {
      const path = attrs.asPath ?? [];
      const first = path[0];
      out.asPath =
        first && first.type === 'sequence' && first.asns.length < 255
          ? [{ type: 'sequence', asns: [this.config.localAs, ...first.asns] }, ...path.slice(1)]
          : [{ type: 'sequence', asns: [this.config.localAs] }, ...path];
      delete out.localPref;
      if (!local) delete out.med; // MED is not passed on to other ASes (RFC 4271 5.1.4)
      delete out.originatorId;
      delete out.clusterList;
    } else {
      out.localPref = attrs.localPref ?? 100;
      out.asPath = attrs.asPath ?? [];
    }
    out.origin = attrs.origin ?? 'igp';
    return evaluatePolicy(peer.exportPolicy, prefix, out, this.policyContext(peer, afi));
  }

  private readonly warned = new Set<string>();

  private warnOnce(peer: Peer, message: string): void {
    const key = `${peer.config.name} ${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log('warn', `${peer.session.name}: ${message}`);
  }

  private wireAttributes(afi: number, attrId: number, extendedNextHop: boolean): PathAttributes {
    const { nextHop, nextHopLinkLocal, ...rest } = this.store.get(attrId);
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

  private releaseOut(out: AdjRibOut): void {
    for (const key of out.single.keySnapshot()) this.store.release(out.single.get(key));
    for (const paths of out.multi.values()) for (const id of paths.values()) this.store.release(id);
  }

  // --- views for the status API ------------------------------------------------------------

  advertisedRoutes(peer: Peer, limit = Infinity): AdvertisedRoute[] {
    const routes: AdvertisedRoute[] = [];
    if (limit <= 0) return routes;
    for (const [afi, out] of peer.out) {
      for (const key of out.single.keySnapshot()) {
        if (routes.length >= limit) return routes;
        routes.push(this.describe(this.prefixOf(afi, key), out.single.get(key)));
      }
      for (const [key, paths] of out.multi) {
        for (const [pathId, id] of paths) {
          if (routes.length >= limit) return routes;
          routes.push({ ...this.describe(this.prefixOf(afi, key), id), pathId });
        }
      }
    }
    return routes;
  }

  receivedRoutes(peer: Peer, limit = Infinity): AdvertisedRoute[] {
    const routes: AdvertisedRoute[] = [];
    if (limit <= 0) return routes;
    for (const [afi, rib] of this.ribs) {
      if (rib.pathsFrom(peer.source) === 0) continue;
      rib.forEachPrefix((key) => {
        for (const path of rib.sortedPaths(key)) {
          if (routes.length >= limit || rib.pathSource(path) !== peer.source) continue;
          const route = this.describe(this.prefixOf(afi, key), rib.pathAttributes(path));
          if (this.addPathReceived(peer, afi)) route.pathId = rib.pathIdOf(path);
          routes.push(route);
        }
      });
    }
    return routes;
  }

  private addPathReceived(peer: Peer, afi: number): boolean {
    return peer.session.negotiated?.receiveContext.addPath?.has(familyKey(afi, SAFI_UNICAST)) ?? false;
  }

  private describe(prefix: string, attrId: number): AdvertisedRoute {
    const a = this.store.get(attrId);
    const route: AdvertisedRoute = { prefix };
    if (a.nextHop) route.nextHop = a.nextHop;
    route.asPath = (a.asPath ?? []).map((s) => (s.type === 'set' ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
    if (a.med !== undefined) route.med = a.med;
    if (a.localPref !== undefined) route.localPref = a.localPref;
    if (a.communities) route.communities = a.communities;
    if (a.largeCommunities) route.largeCommunities = a.largeCommunities;
    return route;
  }
}

export type { Peer as SpeakerPeer };
