// The BGP finite state machine of RFC 4271 section 8, split in two:
// - PeerFsm: Idle / Connect / Active for one configured peer, with the ConnectRetry timer and
//   the idle hold timer (exponential backoff after errors);
// - ConnectionFsm: OpenSent / OpenConfirm / Established for one TCP connection, with the Hold
//   and Keepalive timers and the error -> NOTIFICATION mapping.
// Both are pure: they get events, call back actions, and use an injected timer scheduler, so
// they are driven the same way by sockets and by tests. Collision detection (6.8) is a rule
// over two ConnectionFsms, in resolveCollision.

import { ErrorCode, FsmSubcode } from './wire/errors.ts';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface Scheduler {
  /** Runs fn after ms; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export const realScheduler: Scheduler = {
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

class Timer {
  private cancel: (() => void) | null = null;
  constructor(
    private readonly scheduler: Scheduler,
    private readonly onExpire: () => void,
  ) {}

  start(ms: number): void {
    this.stop();
    this.cancel = this.scheduler.after(ms, () => {
      this.cancel = null;
      this.onExpire();
    });
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  get running(): boolean {
    return this.cancel !== null;
  }
}

/** RFC 4271 4.2 / 10: hold time is the smaller offer; 0 disables keepalives; 1 and 2 are errors. */
export { negotiateHoldTime } from './wire/validate.ts';

export function keepaliveIntervalMs(holdTimeSeconds: number): number {
  return holdTimeSeconds === 0 ? 0 : Math.max(1, Math.floor(holdTimeSeconds / 3)) * 1000;
}

/** Idle hold time before the n-th automatic restart (n counts consecutive failures from 1). */
export function idleHoldMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 20));
}

export function bgpIdNumber(id: string): number {
  return id.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/**
 * RFC 4271 6.8: of two connections to the same peer, the one initiated by the speaker with the
 * higher BGP identifier survives. Returns which connection to keep.
 */
export function resolveCollision(localId: string, remoteId: string): 'locally-initiated' | 'remotely-initiated' {
  return bgpIdNumber(localId) > bgpIdNumber(remoteId) ? 'locally-initiated' : 'remotely-initiated';
}

// --- PeerFsm -------------------------------------------------------------------------------

export interface PeerFsmActions {
  connect(): void;
  state(state: 'Idle' | 'Connect' | 'Active'): void;
}

export interface PeerFsmOptions {
  passive: boolean;
  connectRetryMs: number;
  idleHoldBaseMs: number;
  idleHoldMaxMs: number;
}

export class PeerFsm {
  state: 'Idle' | 'Connect' | 'Active' = 'Idle';
  /** Consecutive failed sessions, drives the idle hold backoff. */
  failures = 0;
  private started = false;
  private readonly connectRetry: Timer;
  private readonly idleHold: Timer;

  constructor(
    private readonly options: PeerFsmOptions,
    private readonly actions: PeerFsmActions,
    scheduler: Scheduler = realScheduler,
  ) {
    this.connectRetry = new Timer(scheduler, () => this.onConnectRetryExpired());
    this.idleHold = new Timer(scheduler, () => this.begin());
  }

  get idleHoldRunning(): boolean {
    return this.idleHold.running;
  }

  manualStart(): void {
    this.started = true;
    this.begin();
  }

  manualStop(): void {
    this.started = false;
    this.connectRetry.stop();
    this.idleHold.stop();
    this.enter('Idle');
  }

  /** The outbound TCP connection could not be made. */
  connectFailed(): void {
    if (this.state === 'Connect') {
      this.connectRetry.start(this.options.connectRetryMs);
      this.enter('Active');
    }
  }

  /** A connection (either direction) reached OpenSent: this FSM waits until it ends. */
  connectionUp(): void {
    this.connectRetry.stop();
  }

  /** A session reached Established: the backoff starts again from zero. */
  established(): void {
    this.failures = 0;
  }

  /** The last connection ended; `error` counts toward the backoff. */
  connectionDown(error: boolean): void {
    this.connectRetry.stop();
    if (error) this.failures += 1;
    this.enter('Idle');
    if (!this.started) return;
    const delay = idleHoldMs(this.failures, this.options.idleHoldBaseMs, this.options.idleHoldMaxMs);
    this.idleHold.start(delay);
  }

  private begin(): void {
    if (!this.started) return;
    if (this.options.passive) {
      this.enter('Active');
      return;
    }
    this.connectRetry.start(this.options.connectRetryMs);
    this.enter('Connect');
    this.actions.connect();
  }

  private onConnectRetryExpired(): void {
    if (this.state === 'Connect' || this.state === 'Active') {
      this.connectRetry.start(this.options.connectRetryMs);
      this.enter('Connect');
      this.actions.connect();
    }
  }

  private enter(state: 'Idle' | 'Connect' | 'Active'): void {
    if (this.state === state) return;
    this.state = state;
    this.actions.state(state);
  }
}

// --- ConnectionFsm -------------------------------------------------------------------------

export interface Notification {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

export interface ConnectionFsmActions {
  sendOpen(): void;
  sendKeepalive(): void;
  sendNotification(n: Notification): void;
  /** Close the TCP connection (after any NOTIFICATION was written). */
  close(): void;
  state(state: 'OpenSent' | 'OpenConfirm' | 'Established' | 'Idle'): void;
}

/** RFC 4271 8.2.1.2: the hold timer while waiting for the OPEN ("a large value", 4 minutes). */
export const OPEN_HOLD_MS = 240_000;


export class ConnectionFsm {
  state: 'Idle' | 'OpenSent' | 'OpenConfirm' | 'Established' = 'Idle';
  holdTimeSeconds = 0;
  /** Why the connection ended, for status and logs. */
  lastError: string | null = null;
  private readonly hold: Timer;
  private readonly keepalive: Timer;

  constructor(
    private readonly actions: ConnectionFsmActions,
    scheduler: Scheduler = realScheduler,
  ) {
    this.hold = new Timer(scheduler, () => this.holdExpired());
    this.keepalive = new Timer(scheduler, () => this.keepaliveDue());
  }

  /** TCP is up (we connected, or we accepted): send our OPEN. */
  tcpConnected(): void {
    if (this.state !== 'Idle') return;
    this.actions.sendOpen();
    this.hold.start(OPEN_HOLD_MS);
    this.enter('OpenSent');
  }

  /** A valid OPEN arrived with this negotiated hold time. */
  openReceived(holdTimeSeconds: number): void {
    if (this.state !== 'OpenSent') return this.unexpected('OPEN');
    this.holdTimeSeconds = holdTimeSeconds;
    this.actions.sendKeepalive();
    this.restartHold();
    this.restartKeepalive();
    this.enter('OpenConfirm');
  }

  keepaliveReceived(): void {
    if (this.state === 'OpenConfirm') {
      this.restartHold();
      this.enter('Established');
    } else if (this.state === 'Established') this.restartHold();
    else if (this.state === 'OpenSent') this.unexpected('KEEPALIVE');
  }

  /** UPDATE or ROUTE-REFRESH: only valid when Established. */
  updateReceived(kind = 'UPDATE'): boolean {
    if (this.state !== 'Established') {
      this.unexpected(kind);
      return false;
    }
    this.restartHold();
    return true;
  }

  /** We found an error in what the peer sent: NOTIFICATION, close, Idle. */
  error(notification: Notification, reason: string): void {
    if (this.state === 'Idle') return;
    this.lastError = reason;
    this.actions.sendNotification(notification);
    this.down();
  }

  /**
   * RFC 4271 8.2.2: in OpenSent a NOTIFICATION other than a version error (Event 25, not 24) is
   * one of the "other events" answered with an FSM Error; elsewhere the connection just drops.
   */
  notificationReceived(reason: string, versionError = false): void {
    if (this.state === 'OpenSent' && !versionError) {
      this.unexpected('NOTIFICATION');
      return;
    }
    this.lastError = reason;
    this.down();
  }

  tcpClosed(reason: string): void {
    if (this.state === 'Idle') return;
    this.lastError = reason;
    this.down();
  }

  /** Close without a NOTIFICATION (graceful restart of this speaker). */
  drop(reason: string): void {
    this.lastError = reason;
    this.down();
  }

  private unexpected(message: string): void {
    const subcode = this.state === 'OpenSent' ? FsmSubcode.OPEN_SENT : this.state === 'OpenConfirm' ? FsmSubcode.OPEN_CONFIRM : FsmSubcode.ESTABLISHED;
    this.error({ code: ErrorCode.FSM, subcode, data: new Uint8Array([{ OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4 }[message] ?? 5]) }, `FSM error: ${message} in ${this.state}`);
  }

  private holdExpired(): void {
    this.error({ code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 }, 'hold timer expired');
  }

  private keepaliveDue(): void {
    if (this.state !== 'OpenConfirm' && this.state !== 'Established') return;
    this.actions.sendKeepalive();
    this.restartKeepalive();
  }

  private restartHold(): void {
    if (this.holdTimeSeconds > 0) this.hold.start(this.holdTimeSeconds * 1000);
    else this.hold.stop();
  }

  private restartKeepalive(): void {
    const interval = keepaliveIntervalMs(this.holdTimeSeconds);
    if (interval > 0) this.keepalive.start(interval);
  }

  private down(): void {
    this.hold.stop();
    this.keepalive.stop();
    this.actions.close();
    this.enter('Idle');
  }

  private enter(state: ConnectionFsm['state']): void {
    if (this.state === state) return;
    this.state = state;
    this.actions.state(state);
  }
}
