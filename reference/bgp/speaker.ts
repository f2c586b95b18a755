// The speaker: peers (session.ts) feed the RIB (rib.ts) through import policy (ingest.ts), the
// RIB's changes go out to every other established peer through export policy as packed UPDATEs
// (export.ts: Adj-RIB-Out per peer, MRAI batching, End-of-RIB, route refresh), and sessions
// that go down keep or drop their routes by graceful restart (graceful-restart.ts). This file
// owns the peers, the RIBs, local routes and the lifecycle.
import net from 'node:net';
import { AttributeStore, type RouteAttributes } from './attributes.ts';
import type { SpeakerConfig, StaticRoute } from './config.ts';
import { Exporter } from './export.ts';
import { RestartHandler } from './graceful-restart.ts';
import { Ingest, primePackedIngest } from './ingest.ts';
import { Ipv6PrefixIds, ipv4Key, ipv4KeyToPrefix, parseIpv4 } from './prefix.ts';
import { FamilyRib, LOCAL_SOURCE, SourceRegistry } from './rib.ts';
import { advertisedRoutes, receivedRoutes, type AdvertisedRoute } from './route-views.ts';
import { PeerSession, type SessionHooks } from './session.ts';
import { normaliseAddress, type Logger, type Peer } from './speaker-peer.ts';
import { TtlControl, configuredTtl, kernelDefaultTtl, type TtlRule } from './ttl.ts';
import { CeaseSubcode, ErrorCode } from './wire/errors.ts';
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, encodeMessage } from './wire/index.ts';

export type { AdvertisedRoute, Logger };

export class Speaker {
  readonly store = new AttributeStore();
  readonly sources = new SourceRegistry();
  readonly ribs = new Map<number, FamilyRib>();
  readonly ipv6Ids = new Ipv6PrefixIds();
  readonly peers: Peer[] = [];
  readonly ingest = new Ingest(this);
  readonly exporter = new Exporter(this);
  readonly restart = new RestartHandler(this);
  readonly startedAt = Date.now();
  private server: net.Server | null = null;
  private stoppedFlag = false;
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
      established: (s) => this.restart.onEstablished(this.peerOf(s)),
      update: (s, frame) => this.ingest.onUpdate(this.peerOf(s), frame),
      routeRefresh: (s, m) => this.exporter.onRouteRefresh(this.peerOf(s), m),
      down: (s, _reason, retain, negotiated) => this.restart.onDown(this.peerOf(s), retain, negotiated.peerGracefulRestart?.restartTime ?? 0),
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
        refreshing: new Set(),
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
    if (this.stoppedFlag) return;
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
    this.stoppedFlag = true;
    this.exporter.stop();
    const sessionsClosed = this.peers.map((peer) => {
      if (peer.staleTimer) clearTimeout(peer.staleTimer);
      return peer.session.stop(graceful);
    });
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await Promise.all(sessionsClosed);
    await this.ttlControl.remove();
  }

  get stopped(): boolean {
    return this.stoppedFlag;
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
    if (this.rib(route.afi).update(key, LOCAL_SOURCE, localPathId, id)) this.exporter.changed(route.afi, key);
    this.store.release(id);
  }

  withdrawLocal(afi: number, prefix: string, localPathId = 0): void {
    const key = this.keyOf(afi, prefix);
    if (this.rib(afi).withdraw(key, LOCAL_SOURCE, localPathId)) this.exporter.changed(afi, key);
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
    if (!peer || this.stoppedFlag) {
      this.log('warn', `refused connection from ${remote}:${socket.remotePort}: not a configured peer`);
      socket.on('error', () => undefined);
      socket.end(encodeMessage({ type: 'NOTIFICATION', code: ErrorCode.CEASE, subcode: CeaseSubcode.CONNECTION_REJECTED, data: '' }));
      setTimeout(() => socket.destroy(), 200).unref();
      return;
    }
    peer.session.accept(socket);
  }

  // --- views for the status API ------------------------------------------------------------

  advertisedRoutes(peer: Peer, limit = Infinity): AdvertisedRoute[] {
    return advertisedRoutes(this, peer, limit);
  }

  receivedRoutes(peer: Peer, limit = Infinity): AdvertisedRoute[] {
    return receivedRoutes(this, peer, limit);
  }
}

export type { Peer as SpeakerPeer };
