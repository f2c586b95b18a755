// NOTIFICATION (RFC 4271 4.5) and ROUTE-REFRESH (RFC 2918 3, RFC 7313 3) bodies.

import { checkUint, fromHex, readU16, toHex } from './bytes.ts';
import { BgpError, ErrorCode, HeaderSubcode, RouteRefreshSubcode } from './errors.ts';
import { finishMessage, startMessage } from './header.ts';
import { BGP_HEADER_LENGTH, type NotificationMessage, type RouteRefreshMessage } from './types.ts';

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

export function decodeRouteRefresh(bytes: Uint8Array): RouteRefreshMessage {
  const body = BGP_HEADER_LENGTH;
  const subtype = bytes[body + 2];
  if (bytes.length !== ROUTE_REFRESH_LENGTH) {
    // RFC 7313 5: a BoRR/EoRR of the wrong length -> ROUTE-REFRESH Message Error / Invalid
    // Message Length with the whole message as data; otherwise a header length error.
    if (subtype === 1 || subtype === 2) {
      throw new BgpError(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, `length ${bytes.length}`, bytes.slice());
    }
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `ROUTE-REFRESH length ${bytes.length}`, bytes.slice(16, 18));
  }
  return { type: 'ROUTE-REFRESH', afi: readU16(bytes, body), safi: bytes[body + 3], subtype };
}

export function encodeRouteRefresh(message: RouteRefreshMessage): Uint8Array {
  const w = startMessage(5, ROUTE_REFRESH_LENGTH);
  w.u16(checkUint(message.afi, 16, 'ROUTE-REFRESH afi'))
    .u8(checkUint(message.subtype, 8, 'ROUTE-REFRESH subtype'))
    .u8(checkUint(message.safi, 8, 'ROUTE-REFRESH safi'));
  return finishMessage(w, 'ROUTE-REFRESH');
}
