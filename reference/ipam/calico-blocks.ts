import { cidrContains, familyBits, formatCidr, formatIp, mustParseCidr, parseCidr, parseIp, type Cidr } from './address.ts';
import { OffsetAllocator } from './offset-allocator.ts';
import { matchesSelector } from '../k8s/selectors.ts';
import type { CalicoPool, Labels } from '../k8s/model.ts';

// Calico's block IPAM (seed 001): a pool is cut into blocks of `blockSize`; a node claims
// blocks by affinity and assigns pod addresses from them. When the node may claim no more
// blocks (maxBlocksPerHost, or the pool has no free block) and strictAffinity is off, it
// borrows an address from another node's block. Routes follow: each affine block advertised
// plus a blackhole for it, a local /32 per pod, and a /32 advertised for each borrowed address.

export interface CalicoIpamConfig {
  pools: CalicoPool[];
  strictAffinity: boolean;
  /** 0 = unlimited */
  maxBlocksPerHost: number;
}

export interface CalicoNodeRef {
  name: string;
  labels: Labels;
}

export interface PodAssignment {
  pod: string;
  node: string;
  address: string;
  block: string;
  borrowed: boolean;
}

export type CalicoRoute =
  | { kind: 'advertise'; prefix: string; nextHop: string; reason: 'affine-block' | 'borrowed-address' }
  | { kind: 'blackhole'; prefix: string }
  | { kind: 'local'; prefix: string; pod: string };

export interface CalicoBlocksState {
  version: 1;
  blocks: Array<{ cidr: string; pool: string; affinity: string; allocations: Array<{ address: string; pod: string; node: string }> }>;
}

export class CalicoIpamError extends Error {}

class Block {
  readonly ordinals: OffsetAllocator<string>;
  constructor(
    readonly cidr: Cidr,
    readonly pool: PoolBlocks,
    readonly affinity: string,
  ) {
    this.ordinals = new OffsetAllocator(2 ** (familyBits(cidr.family) - cidr.prefixLength));
  }
  get text(): string {
    return formatCidr(this.cidr);
  }
  addressAt(ordinal: number): string {
    return formatIp({ family: this.cidr.family, value: this.cidr.network + BigInt(ordinal) });
  }
}

class PoolBlocks {
  readonly cidr: Cidr;
  readonly blockIndexes: OffsetAllocator<string>;
  constructor(readonly spec: CalicoPool) {
    this.cidr = mustParseCidr(spec.cidr);
    const bits = familyBits(this.cidr.family);
    const minimum = this.cidr.family === 4 ? 20 : 116;
    if (!Number.isInteger(spec.blockSize) || spec.blockSize < minimum || spec.blockSize > bits) {
      throw new CalicoIpamError(`IPPool ${spec.name}: blockSize ${spec.blockSize} must be between ${minimum} and ${bits}`);
    }
    if (spec.blockSize < this.cidr.prefixLength) {
      throw new CalicoIpamError(`IPPool ${spec.name}: blockSize /${spec.blockSize} is larger than the pool ${spec.cidr}`);
    }
    this.blockIndexes = new OffsetAllocator(Math.min(2 ** (spec.blockSize - this.cidr.prefixLength), Number.MAX_SAFE_INTEGER));
  }
  blockCidr(index: number): Cidr {
    const step = 1n << BigInt(familyBits(this.cidr.family) - this.spec.blockSize);
    return { family: this.cidr.family, network: this.cidr.network + BigInt(index) * step, prefixLength: this.spec.blockSize };
  }
  usableBy(node: CalicoNodeRef): boolean {
    return !this.spec.disabled && matchesSelector(this.spec.nodeSelector, node.labels);
  }
}

export class CalicoBlockIpam {
  private readonly pools: PoolBlocks[];
  private readonly blocks = new Map<string, Block>(); // by block CIDR text
  private readonly blocksByNode = new Map<string, Block[]>();
  private readonly pods = new Map<string, PodAssignment>();

  constructor(private readonly config: CalicoIpamConfig) {
    this.pools = config.pools.map((p) => new PoolBlocks(p));
  }

  static restore(config: CalicoIpamConfig, state: CalicoBlocksState): CalicoBlockIpam {
    const ipam = new CalicoBlockIpam(config);
    for (const saved of state.blocks) {
      const pool = ipam.pools.find((p) => p.spec.name === saved.pool);
      const cidr = parseCidr(saved.cidr);
      if (!pool || !cidr || cidr.prefixLength !== pool.spec.blockSize) continue;
      const step = 1n << BigInt(familyBits(cidr.family) - pool.spec.blockSize);
      const delta = cidr.network - pool.cidr.network;
      if (delta < 0n || delta % step !== 0n) continue;
      if (!pool.blockIndexes.claim(Number(delta / step), saved.affinity)) continue;
      const block = ipam.addBlock(cidr, pool, saved.affinity);
      for (const allocation of saved.allocations) {
        const ip = parseIp(allocation.address);
        if (!ip || ip.family !== cidr.family) continue;
        const ordinal = Number(ip.value - cidr.network);
        if (!block.ordinals.claim(ordinal, allocation.pod)) continue;
        ipam.pods.set(allocation.pod, {
          pod: allocation.pod,
          node: allocation.node,
          address: block.addressAt(ordinal),
          block: block.text,
          borrowed: allocation.node !== block.affinity,
        });
      }
    }
    return ipam;
  }

  private addBlock(cidr: Cidr, pool: PoolBlocks, affinity: string): Block {
    const block = new Block(cidr, pool, affinity);
    this.blocks.set(block.text, block);
    const list = this.blocksByNode.get(affinity) ?? [];
    list.push(block);
    this.blocksByNode.set(affinity, list);
    return block;
  }

  private take(block: Block, pod: string, node: string): PodAssignment | null {
    const ordinal = block.ordinals.allocate(pod);
    if (ordinal === null) return null;
    const assignment = { pod, node, address: block.addressAt(ordinal), block: block.text, borrowed: node !== block.affinity };
    this.pods.set(pod, assignment);
    return assignment;
  }

  /**
   * Assigns the pod an address on `node` (the same one again if it already has one).
   * `preferred`: the address the pod is known to have (a fixture's status.podIP); its block is
   * claimed for the node when nobody holds it, else the address is borrowed from its owner.
   */
  assign(pod: string, node: CalicoNodeRef, preferred?: string): PodAssignment {
    const existing = this.pods.get(pod);
    if (existing) return { ...existing };
    if (preferred !== undefined) return { ...this.assignPreferred(pod, node, preferred) };
    const affine = this.blocksByNode.get(node.name) ?? [];
    for (const block of affine) {
      if (!block.pool.usableBy(node)) continue;
      const assignment = this.take(block, pod, node.name);
      if (assignment) return { ...assignment };
    }
    const { maxBlocksPerHost, strictAffinity } = this.config;
    if (maxBlocksPerHost === 0 || affine.length < maxBlocksPerHost) {
      for (const pool of this.pools) {
        if (!pool.usableBy(node)) continue;
        const index = pool.blockIndexes.allocate(node.name);
        if (index === null) continue;
        const assignment = this.take(this.addBlock(pool.blockCidr(index), pool, node.name), pod, node.name);
        if (assignment) return { ...assignment };
      }
    }
    if (!strictAffinity) {
      for (const block of this.blocks.values()) {
        if (block.affinity === node.name || !block.pool.usableBy(node)) continue;
        const assignment = this.take(block, pod, node.name);
        if (assignment) return { ...assignment };
      }
    }
    const why = strictAffinity ? 'strictAffinity forbids borrowing' : 'no block of a pool usable by the node has a free address';
    throw new CalicoIpamError(`no address for pod ${pod} on node ${node.name}: blocks full or maxBlocksPerHost (${maxBlocksPerHost}) reached, and ${why}`);
  }

  private assignPreferred(pod: string, node: CalicoNodeRef, address: string): PodAssignment {
    const ip = parseIp(address);
    const pool = ip && this.pools.find((p) => cidrContains(p.cidr, ip));
    if (!ip || !pool) throw new CalicoIpamError(`pod ${pod}: ${address} is in no IPPool`);
    if (!pool.usableBy(node)) throw new CalicoIpamError(`pod ${pod}: IPPool ${pool.spec.name} of ${address} does not select node ${node.name} (or is disabled)`);
    const hostBits = BigInt(familyBits(ip.family) - pool.spec.blockSize);
    const index = Number((ip.value - pool.cidr.network) >> hostBits);
    const cidr = pool.blockCidr(index);
    let block = this.blocks.get(formatCidr(cidr));
    if (!block) {
      const held = (this.blocksByNode.get(node.name) ?? []).length;
      if (this.config.maxBlocksPerHost !== 0 && held >= this.config.maxBlocksPerHost) {
        throw new CalicoIpamError(`pod ${pod}: node ${node.name} already holds maxBlocksPerHost (${this.config.maxBlocksPerHost}) blocks; cannot claim ${formatCidr(cidr)} for ${address}`);
      }
      pool.blockIndexes.claim(index, node.name);
      block = this.addBlock(cidr, pool, node.name);
    }
    if (block.affinity !== node.name && this.config.strictAffinity) {
      throw new CalicoIpamError(`pod ${pod}: ${address} is in block ${block.text} of node ${block.affinity} and strictAffinity forbids borrowing`);
    }
    const ordinal = Number(ip.value - block.cidr.network);
    const owner = block.ordinals.ownerOf(ordinal);
    if (owner !== undefined || !block.ordinals.claim(ordinal, pod)) throw new CalicoIpamError(`pod ${pod}: ${address} is already assigned to pod ${owner}`);
    const assignment = { pod, node: node.name, address: block.addressAt(ordinal), block: block.text, borrowed: node.name !== block.affinity };
    this.pods.set(pod, assignment);
    return assignment;
  }

  release(pod: string): void {
    const assignment = this.pods.get(pod);
    if (!assignment) return;
    const block = this.blocks.get(assignment.block)!;
    const ip = parseIp(assignment.address)!;
    block.ordinals.release(Number(ip.value - block.cidr.network));
    this.pods.delete(pod);
  }

  assignmentOf(pod: string): PodAssignment | undefined {
    const assignment = this.pods.get(pod);
    return assignment ? { ...assignment } : undefined;
  }

  blocksOf(node: string): string[] {
    return (this.blocksByNode.get(node) ?? []).map((b) => b.text);
  }

  /** The routes node `node` (reachable at `nodeAddress`) installs and advertises. */
  routesFor(node: string, nodeAddress: string): CalicoRoute[] {
    const routes: CalicoRoute[] = [];
    for (const block of this.blocksByNode.get(node) ?? []) {
      if (!block.pool.spec.disableBGPExport) routes.push({ kind: 'advertise', prefix: block.text, nextHop: nodeAddress, reason: 'affine-block' });
      if (block.cidr.prefixLength < familyBits(block.cidr.family)) routes.push({ kind: 'blackhole', prefix: block.text });
    }
    const pods = [...this.pods.values()].filter((p) => p.node === node).sort((a, b) => (a.pod < b.pod ? -1 : 1));
    for (const pod of pods) {
      const hostPrefix = `${pod.address}/${pod.address.includes(':') ? 128 : 32}`;
      routes.push({ kind: 'local', prefix: hostPrefix, pod: pod.pod });
      if (pod.borrowed && !this.blocks.get(pod.block)!.pool.spec.disableBGPExport) {
        routes.push({ kind: 'advertise', prefix: hostPrefix, nextHop: nodeAddress, reason: 'borrowed-address' });
      }
    }
    return routes;
  }

  snapshot(): CalicoBlocksState {
    const blocks: CalicoBlocksState['blocks'] = [];
    for (const block of this.blocks.values()) {
      const allocations = [...block.ordinals.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([ordinal, pod]) => ({ address: block.addressAt(ordinal), pod, node: this.pods.get(pod)!.node }));
      blocks.push({ cidr: block.text, pool: block.pool.spec.name, affinity: block.affinity, allocations });
    }
    return { version: 1, blocks };
  }
}
