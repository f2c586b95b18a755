// expect.yaml of a replay fixture: the symptoms the field reported (all holding = the bug is
// present, the fixture FAILS) and the healthy behaviour (all holding = fixed, the fixture
// PASSES), each a list of one-key checks evaluated against what the live peer did.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { decodeMessage, directionContext, type BgpMessage, type OpenMessage, type Route } from '../../reference/bgp/wire/index.ts';
import type { RouteEntry } from '../lab/kinds/index.ts';
import type { DaemonKindName } from '../lab/model.ts';
import type { PlayerEvent } from './player.ts';
import { hexToBytes } from './recording.ts';

export type Symptom =
  | { 'session-established': Record<string, never> | null }
  | { 'session-not-established': Record<string, never> | null }
  | { 'peer-sends-notification': { code: number; subcode?: number } }
  | { 'peer-sends-no-notification': Record<string, never> | null }
  | { 'route-present': { node?: string; prefix: string; nexthop?: string; table?: 'rib' | 'fib' } }
  | { 'route-absent': { node?: string; prefix: string; table?: 'rib' | 'fib' } }
  | { 'peer-sends-route': { prefix: string } }
  | { 'peer-sends-no-routes': Record<string, never> | null }
  | { 'path-ids-duplicated': Record<string, never> | null }
  | { 'peer-closes-without-notification': Record<string, never> | null }
  | { 'peer-keeps-session': Record<string, never> | null };

export const SYMPTOM_NAMES = [
  'session-established', 'session-not-established', 'peer-sends-notification', 'peer-sends-no-notification',
  'route-present', 'route-absent', 'peer-sends-route', 'peer-sends-no-routes', 'path-ids-duplicated',
  'peer-closes-without-notification', 'peer-keeps-session',
] as const;

export interface ExpectFile {
  /** One line: what the field saw. */
  bug: string;
  /** All hold while the bug is present. */
  symptoms: Symptom[];
  /** All hold once it is fixed. */
  healthy: Symptom[];
  /** Reported with every run but not part of the verdict (e.g. where a misparsed route ended up). */
  observe?: Symptom[];
  replay?: { speed?: number; settle?: number; maxGap?: number; against?: DaemonKindName[]; note?: string };
}

/** What one replay observed: the player's events and the RIBs read afterwards. */
export interface ReplayObservation {
  events: PlayerEvent[];
  /** Node name -> its daemon RIB after the replay; "NODE:fib" -> its kernel FIB. */
  ribs: Record<string, RouteEntry[]>;
  /** Same keys: why a table could not be read (route checks on it are then not judged). */
  unreadable?: Record<string, string>;
}

export interface SymptomResult {
  symptom: string;
  /** False when the check could not be evaluated (e.g. no RIB of the peer was read); `holds` is then false and means nothing. */
  judged: boolean;
  holds: boolean;
  detail: string;
}

/**
 * pass: the healthy behaviour is shown; bug-present: the field symptoms are shown; fail: the
 * evaluable checks show neither; undecided: the checks that would decide could not be evaluated.
 */
export type Verdict = 'pass' | 'bug-present' | 'fail' | 'undecided';

export interface Evaluation {
  verdict: Verdict;
  /** Why the verdict is `undecided` (or how many checks were not judged); absent when every check was judged. */
  reason?: string;
  symptoms: SymptomResult[];
  healthy: SymptomResult[];
  observed: SymptomResult[];
}

export class ExpectError extends Error {}

export function readExpect(file: string): ExpectFile {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ExpectError(`${file}: ${(err as Error).message}`);
  }
  return checkExpect(data, file);
}

export function checkExpect(data: unknown, where: string): ExpectFile {
  const fail = (path: string, what: string): never => {
    throw new ExpectError(`${where}: ${path}: ${what}`);
  };
  if (typeof data !== 'object' || data === null) fail('(top)', 'expected a mapping with bug, symptoms, healthy');
  const d = data as Record<string, unknown>;
  if (typeof d.bug !== 'string') fail('bug', 'expected one line saying what the field saw');
  for (const key of ['symptoms', 'healthy', 'observe'] as const) {
    if (key === 'observe' && d[key] === undefined) continue;
    if (!Array.isArray(d[key]) || (d[key] as unknown[]).length === 0) fail(key, 'expected a non-empty list of checks');
    (d[key] as unknown[]).forEach((entry, i) => {
      const keys = typeof entry === 'object' && entry !== null ? Object.keys(entry) : [];
      if (keys.length !== 1) fail(`${key}[${i}]`, `expected one check, e.g. "peer-sends-notification: {code: 3, subcode: 1}"`);
      if (!(SYMPTOM_NAMES as readonly string[]).includes(keys[0]!)) fail(`${key}[${i}]`, `unknown check "${keys[0]}" (known: ${SYMPTOM_NAMES.join(', ')})`);
      const args = (entry as Record<string, unknown>)[keys[0]!];
      const needsPrefix = ['route-present', 'route-absent', 'peer-sends-route'].includes(keys[0]!);
      if (needsPrefix && typeof (args as { prefix?: unknown } | null)?.prefix !== 'string') fail(`${key}[${i}].${keys[0]}.prefix`, 'expected a prefix like 10.0.0.0/24');
      if (keys[0] === 'peer-sends-notification' && typeof (args as { code?: unknown } | null)?.code !== 'number')
        fail(`${key}[${i}].peer-sends-notification.code`, 'expected the NOTIFICATION error code (a number)');
    });
  }
  return d as unknown as ExpectFile;
}

interface PeerView {
  established: boolean;
  /** the peer closed the TCP connection during the replay */
  closedByPeer: boolean;
  notifications: Array<{ code: number; subcode: number }>;
  updates: BgpMessage[];
}

function peerView(events: PlayerEvent[]): PeerView {
  const established = events.some((e) => e.kind === 'state' && e.state === 'Established');
  const received = events.filter((e): e is Extract<PlayerEvent, { kind: 'received' }> => e.kind === 'received');
  const notifications = received.filter((e) => e.type === 'NOTIFICATION').map((e) => {
    const b = hexToBytes(e.hex);
    return { code: b[19] ?? 0, subcode: b[20] ?? 0 };
  });
  const decodeOpen = (hex: string | undefined): OpenMessage | null => {
    if (!hex) return null;
    try {
      const m = decodeMessage(hexToBytes(hex));
      return m.type === 'OPEN' ? m : null;
    } catch {
      return null;
    }
  };
  const theirs = decodeOpen(received.find((e) => e.type === 'OPEN')?.hex);
  const ours = decodeOpen(events.find((e): e is Extract<PlayerEvent, { kind: 'sent' }> => e.kind === 'sent' && e.type === 'OPEN')?.hex);
  const ctx = theirs && ours ? directionContext(theirs, ours) : undefined;
  const updates: BgpMessage[] = [];
  for (const e of received) {
    if (e.type !== 'UPDATE') continue;
    try {
      updates.push(decodeMessage(hexToBytes(e.hex), ctx));
    } catch {
      // a peer's malformed UPDATE is its own finding; no route check can read it
    }
  }
  const closedByPeer = events.some((e) => e.kind === 'state' && e.state === 'Idle' && e.reason === 'TCP connection closed by the peer');
  return { established, closedByPeer, notifications, updates };
}

function announced(m: BgpMessage): Route[] {
  return m.type === 'UPDATE' ? [...m.nlri, ...(m.attributes.mpReach?.nlri ?? [])] : [];
}

const DEFAULT_NODE = 'peer';

export function evaluateSymptom(symptom: Symptom, obs: ReplayObservation, view = peerView(obs.events)): SymptomResult {
  const [name, rawArgs] = Object.entries(symptom)[0]! as [string, Record<string, unknown> | null];
  const args = rawArgs ?? {};
  const label = `${name}${Object.keys(args).length ? ` ${JSON.stringify(args)}` : ''}`;
  const result = (holds: boolean, detail: string): SymptomResult => ({ symptom: label, judged: true, holds, detail });
  const notJudged = (detail: string): SymptomResult => ({ symptom: label, judged: false, holds: false, detail });
  const ribOf = (node: string) => obs.ribs[node];
  switch (name) {
    case 'session-established':
    case 'session-not-established': {
      const want = name === 'session-established';
      return result(view.established === want, view.established ? 'the peer confirmed the OPEN (Established)' : 'the session never reached Established');
    }
    case 'peer-sends-notification': {
      const hit = view.notifications.find((n) => n.code === args.code && (args.subcode === undefined || n.subcode === args.subcode));
      const seen = view.notifications.map((n) => `${n.code}/${n.subcode}`).join(', ') || 'none';
      return result(hit !== undefined, `NOTIFICATIONs from the peer: ${seen}`);
    }
    case 'peer-sends-no-notification': {
      const seen = view.notifications.map((n) => `${n.code}/${n.subcode}`).join(', ');
      return result(view.notifications.length === 0, seen ? `the peer sent ${seen}` : 'no NOTIFICATION from the peer');
    }
    case 'peer-closes-without-notification':
      return result(view.closedByPeer && view.notifications.length === 0, view.closedByPeer ? `the peer closed the connection${view.notifications.length ? ' after a NOTIFICATION' : ' without a NOTIFICATION'}` : 'the peer kept the connection');
    case 'peer-keeps-session': {
      const kept = view.established && !view.closedByPeer && view.notifications.length === 0;
      return result(kept, kept ? 'Established to the end, no NOTIFICATION, no close' : view.notifications.length ? `the peer sent ${view.notifications.map((n) => `${n.code}/${n.subcode}`).join(', ')}` : view.closedByPeer ? 'the peer closed the connection' : 'the session never reached Established');
    }
    case 'route-present':
    case 'route-absent': {
      const node = (args.node as string | undefined) ?? DEFAULT_NODE;
      const fib = args.table === 'fib';
      const rib = ribOf(fib ? `${node}:fib` : node);
      if (!rib) return notJudged(obs.unreadable?.[fib ? `${node}:fib` : node] ?? `no ${fib ? 'FIB' : 'RIB'} was read from node "${node}"`);
      // BIRD lists a route whose next hop does not resolve as "unreachable" (the lab parses it as blackhole).
      const entry = rib.find((r) => r.prefix === args.prefix && r.nexthops.some((n) => n !== 'blackhole' && n !== 'unreachable'));
      const nexthopOk = !args.nexthop || (entry?.nexthops.includes(args.nexthop as string) ?? false);
      const present = entry !== undefined && nexthopOk;
      const where = fib ? `${node}'s FIB` : node;
      const detail = entry ? `${where} has ${entry.prefix} via ${entry.nexthops.join(', ') || '(none)'}` : `${where} has no usable ${args.prefix} (${rib.length} routes)`;
      return result(name === 'route-present' ? present : !present, detail);
    }
    case 'peer-sends-route': {
      const hit = view.updates.some((u) => announced(u).some((r) => r.prefix === args.prefix));
      return result(hit, hit ? `the peer announced ${args.prefix}` : `the peer did not announce ${args.prefix} (${view.updates.length} UPDATEs)`);
    }
    case 'peer-sends-no-routes': {
      const count = view.updates.reduce((n, u) => n + announced(u).length, 0);
      return result(count === 0, `the peer announced ${count} prefixes`);
    }
    case 'path-ids-duplicated': {
      for (const u of view.updates) {
        const seen = new Set<string>();
        for (const r of announced(u)) {
          const key = `${r.prefix}#${r.pathId ?? '-'}`;
          if (seen.has(key)) return result(true, `the peer sent ${r.prefix} path id ${r.pathId ?? '(none)'} twice in one UPDATE`);
          seen.add(key);
        }
      }
      return result(false, 'no (prefix, path id) repeated within an UPDATE from the peer');
    }
  }
  return notJudged(`unknown check ${name}`);
}

/**
 * The verdict from the checks that could be evaluated. With every check judged: pass when all
 * healthy checks hold, else bug-present when all symptoms hold, else fail. When some could not be
 * judged, the judged ones of a list only decide if the unjudged ones cannot change the outcome:
 * "pass" needs every judged healthy check to hold and, if a healthy check is unjudged, a judged
 * symptom that does not hold (the bug shown absent); "bug-present" likewise the other way round.
 * Anything else the judged checks cannot settle is `undecided`, never `fail`.
 */
export function verdictOf(healthy: SymptomResult[], symptoms: SymptomResult[]): { verdict: Verdict; reason?: string } {
  const judged = (rs: SymptomResult[]) => rs.filter((r) => r.judged);
  const allJudged = (rs: SymptomResult[]) => rs.every((r) => r.judged);
  const shown = (rs: SymptomResult[]) => judged(rs).length > 0 && judged(rs).every((r) => r.holds);
  const refuted = (rs: SymptomResult[]) => judged(rs).some((r) => !r.holds);
  const unjudged = [...healthy, ...symptoms].filter((r) => !r.judged);
  const note = unjudged.length ? `${unjudged.length} check${unjudged.length > 1 ? 's' : ''} not judged: ${[...new Set(unjudged.map((r) => r.detail))].join('; ')}` : undefined;
  const withNote = (verdict: Verdict) => (note ? { verdict, reason: note } : { verdict });
  if (shown(healthy) && (allJudged(healthy) || refuted(symptoms))) return withNote('pass');
  if (shown(symptoms) && (allJudged(symptoms) || refuted(healthy))) return withNote('bug-present');
  if (refuted(healthy) && refuted(symptoms)) return withNote('fail');
  const side = (rs: SymptomResult[], what: string) =>
    shown(rs) ? `every judged ${what} check holds but ${rs.filter((r) => !r.judged).length} could not be judged` : refuted(rs) ? `a judged ${what} check fails` : `no ${what} check could be judged`;
  return { verdict: 'undecided', reason: `nothing decisive: ${side(healthy, 'healthy')}, ${side(symptoms, 'symptom')}${note ? ` (${note})` : ''}` };
}

export function evaluate(expect: ExpectFile, obs: ReplayObservation): Evaluation {
  const view = peerView(obs.events);
  const symptoms = expect.symptoms.map((s) => evaluateSymptom(s, obs, view));
  const healthy = expect.healthy.map((s) => evaluateSymptom(s, obs, view));
  const observed = (expect.observe ?? []).map((s) => evaluateSymptom(s, obs, view));
  return { ...verdictOf(healthy, symptoms), symptoms, healthy, observed };
}
