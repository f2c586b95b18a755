// Prefixes as numbers. An IPv4 prefix is addr*64+len: it fits a double exactly, so the RIB keys
// IPv4 routes without allocating a string or an object per route. IPv6 prefixes are rare in
// this product's use (load-balancer VIPs), so they are interned into small integer ids instead.
import { Address6 } from 'ip-address';
import { ipv4NumberToString as formatIpv4, tryParseIpv4 as parseIpv4 } from './wire/addr.ts';
import { AFI_IPV4, AFI_IPV6 } from './wire/types.ts';

export { formatIpv4, parseIpv4 };

export function ipv4Key(addr: number, len: number): number {
  return addr * 64 + len;
}

export function ipv4KeyToPrefix(key: number): string {
  const len = key % 64;
  return `${formatIpv4((key - len) / 64)}/${len}`;
}

/** The canonical text of an IPv6 address (RFC 5952), or null when it is not one. */
export function canonicalIpv6(text: string): string | null {
  if (!text.includes(':')) return null;
  try {
    const address = new Address6(text);
    return address.correctForm();
  } catch {
    return null;
  }
}

export interface ParsedPrefix {
  afi: number;
  /** Canonical text with host bits cleared. */
  prefix: string;
  length: number;
}

/** Parses "a.b.c.d/len" or "v6/len"; host bits must be zero. Returns a reason string on error. */
export function parsePrefix(text: string): ParsedPrefix | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `"${text}" has no /length`;
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return `"${text}" has a bad length`;
  const length = Number(lengthText);
  const v4 = parseIpv4(addressText);
  if (v4 !== null) {
    if (length > 32) return `"${text}": IPv4 length above 32`;
    const hostBits = 32 - length;
    if (hostBits > 0 && v4 % 2 ** hostBits !== 0) return `"${text}" has host bits set`;
    return { afi: AFI_IPV4, prefix: `${addressText}/${length}`, length };
  }
  const v6 = canonicalIpv6(addressText);
  if (v6 === null) return `"${text}" is not an IPv4 or IPv6 prefix`;
  if (length > 128) return `"${text}": IPv6 length above 128`;
  const address = new Address6(`${v6}/${length}`);
  if (address.startAddress().correctForm() !== v6) return `"${text}" has host bits set`;
  return { afi: AFI_IPV6, prefix: `${v6}/${length}`, length };
}

/** Interns IPv6 prefix strings (canonical) into dense ids usable as RIB keys. */
export class Ipv6PrefixIds {
  private readonly ids = new Map<string, number>();
  private readonly prefixes: string[] = [];

  idOf(prefix: string): number {
    let id = this.ids.get(prefix);
    if (id === undefined) {
      id = this.prefixes.length;
      this.prefixes.push(prefix);
      this.ids.set(prefix, id);
    }
    return id;
  }

  prefixOf(id: number): string {
    return this.prefixes[id]!;
  }
}
