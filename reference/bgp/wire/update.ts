// UPDATE message body (RFC 4271 4.3): withdrawn routes, path attributes, NLRI; and packing of
// many routes into as few UPDATEs as fit the 4096-byte limit.

import { isIpv6Text } from './addr.ts';
import { decodeAttributes } from './attributes-decode.ts';
import { decodeCommonUpdate } from './update-common.ts';
import { writeAttributes } from './attributes-encode.ts';
import { addPathFor, writeMpReachAttribute, writeMpUnreachAttribute } from './mp-nlri.ts';
import { ByteWriter, readU16 } from './bytes.ts';
import { BgpError, ErrorCode, UpdateSubcode } from './errors.ts';
import { finishMessage, startMessage } from './header.ts';
import { decodePrefixes, prepareRoutes, writeRoutes, type WireRoute } from './nlri.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  BGP_HEADER_LENGTH,
  BGP_MAX_MESSAGE_LENGTH,
  SAFI_UNICAST,
  familyKey,
  type AttributeLayout,
  type CodecContext,
  type PathAttributes,
  type Route,
  type UpdateError,
  type UpdateMessage,
} from './types.ts';

// Module-level copies for the per-message path: imported bindings cost a getter call per use
// under tsx's module transform.
const IPV4 = AFI_IPV4;
const IPV4_UNICAST = familyKey(AFI_IPV4, SAFI_UNICAST);
const BODY_START = BGP_HEADER_LENGTH;
const readLength = readU16;
const decodeNlri = decodePrefixes;
const decodeUpdateAttributes = decodeAttributes;
const commonUpdate = decodeCommonUpdate;

export function decodeUpdate(bytes: Uint8Array, ctx: CodecContext): UpdateMessage {
  const addPath = ctx.addPath?.has(IPV4_UNICAST) ?? false;
  return commonUpdate(bytes, ctx.as4 === true, addPath) ?? decodeAnyUpdate(bytes, ctx, addPath);
}

/** Every UPDATE, with every RFC 7606 outcome: the reference for what a message decodes to. */
export function decodeAnyUpdate(bytes: Uint8Array, ctx: CodecContext, addPath: boolean): UpdateMessage {
  const end = bytes.length;
  let p = BODY_START;
  const withdrawnLength = readLength(bytes, p);
  p += 2;
  // RFC 4271 6.3 (kept by RFC 7606 4): lengths that exceed the message -> session reset.
  if (p + withdrawnLength + 2 > end) {
    throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${withdrawnLength} exceeds the message`);
  }
  const withdrawn: Route[] = [];
  const withdrawnProblem = decodeNlri(bytes, p, p + withdrawnLength, IPV4, addPath, withdrawn);
  // RFC 7606 5.3: withdrawn routes that cannot be parsed -> session reset.
  if (withdrawnProblem !== null) throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD, `withdrawn routes: ${withdrawnProblem}`);
  p += withdrawnLength;

  const attributesLength = readLength(bytes, p);
  p += 2;
  if (p + attributesLength > end) {
    throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${attributesLength} exceeds the message`);
  }
  const nlriStart = p + attributesLength;
  const nlri: Route[] = [];
  const nlriProblem = decodeNlri(bytes, nlriStart, end, IPV4, addPath, nlri);
  // RFC 7606 5.3: an NLRI field that cannot be parsed -> session reset.
  if (nlriProblem !== null) throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD, `NLRI: ${nlriProblem}`);

  const attributes: PathAttributes = {};
  const layout: AttributeLayout[] = [];
  const errors: UpdateError[] = [];
  decodeUpdateAttributes(bytes, p, nlriStart, ctx, nlri.length > 0, attributes, layout, errors);
  const update: UpdateMessage = { type: 'UPDATE', withdrawn, attributes, nlri, layout };
  if (errors.length > 0) update.errors = errors;
  return update;
}

const UPDATE_FIXED_SIZE = BGP_HEADER_LENGTH + 4; // header, withdrawn length, attributes length
const ROOM = BGP_MAX_MESSAGE_LENGTH - UPDATE_FIXED_SIZE;

function writeUpdate(withdrawn: readonly WireRoute[], attributes: (w: ByteWriter) => void, nlri: readonly WireRoute[], addPath: boolean): Uint8Array {
  const w = startMessage(2, 512);
  const withdrawnAt = w.length;
  w.u16(0);
  writeRoutes(w, withdrawn, addPath);
  w.setU16(withdrawnAt, w.length - withdrawnAt - 2);
  const attributesAt = w.length;
  w.u16(0);
  attributes(w);
  w.setU16(attributesAt, w.length - attributesAt - 2);
  writeRoutes(w, nlri, addPath);
  return finishMessage(w, 'UPDATE');
}

/** Exactly the given UPDATE; throws RangeError on a value that cannot be encoded or a message over 4096 bytes. */
export function encodeUpdate(update: UpdateMessage, ctx: CodecContext): Uint8Array {
  const addPath = addPathFor(ctx, AFI_IPV4, SAFI_UNICAST);
  const withdrawn = prepareRoutes(update.withdrawn, AFI_IPV4, addPath, 'withdrawn routes');
  const nlri = prepareRoutes(update.nlri, AFI_IPV4, addPath, 'NLRI');
  return writeUpdate(withdrawn, (w) => writeAttributes(w, update.attributes, ctx), nlri, addPath);
}

/** Splits routes into runs whose wire size stays within `room`. */
function chunkRoutes(routes: readonly WireRoute[], room: number): WireRoute[][] {
  const chunks: WireRoute[][] = [];
  let current: WireRoute[] = [];
  let used = 0;
  for (const route of routes) {
    if (used + route.size > room && current.length > 0) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(route);
    used += route.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const MP_ATTRIBUTE_HEADER = 4; // budget for the extended-length form
const MP_UNREACH_FIXED = 3; // AFI, SAFI
const MP_REACH_FIXED = 5; // AFI, SAFI, next hop length, reserved

/**
 * Packs routes sharing `attributes` into as few UPDATEs as fit 4096 bytes each: withdrawals
 * first (IPv4 in the Withdrawn Routes field, IPv6 in MP_UNREACH_NLRI), then announcements (IPv4
 * in the NLRI field, IPv6 in MP_REACH_NLRI placed first, as FRR does). `attributes.mpReach`
 * supplies the next hops (and SAFI) for MP_REACH_NLRI; its own `nlri` is ignored. When
 * `attributes.mpReach.afi` is IPv4 (RFC 8950), IPv4 routes go into MP_REACH_NLRI too.
 */
export function encodeUpdates(
  u: { withdrawn: Route[]; attributes: PathAttributes; nlri: Route[] },
  ctx: CodecContext = {},
): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const reach = u.attributes.mpReach;
  const ipv6Safi = reach?.afi === AFI_IPV6 ? reach.safi : (u.attributes.mpUnreach?.safi ?? SAFI_UNICAST);
  const v4AddPath = addPathFor(ctx, AFI_IPV4, SAFI_UNICAST);
  const v6AddPath = addPathFor(ctx, AFI_IPV6, ipv6Safi);

  const v4Withdrawn = prepareRoutes(u.withdrawn.filter((r) => !isIpv6Text(r.prefix)), AFI_IPV4, v4AddPath, 'withdrawn routes');
  const v6Withdrawn = prepareRoutes(u.withdrawn.filter((r) => isIpv6Text(r.prefix)), AFI_IPV6, v6AddPath, 'withdrawn routes');
  for (const chunk of chunkRoutes(v4Withdrawn, ROOM)) messages.push(writeUpdate(chunk, () => {}, [], v4AddPath));
  for (const chunk of chunkRoutes(v6Withdrawn, ROOM - MP_ATTRIBUTE_HEADER - MP_UNREACH_FIXED)) {
    messages.push(writeUpdate([], (w) => writeMpUnreachAttribute(w, AFI_IPV6, ipv6Safi, chunk, v6AddPath), [], false));
  }

  const v4Routes = u.nlri.filter((r) => !isIpv6Text(r.prefix));
  const v6Routes = u.nlri.filter((r) => isIpv6Text(r.prefix));
  if (v4Routes.length === 0 && v6Routes.length === 0) return messages;

  const base = new ByteWriter(256);
  const baseAttributes: PathAttributes = { ...u.attributes };
  delete baseAttributes.mpReach;
  delete baseAttributes.mpUnreach;
  writeAttributes(base, baseAttributes, ctx);
  const baseBytes = base.finish();
  if (baseBytes.length > ROOM - 64) throw new RangeError(`encodeUpdates: ${baseBytes.length} bytes of path attributes leave no room for NLRI`);

  const mpFamilies: Array<{ afi: number; routes: Route[] }> = [];
  if (reach?.afi === AFI_IPV4) mpFamilies.push({ afi: AFI_IPV4, routes: v4Routes });
  else if (v4Routes.length > 0) {
    const nlri = prepareRoutes(v4Routes, AFI_IPV4, v4AddPath, 'NLRI');
    for (const chunk of chunkRoutes(nlri, ROOM - baseBytes.length)) messages.push(writeUpdate([], (w) => w.bytes(baseBytes), chunk, v4AddPath));
  }
  if (v6Routes.length > 0) {
    if (reach?.afi === AFI_IPV4) throw new RangeError('encodeUpdates: IPv6 routes given while attributes.mpReach is for IPv4');
    mpFamilies.push({ afi: AFI_IPV6, routes: v6Routes });
  }

  for (const family of mpFamilies) {
    if (family.routes.length === 0) continue;
    if (reach === undefined || reach.afi !== family.afi) {
      throw new RangeError(`encodeUpdates: routes of AFI ${family.afi} need attributes.mpReach (afi ${family.afi}) with their next hops`);
    }
    const addPath = addPathFor(ctx, reach.afi, reach.safi);
    const routes = prepareRoutes(family.routes, reach.afi, addPath, 'MP_REACH_NLRI');
    const nextHopSize = reach.nextHops.reduce((sum, hop) => sum + (isIpv6Text(hop) ? 16 : 4), 0);
    const room = ROOM - baseBytes.length - MP_ATTRIBUTE_HEADER - MP_REACH_FIXED - nextHopSize;
    for (const chunk of chunkRoutes(routes, room)) {
      messages.push(
        writeUpdate(
          [],
          (w) => {
            writeMpReachAttribute(w, reach, chunk, addPath);
            w.bytes(baseBytes);
          },
          [],
          false,
        ),
      );
    }
  }
  return messages;
}
