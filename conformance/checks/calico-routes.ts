// calico.block-aggregation and calico.borrowed-ip: what Calico nodes announce, what the route
// reflector passes on, and what ends up in a node's kernel, judged against the cluster's IPAM
// facts (pools, placed pods). Pure (documents, decoded messages and table rows in, problems out)
// but for readCalicoFacts, which reads the cluster folder.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { PathAttributes, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import type { RouteEntry } from '../lab/kinds/kind.ts';
import { cidrContains, cidrLast, formatIp, parseCidr, parseIp } from '../../reference/ipam/address.ts';
import { yamlFilesUnder } from '../../reference/k8s/manifests.ts';

export interface CalicoPool {
  cidr: string;
  blockSize: number;
}

export interface CalicoPod {
  name: string;
  node: string;
  ip: string;
}

export interface CalicoFacts {
  pools: CalicoPool[];
  pods: CalicoPod[];
}

/** Calico's default block sizes when an IPPool gives none. */
const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;

interface Doc {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  spec?: { cidr?: unknown; blockSize?: unknown; nodeName?: unknown };
  status?: { podIP?: unknown };
}

/** IPPools and placed pods (nodeName and podIP set) from the cluster's YAML documents; other kinds are ignored. */
export function calicoFacts(docs: readonly unknown[]): CalicoFacts {
  const pools: CalicoPool[] = [];
  const pods: CalicoPod[] = [];
  for (const raw of docs) {
    if (raw === null || typeof raw !== 'object') continue;
    const doc = raw as Doc;
    if (doc.kind === 'IPPool' && typeof doc.spec?.cidr === 'string') {
      const cidr = parseCidr(doc.spec.cidr);
      if (!cidr) continue;
      const blockSize = typeof doc.spec.blockSize === 'number' ? doc.spec.blockSize : DEFAULT_BLOCK_SIZE[cidr.family];
      pools.push({ cidr: doc.spec.cidr, blockSize });
    } else if (doc.kind === 'Pod' && typeof doc.spec?.nodeName === 'string' && typeof doc.status?.podIP === 'string') {
      const ns = typeof doc.metadata?.namespace === 'string' ? doc.metadata.namespace : 'default';
      pods.push({ name: `${ns}/${String(doc.metadata?.name)}`, node: doc.spec.nodeName, ip: doc.status.podIP });
    }
  }
  return { pools, pods };
}

/** The facts of every YAML document under a cluster folder (unparsable documents are skipped: the agent reports them). */
export function readCalicoFacts(dir: string): CalicoFacts {
  return calicoFacts(yamlFilesUnder(dir).flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).flatMap((d) => (d.errors.length ? [] : [d.toJS() as unknown]))));
}

export interface CalicoPlan {
  /** Nodes the fixture has announce an IPAM block, with the pods placed on them. */
  owners: Array<{ node: string; blocks: string[]; podIps: string[] }>;
  /** Host routes a node announces from inside another node's block: borrowed addresses. */
  borrowed: Array<{ node: string; address: string; block: string; owner: string; pod: string | null }>;
}

/** What the fixture declares (each speaker node's `announce`) read against the pools and pods. */
export function calicoPlan(announce: Readonly<Record<string, readonly string[]>>, facts: CalicoFacts): CalicoPlan {
  const owners = Object.entries(announce)
    .map(([node, prefixes]) => ({ node, blocks: prefixes.filter((p) => isBlock(p, facts.pools)), podIps: facts.pods.filter((p) => p.node === node).map((p) => p.ip) }))
    .filter((o) => o.blocks.length > 0);
  const borrowed: CalicoPlan['borrowed'] = [];
  for (const [node, prefixes] of Object.entries(announce)) {
    for (const prefix of prefixes) {
      const cidr = parseCidr(prefix);
      if (!cidr || cidr.prefixLength !== (cidr.family === 4 ? 32 : 128)) continue;
      const address = prefix.split('/')[0]!;
      for (const o of owners) {
        const block = o.node === node ? undefined : o.blocks.find((b) => covers(b, prefix));
        if (block) borrowed.push({ node, address, block, owner: o.node, pod: facts.pods.find((p) => p.node === node && p.ip === address)?.name ?? null });
      }
    }
  }
  return { owners, borrowed };
}

/** The highest address of a block that no pod holds and no other route covers more specifically: it must hit the blackhole. */
export function unassignedAddress(block: string, taken: readonly string[]): string | null {
  const cidr = parseCidr(block);
  if (!cidr) return null;
  for (let value = cidrLast(cidr); value >= cidr.network; value--) {
    const text = formatIp({ family: cidr.family, value });
    if (!taken.some((t) => (t.includes('/') ? covers(t, text) : parseIp(t)?.value === value))) return text;
  }
  return null;
}

/** Whether `inner` (an address or a CIDR) lies inside the CIDR `outer`. */
export function covers(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = inner.includes('/') ? parseCidr(inner) : parseCidr(`${inner}/${inner.includes(':') ? 128 : 32}`);
  if (!o || !i || i.prefixLength < o.prefixLength) return false;
  return cidrContains(o, { family: i.family, value: i.network });
}

/** A prefix that is one IPAM block of a pool: inside it and exactly the pool's block size. */
export function isBlock(prefix: string, pools: readonly CalicoPool[]): boolean {
  const p = parseCidr(prefix);
  return p !== null && pools.some((pool) => pool.blockSize === p.prefixLength && covers(pool.cidr, prefix));
}

/**
 * The prefixes announced at the end of these messages (one direction of a session), each with its
 * latest attributes. A new TCP connection starts empty: the old one's routes died with it.
 */
export function announcedRoutes(sent: readonly DecodedMessage[]): Map<string, PathAttributes> {
  const routes = new Map<string, PathAttributes>();
  // The live connection is the one heard from last (a collision's loser falls silent).
  const live = sent.at(-1)?.stream;
  for (const m of sent) {
    if (m.stream !== live || m.type !== 'UPDATE' || m.message === null) continue;
    const u = m.message as UpdateMessage;
    for (const r of [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]) routes.delete(r.prefix);
    // RFC 7606 treat-as-withdraw: such a message's NLRI count as withdrawn.
    const withdraws = (u.errors ?? []).some((e) => e.action === 'treat-as-withdraw');
    for (const r of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) {
      if (withdraws) routes.delete(r.prefix);
      else routes.set(r.prefix, u.attributes);
    }
  }
  return routes;
}

/** The kernel's choice by longest prefix match among these rows (no metric tie-break needed: one row per prefix). */
export function longestMatch(routes: readonly RouteEntry[], address: string): RouteEntry | undefined {
  let best: RouteEntry | undefined;
  let bestLength = -1;
  for (const r of routes) {
    const length = parseCidr(r.prefix)?.prefixLength ?? -1;
    if (length > bestLength && covers(r.prefix, address)) {
      best = r;
      bestLength = length;
    }
  }
  return best;
}

export type RouteGet =
  | { kind: 'via'; gateway: string; dev?: string }
  | { kind: 'dev'; dev: string }
  | { kind: 'blackhole' }
  | { kind: 'unreachable'; text: string }
  | { kind: 'error'; text: string };

/**
 * `ip route get ADDRESS` as the kernel answered it. A blackhole route makes the lookup fail with
 * EINVAL ("Invalid argument"), unreachable/prohibit with EHOSTUNREACH/EACCES.
 */
export function parseRouteGet(result: { code: number; stdout: string; stderr: string }): RouteGet {
  const text = `${result.stdout}\n${result.stderr}`.trim();
  if (result.code !== 0) {
    if (/Invalid argument/.test(text)) return { kind: 'blackhole' };
    if (/No route to host|Permission denied|Network is unreachable/.test(text)) return { kind: 'unreachable', text };
    return { kind: 'error', text };
  }
  const first = result.stdout.split('\n')[0] ?? '';
  if (/^blackhole\b/.test(first)) return { kind: 'blackhole' };
  if (/^(unreachable|prohibit)\b/.test(first)) return { kind: 'unreachable', text: first };
  const dev = /\bdev (\S+)/.exec(first)?.[1];
  const via = /\bvia (\S+)/.exec(first)?.[1];
  if (via) return dev ? { kind: 'via', gateway: via, dev } : { kind: 'via', gateway: via };
  if (dev) return { kind: 'dev', dev };
  return { kind: 'error', text: text || 'empty answer' };
}

export function describeRouteGet(r: RouteGet): string {
  switch (r.kind) {
    case 'via':
      return `via ${r.gateway}${r.dev ? ` dev ${r.dev}` : ''}`;
    case 'dev':
      return `dev ${r.dev}`;
    case 'blackhole':
      return 'blackhole';
    default:
      return `${r.kind}: ${r.text}`;
  }
}

const isBlackhole = (r: RouteEntry | undefined) => r !== undefined && r.nexthops.length === 1 && r.nexthops[0] === 'blackhole';

export interface BlockOwner {
  node: string;
  blocks: readonly string[];
  /** Addresses of the pods placed on this node. */
  podIps: readonly string[];
  /** What the node announced at the end of each session's capture; `local` is its address there, the NEXT_HOP it must set on what it originates. */
  announced: ReadonlyArray<{ peer: string; local: string; routes: ReadonlyMap<string, PathAttributes> }>;
  fib: readonly RouteEntry[];
}

export interface BlockVerdict {
  problems: string[];
  /** Announced prefixes inside one of the node's own blocks (per-pod routes it should not send). */
  perPodRoutes: string[];
  blackholes: number;
}

/** One block-owning node: each block announced on every session with itself as next hop, nothing more specific from inside it, and a kernel blackhole for it. */
export function judgeBlockOwner(owner: BlockOwner): BlockVerdict {
  const problems: string[] = [];
  const perPod = new Set<string>();
  let blackholes = 0;
  for (const block of owner.blocks) {
    for (const { peer, local, routes } of owner.announced) {
      const attrs = routes.get(block);
      if (!attrs) problems.push(`${owner.node} did not announce its block ${block} to ${peer}`);
      else if (attrs.nextHop !== undefined && attrs.nextHop !== local)
        problems.push(`${owner.node} announced ${block} to ${peer} with NEXT_HOP ${attrs.nextHop}, not its own address ${local}`);
      for (const prefix of routes.keys()) if (prefix !== block && covers(block, prefix)) perPod.add(prefix);
    }
    const kernel = owner.fib.find((r) => r.prefix === block);
    if (isBlackhole(kernel)) blackholes++;
    else problems.push(`${owner.node}'s kernel has ${kernel ? `${block} via ${kernel.nexthops.join(', ')}` : `no route for ${block}`}, expected a blackhole for its block`);
  }
  const perPodRoutes = [...perPod].sort();
  for (const prefix of perPodRoutes) {
    const pod = owner.podIps.some((ip) => covers(prefix, ip) && prefix.endsWith('/32')) ? ' (a local pod)' : '';
    problems.push(`${owner.node} announced ${prefix}${pod} from inside its own block instead of the block alone`);
  }
  return { problems, perPodRoutes, blackholes };
}

export interface ReflectedExpectation {
  prefix: string;
  /** The originating client's address: the reflector passes NEXT_HOP on unchanged. */
  nextHop: string;
  /** The originating client's BGP Identifier. */
  originatorId: string;
  /** The reflector's CLUSTER_ID (its router id unless configured otherwise). */
  clusterId: string;
}

/** The route as a route reflector sent it to another client (RR -> client messages), judged per RFC 4456 8 and 10. */
export function judgeReflected(fromReflector: readonly DecodedMessage[], want: ReflectedExpectation): { problems: string[]; attributes?: PathAttributes } {
  const attributes = announcedRoutes(fromReflector).get(want.prefix);
  if (!attributes) return { problems: [`the reflector did not send ${want.prefix}`] };
  const problems: string[] = [];
  if (attributes.nextHop !== want.nextHop) problems.push(`RFC 4456 10: ${want.prefix} reflected with NEXT_HOP ${attributes.nextHop ?? 'none'}, expected the originator's ${want.nextHop}`);
  if (attributes.originatorId !== want.originatorId)
    problems.push(`RFC 4456 8: ${want.prefix} reflected with ORIGINATOR_ID ${attributes.originatorId ?? 'missing'}, expected ${want.originatorId}`);
  if (!attributes.clusterList?.length) problems.push(`RFC 4456 8: ${want.prefix} reflected without CLUSTER_LIST`);
  else if (attributes.clusterList[0] !== want.clusterId)
    problems.push(`RFC 4456 8: ${want.prefix} reflected with CLUSTER_LIST ${attributes.clusterList.join(' ')}, expected ${want.clusterId} first`);
  if (attributes.asPath && attributes.asPath.length > 0) problems.push(`RFC 4271 5.1.2: ${want.prefix} reflected in iBGP with a non-empty AS_PATH`);
  if (attributes.localPref === undefined) problems.push(`RFC 4271 5.1.5: ${want.prefix} reflected in iBGP without LOCAL_PREF`);
  return { problems, attributes };
}

export interface BorrowedOnOwner {
  node: string;
  /** The borrowed address (a /32 or /128 of the block). */
  address: string;
  block: string;
  borrowerAddress: string;
  fib: readonly RouteEntry[];
  routeGet: RouteGet;
}

/** The block owner keeps both its blackhole and the borrowed host route, and the kernel forwards the borrowed address to the borrower (longest match). */
export function judgeBorrowedOnOwner(o: BorrowedOnOwner): string[] {
  const problems: string[] = [];
  const host = `${o.address}/${o.address.includes(':') ? 128 : 32}`;
  const hostRoute = o.fib.find((r) => r.prefix === host);
  if (!hostRoute) problems.push(`${o.node}'s kernel has no route for the borrowed ${host}`);
  else if (!hostRoute.nexthops.includes(o.borrowerAddress)) problems.push(`${o.node}'s kernel routes ${host} via ${hostRoute.nexthops.join(', ')}, expected ${o.borrowerAddress}`);
  if (!isBlackhole(o.fib.find((r) => r.prefix === o.block))) problems.push(`RFC 4271 9.1.4: ${o.node}'s kernel lost the blackhole for ${o.block} next to ${host}`);
  const chosen = longestMatch(o.fib, o.address);
  if (hostRoute && chosen !== hostRoute) problems.push(`RFC 4632 5.1: the longest match for ${o.address} in ${o.node}'s table is ${chosen?.prefix ?? 'nothing'}, not ${host}`);
  if (o.routeGet.kind !== 'via' || o.routeGet.gateway !== o.borrowerAddress)
    problems.push(`RFC 4632 5.1: ip route get ${o.address} on ${o.node} answers ${describeRouteGet(o.routeGet)}, expected via ${o.borrowerAddress}`);
  return problems;
}
