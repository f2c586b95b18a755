// NLRI encoding (RFC 4271 4.3, RFC 4760 5) with optional ADD-PATH path identifiers (RFC 7911 3).
// Whether path identifiers are present is always the caller's decision (negotiated state).

import { ipv6ToString, parsePrefix } from './addr.ts';
import { ByteWriter, readU32 } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode } from './errors.ts';
import { AFI_IPV4, AFI_IPV6, type Route } from './types.ts';

const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** "0." to "255.": a dotted quad from four pieces instead of seven. */
const OCTET_DOT: readonly string[] = OCTET_TEXT.map((octet) => octet + '.');
const SLASH_LENGTH_TEXT: readonly string[] = Array.from({ length: 129 }, (_, i) => '/' + i);
// Module-level copies for the per-prefix path: imported bindings cost a getter call per use
// under tsx's module transform.
const IPV4 = AFI_IPV4;
const u32 = readU32;

/**
 * Appends the prefixes in bytes[start, end) to `out`. Returns null when the range parsed
 * completely, or what was wrong (the caller picks the error code for its field).
 */
export function decodePrefixes(bytes: Uint8Array, start: number, end: number, afi: number, addPath: boolean, out: Route[]): string | null {
  return afi === IPV4 ? decodeIpv4Prefixes(bytes, start, end, addPath, out) : decodeIpv6Prefixes(bytes, start, end, addPath, out);
}

function decodeIpv4Prefixes(bytes: Uint8Array, start: number, end: number, addPath: boolean, out: Route[]): string | null {
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (end - p < 5) return `path identifier truncated at byte ${p}`;
      pathId = u32(bytes, p);
      p += 4;
    }
    const length = bytes[p++];
    if (length > 32) return `IPv4 prefix length ${length}`;
    const size = (length + 7) >> 3;
    if (p + size > end) return `prefix of length ${length} overruns the field`;
    const prefix =
      OCTET_DOT[size > 0 ? bytes[p] : 0] +
      OCTET_DOT[size > 1 ? bytes[p + 1] : 0] +
      OCTET_DOT[size > 2 ? bytes[p + 2] : 0] +
      OCTET_TEXT[size > 3 ? bytes[p + 3] : 0] +
      SLASH_LENGTH_TEXT[length];
    out.push(addPath ? { prefix, pathId } : { prefix });
    p += size;
  }
  return null;
}

function decodeIpv6Prefixes(bytes: Uint8Array, start: number, end: number, addPath: boolean, out: Route[]): string | null {
  const address = new Uint8Array(16);
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (end - p < 5) return `path identifier truncated at byte ${p}`;
      pathId = u32(bytes, p);
      p += 4;
    }
    const length = bytes[p++];
    if (length > 128) return `IPv6 prefix length ${length}`;
    const size = (length + 7) >> 3;
    if (p + size > end) return `prefix of length ${length} overruns the field`;
    for (let i = 0; i < 16; i++) address[i] = i < size ? bytes[p + i] : 0;
    const prefix = ipv6ToString(address, 0) + SLASH_LENGTH_TEXT[length];
    out.push(addPath ? { prefix, pathId } : { prefix });
    p += size;
  }
  return null;
}

/**
 * Calls fn(address, length, pathId) for each IPv4 prefix in bytes[start, end) without creating
 * objects. `address` is the unsigned 32-bit prefix (bits past `length` as sent); pathId is 0
 * without ADD-PATH. Throws BgpError 3/10 (Invalid Network Field) on a malformed field, after
 * calling fn for the prefixes before the damage.
 */
export function scanIpv4Nlri(
  bytes: Uint8Array,
  start: number,
  end: number,
  addPath: boolean,
  fn: (addr: number, len: number, pathId: number) => void,
): void {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`scanIpv4Nlri: range [${start}, ${end}) outside ${bytes.length} bytes`);
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (end - p < 5) throw invalidNetworkField(`path identifier truncated at byte ${p}`);
      pathId = u32(bytes, p);
      p += 4;
    }
    const length = bytes[p++];
    if (length > 32) throw invalidNetworkField(`IPv4 prefix length ${length}`);
    const size = (length + 7) >> 3;
    if (p + size > end) throw invalidNetworkField(`prefix of length ${length} overruns the field`);
    let address = 0;
    if (size > 0) address = bytes[p] << 24;
    if (size > 1) address |= bytes[p + 1] << 16;
    if (size > 2) address |= bytes[p + 2] << 8;
    if (size > 3) address |= bytes[p + 3];
    fn(address >>> 0, length, pathId);
    p += size;
  }
}

/**
 * Reads the IPv4 prefixes in bytes[start, end) into columns, without creating objects: keys[i]
 * is the prefix as one number, address * 64 + length with the bits past `length` cleared (the
 * RIB's IPv4 key, reference/bgp/prefix.ts), pathIds[i] its path id (0 without ADD-PATH).
 * Returns the count. The columns must hold end - start entries (a prefix takes at least one
 * byte). Throws BgpError 3/10 (Invalid Network Field) on a malformed field, like scanIpv4Nlri.
 *
 * The speaker's packed-UPDATE ingest: one loop with no call per prefix, so a fresh process
 * optimises it within its first UPDATEs (see reference/bgp/README.md, "Ingest speed").
 */
export function readIpv4Nlri(bytes: Uint8Array, start: number, end: number, addPath: boolean, keys: Float64Array, pathIds: Uint32Array): number {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`readIpv4Nlri: range [${start}, ${end}) outside ${bytes.length} bytes`);
  if (keys.length < end - start || pathIds.length < end - start) throw new RangeError(`readIpv4Nlri: columns hold ${Math.min(keys.length, pathIds.length)} entries, ${end - start} needed`);
  let p = start;
  let n = 0;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (end - p < 5) throw invalidNetworkField(`path identifier truncated at byte ${p}`);
      pathId = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0;
      p += 4;
    }
    const length = bytes[p++]!;
    if (length > 32) throw invalidNetworkField(`IPv4 prefix length ${length}`);
    const size = (length + 7) >> 3;
    if (p + size > end) throw invalidNetworkField(`prefix of length ${length} overruns the field`);
    let address = 0;
    if (size > 0) address = bytes[p]! << 24;
    if (size > 1) address |= bytes[p + 1]! << 16;
    if (size > 2) address |= bytes[p + 2]! << 8;
    if (size > 3) address |= bytes[p + 3]!;
    p += size;
    const masked = length === 0 ? 0 : address & (-1 << (32 - length));
    keys[n] = (masked >>> 0) * 64 + length;
    pathIds[n] = pathId;
    n++;
  }
  return n;
}

function invalidNetworkField(detail: string): BgpError {
  return new BgpError(ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD, detail);
}

/** A route parsed once for encoding: address bytes, prefix length, path id, wire size. */
export interface WireRoute {
  bytes: Uint8Array;
  length: number;
  pathId: number;
  size: number;
}

/**
 * Parses routes of one family for encoding. Throws RangeError for a prefix of the other family,
 * or a pathId on a family without ADD-PATH (it would be silently lost on the wire).
 */
export function prepareRoutes(routes: readonly Route[], afi: number, addPath: boolean, field: string): WireRoute[] {
  const addressSize = afi === AFI_IPV6 ? 16 : 4;
  return routes.map((route) => {
    const { bytes, length } = parsePrefix(route.prefix);
    if (bytes.length !== addressSize) throw new RangeError(`${field}: ${route.prefix} is not an AFI ${afi} prefix`);
    if (route.pathId !== undefined && !addPath) {
      throw new RangeError(`${field}: ${route.prefix} has pathId ${route.pathId} but ADD-PATH is not negotiated for AFI ${afi}`);
    }
    const pathId = route.pathId ?? 0;
    if (!Number.isInteger(pathId) || pathId < 0 || pathId > 0xffffffff) throw new RangeError(`${field}: bad pathId ${pathId}`);
    return { bytes, length, pathId, size: (addPath ? 4 : 0) + 1 + ((length + 7) >> 3) };
  });
}

export function writeRoutes(w: ByteWriter, routes: readonly WireRoute[], addPath: boolean): void {
  for (const route of routes) {
    if (addPath) w.u32(route.pathId);
    w.u8(route.length).bytes(route.bytes.subarray(0, (route.length + 7) >> 3));
  }
}
