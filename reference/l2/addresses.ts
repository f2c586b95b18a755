// Text <-> byte forms of the addresses the L2 announcer handles; the frame codec works on the
// byte forms only. IP text goes through the project's one address module (reference/bgp/wire/addr.ts),
// under the names this package uses.
export { ipv4ToBytes as parseIpv4, ipv4ToString as formatIpv4, parseIpv6, ipv6ToString as formatIpv6 } from '../bgp/wire/addr.ts';

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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
