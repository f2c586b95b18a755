// The only changes a replay makes to recorded bytes: the OPEN's BGP identifier when the live
// session needs another one, and next-hop addresses mapped from the recorded endpoints to the
// lab's. Everything else, malformed parts included, goes out byte for byte. A message whose
// attribute list does not frame cleanly is left untouched: its damage is what is being replayed.

import { ipToBytes, ipv4ToBytes, ipv4ToString, ipv6ToString } from '../../reference/bgp/wire/index.ts';

const HEADER = 19;
const ATTR_NEXT_HOP = 3;
const ATTR_MP_REACH = 14;
const FLAG_EXTENDED_LENGTH = 0x10;

/** Recorded address -> lab address (IPv4 to IPv4, IPv6 to IPv6). */
export type AddressMap = ReadonlyMap<string, string>;

/** A copy of an OPEN with its BGP identifier replaced (bytes 24..27). */
export function withBgpId(open: Uint8Array, bgpId: string): Uint8Array {
  if (open.length < HEADER + 10 || open[18] !== 1) return open;
  const out = open.slice();
  out.set(ipv4ToBytes(bgpId), HEADER + 5);
  return out;
}

export function bgpIdOf(open: Uint8Array): string | null {
  if (open.length < HEADER + 10 || open[18] !== 1) return null;
  return ipv4ToString(open, HEADER + 5);
}

/** A copy of an UPDATE with NEXT_HOP and MP_REACH next hops mapped; the input when nothing maps. */
export function mapNextHops(update: Uint8Array, map: AddressMap): Uint8Array {
  if (map.size === 0 || update.length < HEADER + 4 || update[18] !== 2) return update;
  const end = update.length;
  const withdrawnLength = (update[HEADER]! << 8) | update[HEADER + 1]!;
  let at = HEADER + 2 + withdrawnLength;
  if (at + 2 > end) return update;
  const attrsEnd = at + 2 + ((update[at]! << 8) | update[at + 1]!);
  if (attrsEnd > end) return update;
  at += 2;
  const edits: Array<{ offset: number; bytes: Uint8Array }> = [];
  while (at < attrsEnd) {
    if (at + 3 > attrsEnd) return update;
    const flags = update[at]!;
    const code = update[at + 1]!;
    const extended = (flags & FLAG_EXTENDED_LENGTH) !== 0;
    if (extended && at + 4 > attrsEnd) return update;
    const length = extended ? (update[at + 2]! << 8) | update[at + 3]! : update[at + 2]!;
    const value = at + (extended ? 4 : 3);
    if (value + length > attrsEnd) return update;
    if (code === ATTR_NEXT_HOP && length === 4) pushEdit(edits, map, ipv4ToString(update, value), value);
    if (code === ATTR_MP_REACH && length >= 4) {
      const nhLength = update[value + 3]!;
      const nh = value + 4;
      if (nh + nhLength <= value + length) {
        if (nhLength === 4) pushEdit(edits, map, ipv4ToString(update, nh), nh);
        if (nhLength === 16 || nhLength === 32) {
          pushEdit(edits, map, ipv6ToString(update, nh), nh);
          if (nhLength === 32) pushEdit(edits, map, ipv6ToString(update, nh + 16), nh + 16);
        }
      }
    }
    at = value + length;
  }
  if (edits.length === 0) return update;
  const out = update.slice();
  for (const e of edits) out.set(e.bytes, e.offset);
  return out;
}

function pushEdit(edits: Array<{ offset: number; bytes: Uint8Array }>, map: AddressMap, recorded: string, offset: number): void {
  const replacement = map.get(recorded);
  if (replacement === undefined) return;
  const bytes = ipToBytes(replacement);
  // A mapping between families would change the attribute's length: not a rewrite but a new message.
  if (bytes.length === (recorded.includes(':') ? 16 : 4)) edits.push({ offset, bytes });
}
