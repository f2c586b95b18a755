// The 19-byte message header (RFC 4271 4.1): marker, length, type.

import { ByteWriter } from './bytes.ts';
import { BgpError, ErrorCode, HeaderSubcode } from './errors.ts';
import { BGP_HEADER_LENGTH, BGP_MAX_MESSAGE_LENGTH } from './types.ts';

const MARKER_LENGTH = 16;

/** Smallest valid length per type code (RFC 4271 4.2-4.4, 6.1; RFC 2918 3). */
const MINIMUM_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

const KEEPALIVE_TYPE = 4;
// Module-level copies: imported bindings cost a getter call per use under tsx's module transform.
const HEADER_LENGTH = BGP_HEADER_LENGTH;
const MAX_MESSAGE_LENGTH = BGP_MAX_MESSAGE_LENGTH;

function lengthFitsType(length: number, type: number): boolean {
  const minimum = MINIMUM_LENGTH[type];
  if (minimum === undefined) return false;
  return type === KEEPALIVE_TYPE ? length === minimum : length >= minimum;
}

/** All 16 marker bytes are 0xff; one AND chain instead of a loop with a branch per byte (runs per message). */
function hasMarker(b: Uint8Array, o: number): boolean {
  return (
    (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5] & b[o + 6] & b[o + 7] &
      b[o + 8] & b[o + 9] & b[o + 10] & b[o + 11] & b[o + 12] & b[o + 13] & b[o + 14] & b[o + 15]) === 0xff
  );
}

/**
 * The header's length field when a plausible header (marker, length 19..4096, known type) starts
 * at `offset`; null when fewer than 19 bytes are available or the header is not valid there.
 */
export function messageLengthAt(bytes: Uint8Array, offset: number): number | null {
  if (offset < 0 || bytes.length - offset < BGP_HEADER_LENGTH) return null;
  if (!hasMarker(bytes, offset)) return null;
  const length = (bytes[offset + 16] << 8) | bytes[offset + 17];
  const type = bytes[offset + 18];
  if (length < BGP_HEADER_LENGTH || length > BGP_MAX_MESSAGE_LENGTH) return null;
  if (!lengthFitsType(length, type)) return null;
  return length;
}

/**
 * Checks the header of a whole message (RFC 4271 6.1) and returns its type code; throws BgpError
 * 1/x. Runs once per message, so the valid case allocates nothing (the error data is built only
 * when throwing).
 */
export function readHeaderType(bytes: Uint8Array): number {
  if (bytes.length < HEADER_LENGTH) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `${bytes.length} bytes, shorter than the header`);
  }
  if (!hasMarker(bytes, 0)) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, 'marker is not all ones');
  }
  const length = (bytes[16] << 8) | bytes[17];
  const type = bytes[18];
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) throw badLength(bytes, `length ${length}`);
  if (type >= 1 && type <= 5 && !lengthFitsType(length, type)) throw badLength(bytes, `length ${length} for type ${type}`);
  if (bytes.length !== length) throw badLength(bytes, `header says ${length} bytes, ${bytes.length} given`);
  return type;
}

function badLength(bytes: Uint8Array, detail: string): BgpError {
  return new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, detail, bytes.slice(16, 18));
}

/** Starts a message: marker, length placeholder, type. Call `finishMessage` when the body is written. */
export function startMessage(type: number, sizeHint = 64): ByteWriter {
  const writer = new ByteWriter(sizeHint);
  for (let i = 0; i < MARKER_LENGTH; i++) writer.u8(0xff);
  writer.u16(0).u8(type);
  return writer;
}

/** Fills in the length field; throws RangeError when the message exceeds 4096 bytes. */
export function finishMessage(writer: ByteWriter, what: string): Uint8Array {
  if (writer.length > BGP_MAX_MESSAGE_LENGTH) {
    throw new RangeError(`${what}: ${writer.length} bytes exceeds the ${BGP_MAX_MESSAGE_LENGTH}-byte BGP message limit`);
  }
  writer.setU16(16, writer.length);
  return writer.finish();
}
