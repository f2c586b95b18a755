// AS_PATH / AS4_PATH segments (RFC 4271 4.3, RFC 5065 3, RFC 6793) and the 2-octet <-> 4-octet
// translation of RFC 6793 4.2.2 (sending) and 4.2.3 (receiving).

import { ByteWriter, readU16, readU32 } from './bytes.ts';
import { AS_TRANS, type AsPathSegment, type AsPathSegmentType } from './types.ts';

const SEGMENT_TYPES: Record<number, AsPathSegmentType> = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' };
const SEGMENT_CODES: Record<AsPathSegmentType, number> = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 };
const MAX_SEGMENT_ASNS = 255;
// Module-level copies for the per-message path: imported bindings cost a getter call per use
// under tsx's module transform.
const u16 = readU16;
const u32 = readU32;

/** Segments in bytes[start, end) with `asnSize` 2 or 4; a string says why it is malformed (RFC 7606 7.2, RFC 7607 2). */
export function decodeAsPath(bytes: Uint8Array, start: number, end: number, asnSize: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let p = start;
  while (p < end) {
    if (end - p < 2) return 'a single byte left after the last segment';
    const type = SEGMENT_TYPES[bytes[p]];
    const count = bytes[p + 1];
    if (type === undefined) return `unknown segment type ${bytes[p]}`;
    if (count === 0) return 'segment of length 0';
    p += 2;
    if (p + count * asnSize > end) return 'segment overruns the attribute';
    const asns = new Array<number>(count);
    let hasZero = false;
    for (let i = 0; i < count; i++, p += asnSize) {
      const asn = asnSize === 4 ? u32(bytes, p) : u16(bytes, p);
      if (asn === 0) hasZero = true;
      asns[i] = asn;
    }
    if (hasZero) return 'AS 0 in the path (RFC 7607 2)';
    segments.push({ type, asns });
  }
  return segments;
}

/** Writes segments, splitting any longer than 255 ASNs; on a 2-octet session big ASNs become AS_TRANS. */
export function writeAsPath(w: ByteWriter, segments: readonly AsPathSegment[], asnSize: 2 | 4): void {
  for (const segment of segments) {
    const code = SEGMENT_CODES[segment.type];
    if (code === undefined) throw new RangeError(`AS_PATH: unknown segment type "${segment.type}"`);
    if (segment.asns.length === 0) throw new RangeError('AS_PATH: a segment without ASNs is malformed (RFC 7606 7.2)');
    for (let from = 0; from < segment.asns.length; from += MAX_SEGMENT_ASNS) {
      const chunk = segment.asns.slice(from, from + MAX_SEGMENT_ASNS);
      w.u8(code).u8(chunk.length);
      for (const asn of chunk) {
        if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new RangeError(`AS_PATH: bad ASN ${asn}`);
        if (asnSize === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

export function isConfedSegment(segment: AsPathSegment): boolean {
  return segment.type === 'confed-sequence' || segment.type === 'confed-set';
}

/** Whether a 2-octet session needs AS4_PATH to carry this path (RFC 6793 4.2.2). */
export function needsAs4Path(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => !isConfedSegment(s) && s.asns.some((asn) => asn > 0xffff));
}

/** AS4_PATH never carries confederation segments (RFC 6793 3). */
export function as4PathSegments(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => !isConfedSegment(s));
}

/** Path length for the RFC 6793 4.2.3 comparison: a set counts 1, confederation segments 0. */
function countAsns(segments: readonly AsPathSegment[]): number {
  let count = 0;
  for (const s of segments) count += s.type === 'sequence' ? s.asns.length : s.type === 'set' ? 1 : 0;
  return count;
}

/**
 * RFC 6793 4.2.3: keep the leading AS_PATH part that AS4_PATH lacks, then AS4_PATH. When AS4_PATH
 * is the longer one it is ignored. Leading confederation segments of AS_PATH are kept.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  let missing = countAsns(asPath) - countAsns(as4Path);
  if (missing < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const merged: AsPathSegment[] = [];
  let splitSequence = false;
  for (const segment of asPath) {
    if (missing === 0 && !isConfedSegment(segment)) break;
    if (segment.type === 'sequence') {
      const take = Math.min(missing, segment.asns.length);
      merged.push({ type: 'sequence', asns: segment.asns.slice(0, take) });
      missing -= take;
      splitSequence = take < segment.asns.length;
      if (splitSequence) break;
    } else {
      merged.push({ type: segment.type, asns: [...segment.asns] });
      if (segment.type === 'set') missing -= 1;
    }
  }
  const tail = as4Path.map((s) => ({ type: s.type, asns: [...s.asns] }));
  // The sequence was cut in two by the sender's translation: join the halves again.
  if (splitSequence && tail.length > 0 && tail[0].type === 'sequence') {
    merged[merged.length - 1].asns.push(...tail.shift()!.asns);
  }
  return [...merged, ...tail];
}
