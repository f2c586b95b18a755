// ADD-PATH (RFC 7911) over one session, from the sender's captured UPDATEs: which paths of each
// prefix are announced at the end (a path is prefix + path id; a withdrawal names both), and
// whether one prefix's paths carry distinct ids and the expected next hops.
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { UpdateMessage } from '../../reference/bgp/wire/index.ts';

export interface AnnouncedPath {
  prefix: string;
  /** Absent when the NLRI carried no path id (ADD-PATH not in use in this direction). */
  pathId?: number;
  nextHop: string;
}

const key = (prefix: string, pathId: number | undefined) => `${prefix}#${pathId ?? '-'}`;

/** The paths announced and not withdrawn at the end of `sent` (one direction of one session). */
export function announcedPaths(sent: readonly DecodedMessage[]): AnnouncedPath[] {
  const paths = new Map<string, AnnouncedPath>();
  for (const m of sent) {
    if (m.type !== 'UPDATE' || m.message === null) continue;
    const u = m.message as UpdateMessage;
    for (const r of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) paths.delete(key(r.prefix, r.pathId));
    const treatAsWithdraw = (u.errors ?? []).some((e) => e.action === 'treat-as-withdraw');
    const reach = u.attributes.mpReach;
    const groups = [
      { routes: u.nlri, nextHop: u.attributes.nextHop ?? '' },
      { routes: reach?.nlri ?? [], nextHop: reach?.nextHops[0] ?? '' },
    ];
    for (const { routes, nextHop } of groups) {
      for (const r of routes) {
        if (treatAsWithdraw) paths.delete(key(r.prefix, r.pathId));
        else paths.set(key(r.prefix, r.pathId), { prefix: r.prefix, ...(r.pathId === undefined ? {} : { pathId: r.pathId }), nextHop });
      }
    }
  }
  return [...paths.values()];
}

/** The prefix with the most announced paths (the multi-path VIP), or null when there is none. */
export function mostPathsPrefix(paths: readonly AnnouncedPath[]): string | null {
  const counts = new Map<string, number>();
  for (const p of paths) counts.set(p.prefix, (counts.get(p.prefix) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

/**
 * What is wrong with `prefix`'s paths on one ADD-PATH session (empty when nothing): every path
 * has an id (RFC 7911 3), the ids are distinct per next hop (RFC 7911 5: an id names one path,
 * so the same next hop twice is one path sent twice) and the next hops are exactly `expected`.
 */
export function multiPathFindings(paths: readonly AnnouncedPath[], prefix: string, expected: readonly string[]): string[] {
  const mine = paths.filter((p) => p.prefix === prefix);
  const findings: string[] = [];
  if (mine.length === 0) return [`${prefix} is not announced on this session`];
  const noId = mine.filter((p) => p.pathId === undefined);
  if (noId.length > 0) findings.push(`${noId.length} path(s) of ${prefix} carry no path identifier`);
  const hops = mine.map((p) => p.nextHop);
  const repeated = [...new Set(hops.filter((h, i) => hops.indexOf(h) !== i))];
  if (repeated.length > 0) findings.push(`next hop ${repeated.join(', ')} announced under several path ids`);
  const missing = expected.filter((h) => !hops.includes(h));
  const extra = [...new Set(hops.filter((h) => !expected.includes(h)))];
  if (missing.length > 0) findings.push(`no path of ${prefix} with next hop ${missing.join(', ')}`);
  if (extra.length > 0) findings.push(`unexpected next hop ${extra.join(', ')} for ${prefix}`);
  return findings;
}

/** A path of one prefix as the receiving router holds it. */
export interface ReceivedPath {
  nextHop: string;
  pathId?: number;
  /** The router holds the path but cannot resolve its next hop (BIRD: `unreachable`). */
  unresolved?: boolean;
}

/**
 * The paths from one BIRD protocol in `birdc show route for PREFIX all`: each route starts with
 * its type and `[protocol ...`, its BGP.next_hop line follows (a `via` line only when resolved).
 */
export function birdPaths(showRouteAll: string, protocol: string): ReceivedPath[] {
  const out: ReceivedPath[] = [];
  let current: { mine: boolean; unresolved: boolean } | null = null;
  for (const line of showRouteAll.split('\n')) {
    const header = /^\S*\s+(\w+) \[(\S+)/.exec(line);
    if (header) current = { mine: header[2] === protocol, unresolved: header[1] !== 'unicast' };
    const hop = /^\s+BGP\.next_hop: (\S+)/.exec(line);
    if (hop && current?.mine) out.push({ nextHop: hop[1]!, ...(current.unresolved ? { unresolved: true } : {}) });
  }
  return out;
}
