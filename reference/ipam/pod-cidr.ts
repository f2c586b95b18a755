import { familyBits, formatCidr, mustParseCidr, parseCidr, type Cidr, type IpFamily } from './address.ts';
import { OffsetAllocator } from './offset-allocator.ts';

// Cilium's "cluster-pool" IPAM: the operator cuts the cluster CIDRs into per-node CIDRs of a
// mask size and gives each node one (per family). Seed 000: 172.31.254.0/23 in /26s.

export interface ClusterPoolConfig {
  ipv4Cidrs: string[];
  ipv4MaskSize: number;
  ipv6Cidrs?: string[];
  ipv6MaskSize?: number;
}

export interface PodCidrState {
  version: 1;
  nodes: Array<{ node: string; cidrs: string[] }>;
}

export class PodCidrError extends Error {}

/** The per-node subnets of one family, numbered across all cluster CIDRs in order. */
class SubnetSpace {
  private readonly parents: Array<{ cidr: Cidr; start: number; count: number }> = [];
  readonly allocator: OffsetAllocator<string>;

  constructor(
    readonly family: IpFamily,
    cidrs: string[],
    readonly maskSize: number,
  ) {
    const bits = familyBits(family);
    if (!Number.isInteger(maskSize) || maskSize < 1 || maskSize > bits) throw new PodCidrError(`mask size ${maskSize} is not a valid IPv${family} prefix length`);
    let start = 0;
    for (const text of cidrs) {
      const cidr = mustParseCidr(text);
      if (cidr.family !== family) throw new PodCidrError(`${text} is not an IPv${family} CIDR`);
      if (cidr.prefixLength > maskSize) throw new PodCidrError(`${text} is smaller than the per-node mask /${maskSize}`);
      const count = Math.min(2 ** (maskSize - cidr.prefixLength), Number.MAX_SAFE_INTEGER - start);
      this.parents.push({ cidr, start, count });
      start += count;
    }
    this.allocator = new OffsetAllocator(start);
  }

  subnetAt(index: number): string {
    const parent = this.parents.find((p) => index >= p.start && index < p.start + p.count)!;
    const step = 1n << BigInt(familyBits(this.family) - this.maskSize);
    return formatCidr({ family: this.family, network: parent.cidr.network + BigInt(index - parent.start) * step, prefixLength: this.maskSize });
  }

  indexOf(text: string): number | null {
    const cidr = parseCidr(text);
    if (!cidr || cidr.family !== this.family || cidr.prefixLength !== this.maskSize) return null;
    const step = 1n << BigInt(familyBits(this.family) - this.maskSize);
    for (const parent of this.parents) {
      const delta = cidr.network - parent.cidr.network;
      if (delta < 0n || delta % step !== 0n) continue;
      const index = delta / step;
      if (index < BigInt(parent.count)) return parent.start + Number(index);
    }
    return null;
  }
}

export class ClusterPoolAllocator {
  private readonly spaces: SubnetSpace[] = [];
  private readonly byNode = new Map<string, string[]>();

  constructor(config: ClusterPoolConfig) {
    if (config.ipv4Cidrs.length > 0) this.spaces.push(new SubnetSpace(4, config.ipv4Cidrs, config.ipv4MaskSize));
    if ((config.ipv6Cidrs ?? []).length > 0) this.spaces.push(new SubnetSpace(6, config.ipv6Cidrs!, config.ipv6MaskSize ?? 0));
    if (this.spaces.length === 0) throw new PodCidrError('cluster-pool IPAM needs at least one cluster CIDR');
  }

  static restore(config: ClusterPoolConfig, state: PodCidrState): ClusterPoolAllocator {
    const allocator = new ClusterPoolAllocator(config);
    for (const entry of state.nodes) {
      const kept: string[] = [];
      for (const cidr of entry.cidrs) {
        for (const space of allocator.spaces) {
          const index = space.indexOf(cidr);
          if (index !== null && space.allocator.claim(index, entry.node)) kept.push(space.subnetAt(index));
        }
      }
      if (kept.length > 0) allocator.byNode.set(entry.node, kept);
    }
    return allocator;
  }

  /** The node's pod CIDRs, one per configured family; allocates on first call. */
  allocate(node: string): string[] {
    const existing = this.byNode.get(node);
    if (existing) return [...existing];
    const cidrs: string[] = [];
    for (const space of this.spaces) {
      const index = space.allocator.allocate(node);
      if (index === null) {
        for (const cidr of cidrs) this.releaseCidr(cidr);
        throw new PodCidrError(`no free /${space.maskSize} left in the IPv${space.family} cluster pool for node ${node}`);
      }
      cidrs.push(space.subnetAt(index));
    }
    this.byNode.set(node, cidrs);
    return [...cidrs];
  }

  private releaseCidr(cidr: string): void {
    for (const space of this.spaces) {
      const index = space.indexOf(cidr);
      if (index !== null) space.allocator.release(index);
    }
  }

  release(node: string): void {
    for (const cidr of this.byNode.get(node) ?? []) this.releaseCidr(cidr);
    this.byNode.delete(node);
  }

  cidrsOf(node: string): string[] {
    return [...(this.byNode.get(node) ?? [])];
  }

  snapshot(): PodCidrState {
    const nodes = [...this.byNode].map(([node, cidrs]) => ({ node, cidrs: [...cidrs] }));
    nodes.sort((a, b) => (a.node < b.node ? -1 : 1));
    return { version: 1, nodes };
  }
}
