// OPEN message body (RFC 4271 4.2) with optional parameters, including the RFC 9072 extended
// optional parameters length.

import { ipv4ToBytes, ipv4ToString } from './addr.ts';
import { checkUint, fromHex, readU16, readU32, toHex } from './bytes.ts';
import { decodeCapability, encodeCapabilityValue } from './capabilities.ts';
import { BgpError, ErrorCode, OpenSubcode } from './errors.ts';
import { finishMessage, startMessage } from './header.ts';
import { BGP_HEADER_LENGTH, type Capability, type OpenMessage } from './types.ts';

const CAPABILITIES_PARAMETER = 2;
const EXTENDED_PARAMETERS_MARKER = 255; // RFC 9072 3: non-extended length and type both 255
const BGP_VERSION = 4;

function malformedParameters(detail: string): BgpError {
  return new BgpError(ErrorCode.OPEN, OpenSubcode.UNSPECIFIC, detail);
}

export function decodeOpen(bytes: Uint8Array): OpenMessage {
  const body = BGP_HEADER_LENGTH;
  const version = bytes[body];
  if (version !== BGP_VERSION) {
    throw new BgpError(ErrorCode.OPEN, OpenSubcode.UNSUPPORTED_VERSION, `version ${version}`, new Uint8Array([0, BGP_VERSION]));
  }
  const myAs = readU16(bytes, body + 1);
  const holdTime = readU16(bytes, body + 3);
  // RFC 4271 6.2: a hold time of one or two seconds MUST be rejected.
  if (holdTime === 1 || holdTime === 2) {
    throw new BgpError(ErrorCode.OPEN, OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}`);
  }
  // RFC 6286 2.2: the identifier is any non-zero 4-octet value.
  if (readU32(bytes, body + 5) === 0) throw new BgpError(ErrorCode.OPEN, OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP identifier 0.0.0.0');
  const bgpId = ipv4ToString(bytes, body + 5);

  let p = body + 10;
  let parametersLength = bytes[body + 9];
  let wideParameterLength = false;
  if (parametersLength === EXTENDED_PARAMETERS_MARKER && bytes.length > p && bytes[p] === EXTENDED_PARAMETERS_MARKER) {
    if (bytes.length < p + 3) throw malformedParameters('extended optional parameters length truncated');
    parametersLength = readU16(bytes, p + 1);
    wideParameterLength = true;
    p += 3;
  }
  const end = p + parametersLength;
  if (end !== bytes.length) {
    throw malformedParameters(`optional parameters length ${parametersLength} does not match the message length`);
  }

  const capabilities: Capability[] = [];
  const otherParameters: Array<{ type: number; hex: string }> = [];
  const headerSize = wideParameterLength ? 3 : 2;
  while (p < end) {
    if (end - p < headerSize) throw malformedParameters('optional parameter header truncated');
    const type = bytes[p];
    const length = wideParameterLength ? readU16(bytes, p + 1) : bytes[p + 1];
    const valueStart = p + headerSize;
    const valueEnd = valueStart + length;
    if (valueEnd > end) throw malformedParameters(`optional parameter ${type} overruns the parameters`);
    if (type === CAPABILITIES_PARAMETER) {
      decodeCapabilities(bytes, valueStart, valueEnd, capabilities);
    } else {
      // Kept raw; rejecting them (2/4 Unsupported Optional Parameter) is the session's call.
      otherParameters.push({ type, hex: toHex(bytes, valueStart, valueEnd) });
    }
    p = valueEnd;
  }

  const as4Capability = capabilities.find((c) => c.name === 'as4');
  // RFC 7607 2: AS 0 in My Autonomous System or in the 4-octet AS capability -> Bad Peer AS.
  if (myAs === 0 || (as4Capability?.name === 'as4' && as4Capability.asn === 0)) {
    throw new BgpError(ErrorCode.OPEN, OpenSubcode.BAD_PEER_AS, 'AS 0');
  }
  const open: OpenMessage = {
    type: 'OPEN',
    version,
    myAs,
    holdTime,
    bgpId,
    as4: as4Capability?.name === 'as4' ? as4Capability.asn : null,
    capabilities,
  };
  if (otherParameters.length > 0) open.otherParameters = otherParameters;
  return open;
}

/** One capabilities parameter may hold several capabilities (RFC 5492 4). */
function decodeCapabilities(bytes: Uint8Array, start: number, end: number, out: Capability[]): void {
  let p = start;
  while (p < end) {
    if (end - p < 2) throw malformedParameters('capability header truncated');
    const code = bytes[p];
    const valueEnd = p + 2 + bytes[p + 1];
    if (valueEnd > end) throw malformedParameters(`capability ${code} overruns its parameter`);
    out.push(decodeCapability(code, bytes, p + 2, valueEnd));
    p = valueEnd;
  }
}

/** Encodes one optional parameter per capability, as FRR does; RFC 9072 format when needed. */
export function encodeOpen(open: OpenMessage): Uint8Array {
  const as4Capability = open.capabilities.find((c) => c.name === 'as4');
  const as4FromCapability = as4Capability?.name === 'as4' ? as4Capability.asn : null;
  if (open.as4 !== as4FromCapability) {
    throw new RangeError(`OPEN: as4 is ${open.as4} but the 4-octet AS capability says ${as4FromCapability}; the wire carries only the capability`);
  }
  const parameters: Array<{ type: number; value: Uint8Array }> = open.capabilities.map((capability) => {
    const value = encodeCapabilityValue(capability);
    checkUint(capability.code, 8, 'capability code');
    checkUint(value.length, 8, `capability ${capability.code} length`);
    const wrapped = new Uint8Array(value.length + 2);
    wrapped[0] = capability.code;
    wrapped[1] = value.length;
    wrapped.set(value, 2);
    return { type: CAPABILITIES_PARAMETER, value: wrapped };
  });
  for (const other of open.otherParameters ?? []) {
    parameters.push({ type: checkUint(other.type, 8, 'optional parameter type'), value: fromHex(other.hex, `optional parameter ${other.type}`) });
  }
  const plainLength = parameters.reduce((sum, p) => sum + 2 + p.value.length, 0);
  const wide = plainLength > 255 || parameters.some((p) => p.value.length > 255);

  const w = startMessage(1, 64 + plainLength);
  w.u8(checkUint(open.version, 8, 'OPEN version'))
    .u16(checkUint(open.myAs, 16, 'OPEN my AS'))
    .u16(checkUint(open.holdTime, 16, 'OPEN hold time'))
    .bytes(ipv4ToBytes(open.bgpId));
  if (wide) {
    const wideLength = parameters.reduce((sum, p) => sum + 3 + p.value.length, 0);
    w.u8(EXTENDED_PARAMETERS_MARKER).u8(EXTENDED_PARAMETERS_MARKER).u16(checkUint(wideLength, 16, 'optional parameters length'));
    for (const p of parameters) w.u8(p.type).u16(p.value.length).bytes(p.value);
  } else {
    w.u8(plainLength);
    for (const p of parameters) w.u8(p.type).u8(p.value.length).bytes(p.value);
  }
  return finishMessage(w, 'OPEN');
}

