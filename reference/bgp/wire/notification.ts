// NOTIFICATION (RFC 4271 4.5) and ROUTE-REFRESH (RFC 2918 3, RFC 7313 3) bodies.

import { checkUint, fromHex, readU16, toHex } from './bytes.ts';
import { BgpError, ErrorCode, HeaderSubcode, RouteRefreshSubcode } from './errors.ts';
import { finishMessage, startMessage } from './header.ts';
import { decodeOrfs, encodeOrfs } from './orf.ts';
import { BGP_HEADER_LENGTH, orfKey, type CodecContext, type NotificationMessage, type RouteRefreshMessage } from './types.ts';

export function decodeNotification(bytes: Uint8Array): NotificationMessage {
  const body = BGP_HEADER_LENGTH;
  return { type: 'NOTIFICATION', code: bytes[body], subcode: bytes[body + 1], data: toHex(bytes, body + 2) };
}

export function encodeNotification(message: NotificationMessage): Uint8Array {
  const data = fromHex(message.data, 'NOTIFICATION data');
  const w = startMessage(3, BGP_HEADER_LENGTH + 2 + data.length);
  w.u8(checkUint(message.code, 8, 'NOTIFICATION code')).u8(checkUint(message.subcode, 8, 'NOTIFICATION subcode')).bytes(data);
  return finishMessage(w, 'NOTIFICATION');
}

const ROUTE_REFRESH_LENGTH = BGP_HEADER_LENGTH + 4;

/**
 * ROUTE-REFRESH of RFC 2918 (exactly 4 octets of body), BoRR/EoRR (RFC 7313), or with ORFs
 * (RFC 5291 4: longer, subtype 0). ORFs are accepted only for the (AFI, SAFI, ORF type) the
 * context says this direction negotiated; any other longer message is a header length error,
 * as RFC 2918 has it.
 */
export function decodeRouteRefresh(bytes: Uint8Array, ctx?: CodecContext): RouteRefreshMessage {
  const body = BGP_HEADER_LENGTH;
  const subtype = bytes[body + 2];
  const afi = readU16(bytes, body);
  const safi = bytes[body + 3];
  if (bytes.length === ROUTE_REFRESH_LENGTH) return { type: 'ROUTE-REFRESH', afi, safi, subtype };
  // RFC 7313 5: a BoRR/EoRR of the wrong length -> ROUTE-REFRESH Message Error / Invalid
  // Message Length with the whole message as data.
  if (subtype === 1 || subtype === 2) {
    throw new BgpError(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, `length ${bytes.length}`, bytes.slice());
  }
  const allowed = ctx?.orf;
  const lengthError = () =>
    new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_MESSAGE_LENGTH,
      `ROUTE-REFRESH length ${bytes.length}${bytes.length > ROUTE_REFRESH_LENGTH ? '; ORFs without the ORF capability negotiated in this direction' : ''}`,
      bytes.slice(16, 18),
    );
  if (allowed === undefined || bytes.length < ROUTE_REFRESH_LENGTH) throw lengthError();
  let decoded: ReturnType<typeof decodeOrfs>;
  try {
    decoded = decodeOrfs(bytes, ROUTE_REFRESH_LENGTH, bytes.length, afi);
  } catch (error) {
    // No ORF negotiated in this direction (an empty set): the extra octets are a length error
    // whether or not they parse as ORF entries, as without a context.
    if (allowed !== 'any' && allowed.size === 0) throw lengthError();
    throw error;
  }
  if (allowed !== 'any') {
    for (const orf of decoded.orfs) {
      if (!allowed.has(orfKey(afi, safi, orf.type))) {
        throw new BgpError(
          ErrorCode.MESSAGE_HEADER,
          HeaderSubcode.BAD_MESSAGE_LENGTH,
          `ROUTE-REFRESH length ${bytes.length}; ORF type ${orf.type} for AFI ${afi} SAFI ${safi} was not negotiated in this direction`,
          bytes.slice(16, 18),
        );
      }
    }
  }
  return { type: 'ROUTE-REFRESH', afi, safi, subtype, whenToRefresh: decoded.whenToRefresh, orfs: decoded.orfs };
}

export function encodeRouteRefresh(message: RouteRefreshMessage): Uint8Array {
  const w = startMessage(5, ROUTE_REFRESH_LENGTH);
  w.u16(checkUint(message.afi, 16, 'ROUTE-REFRESH afi'))
    .u8(checkUint(message.subtype, 8, 'ROUTE-REFRESH subtype'))
    .u8(checkUint(message.safi, 8, 'ROUTE-REFRESH safi'));
  if (message.orfs !== undefined) {
    if (message.subtype !== 0) throw new RangeError('ROUTE-REFRESH: ORFs need subtype 0 (RFC 7313 3)');
    encodeOrfs(w, message.afi, message.whenToRefresh, message.orfs);
  } else if (message.whenToRefresh !== undefined) {
    throw new RangeError('ROUTE-REFRESH: When-to-refresh without ORFs');
  }
  return finishMessage(w, 'ROUTE-REFRESH');
}
