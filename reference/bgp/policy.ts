// Per-peer import and export policy: an ordered list of terms, each with an optional match
// (prefix list, communities, large communities) and what to do on a match (set attributes,
// then accept, reject or continue with the next term).
import { Address6 } from 'ip-address';
import type { RouteAttributes } from './attributes.ts';
import { parseIpv4, parsePrefix } from './prefix.ts';
import { AFI_IPV4 } from './wire/types.ts';

export interface PrefixListEntry {
  /** Canonical "addr/len". */
  prefix: string;
  /** Accepted route lengths (inclusive); both equal the prefix length for an exact match. */
  ge: number;
  le: number;
}

export interface PolicyMatch {
  prefixes?: PrefixListEntry[];
  /** The route carries at least one of these. */
  communities?: string[];
  largeCommunities?: string[];
}

export interface PolicySet {
  localPref?: number;
  med?: number;
  addCommunities?: string[];
  removeCommunities?: string[];
  addLargeCommunities?: string[];
  removeLargeCommunities?: string[];
  /** Prepend the local AS (or `asn`) this many times. */
  prepend?: { count: number; asn?: number };
  /** "self" (the session's local address) or an explicit address. */
  nextHop?: string;
}

export interface PolicyTerm {
  match?: PolicyMatch;
  set?: PolicySet;
  action: 'accept' | 'reject' | 'next';
}

export interface Policy {
  name: string;
  terms: PolicyTerm[];
  defaultAction: 'accept' | 'reject';
}

export interface PolicyContext {
  localAs: number;
  /** The address "next-hop self" means for this route's family on this session. */
  selfNextHop: string;
}

/** Parses "10.0.0.0/8", "10.0.0.0/8 le 32", "10.0.0.0/8 ge 24 le 28". Returns a reason on error. */
export function parsePrefixListEntry(text: string): PrefixListEntry | string {
  const words = text.trim().split(/\s+/);
  const parsed = parsePrefix(words[0] ?? '');
  if (typeof parsed === 'string') return parsed;
  const max = parsed.afi === AFI_IPV4 ? 32 : 128;
  let ge = parsed.length;
  let le = parsed.length;
  let sawRange = false;
  for (let i = 1; i < words.length; i += 2) {
    const value = Number(words[i + 1]);
    if (!Number.isInteger(value) || value < parsed.length || value > max) {
      return `"${text}": ${words[i]} needs a length between ${parsed.length} and ${max}`;
    }
    if (words[i] === 'ge') {
      ge = value;
      if (!sawRange) le = max;
    } else if (words[i] === 'le') le = value;
    else return `"${text}": expected "ge N" or "le N", got "${words[i]}"`;
    sawRange = true;
  }
  if (ge > le) return `"${text}": ge is above le`;
  return { prefix: parsed.prefix, ge, le };
}

function ipv4Within(route: string, entry: PrefixListEntry): boolean {
  const [routeAddress, routeLength] = route.split('/');
  const [entryAddress, entryLength] = entry.prefix.split('/');
  const length = Number(entryLength);
  const a = parseIpv4(routeAddress!);
  const b = parseIpv4(entryAddress!);
  if (a === null || b === null) return false;
  const block = 2 ** (32 - length);
  return Math.floor(a / block) === Math.floor(b / block) && Number(routeLength) >= length;
}

export function prefixMatches(route: string, entry: PrefixListEntry): boolean {
  const routeLength = Number(route.slice(route.indexOf('/') + 1));
  if (routeLength < entry.ge || routeLength > entry.le) return false;
  const routeIsV4 = !route.includes(':');
  if (routeIsV4 !== !entry.prefix.includes(':')) return false;
  if (routeIsV4) return ipv4Within(route, entry);
  return new Address6(route).isInSubnet(new Address6(entry.prefix));
}

function matches(match: PolicyMatch | undefined, prefix: string, attrs: RouteAttributes): boolean {
  if (!match) return true;
  if (match.prefixes && !match.prefixes.some((entry) => prefixMatches(prefix, entry))) return false;
  if (match.communities && !match.communities.some((c) => attrs.communities?.includes(c))) return false;
  if (match.largeCommunities && !match.largeCommunities.some((c) => attrs.largeCommunities?.includes(c))) return false;
  return true;
}

function withAdded(list: string[] | undefined, add: string[] | undefined, remove: string[] | undefined): string[] | undefined {
  let out = list ? [...list] : [];
  if (remove) out = out.filter((c) => !remove.includes(c));
  for (const c of add ?? []) if (!out.includes(c)) out.push(c);
  return out.length > 0 ? out : undefined;
}

function applySet(set: PolicySet, attrs: RouteAttributes, ctx: PolicyContext): RouteAttributes {
  const out: RouteAttributes = { ...attrs };
  if (set.localPref !== undefined) out.localPref = set.localPref;
  if (set.med !== undefined) out.med = set.med;
  if (set.addCommunities || set.removeCommunities) {
    out.communities = withAdded(attrs.communities, set.addCommunities, set.removeCommunities);
    if (!out.communities) delete out.communities;
  }
  if (set.addLargeCommunities || set.removeLargeCommunities) {
    out.largeCommunities = withAdded(attrs.largeCommunities, set.addLargeCommunities, set.removeLargeCommunities);
    if (!out.largeCommunities) delete out.largeCommunities;
  }
  if (set.prepend && set.prepend.count > 0) {
    const asns = new Array<number>(set.prepend.count).fill(set.prepend.asn ?? ctx.localAs);
    const path = attrs.asPath ?? [];
    const first = path[0];
    out.asPath =
      first && first.type === 'sequence' && first.asns.length + asns.length <= 255
        ? [{ type: 'sequence', asns: [...asns, ...first.asns] }, ...path.slice(1)]
        : [{ type: 'sequence', asns }, ...path];
  }
  if (set.nextHop !== undefined) {
    out.nextHop = set.nextHop === 'self' ? ctx.selfNextHop : set.nextHop;
    delete out.nextHopLinkLocal;
  }
  return out;
}

/** Whether the result can differ between prefixes that share attributes. */
export function dependsOnPrefix(policy: Policy | undefined): boolean {
  return policy?.terms.some((term) => term.match?.prefixes !== undefined) ?? false;
}

/** Whether the policy rejects every route: no terms, default reject (`export: none`). */
export function rejectsAll(policy: Policy | undefined): boolean {
  return policy !== undefined && policy.terms.length === 0 && policy.defaultAction === 'reject';
}

/** Runs a policy over one route. Returns the (possibly changed) attributes, or null to reject. */
export function evaluatePolicy(
  policy: Policy | undefined,
  prefix: string,
  attrs: RouteAttributes,
  ctx: PolicyContext,
): RouteAttributes | null {
  if (!policy) return attrs;
  let current = attrs;
  for (const term of policy.terms) {
    if (!matches(term.match, prefix, current)) continue;
    if (term.set) current = applySet(term.set, current, ctx);
    if (term.action === 'accept') return current;
    if (term.action === 'reject') return null;
  }
  return policy.defaultAction === 'accept' ? current : null;
}
