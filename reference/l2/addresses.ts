// Text <-> byte forms of the addresses the L2 announcer handles. Configuration is parsed once,
// so clarity wins over speed here; the frame codec works on the byte forms only.
import { isIPv4, isIPv6 } from 'node:net';
import { Address6 } from 'ip-address';

export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`not a MAC address: "${text}" (expected six hex bytes like 02:00:00:00:00:01)`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseIpv4(text: string): Uint8Array {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: "${text}"`);
  return Uint8Array.from(text.split('.').map((p) => Number(p)));
}

export function formatIpv4(ip: Uint8Array): string {
  return Array.from(ip.subarray(0, 4)).join('.');
}

export function parseIpv6(text: string): Uint8Array {
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: "${text}"`);
  const groups = new Address6(text).canonicalForm().split(':');
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  });
  return bytes;
}

export function formatIpv6(ip: Uint8Array): string {
  return Address6.fromByteArray(Array.from(ip.subarray(0, 16))).correctForm();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
