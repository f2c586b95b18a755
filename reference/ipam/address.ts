import { Address4, Address6 } from 'ip-address';
import { ipv4NumberToString as formatIpv4 } from '../bgp/wire/addr.ts';

// IP address arithmetic for IPAM. Parsing and range set-up use bigint (not on the hot path);
// allocation works on plain-number offsets from a range base (see address-space.ts).

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  network: bigint; // host bits zero
  prefixLength: number;
}

export class AddressError extends Error {}

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

// Text parsing goes through ip-address (the project's choice for IP math off the hot path);
// what this module adds is the bigint/offset arithmetic and fast formatting from numbers.

export function parseIpv4(text: string): bigint | null {
  if (text.includes('/') || !Address4.isValid(text)) return null;
  return new Address4(text).bigInt();
}

export function parseIpv6(text: string): bigint | null {
  if (text.includes('/') || text.includes('%') || !Address6.isValid(text)) return null;
  return new Address6(text).bigInt();
}

export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  if (v6 !== null) return { family: 6, value: v6 };
  return null;
}

export function mustParseIp(text: string): IpAddress {
  const ip = parseIp(text);
  if (!ip) throw new AddressError(`"${text}" is not an IPv4 or IPv6 address`);
  return ip;
}

export { formatIpv4 };

/** RFC 5952 text: lower case, longest run (>1) of zero words compressed. Hot path for IPv6 pools. */
export function formatIpv6Words(words: ArrayLike<number>): string {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  let needColon = false;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      needColon = false;
      i += bestLength - 1;
      continue;
    }
    if (needColon) text += ':';
    text += hexWord(words[i]!);
    needColon = true;
  }
  return text;
}

let hexWords: string[] | null = null;
function hexWord(word: number): string {
  hexWords ??= Array.from({ length: 65536 }, (_, i) => i.toString(16));
  return hexWords[word]!;
}

export function ipv6Words(value: bigint): Uint16Array {
  const words = new Uint16Array(8);
  for (let i = 7; i >= 0; i--) {
    words[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  return words;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIpv4(Number(ip.value)) : formatIpv6Words(ipv6Words(ip.value));
}

export function canonicalIp(text: string): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : null;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  const bits = familyBits(ip.family);
  if (prefixLength > bits) return null;
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  return { family: ip.family, network: ip.value & ~hostMask & (ip.family === 4 ? V4_MAX : V6_MAX), prefixLength };
}

export function mustParseCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new AddressError(`"${text}" is not a CIDR (address/prefix-length)`);
  return cidr;
}

export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(familyBits(cidr.family) - cidr.prefixLength);
}

export function cidrLast(cidr: Cidr): bigint {
  return cidr.network + cidrSize(cidr) - 1n;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefixLength}`;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return ip.family === cidr.family && ip.value >= cidr.network && ip.value <= cidrLast(cidr);
}

/** Inclusive address range of one family. */
export interface IpRange {
  family: IpFamily;
  first: bigint;
  last: bigint;
}

export function rangeOfCidr(cidr: Cidr): IpRange {
  return { family: cidr.family, first: cidr.network, last: cidrLast(cidr) };
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/**
 * "a.b.c.d/n", "a.b.c.d-e.f.g.h" (MetalLB, Anthos), or a single address (one-address range).
 * Returns null when the text is none of these or the range is reversed / mixes families.
 */
export function parseRange(text: string): IpRange | null {
  const trimmed = text.trim();
  if (trimmed.includes('/')) {
    const cidr = parseCidr(trimmed);
    return cidr ? rangeOfCidr(cidr) : null;
  }
  const dash = trimmed.indexOf('-');
  if (dash >= 0) {
    const first = parseIp(trimmed.slice(0, dash).trim());
    const last = parseIp(trimmed.slice(dash + 1).trim());
    if (!first || !last || first.family !== last.family || first.value > last.value) return null;
    return { family: first.family, first: first.value, last: last.value };
  }
  const single = parseIp(trimmed);
  return single ? { family: single.family, first: single.value, last: single.value } : null;
}
