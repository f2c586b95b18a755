// Whole messages: header check, then the body codec for the type.

import { checkUint, fromHex, toHex } from './bytes.ts';
import { BgpError, ErrorCode } from './errors.ts';
import { finishMessage, readHeaderType, startMessage } from './header.ts';
import { decodeNotification, decodeRouteRefresh, encodeNotification, encodeRouteRefresh } from './notification.ts';
import { decodeOpen, encodeOpen } from './open.ts';
import { decodeUpdate, encodeUpdate } from './update.ts';
import { BGP_HEADER_LENGTH, type BgpMessage, type CodecContext } from './types.ts';

const NO_CONTEXT: CodecContext = {};
// Module-level copies for the per-message path: imported bindings cost a getter call per use
// under tsx's module transform.
const headerType = readHeaderType;
const updateBody = decodeUpdate;

/**
 * Decodes one whole message (header included; `bytes.length` must equal the header's length).
 * Throws BgpError for errors that reset the session; RFC 7606 outcomes that do not are listed in
 * `UpdateMessage.errors`. An unknown type code decodes to an UNKNOWN message: a speaker answers
 * it with NOTIFICATION 1/3 (Bad Message Type), a capture decoder shows it.
 */
export function decodeMessage(bytes: Uint8Array, ctx: CodecContext = NO_CONTEXT): BgpMessage {
  const type = headerType(bytes);
  try {
    switch (type) {
      case 1:
        return decodeOpen(bytes);
      case 2:
        return updateBody(bytes, ctx);
      case 3:
        return decodeNotification(bytes);
      case 4:
        return { type: 'KEEPALIVE' };
      case 5:
        return decodeRouteRefresh(bytes, ctx);
      default:
        return { type: 'UNKNOWN', typeCode: type, hex: toHex(bytes, BGP_HEADER_LENGTH) };
    }
  } catch (error) {
    if (error instanceof BgpError) throw error;
    // A codec bug must still surface as a BgpError so callers handle one error type.
    const code = type === 1 ? ErrorCode.OPEN : type === 5 ? ErrorCode.ROUTE_REFRESH : ErrorCode.UPDATE;
    throw new BgpError(code, 0, `internal decoder error: ${(error as Error).message}`);
  }
}

/** Encodes one message; throws RangeError for values that do not fit the wire format. */
export function encodeMessage(message: BgpMessage, ctx: CodecContext = NO_CONTEXT): Uint8Array {
  switch (message.type) {
    case 'OPEN':
      return encodeOpen(message);
    case 'UPDATE':
      return encodeUpdate(message, ctx);
    case 'NOTIFICATION':
      return encodeNotification(message);
    case 'KEEPALIVE':
      return finishMessage(startMessage(4, BGP_HEADER_LENGTH), 'KEEPALIVE');
    case 'ROUTE-REFRESH':
      return encodeRouteRefresh(message);
    case 'UNKNOWN': {
      const body = fromHex(message.hex, 'UNKNOWN message body');
      const w = startMessage(checkUint(message.typeCode, 8, 'message type'), BGP_HEADER_LENGTH + body.length);
      w.bytes(body);
      return finishMessage(w, 'UNKNOWN message');
    }
  }
}
