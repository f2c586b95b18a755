// The BGP decision process (RFC 4271 9.1.2.2, with the tie-breakers routers commonly add) as a
// pairwise comparison, and the equality test that puts paths into one multipath (ECMP) set.
import type { DecisionFields } from './attributes.ts';

/** Who a path came from: the local speaker (static routes) or a peer. */
export interface PathSource {
  local: boolean;
  ebgp: boolean;
  peerAs: number;
  /** The peer's BGP identifier as a number (0 for local routes). */
  routerId: number;
  /** The peer's address, the last tie-breaker. */
  address: string;
}

export interface Candidate {
  fields: DecisionFields;
  source: PathSource;
  /** Path identifier as received (ADD-PATH), 0 without ADD-PATH. */
  pathId: number;
}

export interface DecisionOptions {
  /** Compare MED between routes from different neighbour ASes too. */
  alwaysCompareMed?: boolean;
  /** Multipath across different neighbour ASes with equal AS_PATH length ("as-path multipath-relax"). */
  multipathRelax?: boolean;
}

export type DecisionStep =
  | 'local-pref'
  | 'locally-originated'
  | 'as-path-length'
  | 'origin'
  | 'med'
  | 'ebgp-over-ibgp'
  | 'router-id'
  | 'cluster-list-length'
  | 'peer-address'
  | 'path-id'
  | 'equal';

export interface Verdict {
  /** Negative when a is preferred, positive when b is, 0 when they cannot be told apart. */
  order: number;
  step: DecisionStep;
}

function routerIdOf(c: Candidate): number {
  // RFC 4456 9: with ORIGINATOR_ID, it stands in for the peer's identifier.
  return c.fields.originatorId || c.source.routerId;
}

function compareAddresses(a: string, b: string): number {
  const pa = a.includes(':') ? a.split(':').map((x) => parseInt(x || '0', 16)) : a.split('.').map(Number);
  const pb = b.includes(':') ? b.split(':').map((x) => parseInt(x || '0', 16)) : b.split('.').map(Number);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return pa.length - pb.length;
}

function medComparable(a: Candidate, b: Candidate, options: DecisionOptions): boolean {
  return options.alwaysCompareMed === true || a.fields.neighborAs === b.fields.neighborAs;
}

/** The step that decided the last compareOrder call (one module slot: no object per comparison). */
let lastStep: DecisionStep = 'equal';

function decided(step: DecisionStep, order: number): number {
  lastStep = step;
  return order;
}

/**
 * compareCandidates' order alone, with no Verdict allocated: the RIB compares paths millions of
 * times while ingesting, and a result object per comparison was a large part of its garbage.
 */
export function compareOrder(a: Candidate, b: Candidate, options: DecisionOptions = {}): number {
  const fa = a.fields;
  const fb = b.fields;
  if (fa.localPref !== fb.localPref) return decided('local-pref', fb.localPref - fa.localPref);
  if (a.source.local !== b.source.local) return decided('locally-originated', a.source.local ? -1 : 1);
  if (fa.asPathLength !== fb.asPathLength) return decided('as-path-length', fa.asPathLength - fb.asPathLength);
  if (fa.originRank !== fb.originRank) return decided('origin', fa.originRank - fb.originRank);
  if (fa.med !== fb.med && medComparable(a, b, options)) return decided('med', fa.med - fb.med);
  if (a.source.ebgp !== b.source.ebgp) return decided('ebgp-over-ibgp', a.source.ebgp ? -1 : 1);
  const ida = routerIdOf(a);
  const idb = routerIdOf(b);
  if (ida !== idb) return decided('router-id', ida - idb);
  if (fa.clusterListLength !== fb.clusterListLength) return decided('cluster-list-length', fa.clusterListLength - fb.clusterListLength);
  const byAddress = compareAddresses(a.source.address, b.source.address);
  if (byAddress !== 0) return decided('peer-address', byAddress);
  if (a.pathId !== b.pathId) return decided('path-id', a.pathId - b.pathId);
  return decided('equal', 0);
}

export function compareCandidates(a: Candidate, b: Candidate, options: DecisionOptions = {}): Verdict {
  const order = compareOrder(a, b, options);
  return { order, step: lastStep };
}

/** Whether `other` may share forwarding with `best` (equal up to the IGP-cost step). */
export function multipathEqual(best: Candidate, other: Candidate, options: DecisionOptions = {}): boolean {
  const fa = best.fields;
  const fb = other.fields;
  if (fa.localPref !== fb.localPref || fa.asPathLength !== fb.asPathLength || fa.originRank !== fb.originRank) return false;
  if (best.source.local !== other.source.local || best.source.ebgp !== other.source.ebgp) return false;
  if (fa.med !== fb.med && medComparable(best, other, options)) return false;
  if (!options.multipathRelax && best.source.ebgp && fa.neighborAs !== fb.neighborAs) return false;
  return true;
}
