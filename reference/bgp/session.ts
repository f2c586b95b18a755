// One configured peer: its TCP connections (outbound and inbound, with collision detection),
// the OPEN exchange and capability negotiation, keepalives and NOTIFICATIONs. UPDATE and
// ROUTE-REFRESH frames are handed to the speaker, which owns the routes.
import net from 'node:net';
import type { PeerConfig, FamilyName } from './config.ts';
import { FAMILIES } from './config.ts';
import {
  ConnectionFsm,
  PeerFsm,
  realScheduler,
  resolveCollision,
  type BgpState,
  type Notification,
  type Scheduler,
} from './fsm.ts';
import { BgpError, decodeMessage, directionContext, encodeMessage, messageLengthAt } from './wire/index.ts';
import { CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode } from './wire/errors.ts';
import { classifyHeader, commonFamilies, negotiateHoldTime, validateOpen } from './wire/validate.ts';
import {
  AS_TRANS,
  type AddPathMode,
  type Capability,
  type CodecContext,
  type OpenMessage,
  type RouteRefreshMessage,
} from './wire/types.ts';

export interface SpeakerIdentity {
  routerId: string;
  localAs: number;
  gracefulRestart: { enabled: boolean; restartTime: number; restarting: boolean };
}

/** What both sides agreed in the OPEN exchange of the established connection. */
export interface Negotiated {
  localOpen: OpenMessage;
  peerOpen: OpenMessage;
  holdTime: number;
  as4: boolean;
  /** familyKey strings of the families both sides carry. */
  families: string[];
  /** How we decode the peer's messages and encode ours. */
  receiveContext: CodecContext;
  sendContext: CodecContext;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, when it offered one. */
  peerGracefulRestart: Extract<Capability, { code: 64 }> | null;
  localGracefulRestart: boolean;
  extendedNextHop: boolean;
}

export interface SessionHooks {
  established(session: PeerSession): void;
  /** A whole UPDATE frame (header included); valid only during the call. */
  update(session: PeerSession, frame: Uint8Array): void;
  routeRefresh(session: PeerSession, message: RouteRefreshMessage): void;
  /**
   * The established session ended. retainRoutes: graceful restart helper applies; `negotiated`
   * is what the ended session had agreed (the peer's restart time among it).
   */
  down(session: PeerSession, reason: string, retainRoutes: boolean, negotiated: Negotiated): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  establishedTransitions: number;
}

const EMPTY = new Uint8Array(0);


/** One TCP connection and its OpenSent / OpenConfirm / Established state machine. */
export class Connection {
  readonly fsm: ConnectionFsm;
  peerOpen: OpenMessage | null = null;
  negotiated: Negotiated | null = null;
  private leftover: Uint8Array = EMPTY;
  private closed = false;
  /** Resolves once the socket is gone (after our NOTIFICATION left, or the peer closed). */
  readonly gone: Promise<void>;

  constructor(
    readonly session: PeerSession,
    readonly socket: net.Socket,
    readonly direction: 'outbound' | 'inbound',
    scheduler: Scheduler,
  ) {
    this.fsm = new ConnectionFsm(
      {
        sendOpen: () => this.write(encodeMessage(session.localOpen())),
        sendKeepalive: () => this.write(encodeMessage({ type: 'KEEPALIVE' })),
        sendNotification: (n) => this.sendNotification(n),
        close: () => this.close(),
        state: (state) => session.connectionState(this, state),
      },
      scheduler,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fsm.tcpClosed(`TCP error: ${err.message}`));
    socket.on('close', () => this.fsm.tcpClosed('TCP connection closed by peer'));
    this.gone = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '';
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.session.counters.messagesOut += 1;
    return this.socket.write(bytes);
  }

  /** Writes several messages as one chunk, and reports when the socket wants us to pause. */
  writeMany(messages: Uint8Array[]): boolean {
    if (this.closed || messages.length === 0) return !this.closed;
    this.session.counters.messagesOut += messages.length;
    return this.socket.write(messages.length === 1 ? messages[0]! : Buffer.concat(messages));
  }

  sendNotification(n: Notification): void {
    this.write(encodeMessage({ type: 'NOTIFICATION', code: n.code, subcode: n.subcode, data: Buffer.from(n.data ?? EMPTY).toString('hex') }));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    // Give the NOTIFICATION a moment to leave, then make sure the socket is gone.
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  private receive(chunk: Buffer): void {
    const bytes: Uint8Array = this.leftover.length > 0 ? Buffer.concat([this.leftover, chunk]) : chunk;
    let offset = 0;
    while (!this.closed && bytes.length - offset >= 19) {
      const length = messageLengthAt(bytes, offset);
      if (length === null) {
        this.headerError(bytes.subarray(offset));
        return;
      }
      if (bytes.length - offset < length) break;
      const frame = bytes.subarray(offset, offset + length);
      offset += length;
      this.session.counters.messagesIn += 1;
      try {
        this.dispatch(frame);
      } catch (err) {
        if (err instanceof BgpError) this.fsm.error({ code: err.code, subcode: err.subcode, data: err.data }, err.message);
        else {
          this.session.hooks.log('error', `${this.session.name}: internal error on a ${frame[18]} message: ${(err as Error).stack}`);
          this.fsm.error({ code: ErrorCode.CEASE, subcode: CeaseSubcode.OUT_OF_RESOURCES }, `internal error: ${(err as Error).message}`);
        }
      }
    }
    this.leftover = offset < bytes.length ? bytes.slice(offset) : EMPTY;
  }

  private headerError(bytes: Uint8Array): void {
    const { reason, ...notification } = classifyHeader(bytes);
    this.fsm.error(notification, reason);
  }

  private dispatch(frame: Uint8Array): void {
    const type = frame[18];
    if (type === 2) {
      if (this.fsm.updateReceived()) {
        this.session.counters.updatesIn += 1;
        this.session.hooks.update(this.session, frame);
      }
      return;
    }
    const message = decodeMessage(frame, this.negotiated?.receiveContext);
    switch (message.type) {
      case 'OPEN':
        if (this.fsm.state !== 'OpenSent') {
          const subcode = this.fsm.state === 'OpenConfirm' ? FsmSubcode.OPEN_CONFIRM : FsmSubcode.ESTABLISHED;
          this.fsm.error({ code: ErrorCode.FSM, subcode, data: new Uint8Array([1]) }, `FSM error: OPEN in ${this.fsm.state}`);
          return;
        }
        this.session.openReceived(this, message);
        return;
      case 'KEEPALIVE':
        this.fsm.keepaliveReceived();
        return;
      case 'NOTIFICATION': {
        const reason = `NOTIFICATION received: ${message.code}/${message.subcode}${message.data ? ` data ${message.data}` : ''}`;
        this.session.hooks.log('warn', `${this.session.name}: ${reason}`);
        this.session.lastNotificationReceived = { code: message.code, subcode: message.subcode, data: message.data };
        this.fsm.notificationReceived(reason, message.code === ErrorCode.OPEN && message.subcode === 1);
        return;
      }
      case 'ROUTE-REFRESH':
        if (this.fsm.updateReceived('ROUTE-REFRESH')) this.session.hooks.routeRefresh(this.session, message);
        return;
      default:
        this.fsm.error({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_TYPE, data: new Uint8Array([type!]) }, `header: bad message type ${type}`);
    }
  }
}

/** The configured peer: reconnects with backoff, owns at most one established connection. */
export class PeerSession {
  readonly counters: SessionCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, establishedTransitions: 0 };
  readonly connections = new Set<Connection>();
  established: Connection | null = null;
  establishedAt = 0;
  lastError: string | null = null;
  lastNotificationReceived: { code: number; subcode: number; data: string } | null = null;
  readonly fsm: PeerFsm;
  private stopping = false;

  constructor(
    readonly config: PeerConfig,
    readonly identity: SpeakerIdentity,
    readonly hooks: SessionHooks,
    private readonly scheduler: Scheduler = realScheduler,
  ) {
    this.fsm = new PeerFsm(
      { passive: config.passive, connectRetryMs: config.connectRetry * 1000, idleHoldBaseMs: 1000, idleHoldMaxMs: 60_000 },
      { connect: () => this.connect(), state: () => undefined },
      scheduler,
    );
  }

  get name(): string {
    return `peer ${this.config.name}`;
  }

  get ebgp(): boolean {
    return this.config.asn !== this.identity.localAs;
  }

  get negotiated(): Negotiated | null {
    return this.established?.negotiated ?? null;
  }

  /** The most advanced state of any connection, else the peer FSM's. */
  get state(): BgpState {
    const order: BgpState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
    let best: BgpState = this.fsm.state;
    for (const c of this.connections) if (order.indexOf(c.fsm.state) > order.indexOf(best)) best = c.fsm.state;
    return best;
  }

  start(): void {
    this.stopping = false;
    this.fsm.manualStart();
  }

  /**
   * Ends the session. graceful: drop TCP without NOTIFICATION so a GR peer keeps our routes.
   * Resolves when every connection's socket is closed (the Cease has left).
   */
  stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    this.fsm.manualStop();
    const connections = [...this.connections];
    for (const c of connections) {
      if (graceful && c.negotiated?.peerGracefulRestart) c.fsm.drop('graceful restart: speaker stopping');
      else c.fsm.error({ code: ErrorCode.CEASE, subcode: CeaseSubcode.ADMIN_SHUTDOWN }, 'administrative shutdown');
    }
    return Promise.all(connections.map((c) => c.gone)).then(() => undefined);
  }

  /** Resets the established session with a NOTIFICATION (UPDATE errors, maximum prefixes). */
  reset(notification: Notification, reason: string): void {
    this.established?.fsm.error(notification, reason);
  }

  accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.adopt(socket, 'inbound');
  }

  localOpen(): OpenMessage {
    const { localAs, routerId, gracefulRestart } = this.identity;
    const families = this.config.families.map((name) => FAMILIES[name]);
    const capabilities: Capability[] = families.map((f) => ({ code: 1, name: 'multiprotocol', afi: f.afi, safi: f.safi }));
    capabilities.push({ code: 2, name: 'route-refresh' }, { code: 70, name: 'enhanced-route-refresh' }, { code: 65, name: 'as4', asn: localAs });
    const addPath = Object.entries(this.config.addPath) as Array<[FamilyName, AddPathMode]>;
    if (addPath.length > 0) {
      capabilities.push({ code: 69, name: 'add-path', entries: addPath.map(([name, mode]) => ({ ...FAMILIES[name], mode })) });
    }
    if (this.config.gracefulRestart && gracefulRestart.enabled) {
      capabilities.push({
        code: 64,
        name: 'graceful-restart',
        restarting: gracefulRestart.restarting,
        notification: false,
        restartTime: gracefulRestart.restartTime,
        families: families.map((f) => ({ ...f, forwardingState: false })),
      });
    }
    if (this.config.extendedNextHop) {
      capabilities.push({ code: 5, name: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
    }
    return {
      type: 'OPEN',
      version: 4,
      myAs: localAs > 65535 ? AS_TRANS : localAs,
      holdTime: this.config.holdTime,
      bgpId: routerId,
      as4: localAs,
      capabilities,
    };
  }

  /** Validates the peer's OPEN, resolves collisions, and moves the connection to OpenConfirm. */
  openReceived(connection: Connection, open: OpenMessage): void {
    const problem = this.checkOpen(open);
    if (problem) {
      connection.fsm.error(problem.notification, problem.reason);
      return;
    }
    for (const other of this.connections) {
      if (other === connection || (other.fsm.state !== 'OpenConfirm' && other.fsm.state !== 'Established')) continue;
      if (other.fsm.state === 'Established') {
        if (other.negotiated?.peerGracefulRestart && open.capabilities.some((c) => c.code === 64)) {
          // RFC 4724 4.2: a new connection from a restarting peer replaces the old session.
          other.fsm.drop('peer restarted (graceful restart): new connection replaces the session');
          continue;
        }
        connection.fsm.error({ code: ErrorCode.CEASE, subcode: CeaseSubcode.COLLISION_RESOLUTION }, 'connection collision: session already established');
        return;
      }
      const keep = resolveCollision(this.identity.routerId, open.bgpId);
      const loser = (keep === 'locally-initiated') === (connection.direction === 'outbound') ? other : connection;
      loser.fsm.error({ code: ErrorCode.CEASE, subcode: CeaseSubcode.COLLISION_RESOLUTION }, `connection collision resolved (${keep} kept)`);
      if (loser === connection) return;
    }
    connection.peerOpen = open;
    connection.negotiated = this.negotiate(this.localOpen(), open);
    connection.fsm.openReceived(connection.negotiated.holdTime);
  }

  connectionState(connection: Connection, state: 'OpenSent' | 'OpenConfirm' | 'Established' | 'Idle'): void {
    if (state === 'OpenSent') this.fsm.connectionUp();
    if (state === 'Established') {
      for (const other of this.connections) {
        if (other !== connection) other.fsm.error({ code: ErrorCode.CEASE, subcode: CeaseSubcode.COLLISION_RESOLUTION }, 'connection collision: other connection established');
      }
      this.established = connection;
      this.establishedAt = Date.now();
      this.counters.establishedTransitions += 1;
      this.fsm.established();
      const n = connection.negotiated!;
      this.hooks.log('info', `${this.name}: Established (local ${connection.localAddress} AS ${this.identity.localAs}, peer AS ${this.config.asn} id ${n.peerOpen.bgpId}, hold ${n.holdTime}s, families ${n.families.join(' ')}${n.as4 ? ', 4-octet AS' : ', 2-octet AS peer'})`);
      this.hooks.established(this);
    }
    if (state !== 'Idle') return;
    this.connections.delete(connection);
    if (connection.fsm.lastError) this.lastError = connection.fsm.lastError;
    if (this.established === connection) {
      this.established = null;
      // RFC 4724 4.2: routes are kept stale when the TCP connection fails without a NOTIFICATION.
      const reason = connection.fsm.lastError ?? '';
      const retain = !!connection.negotiated?.peerGracefulRestart && (reason.startsWith('TCP') || reason.startsWith('peer restarted'));
      this.hooks.log('warn', `${this.name}: session down: ${connection.fsm.lastError}${retain ? ' (keeping routes stale: graceful restart)' : ''}`);
      this.hooks.down(this, connection.fsm.lastError ?? 'down', retain, connection.negotiated!);
    } else {
      this.hooks.log('info', `${this.name}: ${connection.direction} connection ended before Established: ${connection.fsm.lastError ?? 'closed'}`);
    }
    if (this.connections.size === 0) this.fsm.connectionDown(!this.stopping);
  }

  private connect(): void {
    const socket = net.connect({
      host: this.config.address,
      port: this.config.port,
      localAddress: this.config.localAddress,
      localPort: this.config.localPort,
    });
    const onError = (err: Error): void => {
      // An inbound connection may have come up meanwhile: then this attempt simply ends.
      if (this.connections.size > 0) return;
      this.hooks.log('info', `${this.name}: connect to ${this.config.address}:${this.config.port} failed: ${err.message}`);
      this.lastError = `connect failed: ${err.message}`;
      this.fsm.connectFailed();
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (this.stopping || this.established) {
        socket.destroy();
        return;
      }
      this.adopt(socket, 'outbound');
    });
  }

  private adopt(socket: net.Socket, direction: 'outbound' | 'inbound'): void {
    const connection = new Connection(this, socket, direction, this.scheduler);
    this.connections.add(connection);
    connection.fsm.tcpConnected();
  }

  private checkOpen(open: OpenMessage): { notification: Notification; reason: string } | null {
    const refusal = validateOpen(open, {
      peerAs: this.config.asn,
      ebgp: this.ebgp,
      localRouterId: this.identity.routerId,
      localHoldTime: this.config.holdTime,
      localFamilies: this.config.families.map((name) => ({ ...FAMILIES[name], name })),
    });
    if (!refusal) return null;
    const { reason, ...notification } = refusal;
    return { notification, reason };
  }

  private commonFamilies(open: OpenMessage): string[] {
    return commonFamilies(open, this.config.families.map((name) => FAMILIES[name]));
  }

  private negotiate(localOpen: OpenMessage, peerOpen: OpenMessage): Negotiated {
    const has = (code: number): boolean => peerOpen.capabilities.some((c) => c.code === code);
    const peerGr = peerOpen.capabilities.find((c) => c.code === 64) as Extract<Capability, { code: 64 }> | undefined;
    const ourGr = localOpen.capabilities.some((c) => c.code === 64);
    return {
      localOpen,
      peerOpen,
      holdTime: negotiateHoldTime(this.config.holdTime, peerOpen.holdTime)!,
      as4: peerOpen.as4 !== null,
      families: this.commonFamilies(peerOpen),
      receiveContext: directionContext(peerOpen, localOpen),
      sendContext: directionContext(localOpen, peerOpen),
      routeRefresh: has(2),
      enhancedRouteRefresh: has(70),
      peerGracefulRestart: ourGr && peerGr ? peerGr : null,
      localGracefulRestart: ourGr && !!peerGr,
      extendedNextHop: this.config.extendedNextHop && has(5),
    };
  }
}
