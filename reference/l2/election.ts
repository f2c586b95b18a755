// Leader election on one lease, first come first served as Cilium's L2 announcements do: the
// first candidate to write the lease holds it while it keeps renewing; another candidate takes
// over only once renewTime + leaseDuration has passed.
import type { FileLeaseStore, LeaseSpec, VersionedLease } from './lease-store.ts';

export interface ElectionTiming {
  /** How long a lease stays valid after its last renewal. */
  leaseDurationMs: number;
  /** How often the holder renews. Must be well below the duration. */
  renewIntervalMs: number;
  /** How often a candidate that does not hold the lease looks again. */
  retryIntervalMs: number;
}

/**
 * Chosen for sub-second failover in the lab: a dead holder's lease runs out at most 600 ms after
 * its last renewal and a candidate notices within 100 ms. Three renewals fit in one duration,
 * so a holder survives two missed renewals (a loaded machine) before anyone may take over.
 */
export const FAST_FAILOVER_TIMING: ElectionTiming = { leaseDurationMs: 600, renewIntervalMs: 200, retryIntervalMs: 100 };

export interface ElectionState {
  leader: boolean;
  holder: string | null;
  /** Set when this step acquired the lease (first acquisition or a takeover). */
  acquired: boolean;
  /** Set when this step lost a lease that this candidate held. */
  lost: boolean;
}

export function validateTiming(timing: ElectionTiming): void {
  const { leaseDurationMs, renewIntervalMs, retryIntervalMs } = timing;
  for (const [field, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`election timing ${field} must be a positive number of milliseconds, got ${value}`);
  }
  if (renewIntervalMs >= leaseDurationMs) {
    throw new Error(`renew interval (${renewIntervalMs} ms) must be shorter than the lease duration (${leaseDurationMs} ms)`);
  }
  if (retryIntervalMs > leaseDurationMs) {
    throw new Error(`retry interval (${retryIntervalMs} ms) must not exceed the lease duration (${leaseDurationMs} ms)`);
  }
}

export class LeaderElector {
  /** Local time of the last renewal this candidate wrote; leadership ends one duration later at the latest. */
  private renewedAt = -Infinity;
  private wasLeader = false;

  constructor(
    private readonly store: FileLeaseStore,
    readonly leaseName: string,
    readonly identity: string,
    readonly timing: ElectionTiming,
    private readonly now: () => number = Date.now,
  ) {
    validateTiming(timing);
  }

  /** True while this candidate holds a lease it renewed less than one duration ago. */
  isLeader(): boolean {
    return this.wasLeader && this.now() < this.renewedAt + this.timing.leaseDurationMs;
  }

  /** One election step: acquire, renew or observe. A lost compare-and-swap means someone else wrote first. */
  step(): ElectionState {
    const current = this.store.read(this.leaseName);
    const now = this.now();
    const next = this.nextSpec(current, now);
    let holder = current?.lease.spec.holderIdentity ?? null;
    let leader = false;
    if (next && this.store.compareAndSwap(this.leaseName, current?.version ?? 0, next) !== null) {
      leader = true;
      holder = this.identity;
      this.renewedAt = now;
    } else if (next) {
      holder = this.store.read(this.leaseName)?.lease.spec.holderIdentity ?? null;
    }
    const state: ElectionState = { leader, holder, acquired: leader && !this.wasLeader, lost: !leader && this.wasLeader };
    this.wasLeader = leader;
    return state;
  }

  /** Gives the lease up so another candidate can take it at once (graceful shutdown). */
  release(): void {
    const current = this.store.read(this.leaseName);
    this.wasLeader = false;
    if (!current || current.lease.spec.holderIdentity !== this.identity) return;
    this.store.compareAndSwap(this.leaseName, current.version, {
      ...current.lease.spec,
      holderIdentity: null,
      renewTime: new Date(this.now()).toISOString(),
    });
  }

  /** The spec to write in this step, or null when the lease is validly held by someone else. */
  private nextSpec(current: VersionedLease | null, now: number): LeaseSpec | null {
    const stamp = new Date(now).toISOString();
    const durationSeconds = this.timing.leaseDurationMs / 1000;
    if (!current) {
      return { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 };
    }
    const spec = current.lease.spec;
    if (spec.holderIdentity === this.identity) {
      return { ...spec, leaseDurationSeconds: durationSeconds, renewTime: stamp };
    }
    const renewedAt = spec.renewTime === null ? -Infinity : Date.parse(spec.renewTime);
    const expired = spec.holderIdentity === null || now >= renewedAt + spec.leaseDurationSeconds * 1000;
    if (!expired) return null;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: spec.leaseTransitions + 1,
    };
  }
}
