// The decode-jsonl line of a message written straight into the output buffer: the bytes of
// formatJsonl(m) + "\n", without building the line as a string first. UPDATE lines (nearly every
// line of a capture) are put together piece by piece; building, flattening and encoding their
// strings cost more than decoding the messages. Other message types go through formatJsonl.

import type { AsPathSegment, PathAttributes, Route, UpdateMessage } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { formatJsonl } from './format-jsonl.ts';
import type { OutputBuffer } from './output-buffer.ts';

/**
 * Every key of PathAttributes, each written below: adding a key to the type without writing it
 * here fails the type check instead of dropping the attribute from the output.
 */
const WRITTEN_ATTRIBUTES: Record<keyof PathAttributes, true> = {
  origin: true, asPath: true, nextHop: true, med: true, localPref: true, atomicAggregate: true, aggregator: true,
  communities: true, largeCommunities: true, extendedCommunities: true, originatorId: true, clusterList: true,
  mpReach: true, mpUnreach: true, unknown: true,
};
void WRITTEN_ATTRIBUTES;

// As in formatJsonl: consecutive messages share a timestamp or a direction more often than not.
let lastTs = NaN;
let lastTsText = '';
let lastSrc = '';
let lastDst = '';
let lastStream = -1;
let lastFlowText = '';

/** Writes formatJsonl(m) and a newline to `out`. */
export function writeJsonl(m: DecodedMessage, out: OutputBuffer): void {
  const msg = m.message;
  if (msg === null || msg.type !== 'UPDATE') {
    out.line(formatJsonl(m));
    return;
  }
  if (m.ts !== lastTs) {
    lastTs = m.ts;
    lastTsText = m.ts.toFixed(6);
  }
  if (m.src !== lastSrc || m.dst !== lastDst || m.stream !== lastStream) {
    lastSrc = m.src;
    lastDst = m.dst;
    lastStream = m.stream;
    // src/dst are "ip:port" built from numbers and hex digits: ASCII, nothing to escape.
    lastFlowText = `,"src":"${m.src}","dst":"${m.dst}","stream":${m.stream},"type":"UPDATE","length":`;
  }
  out.ascii('{"ts":');
  out.ascii(lastTsText);
  out.ascii(lastFlowText);
  out.number(m.length);
  writeUpdate(msg, out);
  out.ascii('}');
  out.newline();
}

function writeUpdate(u: UpdateMessage, out: OutputBuffer): void {
  out.ascii(',"update":{"withdrawn":');
  writeRoutes(u.withdrawn, out);
  out.ascii(',"nlri":');
  writeRoutes(u.nlri, out);
  out.ascii(',"attributes":');
  writeAttributes(u.attributes, out);
  out.ascii('}');
  // RFC 7606 outcomes: free-form messages, so JSON.stringify escapes them.
  if (u.errors !== undefined && u.errors.length > 0) {
    out.ascii(',"errors":');
    out.text(JSON.stringify(u.errors));
  }
}

/** Prefixes come from the codec's formatters: ASCII, nothing to escape. */
function writeRoutes(list: readonly Route[], out: OutputBuffer): void {
  out.ascii('[');
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    out.ascii(i === 0 ? '{"prefix":"' : ',{"prefix":"');
    out.ascii(r.prefix);
    if (r.pathId === undefined) out.ascii('"}');
    else {
      out.ascii('","pathId":');
      out.number(r.pathId);
      out.ascii('}');
    }
  }
  out.ascii(']');
}

/** Addresses and community texts from the codec's formatters: ASCII, nothing to escape. */
function writeStrings(list: readonly string[], out: OutputBuffer): void {
  out.ascii('[');
  for (let i = 0; i < list.length; i++) {
    out.ascii(i === 0 ? '"' : ',"');
    out.ascii(list[i]!);
    out.ascii('"');
  }
  out.ascii(']');
}

function writeAsPath(segments: readonly AsPathSegment[], out: OutputBuffer): void {
  out.ascii('[');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    out.ascii(i === 0 ? '{"type":"' : ',{"type":"');
    out.ascii(seg.type);
    out.ascii('","asns":[');
    for (let j = 0; j < seg.asns.length; j++) {
      if (j > 0) out.ascii(',');
      out.number(seg.asns[j]!);
    }
    out.ascii(']}');
  }
  out.ascii(']');
}

/** `{"name":` for the first key of an object, `,"name":` after it; returns the new `first`. */
function writeKey(out: OutputBuffer, first: boolean, name: string): false {
  out.ascii(first ? '{"' : ',"');
  out.ascii(name);
  out.ascii('":');
  return false;
}

/** In formatJsonl's key order. */
function writeAttributes(a: PathAttributes, out: OutputBuffer): void {
  let first = true;
  if (a.origin !== undefined) {
    first = writeKey(out, first, 'origin');
    out.ascii('"');
    out.ascii(a.origin);
    out.ascii('"');
  }
  if (a.asPath !== undefined) {
    first = writeKey(out, first, 'asPath');
    writeAsPath(a.asPath, out);
  }
  if (a.nextHop !== undefined) {
    first = writeKey(out, first, 'nextHop');
    out.ascii('"');
    out.ascii(a.nextHop);
    out.ascii('"');
  }
  if (a.med !== undefined) {
    first = writeKey(out, first, 'med');
    out.number(a.med);
  }
  if (a.localPref !== undefined) {
    first = writeKey(out, first, 'localPref');
    out.number(a.localPref);
  }
  if (a.atomicAggregate !== undefined) {
    first = writeKey(out, first, 'atomicAggregate');
    out.ascii(String(a.atomicAggregate));
  }
  if (a.aggregator !== undefined) {
    first = writeKey(out, first, 'aggregator');
    out.ascii('{"asn":');
    out.number(a.aggregator.asn);
    out.ascii(',"address":"');
    out.ascii(a.aggregator.address);
    out.ascii('"}');
  }
  if (a.communities !== undefined) {
    first = writeKey(out, first, 'communities');
    writeStrings(a.communities, out);
  }
  if (a.largeCommunities !== undefined) {
    first = writeKey(out, first, 'largeCommunities');
    writeStrings(a.largeCommunities, out);
  }
  if (a.extendedCommunities !== undefined) {
    first = writeKey(out, first, 'extendedCommunities');
    writeStrings(a.extendedCommunities, out);
  }
  if (a.originatorId !== undefined) {
    first = writeKey(out, first, 'originatorId');
    out.ascii('"');
    out.ascii(a.originatorId);
    out.ascii('"');
  }
  if (a.clusterList !== undefined) {
    first = writeKey(out, first, 'clusterList');
    writeStrings(a.clusterList, out);
  }
  if (a.mpReach !== undefined) {
    const r = a.mpReach;
    first = writeKey(out, first, 'mpReach');
    out.ascii('{"afi":');
    out.number(r.afi);
    out.ascii(',"safi":');
    out.number(r.safi);
    out.ascii(',"nextHops":');
    writeStrings(r.nextHops, out);
    out.ascii(',"nlri":');
    writeRoutes(r.nlri, out);
    out.ascii('}');
  }
  if (a.mpUnreach !== undefined) {
    const r = a.mpUnreach;
    first = writeKey(out, first, 'mpUnreach');
    out.ascii('{"afi":');
    out.number(r.afi);
    out.ascii(',"safi":');
    out.number(r.safi);
    out.ascii(',"withdrawn":');
    writeRoutes(r.withdrawn, out);
    out.ascii('}');
  }
  if (a.unknown !== undefined) {
    first = writeKey(out, first, 'unknown');
    out.text(JSON.stringify(a.unknown));
  }
  out.ascii(first ? '{}' : '}');
}
