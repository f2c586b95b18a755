// Pure checks of a received message against what this side expects (after GoBGP's
// ValidateOpenMsg): each returns the NOTIFICATION RFC 4271 6.1 / 6.2 (RFC 5492, RFC 6793) says to
// send, with a reason for logs, or null. The session sends what they return; nothing here knows
// about sockets or timers.

import { ErrorCode, HeaderSubcode, OpenSubcode } from './errors.ts';
import { familyKey, type Capability, type OpenMessage } from './types.ts';

export interface Refusal {
  code: number;
  subcode: number;
  data?: Uint8Array;
  reason: string;
}

/**
 * The header error of a message whose header `messageLengthAt` refused (RFC 4271 6.1): marker
 * not all ones (1/1), an undefined type (1/3, data: the type), else a length that does not fit
 * the type (1/2, data: the length field). `bytes` holds at least the 19 header octets.
 */
export function classifyHeader(bytes: Uint8Array): Refusal {
  let marker = true;
  for (let i = 0; i < 16; i++) if (bytes[i] !== 0xff) marker = false;
  const length = (bytes[16]! << 8) | bytes[17]!;
  const type = bytes[18]!;
  if (!marker) return { code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, reason: 'header: connection not synchronized (marker is not all ones)' };
  if (type < 1 || type > 5) return { code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_TYPE, data: new Uint8Array([type]), reason: `header: bad message type ${type}` };
  return { code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: bytes.slice(16, 18), reason: `header: bad message length ${length} for type ${type}` };
}

/** RFC 4271 4.2 / 6.2: a hold time of 1 or 2 seconds is unacceptable; otherwise the smaller one. */
export function negotiateHoldTime(local: number, remote: number): number | null {
  if (remote === 1 || remote === 2) return null;
  return Math.min(local, remote);
}

/** The families (familyKey) both OPENs carry; a peer without multiprotocol capabilities carries IPv4 unicast only (RFC 4760 8). */
export function commonFamilies(peer: OpenMessage, local: ReadonlyArray<{ afi: number; safi: number }>): string[] {
  const offered = peer.capabilities.filter((c): c is Extract<Capability, { code: 1 }> => c.code === 1);
  const peerFamilies = offered.length > 0 ? offered.map((c) => familyKey(c.afi, c.safi)) : [familyKey(1, 1)];
  return local.map((f) => familyKey(f.afi, f.safi)).filter((f) => peerFamilies.includes(f));
}

export interface OpenExpectations {
  /** The peer AS this side is configured for. */
  peerAs: number;
  ebgp: boolean;
  localRouterId: string;
  localHoldTime: number;
  localFamilies: ReadonlyArray<{ afi: number; safi: number; name: string }>;
}

/** The data of an Unsupported Capability NOTIFICATION: each capability as sent (RFC 5492 3). */
function capabilityData(families: OpenExpectations['localFamilies']): Uint8Array {
  const out = new Uint8Array(families.length * 6);
  families.forEach((f, i) => out.set([1, 4, f.afi >> 8, f.afi & 255, 0, f.safi], i * 6));
  return out;
}

/** RFC 4271 6.2, RFC 5492 3, RFC 6793 4: what this side refuses in a received OPEN, or null. */
export function validateOpen(open: OpenMessage, expect: OpenExpectations): Refusal | null {
  if (open.otherParameters && open.otherParameters.length > 0) {
    return { code: ErrorCode.OPEN, subcode: OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, reason: `OPEN: unsupported optional parameter ${open.otherParameters[0]!.type}` };
  }
  const peerAs = open.as4 ?? open.myAs;
  if (peerAs !== expect.peerAs) {
    const data = new Uint8Array([open.myAs >> 8, open.myAs & 255]);
    return { code: ErrorCode.OPEN, subcode: OpenSubcode.BAD_PEER_AS, data, reason: `OPEN: bad peer AS ${peerAs} (configured ${expect.peerAs})` };
  }
  if (!expect.ebgp && open.bgpId === expect.localRouterId) {
    return { code: ErrorCode.OPEN, subcode: OpenSubcode.BAD_BGP_IDENTIFIER, reason: `OPEN: bad BGP identifier ${open.bgpId} (same as ours on an iBGP session)` };
  }
  if (negotiateHoldTime(expect.localHoldTime, open.holdTime) === null) {
    return { code: ErrorCode.OPEN, subcode: OpenSubcode.UNACCEPTABLE_HOLD_TIME, reason: `OPEN: unacceptable hold time ${open.holdTime}` };
  }
  if (commonFamilies(open, expect.localFamilies).length === 0) {
    return {
      code: ErrorCode.OPEN,
      subcode: OpenSubcode.UNSUPPORTED_CAPABILITY,
      data: capabilityData(expect.localFamilies),
      reason: `OPEN: unsupported capability: peer carries none of our families (${expect.localFamilies.map((f) => f.name).join(', ')})`,
    };
  }
  return null;
}
