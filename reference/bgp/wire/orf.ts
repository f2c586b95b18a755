// Outbound Route Filtering: the ORF part of a ROUTE-REFRESH (RFC 5291 4) with the address-prefix
// ORF entries of RFC 5292 3, and the ORF capability (RFC 5291 5; code 3, and the pre-standard
// code 130 FRR sends beside it with the same layout).
//
// ROUTE-REFRESH with ORFs, after AFI / reserved / SAFI:
//   When-to-refresh (1: IMMEDIATE, 2: DEFER), then per ORF type: ORF Type (1), Length of ORFs (2),
//   entries. Entry: Action (2 bits: 0 ADD, 1 REMOVE, 2 REMOVE-ALL) | Match (1 bit: 0 PERMIT,
//   1 DENY) | 5 reserved bits; for ADD/REMOVE of an address-prefix ORF then Sequence (4),
//   Minlen (1), Maxlen (1), Length (1), Prefix (ceil(Length / 8) octets).
// FRR 8.4 writes REMOVE-ALL as 0xC0 (action 3, reserved by the RFC; Quagga's pre-RFC constants,
// where REMOVE is 0x80): decoded as the REMOVE-ALL it means, marked `wireAction: 3`.

import { ByteWriter, checkUint, fromHex, readU16, readU32, toHex } from './bytes.ts';
import { formatPrefix, parsePrefix } from './addr.ts';
import { BgpError, ErrorCode, RouteRefreshSubcode } from './errors.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  ORF_TYPE_ADDRESS_PREFIX,
  ORF_TYPE_ADDRESS_PREFIX_CISCO,
  type AddPathMode,
  type Orf,
  type OrfAction,
  type OrfCapabilityEntry,
  type PrefixOrfEntry,
} from './types.ts';

const ACTIONS: readonly OrfAction[] = ['add', 'remove', 'remove-all'];
const ACTION_CODES: Record<OrfAction, number> = { add: 0, remove: 1, 'remove-all': 2 };
const WHEN: Record<number, 'immediate' | 'defer'> = { 1: 'immediate', 2: 'defer' };
const WHEN_CODES: Record<string, number> = { immediate: 1, defer: 2 };
const MODES: Record<number, AddPathMode> = { 1: 'receive', 2: 'send', 3: 'both' };
const MODE_CODES: Record<AddPathMode, number> = { receive: 1, send: 2, both: 3 };

export function isAddressPrefixOrf(type: number): boolean {
  return type === ORF_TYPE_ADDRESS_PREFIX || type === ORF_TYPE_ADDRESS_PREFIX_CISCO;
}

function malformed(detail: string, message: Uint8Array): BgpError {
  // RFC 5291 does not name an error for ORFs that do not add up; ROUTE-REFRESH Message Error /
  // Invalid Message Length (RFC 7313 5, the whole message as data) is the ROUTE-REFRESH error
  // whose meaning fits.
  return new BgpError(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, `ORF: ${detail}`, message.slice());
}

/** Address length in bits for the AFI an address-prefix ORF refers to; null for other families. */
function addressBits(afi: number): number | null {
  return afi === AFI_IPV4 ? 32 : afi === AFI_IPV6 ? 128 : null;
}

/**
 * The ORF part of a ROUTE-REFRESH (`bytes` is the whole message): bytes[start, end) begins with
 * When-to-refresh. Throws BgpError
 * 7/1 when the ORFs do not add up to the message length or an entry is malformed.
 */
export function decodeOrfs(bytes: Uint8Array, start: number, end: number, afi: number): { whenToRefresh: 'immediate' | 'defer' | number; orfs: Orf[] } {
  const when = bytes[start]!;
  const orfs: Orf[] = [];
  let p = start + 1;
  if (p >= end) throw malformed('When-to-refresh without an ORF', bytes);
  while (p < end) {
    if (end - p < 3) throw malformed(`${end - p} octets left, too short for ORF type and length`, bytes);
    const type = bytes[p]!;
    const length = readU16(bytes, p + 1);
    const entriesStart = p + 3;
    const entriesEnd = entriesStart + length;
    if (entriesEnd > end) throw malformed(`ORF type ${type} length ${length} runs past the message (${end - entriesStart} octets left)`, bytes);
    // Address-prefix entries of a family other than IPv4/IPv6 stay raw, like other ORF types.
    orfs.push(isAddressPrefixOrf(type) && addressBits(afi) !== null ? { type, name: 'address-prefix', entries: decodePrefixEntries(bytes, entriesStart, entriesEnd, afi, type) } : { type, hex: toHex(bytes, entriesStart, entriesEnd) });
    p = entriesEnd;
  }
  return { whenToRefresh: WHEN[when] ?? when, orfs };
}

function decodePrefixEntries(bytes: Uint8Array, start: number, end: number, afi: number, type: number): PrefixOrfEntry[] {
  const bits = addressBits(afi)!;
  const entries: PrefixOrfEntry[] = [];
  let p = start;
  while (p < end) {
    const common = bytes[p]!;
    const match = (common & 0x20) !== 0 ? 'deny' : 'permit';
    p++;
    if (common >> 6 === 3) {
      // Reserved by RFC 5291; FRR/Quagga's REMOVE-ALL (0xC0), a one-octet entry.
      entries.push({ action: 'remove-all', match, wireAction: 3 });
      continue;
    }
    const action = ACTIONS[common >> 6]!;
    if (action === 'remove-all') {
      entries.push({ action, match });
      continue;
    }
    if (end - p < 7) throw malformed(`ORF type ${type}: entry of ${end - p + 1} octets, shorter than the 8 of an address-prefix entry`, bytes);
    const sequence = readU32(bytes, p);
    const minLength = bytes[p + 4]!;
    const maxLength = bytes[p + 5]!;
    const prefixLength = bytes[p + 6]!;
    p += 7;
    if (prefixLength > bits) throw malformed(`ORF type ${type}: prefix length ${prefixLength} exceeds ${bits}`, bytes);
    const octets = (prefixLength + 7) >> 3;
    if (end - p < octets) throw malformed(`ORF type ${type}: prefix of length ${prefixLength} needs ${octets} octets, ${end - p} left`, bytes);
    const address = new Uint8Array(bits / 8);
    address.set(bytes.subarray(p, p + octets));
    // Bits past the prefix length are not part of the prefix (as for NLRI).
    if (prefixLength % 8 !== 0) address[octets - 1]! &= 0xff << (8 - (prefixLength % 8));
    p += octets;
    entries.push({ action, match, sequence, minLength, maxLength, prefix: formatPrefix(address, prefixLength) });
  }
  return entries;
}

/** Writes When-to-refresh and the ORFs (after AFI/reserved/SAFI); throws RangeError for what the wire cannot carry. */
export function encodeOrfs(w: ByteWriter, afi: number, whenToRefresh: 'immediate' | 'defer' | number | undefined, orfs: readonly Orf[]): void {
  const when = typeof whenToRefresh === 'number' ? whenToRefresh : WHEN_CODES[whenToRefresh ?? 'immediate'];
  if (when === undefined) throw new RangeError(`ROUTE-REFRESH: unknown When-to-refresh "${String(whenToRefresh)}"`);
  w.u8(checkUint(when, 8, 'ROUTE-REFRESH When-to-refresh'));
  if (orfs.length === 0) throw new RangeError('ROUTE-REFRESH: When-to-refresh needs at least one ORF');
  for (const orf of orfs) {
    const what = `ORF type ${orf.type}`;
    w.u8(checkUint(orf.type, 8, 'ORF type'));
    const lengthAt = w.length;
    w.u16(0);
    if (orf.name === 'address-prefix') {
      for (const entry of orf.entries) encodePrefixEntry(w, afi, entry, what);
    } else {
      w.bytes(fromHex(orf.hex, `${what} entries`));
    }
    w.setU16(lengthAt, checkUint(w.length - lengthAt - 2, 16, `${what} length`));
  }
}

function encodePrefixEntry(w: ByteWriter, afi: number, entry: PrefixOrfEntry, what: string): void {
  const action = entry.wireAction === 3 && entry.action === 'remove-all' ? 3 : ACTION_CODES[entry.action];
  if (action === undefined) throw new RangeError(`${what}: unknown action "${String(entry.action)}"`);
  if (entry.match !== 'permit' && entry.match !== 'deny') throw new RangeError(`${what}: match must be permit or deny, got "${String(entry.match)}"`);
  w.u8((action << 6) | (entry.match === 'deny' ? 0x20 : 0));
  if (entry.action === 'remove-all') return;
  if (entry.prefix === undefined || entry.sequence === undefined) throw new RangeError(`${what}: an ${entry.action} entry needs sequence and prefix`);
  const { bytes, length } = parsePrefix(entry.prefix);
  const bits = addressBits(afi);
  if (bits === null || bytes.length * 8 !== bits) throw new RangeError(`${what}: prefix ${entry.prefix} does not belong to AFI ${afi}`);
  w.u32(checkUint(entry.sequence, 32, `${what} sequence`))
    .u8(checkUint(entry.minLength ?? 0, 8, `${what} minLength`))
    .u8(checkUint(entry.maxLength ?? 0, 8, `${what} maxLength`))
    .u8(length)
    .bytes(bytes.subarray(0, (length + 7) >> 3));
}

/** Capability 3 / 130 value: per family AFI (2), reserved (1), SAFI (1), count (1), then type (1) + send/receive (1) each. */
export function decodeOrfCapability(bytes: Uint8Array, start: number, end: number, fail: (detail: string) => BgpError): OrfCapabilityEntry[] {
  const entries: OrfCapabilityEntry[] = [];
  let p = start;
  if (p === end) throw fail('empty');
  while (p < end) {
    if (end - p < 5) throw fail(`${end - p} octets left, too short for AFI, SAFI and the number of ORFs`);
    const afi = readU16(bytes, p);
    const safi = bytes[p + 3]!;
    const count = bytes[p + 4]!;
    p += 5;
    if (end - p < count * 2) throw fail(`${count} ORF types need ${count * 2} octets, ${end - p} left`);
    const types = [];
    for (let i = 0; i < count; i++, p += 2) {
      const mode = MODES[bytes[p + 1]!];
      if (mode === undefined) throw fail(`ORF type ${bytes[p]} send/receive value ${bytes[p + 1]}`);
      types.push({ type: bytes[p]!, mode });
    }
    entries.push({ afi, safi, types });
  }
  return entries;
}

export function encodeOrfCapability(w: ByteWriter, entries: readonly OrfCapabilityEntry[], what: string): void {
  for (const e of entries) {
    w.u16(checkUint(e.afi, 16, `${what} afi`)).u8(0).u8(checkUint(e.safi, 8, `${what} safi`)).u8(checkUint(e.types.length, 8, `${what} number of ORFs`));
    for (const t of e.types) {
      const mode = MODE_CODES[t.mode];
      if (mode === undefined) throw new RangeError(`${what}: unknown mode "${String(t.mode)}"`);
      w.u8(checkUint(t.type, 8, `${what} ORF type`)).u8(mode);
    }
  }
}
