// Path attribute codes, flags and names (RFC 4271 4.3, 5), and the type-length-value framing.

import { ByteWriter, checkUint } from './bytes.ts';

export const AttributeFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const AttributeCode = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MED: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITIES: 32,
} as const;

export const WELL_KNOWN = AttributeFlag.TRANSITIVE;
export const OPTIONAL_NON_TRANSITIVE = AttributeFlag.OPTIONAL;
export const OPTIONAL_TRANSITIVE = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE;

export const ATTRIBUTE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(AttributeCode).map(([name, code]) => [code, name]),
);

export const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function attributeName(code: number): string {
  return ATTRIBUTE_NAMES[code] ?? `attribute ${code}`;
}

/**
 * Starts an attribute: flags, code, two length bytes. `endAttribute` fills the length and, when
 * the value fits one byte and the extended-length flag was not asked for, drops the spare byte.
 */
export function beginAttribute(w: ByteWriter, flags: number, code: number): number {
  const at = w.length;
  w.u8(flags | AttributeFlag.EXTENDED_LENGTH).u8(code).u16(0);
  return at;
}

export function endAttribute(w: ByteWriter, at: number, keepExtended: boolean): void {
  const length = w.length - at - 4;
  checkUint(length, 16, `attribute ${w.getU8(at + 1)} length`);
  if (length > 255 || keepExtended) {
    w.setU16(at + 2, length);
    return;
  }
  w.setU8(at, w.getU8(at) & ~AttributeFlag.EXTENDED_LENGTH);
  w.remove(at + 3, 1);
  w.setU8(at + 2, length);
}

export function writeAttribute(w: ByteWriter, flags: number, code: number, value: (w: ByteWriter) => void): void {
  const at = beginAttribute(w, flags, code);
  value(w);
  endAttribute(w, at, false);
}
