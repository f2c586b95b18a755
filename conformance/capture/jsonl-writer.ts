// The decode-jsonl line of a message written straight into the output buffer: the bytes of
// formatJsonl(m) + "\n", without building the line as a string first. UPDATE lines (nearly every
// line of a capture) are put together piece by piece; building, flattening and encoding their
// strings cost more than decoding the messages. Other message types go through formatJsonl.

import type { AsPathSegment, PathAttributes, Route } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { EnvelopeCache, formatJsonl } from './format-jsonl.ts';
import type { OutputBuffer } from './output-buffer.ts';

/** An ASCII JSON fragment, encoded once. */
function fragment(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

const TS = fragment('{"ts":');
const UPDATE_EMPTY_WITHDRAWN = fragment(',"update":{"withdrawn":[],"nlri":');
const UPDATE_WITHDRAWN = fragment(',"update":{"withdrawn":');
const NLRI = fragment(',"nlri":');
const ATTRIBUTES = fragment(',"attributes":');
const ERRORS = fragment(',"errors":');
const EMPTY_LIST = fragment('[]');
const EMPTY_OBJECT = fragment('{}');
const FIRST_PREFIX = fragment('[{"prefix":"');
const NEXT_PREFIX = fragment(',{"prefix":"');
const PREFIX_END = fragment('"}');
const PATH_ID = fragment('","pathId":');
const FIRST_STRING = fragment('["');
const NEXT_STRING = fragment('","');
const STRINGS_END = fragment('"]');
const FIRST_SEGMENT = fragment('[{"type":"');
const NEXT_SEGMENT = fragment(',{"type":"');
const ASNS = fragment('","asns":[');
const SEGMENT_END = fragment(']}');
const QUOTE = fragment('"');
const COMMA = fragment(',');
const CLOSE_BRACKET = fragment(']');
const CLOSE_BRACE = fragment('}');
const LINE_END = fragment('}\n');
const ASN = fragment('{"asn":');
const ADDRESS = fragment(',"address":"');
const QUOTE_BRACE = fragment('"}');
const AFI = fragment('{"afi":');
const SAFI = fragment(',"safi":');
const NEXT_HOPS = fragment(',"nextHops":');
const WITHDRAWN = fragment(',"withdrawn":');

/** Each attribute key as it starts an object (`{"origin":`) and as it follows another (`,"origin":`). */
function key(name: keyof PathAttributes): [Uint8Array, Uint8Array] {
  return [fragment(`{"${name}":`), fragment(`,"${name}":`)];
}
/**
 * Every key of PathAttributes, each written by writeAttributes: adding a key to the type without
 * adding it here fails the type check instead of dropping the attribute from the output.
 */
const K: Record<keyof PathAttributes, [Uint8Array, Uint8Array]> = {
  origin: key('origin'), asPath: key('asPath'), nextHop: key('nextHop'), med: key('med'), localPref: key('localPref'),
  atomicAggregate: key('atomicAggregate'), aggregator: key('aggregator'), communities: key('communities'),
  largeCommunities: key('largeCommunities'), extendedCommunities: key('extendedCommunities'), originatorId: key('originatorId'),
  clusterList: key('clusterList'), mpReach: key('mpReach'), mpUnreach: key('mpUnreach'), unknown: key('unknown'),
};

// As in formatJsonl: consecutive messages share a timestamp or a direction more often than not.
// src/dst are "ip:port" built from numbers and hex digits: ASCII, nothing to escape.
const envelope = new EnvelopeCache((m) => fragment(`,"src":"${m.src}","dst":"${m.dst}","stream":${m.stream},"type":"UPDATE","length":`));

/** Writes formatJsonl(m) and a newline to `out`. */
export function writeJsonl(m: DecodedMessage, out: OutputBuffer): void {
  const msg = m.message;
  if (msg === null || msg.type !== 'UPDATE' || m.errors !== undefined) {
    out.line(formatJsonl(m));
    return;
  }
  out.raw(TS);
  out.ascii(envelope.ts(m));
  out.raw(envelope.flow(m));
  out.number(m.length);
  if (msg.withdrawn.length === 0) out.raw(UPDATE_EMPTY_WITHDRAWN);
  else {
    out.raw(UPDATE_WITHDRAWN);
    writeRoutes(msg.withdrawn, out);
    out.raw(NLRI);
  }
  writeRoutes(msg.nlri, out);
  out.raw(ATTRIBUTES);
  writeAttributes(msg.attributes, out);
  out.raw(CLOSE_BRACE);
  // RFC 7606 outcomes: free-form messages, so JSON.stringify escapes them.
  if (msg.errors !== undefined && msg.errors.length > 0) {
    out.raw(ERRORS);
    out.text(JSON.stringify(msg.errors));
  }
  out.raw(LINE_END);
}

/** Prefixes come from the codec's formatters: ASCII, nothing to escape. */
function writeRoutes(list: readonly Route[], out: OutputBuffer): void {
  if (list.length === 0) return out.raw(EMPTY_LIST);
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    out.raw(i === 0 ? FIRST_PREFIX : NEXT_PREFIX);
    out.ascii(r.prefix);
    if (r.pathId === undefined) out.raw(PREFIX_END);
    else {
      out.raw(PATH_ID);
      out.number(r.pathId);
      out.raw(CLOSE_BRACE);
    }
  }
  out.raw(CLOSE_BRACKET);
}

/** Addresses and community texts from the codec's formatters: ASCII, nothing to escape. */
function writeStrings(list: readonly string[], out: OutputBuffer): void {
  if (list.length === 0) return out.raw(EMPTY_LIST);
  for (let i = 0; i < list.length; i++) {
    out.raw(i === 0 ? FIRST_STRING : NEXT_STRING);
    out.ascii(list[i]!);
  }
  out.raw(STRINGS_END);
}

function writeQuoted(text: string, out: OutputBuffer): void {
  out.raw(QUOTE);
  out.ascii(text);
  out.raw(QUOTE);
}

function writeAsPath(segments: readonly AsPathSegment[], out: OutputBuffer): void {
  if (segments.length === 0) return out.raw(EMPTY_LIST);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    out.raw(i === 0 ? FIRST_SEGMENT : NEXT_SEGMENT);
    out.ascii(seg.type);
    out.raw(ASNS);
    for (let j = 0; j < seg.asns.length; j++) {
      if (j > 0) out.raw(COMMA);
      out.number(seg.asns[j]!);
    }
    out.raw(SEGMENT_END);
  }
  out.raw(CLOSE_BRACKET);
}

/** In formatJsonl's key order. */
function writeAttributes(a: PathAttributes, out: OutputBuffer): void {
  let at = 0; // 0 before the first key, 1 after it: indexes K's pairs
  if (a.origin !== undefined) {
    out.raw(K.origin[at]!);
    at = 1;
    writeQuoted(a.origin, out);
  }
  if (a.asPath !== undefined) {
    out.raw(K.asPath[at]!);
    at = 1;
    writeAsPath(a.asPath, out);
  }
  if (a.nextHop !== undefined) {
    out.raw(K.nextHop[at]!);
    at = 1;
    writeQuoted(a.nextHop, out);
  }
  if (a.med !== undefined) {
    out.raw(K.med[at]!);
    at = 1;
    out.number(a.med);
  }
  if (a.localPref !== undefined) {
    out.raw(K.localPref[at]!);
    at = 1;
    out.number(a.localPref);
  }
  if (a.atomicAggregate !== undefined) {
    out.raw(K.atomicAggregate[at]!);
    at = 1;
    out.ascii(String(a.atomicAggregate));
  }
  if (a.aggregator !== undefined) {
    out.raw(K.aggregator[at]!);
    at = 1;
    out.raw(ASN);
    out.number(a.aggregator.asn);
    out.raw(ADDRESS);
    out.ascii(a.aggregator.address);
    out.raw(QUOTE_BRACE);
  }
  if (a.communities !== undefined) {
    out.raw(K.communities[at]!);
    at = 1;
    writeStrings(a.communities, out);
  }
  if (a.largeCommunities !== undefined) {
    out.raw(K.largeCommunities[at]!);
    at = 1;
    writeStrings(a.largeCommunities, out);
  }
  if (a.extendedCommunities !== undefined) {
    out.raw(K.extendedCommunities[at]!);
    at = 1;
    writeStrings(a.extendedCommunities, out);
  }
  if (a.originatorId !== undefined) {
    out.raw(K.originatorId[at]!);
    at = 1;
    writeQuoted(a.originatorId, out);
  }
  if (a.clusterList !== undefined) {
    out.raw(K.clusterList[at]!);
    at = 1;
    writeStrings(a.clusterList, out);
  }
  if (a.mpReach !== undefined) {
    const r = a.mpReach;
    out.raw(K.mpReach[at]!);
    at = 1;
    out.raw(AFI);
    out.number(r.afi);
    out.raw(SAFI);
    out.number(r.safi);
    out.raw(NEXT_HOPS);
    writeStrings(r.nextHops, out);
    out.raw(NLRI);
    writeRoutes(r.nlri, out);
    out.raw(CLOSE_BRACE);
  }
  if (a.mpUnreach !== undefined) {
    const r = a.mpUnreach;
    out.raw(K.mpUnreach[at]!);
    at = 1;
    out.raw(AFI);
    out.number(r.afi);
    out.raw(SAFI);
    out.number(r.safi);
    out.raw(WITHDRAWN);
    writeRoutes(r.withdrawn, out);
    out.raw(CLOSE_BRACE);
  }
  if (a.unknown !== undefined) {
    out.raw(K.unknown[at]!);
    at = 1;
    out.text(JSON.stringify(a.unknown));
  }
  out.raw(at === 0 ? EMPTY_OBJECT : CLOSE_BRACE);
}
