// One readable line per message: what a network engineer looks at first.
//   00:12:01.250113  #0 10.0.0.2:179 -> 10.0.0.1:40312  UPDATE  +2 -1 nh=10.0.0.2 path=65002 med=70 comm=65002:300

import type { AsPathSegment, BgpMessage, Capability, Orf, PathAttributes, Route, RouteRefreshMessage } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';

export function formatTableHeader(): string {
  return `${'time (UTC)'.padEnd(15)}  ${'stream  src -> dst'.padEnd(48)}  ${'type'.padEnd(13)}  summary`;
}

export function formatTableRow(m: DecodedMessage): string {
  const time = new Date(Math.floor(m.ts * 1000)).toISOString().slice(11, 19) + '.' + String(Math.round((m.ts % 1) * 1e6) % 1e6).padStart(6, '0');
  const flow = `#${m.stream} ${m.src} -> ${m.dst}`.padEnd(48);
  const errors = m.errors?.map((e) => e.message).join('; ') ?? m.error ?? '';
  const summary = m.message === null ? `ERROR ${errors}` : summarize(m.message) + (m.errors === undefined ? '' : ` ERROR ${errors}`);
  return `${time}  ${flow}  ${m.type.padEnd(13)}  ${summary}`.trimEnd();
}

function summarize(msg: BgpMessage): string {
  switch (msg.type) {
    case 'OPEN': {
      const as = msg.as4 ?? msg.myAs;
      return `AS ${as} id ${msg.bgpId} hold ${msg.holdTime}s caps ${msg.capabilities.map(capability).join(',') || 'none'}`;
    }
    case 'UPDATE': {
      const a = msg.attributes;
      const announced = msg.nlri.length + (a.mpReach?.nlri.length ?? 0);
      const withdrawn = msg.withdrawn.length + (a.mpUnreach?.withdrawn.length ?? 0);
      if (announced === 0 && withdrawn === 0) return a.mpUnreach !== undefined || Object.keys(a).length === 0 ? 'End-of-RIB' : 'no prefixes';
      const parts = [`+${announced} -${withdrawn}`];
      const first = msg.nlri[0] ?? a.mpReach?.nlri[0] ?? msg.withdrawn[0] ?? a.mpUnreach?.withdrawn[0];
      if (first !== undefined) parts.push(route(first) + (announced + withdrawn > 1 ? ' ...' : ''));
      parts.push(...attributeSummary(a));
      if (msg.errors !== undefined && msg.errors.length > 0) parts.push(`RFC7606: ${msg.errors.map((e) => `${e.action} (${e.message})`).join('; ')}`);
      return parts.join(' ');
    }
    case 'NOTIFICATION':
      return `${msg.code}/${msg.subcode} ${notificationName(msg.code, msg.subcode)}${msg.data ? ` data=${msg.data}` : ''}`;
    case 'KEEPALIVE':
      return '';
    case 'ROUTE-REFRESH':
      return `afi ${msg.afi} safi ${msg.safi}${msg.subtype === 1 ? ' BoRR' : msg.subtype === 2 ? ' EoRR' : ''}${msg.orfs === undefined ? '' : ` ${orfSummary(msg.whenToRefresh, msg.orfs)}`}`;
    case 'UNKNOWN':
      return `type ${msg.typeCode}, ${msg.hex.length / 2} bytes`;
  }
}

/** "ORF immediate type 64: add permit 10 203.0.113.0/24 ge 25 le 32, remove-all" */
function orfSummary(when: RouteRefreshMessage['whenToRefresh'], orfs: readonly Orf[]): string {
  const parts = orfs.map((orf) => {
    if (orf.name !== 'address-prefix') return `type ${orf.type}: ${orf.hex.length / 2} bytes`;
    const entries = orf.entries.map((e) =>
      e.action === 'remove-all'
        ? 'remove-all'
        : `${e.action} ${e.match} ${e.sequence} ${e.prefix}${e.minLength ? ` ge ${e.minLength}` : ''}${e.maxLength ? ` le ${e.maxLength}` : ''}`,
    );
    return `type ${orf.type}: ${entries.join(', ') || 'no entries'}`;
  });
  return `ORF ${when} ${parts.join('; ')}`;
}

function route(r: Route): string {
  return r.pathId === undefined ? r.prefix : `${r.prefix}#${r.pathId}`;
}

function attributeSummary(a: PathAttributes): string[] {
  const out: string[] = [];
  const nextHops = a.mpReach?.nextHops ?? (a.nextHop !== undefined ? [a.nextHop] : []);
  if (nextHops.length > 0) out.push(`nh=${nextHops.join(',')}`);
  if (a.asPath !== undefined) {
    const path = a.asPath.map(segmentText).join(' ');
    out.push(`path=${path || '(empty)'}`);
  }
  if (a.origin !== undefined && a.origin !== 'igp') out.push(`origin=${a.origin}`);
  if (a.med !== undefined) out.push(`med=${a.med}`);
  if (a.localPref !== undefined) out.push(`lp=${a.localPref}`);
  if (a.communities !== undefined) out.push(`comm=${a.communities.join(',')}`);
  if (a.largeCommunities !== undefined) out.push(`lcomm=${a.largeCommunities.join(',')}`);
  if (a.extendedCommunities !== undefined) out.push(`ext=${a.extendedCommunities.length}`);
  if (a.unknown !== undefined) out.push(`unknown-attrs=${a.unknown.map((u) => u.code).join(',')}`);
  return out;
}

/** The usual notation: sequence as is, {set}, (confederation sequence), ({confederation set}). */
function segmentText(s: AsPathSegment): string {
  switch (s.type) {
    case 'sequence':
      return s.asns.join(' ');
    case 'set':
      return `{${s.asns.join(',')}}`;
    case 'confed-sequence':
      return `(${s.asns.join(' ')})`;
    case 'confed-set':
      return `({${s.asns.join(',')}})`;
  }
}

const CAPABILITY_SHORT: Record<number, string> = {
  2: 'RR', 5: 'ENH', 6: 'EXTMSG', 64: 'GR', 65: 'AS4', 70: 'ERR', 71: 'LLGR', 73: 'FQDN', 128: 'RR-old', 3: 'ORF', 130: 'ORF-old',
};

function capability(c: Capability): string {
  if (c.code === 1 && 'afi' in c) return `MP(${c.afi}/${c.safi})`;
  if (c.code === 69 && 'entries' in c) return `ADDPATH(${c.entries.map((e) => `${e.afi}/${e.safi}:${e.mode}`).join(' ')})`;
  return CAPABILITY_SHORT[c.code] ?? `cap${c.code}`;
}

/** RFC 4271 section 4.5 codes; Cease subcodes from RFC 4486 / RFC 8203. */
const NOTIFICATION_NAMES: Record<number, [string, Record<number, string>]> = {
  1: ['message header error', { 1: 'connection not synchronized', 2: 'bad message length', 3: 'bad message type' }],
  2: [
    'OPEN message error',
    { 1: 'unsupported version', 2: 'bad peer AS', 3: 'bad BGP identifier', 4: 'unsupported optional parameter', 6: 'unacceptable hold time', 7: 'unsupported capability' },
  ],
  3: [
    'UPDATE message error',
    {
      1: 'malformed attribute list', 2: 'unrecognized well-known attribute', 3: 'missing well-known attribute', 4: 'attribute flags error',
      5: 'attribute length error', 6: 'invalid ORIGIN', 8: 'invalid NEXT_HOP', 9: 'optional attribute error', 10: 'invalid network field', 11: 'malformed AS_PATH',
    },
  ],
  4: ['hold timer expired', {}],
  5: ['finite state machine error', { 1: 'unexpected message in OpenSent', 2: 'unexpected message in OpenConfirm', 3: 'unexpected message in Established' }],
  6: [
    'cease',
    {
      1: 'maximum number of prefixes reached', 2: 'administrative shutdown', 3: 'peer de-configured', 4: 'administrative reset',
      5: 'connection rejected', 6: 'other configuration change', 7: 'connection collision resolution', 8: 'out of resources', 9: 'hard reset',
    },
  ],
  7: ['ROUTE-REFRESH message error', { 1: 'invalid message length' }],
};

export function notificationName(code: number, subcode: number): string {
  const entry = NOTIFICATION_NAMES[code];
  if (entry === undefined) return `unknown error code ${code}`;
  const sub = entry[1][subcode];
  return sub !== undefined ? `${entry[0]} / ${sub}` : entry[0];
}
