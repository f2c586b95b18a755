// RFC 4271 section 6 error codes and the exception that carries them.

import type { ErrorAction, UpdateError } from './types.ts';

export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN: 2,
  UPDATE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7, // RFC 7313
} as const;

export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

export const OpenSubcode = {
  UNSPECIFIC: 0, // also used for a malformed optional parameter or capability (RFC 4271 6.2, RFC 5492)
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const RouteRefreshSubcode = { INVALID_MESSAGE_LENGTH: 1 } as const;

/** RFC 6608: which state an unexpected message arrived in. */
export const FsmSubcode = { UNSPECIFIED: 0, OPEN_SENT: 1, OPEN_CONFIRM: 2, ESTABLISHED: 3 } as const;

/** RFC 4486, RFC 8538 (hard reset). */
export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMIN_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMIN_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;

const UPDATE_SUBCODE_TEXT: Record<number, string> = {
  1: 'malformed attribute list',
  2: 'unrecognized well-known attribute',
  3: 'missing well-known attribute',
  4: 'attribute flags error',
  5: 'attribute length error',
  6: 'invalid ORIGIN attribute',
  8: 'invalid NEXT_HOP attribute',
  9: 'optional attribute error',
  10: 'invalid network field',
  11: 'malformed AS_PATH',
};

const SUBCODE_TEXT: Record<number, Record<number, string>> = {
  1: { 1: 'connection not synchronized', 2: 'bad message length', 3: 'bad message type' },
  2: {
    0: 'malformed optional parameter',
    1: 'unsupported version number',
    2: 'bad peer AS',
    3: 'bad BGP identifier',
    4: 'unsupported optional parameter',
    6: 'unacceptable hold time',
    7: 'unsupported capability',
  },
  3: UPDATE_SUBCODE_TEXT,
  7: { 1: 'invalid message length' },
};

const CODE_PREFIX: Record<number, string> = { 1: 'header', 2: 'OPEN', 3: 'UPDATE', 7: 'ROUTE-REFRESH' };

/** "UPDATE: attribute length error (detail)": the RFC error named first, then what was wrong. */
export function errorText(code: number, subcode: number, detail?: string): string {
  const prefix = CODE_PREFIX[code] ?? `error ${code}`;
  const name = SUBCODE_TEXT[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${prefix}: ${name}${detail ? ` (${detail})` : ''}`;
}

/** A decoding error that resets the session: send NOTIFICATION code/subcode/data. */
export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorAction;

  constructor(code: number, subcode: number, detail?: string, data: Uint8Array = new Uint8Array(0), action: ErrorAction = 'session-reset') {
    super(errorText(code, subcode, detail));
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.action = action;
  }
}

export function updateError(
  action: UpdateError['action'],
  subcode: number,
  attribute: number | undefined,
  detail: string,
): UpdateError {
  const error: UpdateError = { action, code: ErrorCode.UPDATE, subcode, message: errorText(ErrorCode.UPDATE, subcode, detail) };
  if (attribute !== undefined) error.attribute = attribute;
  return error;
}
