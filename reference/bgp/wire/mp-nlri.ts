// MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 3, 4) for IPv4 and IPv6 unicast/multicast, with
// IPv6 global + link-local next hops and IPv4 NLRI over an IPv6 next hop (RFC 8950).

import { ipToBytes, ipv4ToString, ipv6ToString } from './addr.ts';
import { AttributeCode, OPTIONAL_NON_TRANSITIVE, writeAttribute } from './attribute-format.ts';
import { ByteWriter, checkUint, readU16 } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode } from './errors.ts';
import { decodePrefixes, writeRoutes, type WireRoute } from './nlri.ts';
import { AFI_IPV4, AFI_IPV6, familyKey, type CodecContext, type MpReach, type MpUnreach, type Route } from './types.ts';

export function addPathFor(ctx: CodecContext, afi: number, safi: number): boolean {
  return ctx.addPath?.has(familyKey(afi, safi)) ?? false;
}

function isDecodedFamily(afi: number, safi: number): boolean {
  return (afi === AFI_IPV4 || afi === AFI_IPV6) && (safi === 1 || safi === 2);
}

/** RFC 4760 7: Optional Attribute Error; RFC 4271 6.3: the data is the whole erroneous attribute. */
function mpError(detail: string, attribute: Uint8Array): BgpError {
  return new BgpError(ErrorCode.UPDATE, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, detail, attribute.slice());
}

/** Valid next hop lengths per AFI: 4 for IPv4 (16/32 for RFC 8950), 16 or 32 (with link-local) for IPv6. */
function nextHopLengthValid(afi: number, length: number): boolean {
  return length === 16 || length === 32 || (afi === AFI_IPV4 && length === 4);
}

/** null: a family this codec does not decode (kept raw by the caller). */
/** `attributeStart` is where the attribute's flags byte sits, for the NOTIFICATION data. */
export function decodeMpReach(bytes: Uint8Array, attributeStart: number, start: number, end: number, ctx: CodecContext): MpReach | null {
  const attribute = bytes.subarray(attributeStart, end);
  // RFC 7606 7.11: an MP_REACH_NLRI too short for its fixed fields -> session reset.
  if (end - start < 5) throw mpError(`MP_REACH_NLRI length ${end - start}`, attribute);
  const afi = readU16(bytes, start);
  const safi = bytes[start + 2];
  if (!isDecodedFamily(afi, safi)) return null;
  const nextHopLength = bytes[start + 3];
  const nextHopStart = start + 4;
  // RFC 7606 7.11: next hop length inconsistent with the AFI or the attribute -> session reset.
  if (!nextHopLengthValid(afi, nextHopLength) || nextHopStart + nextHopLength + 1 > end) {
    throw mpError(`MP_REACH_NLRI next hop length ${nextHopLength} for AFI ${afi}`, attribute);
  }
  const nextHops: string[] = [];
  if (nextHopLength === 4) nextHops.push(ipv4ToString(bytes, nextHopStart));
  else {
    nextHops.push(ipv6ToString(bytes, nextHopStart));
    if (nextHopLength === 32) nextHops.push(ipv6ToString(bytes, nextHopStart + 16));
  }
  const nlriStart = nextHopStart + nextHopLength + 1; // one reserved byte, ignored on receipt (RFC 4760 3)
  const nlri: Route[] = [];
  const problem = decodePrefixes(bytes, nlriStart, end, afi, addPathFor(ctx, afi, safi), nlri);
  // RFC 7606 5.3: NLRI that cannot be parsed -> session reset.
  if (problem !== null) throw mpError(`MP_REACH_NLRI: ${problem}`, attribute);
  return { afi, safi, nextHops, nlri };
}

export function decodeMpUnreach(bytes: Uint8Array, attributeStart: number, start: number, end: number, ctx: CodecContext): MpUnreach | null {
  const attribute = bytes.subarray(attributeStart, end);
  // RFC 7606 7.12: an MP_UNREACH_NLRI too short for AFI/SAFI -> session reset.
  if (end - start < 3) throw mpError(`MP_UNREACH_NLRI length ${end - start}`, attribute);
  const afi = readU16(bytes, start);
  const safi = bytes[start + 2];
  // Any family's End-of-RIB (empty MP_UNREACH, RFC 4724 2) is decoded; other contents only for ours.
  if (end - start === 3) return { afi, safi, withdrawn: [] };
  if (!isDecodedFamily(afi, safi)) return null;
  const withdrawn: Route[] = [];
  const problem = decodePrefixes(bytes, start + 3, end, afi, addPathFor(ctx, afi, safi), withdrawn);
  // RFC 7606 5.3: withdrawn NLRI that cannot be parsed -> session reset.
  if (problem !== null) throw mpError(`MP_UNREACH_NLRI: ${problem}`, attribute);
  return { afi, safi, withdrawn };
}

function writeMpReach(w: ByteWriter, reach: MpReach, routes: readonly WireRoute[], addPath: boolean): void {
  const nextHops = reach.nextHops.map((hop) => {
    const bytes = ipToBytes(hop);
    if (reach.nextHops.length > 1 && bytes.length !== 16) throw new RangeError(`MP_REACH_NLRI: next hop ${hop} must be IPv6 when two are given`);
    return bytes;
  });
  const nextHopLength = nextHops.reduce((sum, hop) => sum + hop.length, 0);
  if (!nextHopLengthValid(reach.afi, nextHopLength)) {
    throw new RangeError(`MP_REACH_NLRI: next hops [${reach.nextHops.join(', ')}] do not fit AFI ${reach.afi}`);
  }
  w.u16(checkUint(reach.afi, 16, 'MP_REACH_NLRI afi')).u8(checkUint(reach.safi, 8, 'MP_REACH_NLRI safi')).u8(nextHopLength);
  for (const hop of nextHops) w.bytes(hop);
  w.u8(0);
  writeRoutes(w, routes, addPath);
}

export function writeMpReachAttribute(w: ByteWriter, reach: MpReach, routes: readonly WireRoute[], addPath: boolean): void {
  writeAttribute(w, OPTIONAL_NON_TRANSITIVE, AttributeCode.MP_REACH_NLRI, (v) => writeMpReach(v, reach, routes, addPath));
}

export function writeMpUnreachAttribute(w: ByteWriter, afi: number, safi: number, routes: readonly WireRoute[], addPath: boolean): void {
  writeAttribute(w, OPTIONAL_NON_TRANSITIVE, AttributeCode.MP_UNREACH_NLRI, (v) => {
    v.u16(checkUint(afi, 16, 'MP_UNREACH_NLRI afi')).u8(checkUint(safi, 8, 'MP_UNREACH_NLRI safi'));
    writeRoutes(v, routes, addPath);
  });
}
