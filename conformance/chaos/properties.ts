// The properties a chaos run judges, on the lab's own reads (sessions, daemon RIBs, kernel FIBs):
// routes back within a bound after each fault, no path through a dead next hop past the hold
// time, no duplicate paths, nothing of a fault left behind. Pure helpers plus bounded polls.
import { pollUntil } from '../checks/captured.ts';
import { clusterView, expectedRoutes } from '../checks/expected-routes.ts';
import { speakerSessions } from '../checks/sessions.ts';
import type { RouteEntry } from '../lab/kinds/index.ts';
import type { Lab } from '../lab/lab.ts';
import { FIB_PROGRAMMING_KINDS, routerKindOf } from '../lab/model.ts';
import { fabricRouters } from './faults.ts';

export type PropertyName = 'routes-back' | 'no-dead-nexthop' | 'no-blackhole' | 'no-duplicate-paths' | 'nothing-leaked';
export const PROPERTIES: readonly PropertyName[] = ['routes-back', 'no-dead-nexthop', 'no-blackhole', 'no-duplicate-paths', 'nothing-leaked'];

export interface Verdict {
  property: PropertyName;
  /** null: judged at the end of the run, not after one fault. */
  faultId: number | null;
  held: boolean;
  detail: string;
  /** Seconds until the property held (or the bound, when it did not). */
  seconds?: number;
}

/** One thing the lab must show: a session Established or a prefix in a router's table. */
export interface Expectation {
  key: string;
  node: string;
  kind: 'session' | 'route';
  peer?: string;
  local?: string;
  prefix?: string;
  table?: 'rib' | 'fib';
}

/**
 * Every expected session of the routers, every route the fixture expects (`expectRoutes`, in the
 * FIB of routers that program it, else the RIB), and every prefix the speaker nodes must announce
 * (expected-routes.ts: the reference's translation of cluster/ for agents, `announce:` for
 * stand-ins) in the RIB of the router at the session's other end.
 */
export function expectations(lab: Lab, agents: string[]): Expectation[] {
  const routers = new Set(fabricRouters(lab.topology));
  const tableOf = (node: string): 'rib' | 'fib' => {
    const kind = routerKindOf(lab.spec(node));
    return kind && !FIB_PROGRAMMING_KINDS.includes(kind) ? 'rib' : 'fib';
  };
  const out = new Map<string, Expectation>();
  const add = (e: Omit<Expectation, 'key'>) => {
    const key = e.kind === 'session' ? `session ${e.node} -> ${e.peer}${e.local ? ` from ${e.local}` : ''}` : `route ${e.prefix} in ${e.node} ${e.table!.toUpperCase()}`;
    out.set(key, { key, ...e });
  };
  for (const s of lab.expectedSessions()) if (routers.has(s.node)) add({ node: s.node, kind: 'session', peer: s.peer, local: s.local });
  for (const n of lab.topology.nodes) for (const prefix of n.expectRoutes) add({ node: n.name, kind: 'route', prefix, table: tableOf(n.name) });
  const cluster = agents.length > 0 ? clusterView(lab) : null;
  for (const s of speakerSessions(lab.topology)) {
    if (!s.peerNode || !routers.has(s.peerNode)) continue;
    const reads = agents.includes(s.speakerNode);
    for (const prefix of expectedRoutes(lab, s, reads, cluster).prefixes) add({ node: s.peerNode, kind: 'route', prefix, table: 'rib' });
  }
  return [...out.values()];
}

export interface LabState {
  sessions: Map<string, Array<{ peer: string; local?: string; state: string }>>;
  rib: Map<string, RouteEntry[]>;
  fib: Map<string, RouteEntry[]>;
}

/** `p`, or `fallback` once `ms` pass (a stopped daemon's socket never answers). */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([p.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

const READ_TIMEOUT_MS = 4000;

/**
 * One read of every router's sessions, RIB and FIB but those of `skip` (a killed or stopped
 * daemon); a node that does not answer within a few seconds reads empty.
 */
export async function readState(lab: Lab, skip: ReadonlySet<string> = new Set()): Promise<LabState> {
  const routers = fabricRouters(lab.topology).filter((n) => !skip.has(n));
  const state: LabState = { sessions: new Map(), rib: new Map(), fib: new Map() };
  await Promise.all(
    routers.map(async (n) => {
      const h = lab.node(n);
      const [sessions, rib, fib] = await Promise.all([within(h.sessions(), READ_TIMEOUT_MS, []), within(h.rib(), READ_TIMEOUT_MS, []), within(h.fib(), READ_TIMEOUT_MS, [])]);
      state.sessions.set(n, sessions);
      state.rib.set(n, rib);
      state.fib.set(n, fib);
    }),
  );
  return state;
}

/** Keys of the expectations the state does not meet. */
export function missing(state: LabState, wanted: readonly Expectation[]): string[] {
  return wanted
    .filter((e) => {
      if (e.kind === 'session') return !(state.sessions.get(e.node) ?? []).some((s) => s.peer === e.peer && (s.local === undefined || s.local === e.local) && s.state === 'Established');
      const table = (e.table === 'fib' ? state.fib : state.rib).get(e.node) ?? [];
      return !table.some((r) => r.prefix === e.prefix && r.nexthops.length > 0);
    })
    .map((e) => e.key);
}

/**
 * Prefixes speaker nodes other than `except` announce with explicit next hops (Anthos floating
 * IPs: one node's session carries paths via every LB node). While only `except`'s speaker is
 * down, its kernel still forwards, so such a path via its address is not through a dead next hop.
 */
export function thirdPartyPrefixes(lab: Lab, agents: string[], except: string): Set<string> {
  const cluster = agents.length > 0 ? clusterView(lab) : null;
  const out = new Set<string>();
  for (const s of speakerSessions(lab.topology))
    if (s.speakerNode !== except) for (const p of expectedRoutes(lab, s, agents.includes(s.speakerNode), cluster).viaOtherNodes) out.add(p);
  return out;
}

/** RIB paths of `observer` whose next hop is in `dead` (prefixes in `ignore` aside), as "node prefix via nh". */
export function pathsViaDead(rib: Map<string, RouteEntry[]>, deadFor: (observer: string) => Set<string>, ignore: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const [node, routes] of rib) {
    const dead = deadFor(node);
    if (dead.size === 0) continue;
    for (const r of routes) if (!ignore.has(r.prefix)) for (const nh of r.nexthops) if (dead.has(nh)) out.push(`${node} ${r.prefix} via ${nh}`);
  }
  return out;
}

/** How many times each router holds each (prefix, next hop) path in its RIB. */
export function pathCounts(rib: Map<string, RouteEntry[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [node, routes] of rib) for (const r of routes) for (const nh of r.nexthops) counts.set(`${node} ${r.prefix} via ${nh}`, (counts.get(`${node} ${r.prefix} via ${nh}`) ?? 0) + 1);
  return counts;
}

/**
 * Paths held more often than in the baseline read before the first fault. An ADD-PATH fabric
 * legitimately holds one path per session (the same next hop over two sessions), so the
 * baseline, not 1, is the limit: a churned-in copy (a stale path never replaced) shows above it.
 */
export function duplicates(now: Map<string, number>, baseline: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [path, n] of now) if (n > Math.max(1, baseline.get(path) ?? 0)) out.push(`${path} x${n} (baseline ${baseline.get(path) ?? 0})`);
  return out;
}

/** Polls until every expectation holds or `boundS` passes. */
export async function routesBack(lab: Lab, wanted: readonly Expectation[], boundS: number, faultId: number | null): Promise<{ verdict: Verdict; state: LabState }> {
  const t0 = Date.now();
  let state: LabState | null = null;
  const r = await pollUntil(
    async () => {
      state = await readState(lab);
      return missing(state, wanted);
    },
    (m) => m.length === 0,
    boundS * 1000,
    500,
  );
  const seconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  const detail = r.met ? `all ${wanted.length} expected sessions and routes present after ${seconds}s (bound ${boundS}s)` : `after ${boundS}s still missing: ${r.value.join('; ')}`;
  return { verdict: { property: 'routes-back', faultId, held: r.met, detail, seconds }, state: state! };
}

/** Polls until no router (but those `down`) holds a path through a dead next hop, or `boundS` passes. */
export async function deadNextHopsGone(
  lab: Lab,
  deadFor: (observer: string) => Set<string>,
  boundS: number,
  faultId: number,
  down: ReadonlySet<string>,
  ignore: ReadonlySet<string> = new Set(),
): Promise<Verdict> {
  const t0 = Date.now();
  const r = await pollUntil(async () => pathsViaDead((await readState(lab, down)).rib, deadFor, ignore), (left) => left.length === 0, boundS * 1000, 250);
  const seconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  return {
    property: 'no-dead-nexthop',
    faultId,
    held: r.met,
    seconds,
    detail: r.met ? `no path through a dead next hop ${seconds}s after the fault (bound ${boundS}s)` : `after ${boundS}s still: ${r.value.join('; ')}`,
  };
}
