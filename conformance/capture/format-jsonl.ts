// One JSON object per message, as the decode-jsonl contract specifies. UPDATE is by far the most
// frequent message, so it is written by hand, attribute by attribute in the object's own key
// order (what JSON.stringify would print, at a third of the cost); the rare and the free-form
// parts go through JSON.stringify.

import type { AsPathSegment, BgpMessage, PathAttributes, Route, UpdateMessage } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';

/**
 * Messages come in runs: many share one segment's timestamp, and long runs share one direction.
 * Reusing the last timestamp text and the last endpoint rendering saves a third of the envelope
 * cost; formatJsonl and the byte writer (jsonl-writer.ts) each keep one.
 */
export class EnvelopeCache<Flow> {
  private lastTs = NaN;
  private tsText = '';
  private src = '';
  private dst = '';
  private stream = -1;
  private flowValue: Flow | undefined;

  constructor(private readonly renderFlow: (m: DecodedMessage) => Flow) {}

  ts(m: DecodedMessage): string {
    if (m.ts !== this.lastTs) {
      this.lastTs = m.ts;
      this.tsText = m.ts.toFixed(6);
    }
    return this.tsText;
  }

  flow(m: DecodedMessage): Flow {
    if (m.src !== this.src || m.dst !== this.dst || m.stream !== this.stream || this.flowValue === undefined) {
      this.src = m.src;
      this.dst = m.dst;
      this.stream = m.stream;
      this.flowValue = this.renderFlow(m);
    }
    return this.flowValue;
  }
}

// src/dst are "ip:port" built from numbers and hex digits: nothing to escape.
const envelope = new EnvelopeCache((m) => `,"src":"${m.src}","dst":"${m.dst}","stream":${m.stream},"type":"`);

export function formatJsonl(m: DecodedMessage): string {
  const head = `{"ts":${envelope.ts(m)}${envelope.flow(m)}${m.type}","length":${m.length}`;
  if (m.message === null) return `${head}${envelopeErrors(m)}${m.hex === undefined ? '' : `,"hex":"${m.hex}"`}}`;
  return head + body(m.message) + envelopeErrors(m) + '}';
}

/**
 * Errors of the message as a whole (header, unparsable body, undefined type, ORFs not
 * negotiated, cut by the capture): `errors` as the contract has it, and `error` (the first
 * one's text) for readers of the older field.
 */
function envelopeErrors(m: DecodedMessage): string {
  const errors = m.errors ?? (m.message === null ? [{ action: 'session-reset', code: 0, subcode: 0, message: m.error ?? 'undecodable' }] : undefined);
  if (errors === undefined || errors.length === 0) return '';
  return `,"error":${JSON.stringify(m.error ?? errors[0]!.message)},"errors":${JSON.stringify(errors)}`;
}

function body(msg: BgpMessage): string {
  switch (msg.type) {
    case 'UPDATE':
      return updateBody(msg);
    case 'KEEPALIVE':
      return '';
    case 'OPEN': {
      const { type: _type, ...open } = msg;
      return `,"open":${JSON.stringify(open)}`;
    }
    case 'NOTIFICATION':
      return `,"notification":{"code":${msg.code},"subcode":${msg.subcode},"data":"${msg.data}"}`;
    case 'ROUTE-REFRESH': {
      const head = `,"routeRefresh":{"afi":${msg.afi},"safi":${msg.safi},"subtype":${msg.subtype}`;
      if (msg.orfs === undefined) return head + '}';
      return `${head},"whenToRefresh":${JSON.stringify(msg.whenToRefresh)},"orfs":${JSON.stringify(msg.orfs)}}`;
    }
    case 'UNKNOWN':
      return `,"unknown":{"typeCode":${msg.typeCode},"hex":"${msg.hex}"}`;
  }
}

function updateBody(u: UpdateMessage): string {
  let s = `,"update":{"withdrawn":${routes(u.withdrawn)},"nlri":${routes(u.nlri)},"attributes":${attributes(u.attributes)}}`;
  // RFC 7606 outcomes that did not reset the session (treat-as-withdraw, attribute-discard).
  if (u.errors !== undefined && u.errors.length > 0) s += `,"errors":${JSON.stringify(u.errors)}`;
  return s;
}

function routes(list: readonly Route[]): string {
  if (list.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (i > 0) s += ',';
    s += r.pathId === undefined ? `{"prefix":"${r.prefix}"}` : `{"prefix":"${r.prefix}","pathId":${r.pathId}}`;
  }
  return s + ']';
}

/** Addresses, prefixes and community strings come from the codec's formatters: no escaping needed. */
function strings(list: readonly string[]): string {
  if (list.length === 0) return '[]';
  return `["${list.join('","')}"]`;
}

function asPath(segments: readonly AsPathSegment[]): string {
  let s = '[';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (i > 0) s += ',';
    s += `{"type":"${seg.type}","asns":[${seg.asns.join(',')}]}`;
  }
  return s + ']';
}

/** Every PathAttributes key, in the contract's order; a key the codec adds later falls to JSON.stringify. */
const KNOWN_KEYS = new Set([
  'origin', 'asPath', 'nextHop', 'med', 'localPref', 'atomicAggregate', 'aggregator', 'communities', 'largeCommunities',
  'extendedCommunities', 'originatorId', 'clusterList', 'mpReach', 'mpUnreach', 'unknown',
]);

function attributes(a: PathAttributes): string {
  // Fixed-order checks instead of for...in: attribute objects come in many shapes, and
  // enumerating their keys costs more than testing each known one.
  let s = '';
  let count = 0;
  if (a.origin !== undefined) {
    s += `,"origin":"${a.origin}"`;
    count++;
  }
  if (a.asPath !== undefined) {
    s += `,"asPath":${asPath(a.asPath)}`;
    count++;
  }
  if (a.nextHop !== undefined) {
    s += `,"nextHop":"${a.nextHop}"`;
    count++;
  }
  if (a.med !== undefined) {
    s += `,"med":${a.med}`;
    count++;
  }
  if (a.localPref !== undefined) {
    s += `,"localPref":${a.localPref}`;
    count++;
  }
  if (a.atomicAggregate !== undefined) {
    s += `,"atomicAggregate":${a.atomicAggregate}`;
    count++;
  }
  if (a.aggregator !== undefined) {
    s += `,"aggregator":{"asn":${a.aggregator.asn},"address":"${a.aggregator.address}"}`;
    count++;
  }
  if (a.communities !== undefined) {
    s += `,"communities":${strings(a.communities)}`;
    count++;
  }
  if (a.largeCommunities !== undefined) {
    s += `,"largeCommunities":${strings(a.largeCommunities)}`;
    count++;
  }
  if (a.extendedCommunities !== undefined) {
    s += `,"extendedCommunities":${strings(a.extendedCommunities)}`;
    count++;
  }
  if (a.originatorId !== undefined) {
    s += `,"originatorId":"${a.originatorId}"`;
    count++;
  }
  if (a.clusterList !== undefined) {
    s += `,"clusterList":${strings(a.clusterList)}`;
    count++;
  }
  if (a.mpReach !== undefined) {
    const r = a.mpReach;
    s += `,"mpReach":{"afi":${r.afi},"safi":${r.safi},"nextHops":${strings(r.nextHops)},"nlri":${routes(r.nlri)}}`;
    count++;
  }
  if (a.mpUnreach !== undefined) {
    const r = a.mpUnreach;
    s += `,"mpUnreach":{"afi":${r.afi},"safi":${r.safi},"withdrawn":${routes(r.withdrawn)}}`;
    count++;
  }
  if (a.unknown !== undefined) {
    s += `,"unknown":${JSON.stringify(a.unknown)}`;
    count++;
  }
  if (count !== Object.keys(a).length) {
    for (const [key, value] of Object.entries(a)) {
      if (!KNOWN_KEYS.has(key) && value !== undefined) s += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    }
  }
  return s.length === 0 ? '{}' : `{${s.slice(1)}}`;
}
