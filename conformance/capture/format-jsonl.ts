// One JSON object per message, as the decode-jsonl contract specifies. UPDATE is by far the most
// frequent message, so it is written by hand, attribute by attribute in the object's own key
// order (what JSON.stringify would print, at a third of the cost); the rare and the free-form
// parts go through JSON.stringify.

import type { AsPathSegment, BgpMessage, PathAttributes, Route, UpdateMessage } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';

export function formatJsonl(m: DecodedMessage): string {
  // src/dst are "ip:port" built from numbers and hex digits: nothing to escape.
  const head = `{"ts":${m.ts.toFixed(6)},"src":"${m.src}","dst":"${m.dst}","stream":${m.stream},"type":"${m.type}","length":${m.length}`;
  if (m.message === null) return `${head},"error":${JSON.stringify(m.error ?? 'undecodable')}}`;
  return head + body(m.message) + '}';
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
    case 'ROUTE-REFRESH':
      return `,"routeRefresh":{"afi":${msg.afi},"safi":${msg.safi},"subtype":${msg.subtype}}`;
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

function attributes(a: PathAttributes): string {
  let s = '{';
  let first = true;
  for (const key in a) {
    const value = a[key as keyof PathAttributes];
    if (value === undefined) continue;
    let json: string;
    switch (key) {
      case 'origin':
      case 'nextHop':
      case 'originatorId':
        json = `"${value as string}"`;
        break;
      case 'med':
      case 'localPref':
        json = String(value);
        break;
      case 'asPath':
        json = asPath(value as AsPathSegment[]);
        break;
      case 'communities':
      case 'largeCommunities':
      case 'extendedCommunities':
      case 'clusterList':
        json = strings(value as string[]);
        break;
      case 'mpReach': {
        const r = value as NonNullable<PathAttributes['mpReach']>;
        json = `{"afi":${r.afi},"safi":${r.safi},"nextHops":${strings(r.nextHops)},"nlri":${routes(r.nlri)}}`;
        break;
      }
      case 'mpUnreach': {
        const r = value as NonNullable<PathAttributes['mpUnreach']>;
        json = `{"afi":${r.afi},"safi":${r.safi},"withdrawn":${routes(r.withdrawn)}}`;
        break;
      }
      default:
        json = JSON.stringify(value);
    }
    s += first ? `"${key}":${json}` : `,"${key}":${json}`;
    first = false;
  }
  return s + '}';
}
