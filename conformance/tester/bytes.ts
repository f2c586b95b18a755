// Hand-built message bytes for what the codec refuses to encode: a wrong marker, length or
// type in the header, and path attributes with any flags and lengths.
import { encodeMessage, type BgpMessage, type CodecContext } from '../../reference/bgp/wire/index.ts';

/** A message from its type and body, with the header's marker and length overridable. */
export function rawMessage(type: number, body: readonly number[] | Uint8Array, header: { marker?: readonly number[]; length?: number } = {}): Uint8Array {
  const marker = header.marker ?? new Array<number>(16).fill(0xff);
  const length = header.length ?? 19 + body.length;
  return new Uint8Array([...marker, length >> 8, length & 255, type, ...body]);
}

/** The codec's encoding of `message` with its header patched: e.g. a KEEPALIVE whose length field says 20. */
export function patchedMessage(message: BgpMessage, patch: { marker?: readonly number[]; length?: number; type?: number }, ctx?: CodecContext): Uint8Array {
  const bytes = Uint8Array.from(encodeMessage(message, ctx));
  if (patch.marker) bytes.set(patch.marker, 0);
  if (patch.length !== undefined) bytes.set([patch.length >> 8, patch.length & 255], 16);
  if (patch.type !== undefined) bytes[18] = patch.type;
  return bytes;
}

/** One path attribute: flags, type code, then a 1- or 2-octet length as the Extended Length flag (0x10) says. */
export function attribute(flags: number, code: number, value: readonly number[]): number[] {
  return flags & 0x10 ? [flags, code, value.length >> 8, value.length & 255, ...value] : [flags, code, value.length, ...value];
}

/** A 32-bit number as 4 octets, network order. */
export const u32 = (n: number): number[] => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];

/** An IPv4 address as 4 octets. */
export const ipv4 = (address: string): number[] => address.split('.').map(Number);

/** An IPv4 prefix as NLRI octets (length, then the significant octets). */
export function ipv4Nlri(prefix: string): number[] {
  const [address, len] = prefix.split('/');
  const bits = Number(len);
  return [bits, ...ipv4(address!).slice(0, Math.ceil(bits / 8))];
}

/** A 4-octet AS_PATH of one AS_SEQUENCE. */
export const asPath4 = (...asns: number[]): number[] =>
  attribute(0x40, 2, asns.length ? [2, asns.length, ...asns.flatMap(u32)] : []);
export const origin = (value = 0): number[] => attribute(0x40, 1, [value]);
export const nextHop = (address: string): number[] => attribute(0x40, 3, ipv4(address));
