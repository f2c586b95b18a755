import {
  AddressError,
  formatIpv4,
  formatIpv6Words,
  ipv6Words,
  parseIp,
  type IpFamily,
  type IpAddress,
  type IpRange,
} from './address.ts';

/**
 * A set of address ranges of one family numbered 0..size-1, so allocators work on plain
 * numbers. Ranges larger than 2^53 addresses (IPv6) are used only up to that window: the
 * rest is never handed out, and a request beyond the window is reported as such.
 */
export const MAX_WINDOW = Number.MAX_SAFE_INTEGER;

interface Segment {
  range: IpRange;
  startOffset: number;
  size: number;
  baseV4: number;
  baseWords: Uint16Array | null;
}

export class AddressSpace {
  readonly family: IpFamily;
  readonly size: number;
  private readonly segments: Segment[] = [];
  private readonly scratchWords = new Uint16Array(8);

  constructor(ranges: IpRange[]) {
    if (ranges.length === 0) throw new AddressError('an address space needs at least one range');
    this.family = ranges[0]!.family;
    let offset = 0;
    for (const range of ranges) {
      if (range.family !== this.family) throw new AddressError('an address space cannot mix IPv4 and IPv6');
      const fullSize = range.last - range.first + 1n;
      const room = MAX_WINDOW - offset;
      const size = fullSize > BigInt(room) ? room : Number(fullSize);
      if (size === 0) continue;
      this.segments.push({
        range,
        startOffset: offset,
        size,
        baseV4: this.family === 4 ? Number(range.first) : 0,
        baseWords: this.family === 6 ? ipv6Words(range.first) : null,
      });
      offset += size;
    }
    this.size = offset;
  }

  get ranges(): IpRange[] {
    return this.segments.map((s) => s.range);
  }

  private segmentAt(offset: number): Segment {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]!.startOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return segments[lo]!;
  }

  /** Text of the address at `offset` (must be in [0, size)). */
  addressAt(offset: number): string {
    const segment = this.segmentAt(offset);
    const within = offset - segment.startOffset;
    if (this.family === 4) return formatIpv4((segment.baseV4 + within) >>> 0);
    const words = this.scratchWords;
    words.set(segment.baseWords!);
    let carry = within;
    for (let i = 7; i >= 0 && carry > 0; i--) {
      const sum = words[i]! + (carry % 65536);
      words[i] = sum & 0xffff;
      carry = Math.floor(carry / 65536) + (sum > 0xffff ? 1 : 0);
    }
    return formatIpv6Words(words);
  }

  /** The low octet (IPv4) or low word (IPv6) at `offset`, for checks like MetalLB's avoidBuggyIPs. */
  lowByteAt(offset: number): number {
    const segment = this.segmentAt(offset);
    const within = offset - segment.startOffset;
    if (this.family === 4) return (segment.baseV4 + within) & 255;
    return Number((segment.range.first + BigInt(within)) & 0xffn);
  }

  /** Offset of an address, or null when it lies outside the space (or beyond the 2^53 window). */
  offsetOf(address: IpAddress | string): number | null {
    const ip = typeof address === 'string' ? parseIp(address) : address;
    if (!ip || ip.family !== this.family) return null;
    for (const segment of this.segments) {
      if (ip.value < segment.range.first || ip.value > segment.range.last) continue;
      const within = ip.value - segment.range.first;
      if (within >= BigInt(segment.size)) return null;
      return segment.startOffset + Number(within);
    }
    return null;
  }

  contains(address: IpAddress): boolean {
    return this.segments.some((s) => address.family === this.family && address.value >= s.range.first && address.value <= s.range.last);
  }
}
