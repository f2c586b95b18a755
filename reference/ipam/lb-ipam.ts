import { parseCidr, parseIp, parseRange, rangesOverlap, familyBits, type IpFamily, type IpRange } from './address.ts';
import { AddressSpace } from './address-space.ts';
import { OffsetAllocator } from './offset-allocator.ts';
import { matchesSelector } from '../k8s/selectors.ts';
import type { ClusterService, LbPool } from '../k8s/model.ts';

// Load-balancer IPAM in the way Cilium's LB-IPAM and MetalLB behave: pools of CIDRs and
// ranges, service selectors, requested addresses, conflicting pools, exhaustion reported on
// the service, release on delete, and a snapshot that restores the same allocations.

/** What LB-IPAM needs to know of a service (a subset of ClusterService). */
export type LbServiceRequest = Pick<
  ClusterService,
  'key' | 'namespace' | 'labels' | 'ipFamilies' | 'requestedIPs' | 'requestedPools'
>;

export interface LbAllocation {
  address: string;
  pool: string;
}

export type LbConditionReason =
  | 'NoMatchingPool' // no enabled, non-conflicting pool selects the service (for this family)
  | 'PoolExhausted' // pools match but none has a free address
  | 'RequestedIPUnavailable' // asked-for address is taken by another service
  | 'RequestedIPOutsidePools'; // asked-for address is in no pool that selects the service

export interface LbCondition {
  reason: LbConditionReason;
  message: string;
}

export interface LbServiceStatus {
  service: string;
  addresses: LbAllocation[];
  conditions: LbCondition[];
}

export interface LbPoolStatus {
  name: string;
  conflicting: boolean;
  conflictsWith?: string;
  disabled: boolean;
  /** Usable addresses (capped at 2^53 for huge IPv6 pools). */
  capacity: number;
  used: number;
}

export interface LbIpamState {
  version: 1;
  allocations: Array<{ service: string; pool: string; address: string }>;
}

/** Owner recorded for addresses a pool must never hand out (MetalLB's buggy .0/.255). */
const RESERVED = '\u0000reserved';

/** An allocation as held internally: where it sits, so release needs no address parsing. */
interface Held {
  address: string;
  pool: string;
  family: PoolFamily;
  offset: number;
}

class PoolFamily {
  readonly allocator: OffsetAllocator<string>;
  constructor(
    readonly space: AddressSpace,
    private readonly avoidBuggyIPs: boolean,
  ) {
    this.allocator = new OffsetAllocator(space.size);
  }

  allocate(owner: string): number | null {
    for (;;) {
      const offset = this.allocator.allocate(owner);
      if (offset === null) return null;
      if (this.avoidBuggyIPs && this.space.family === 4) {
        const low = this.space.lowByteAt(offset);
        if (low === 0 || low === 255) {
          this.allocator.release(offset);
          this.allocator.claim(offset, RESERVED);
          continue;
        }
      }
      return offset;
    }
  }

  isBuggy(address: string): boolean {
    if (!this.avoidBuggyIPs || this.space.family !== 4) return false;
    const last = Number(address.slice(address.lastIndexOf('.') + 1));
    return last === 0 || last === 255;
  }
}

class Pool {
  readonly families = new Map<IpFamily, PoolFamily>();
  conflictsWith: string | undefined;
  readonly ranges: IpRange[] = [];

  constructor(readonly spec: LbPool) {
    this.selectsByIdentity = JSON.stringify(spec.serviceSelector).includes('io.kubernetes.service.');
    const byFamily = new Map<IpFamily, IpRange[]>();
    for (const block of spec.blocks) {
      const range = usableRange(block, spec.reserveFirstLast);
      this.ranges.push(range);
      if (range.first > range.last) continue; // a /31 reserved away entirely cannot happen, kept for safety
      const list = byFamily.get(range.family) ?? [];
      list.push(range);
      byFamily.set(range.family, list);
    }
    for (const [family, ranges] of byFamily) this.families.set(family, new PoolFamily(new AddressSpace(ranges), spec.avoidBuggyIPs));
  }

  get conflicting(): boolean {
    return this.conflictsWith !== undefined;
  }

  selects(service: LbServiceRequest): boolean {
    if (this.spec.namespaces.length > 0 && !this.spec.namespaces.includes(service.namespace)) return false;
    if (service.requestedPools.length > 0 && !service.requestedPools.includes(this.spec.name)) return false;
    return matchesSelector(this.spec.serviceSelector, this.selectsByIdentity ? withIdentityLabels(service) : service.labels);
  }

  /** Cilium lets a pool select by the service's namespace and name through two virtual labels. */
  private readonly selectsByIdentity: boolean;

  /** Pools that may keep an address they already handed to this service. */
  keeps(service: LbServiceRequest): boolean {
    return !this.conflicting && this.selects(service);
  }

  /** Pools that may hand a new address to this service. */
  offers(service: LbServiceRequest, explicitlyRequested: boolean): boolean {
    return this.keeps(service) && !this.spec.disabled && (this.spec.autoAssign || explicitlyRequested || service.requestedPools.length > 0);
  }
}

export class LbIpamError extends Error {}

function withIdentityLabels(service: LbServiceRequest): Record<string, string> {
  const name = service.key.slice(service.key.indexOf('/') + 1);
  return { ...service.labels, 'io.kubernetes.service.namespace': service.namespace, 'io.kubernetes.service.name': name };
}

function usableRange(block: string, reserveFirstLast: boolean): IpRange {
  const range = parseRange(block);
  if (!range) throw new LbIpamError(`pool block "${block}" is neither a CIDR nor an address range`);
  const cidr = block.includes('/') ? parseCidr(block.trim()) : null;
  if (cidr && reserveFirstLast && familyBits(cidr.family) - cidr.prefixLength > 1) {
    return { family: range.family, first: range.first + 1n, last: range.last - 1n };
  }
  return range;
}

export class LbIpam {
  private readonly pools: Pool[];
  private readonly poolsByName = new Map<string, Pool>();
  /** Per service: what it holds and the status of its last ensure (one map: one lookup per op). */
  private readonly records = new Map<string, { held: Held[]; status: LbServiceStatus | undefined }>();

  constructor(pools: LbPool[]) {
    this.pools = pools.map((spec) => new Pool(spec));
    for (const pool of this.pools) {
      if (this.poolsByName.has(pool.spec.name)) throw new LbIpamError(`two pools are named "${pool.spec.name}"`);
      this.poolsByName.set(pool.spec.name, pool);
    }
    markConflicts(this.pools);
  }

  /** A new IPAM with the pools given, holding the snapshot's allocations that are still valid. */
  static restore(pools: LbPool[], state: LbIpamState, services?: Iterable<LbServiceRequest>): LbIpam {
    const ipam = new LbIpam(pools);
    const wanted = services ? new Map([...services].map((s) => [s.key, s])) : null;
    for (const entry of state.allocations) {
      const pool = ipam.poolsByName.get(entry.pool);
      const service = wanted?.get(entry.service);
      if (!pool || pool.conflicting || (wanted && (!service || !pool.keeps(service)))) continue;
      const ip = parseIp(entry.address);
      const family = ip && pool.families.get(ip.family);
      const offset = family ? family.space.offsetOf(ip) : null;
      if (!family || offset === null || !family.allocator.claim(offset, entry.service)) continue;
      ipam.record(entry.service, { address: family.space.addressAt(offset), pool: entry.pool, family, offset });
    }
    return ipam;
  }

  private record(service: string, allocation: Held): void {
    const record = this.records.get(service);
    if (record) record.held.push(allocation);
    else this.records.set(service, { held: [allocation], status: undefined });
  }

  private releaseAllocation(service: string, allocation: Held): void {
    if (allocation.family.allocator.ownerOf(allocation.offset) === service) allocation.family.allocator.release(allocation.offset);
  }

  /** Gives the service its addresses (keeping the ones it holds when still valid). */
  ensure(service: LbServiceRequest): LbServiceStatus {
    const record = this.records.get(service.key);
    const held = record?.held ?? [];
    const kept: Held[] = [];
    const conditions: LbCondition[] = [];
    const requested = service.requestedIPs;

    for (const allocation of held) {
      const pool = this.poolsByName.get(allocation.pool);
      const stillValid =
        pool !== undefined &&
        pool.keeps(service) &&
        (requested.length === 0 ? service.ipFamilies.includes(familyOf(allocation.address)) : requested.includes(allocation.address)) &&
        !kept.some((k) => requested.length === 0 && familyOf(k.address) === familyOf(allocation.address));
      if (stillValid) kept.push(allocation);
      else this.releaseAllocation(service.key, allocation);
    }

    if (requested.length > 0) {
      for (const address of requested) {
        if (kept.some((k) => k.address === address)) continue;
        const result = this.claimRequested(service, address);
        if ('reason' in result) conditions.push(result);
        else kept.push(result);
      }
    } else {
      for (const family of service.ipFamilies) {
        if (kept.some((k) => familyOf(k.address) === family)) continue;
        const result = this.allocateFamily(service, family);
        if ('reason' in result) conditions.push(result);
        else kept.push(result);
      }
    }

    const status: LbServiceStatus = { service: service.key, addresses: kept.map(publicAllocation), conditions };
    if (record) {
      record.held = kept;
      record.status = status;
    } else {
      this.records.set(service.key, { held: kept, status });
    }
    return status;
  }

  private claimRequested(service: LbServiceRequest, address: string): Held | LbCondition {
    const ip = parseIp(address);
    let takenBy: string | undefined;
    let beyondWindow: string | undefined;
    if (ip) {
      for (const pool of this.pools) {
        const family = pool.families.get(ip.family);
        const offset = family?.space.offsetOf(ip) ?? null;
        if (family && offset === null && family.space.contains(ip)) beyondWindow = pool.spec.name;
        if (!family || offset === null) continue;
        if (!pool.offers(service, true) || family.isBuggy(address)) continue;
        const owner = family.allocator.ownerOf(offset);
        if (owner !== undefined) {
          takenBy = owner;
          continue;
        }
        family.allocator.claim(offset, service.key);
        return { address: family.space.addressAt(offset), pool: pool.spec.name, family, offset };
      }
    }
    if (takenBy !== undefined) {
      return { reason: 'RequestedIPUnavailable', message: `${address} is already allocated to ${takenBy}` };
    }
    if (beyondWindow !== undefined) {
      return { reason: 'RequestedIPOutsidePools', message: `${address} lies beyond the first 2^53 addresses of pool ${beyondWindow}, which peerproof does not hand out` };
    }
    return { reason: 'RequestedIPOutsidePools', message: `${address} is in no enabled pool that selects ${service.key}` };
  }

  private allocateFamily(service: LbServiceRequest, family: IpFamily): Held | LbCondition {
    let matched = 0;
    for (const pool of this.pools) {
      const poolFamily = pool.families.get(family);
      if (!poolFamily || !pool.offers(service, false)) continue;
      matched++;
      const offset = poolFamily.allocate(service.key);
      if (offset !== null) return { address: poolFamily.space.addressAt(offset), pool: pool.spec.name, family: poolFamily, offset };
    }
    const label = family === 4 ? 'IPv4' : 'IPv6';
    if (matched === 0) return { reason: 'NoMatchingPool', message: `no enabled, non-conflicting ${label} pool selects ${service.key}` };
    return { reason: 'PoolExhausted', message: `all ${matched} ${label} pool(s) selecting ${service.key} are exhausted` };
  }

  /** Frees every address of a deleted service. */
  release(serviceKey: string): void {
    const record = this.records.get(serviceKey);
    if (!record) return;
    for (const allocation of record.held) this.releaseAllocation(serviceKey, allocation);
    this.records.delete(serviceKey);
  }

  /**
   * Brings allocations in line with the services that exist: deleted ones are released,
   * services already holding addresses are served first (so they keep them), then the rest
   * in key order.
   */
  reconcile(services: LbServiceRequest[]): Map<string, LbServiceStatus> {
    const present = new Set(services.map((s) => s.key));
    for (const key of [...this.records.keys()]) if (!present.has(key)) this.release(key);
    const holds = (key: string): number => ((this.records.get(key)?.held.length ?? 0) > 0 ? 1 : 0);
    const ordered = [...services].sort(
      (a, b) => holds(b.key) - holds(a.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    const result = new Map<string, LbServiceStatus>();
    for (const service of ordered) result.set(service.key, this.ensure(service));
    return result;
  }

  addressesOf(serviceKey: string): LbAllocation[] {
    return (this.records.get(serviceKey)?.held ?? []).map(publicAllocation);
  }

  statusOf(serviceKey: string): LbServiceStatus | undefined {
    return this.records.get(serviceKey)?.status;
  }

  poolStatuses(): LbPoolStatus[] {
    return this.pools.map((pool) => {
      let capacity = 0;
      let used = 0;
      for (const family of pool.families.values()) {
        capacity += family.space.size;
        for (const [, owner] of family.allocator.entries()) if (owner !== RESERVED) used++;
      }
      return {
        name: pool.spec.name,
        conflicting: pool.conflicting,
        ...(pool.conflictsWith !== undefined ? { conflictsWith: pool.conflictsWith } : {}),
        disabled: pool.spec.disabled,
        capacity,
        used,
      };
    });
  }

  snapshot(): LbIpamState {
    const allocations: LbIpamState['allocations'] = [];
    for (const [service, record] of this.records) for (const a of record.held) allocations.push({ service, pool: a.pool, address: a.address });
    allocations.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.address < b.address ? -1 : 1));
    return { version: 1, allocations };
  }
}

function publicAllocation(held: Held): LbAllocation {
  return { address: held.address, pool: held.pool };
}

function familyOf(address: string): IpFamily {
  return address.includes(':') ? 6 : 4;
}

/** As Cilium: of two overlapping pools the newer one (then the later in order) is conflicting. */
function markConflicts(pools: Pool[]): void {
  const order = pools
    .map((pool, index) => ({ pool, index }))
    .sort((a, b) => {
      const ta = a.pool.spec.createdAt ?? '';
      const tb = b.pool.spec.createdAt ?? '';
      return ta !== tb && ta !== '' && tb !== '' ? (ta < tb ? -1 : 1) : a.index - b.index;
    });
  const winners: Pool[] = [];
  for (const { pool } of order) {
    const selfOverlap = pool.ranges.some((r, i) => pool.ranges.some((o, j) => i < j && rangesOverlap(r, o)));
    if (selfOverlap) {
      pool.conflictsWith = pool.spec.name;
      continue;
    }
    const other = winners.find((w) => w.ranges.some((r) => pool.ranges.some((o) => rangesOverlap(r, o))));
    if (other) pool.conflictsWith = other.spec.name;
    else winners.push(pool);
  }
}

/** Load-balancer classes an LB-IPAM of the flavours serves besides "no class". */
const SERVED_CLASSES = new Set(['io.cilium/bgp-control-plane', 'io.cilium/l2-announcer']);

/** Whether LB-IPAM should give this service an address: type LoadBalancer, no foreign class. */
export function wantsLoadBalancerAddress(service: Pick<ClusterService, 'type' | 'loadBalancerClass'>): boolean {
  return service.type === 'LoadBalancer' && (service.loadBalancerClass === undefined || SERVED_CLASSES.has(service.loadBalancerClass));
}
