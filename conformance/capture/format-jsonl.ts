// One JSON object per message, as the decode-jsonl contract specifies. UPDATE is by far the most
// frequent message, so its envelope and route lists are written by hand (no intermediate object);
// path attributes, already in contract shape, go through JSON.stringify.

import type { Route, UpdateMessage, BgpMessage } from '../../reference/bgp/wire/types.ts';
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
  let s = `,"update":{"withdrawn":${routes(u.withdrawn)},"nlri":${routes(u.nlri)},"attributes":${JSON.stringify(u.attributes)}}`;
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
