// Interned attribute sets: one frozen object per distinct set of path attributes, shared by
// every route that carries it and reference counted, so a million routes with the same
// attributes cost one object. Routes refer to their attributes by a small integer id.
import type { PathAttributes } from './wire/types.ts';

/** Path attributes of one route: MP_REACH/MP_UNREACH are folded into nextHop. */
export interface RouteAttributes extends Omit<PathAttributes, 'mpReach' | 'mpUnreach'> {
  /** IPv6 link-local next hop, when the MP_REACH carried one after the global. */
  nextHopLinkLocal?: string;
}

const ORIGIN_RANK = { igp: 0, egp: 1, incomplete: 2 } as const;
export const DEFAULT_LOCAL_PREF = 100;

export function asPathLength(attrs: RouteAttributes): number {
  let length = 0;
  for (const segment of attrs.asPath ?? []) {
    if (segment.type === 'sequence') length += segment.asns.length;
    else if (segment.type === 'set') length += 1; // RFC 4271 9.1.2.2 a: an AS_SET counts as one
  }
  return length;
}

/** The AS a route was learned from (leftmost of the first sequence), 0 when local. */
export function neighborAs(attrs: RouteAttributes): number {
  const first = attrs.asPath?.[0];
  return first && first.type === 'sequence' && first.asns.length > 0 ? first.asns[0]! : 0;
}

/** The fields of the decision process, precomputed once per attribute set. */
export interface DecisionFields {
  localPref: number;
  asPathLength: number;
  originRank: number;
  med: number;
  neighborAs: number;
  originatorId: number;
  clusterListLength: number;
}

function canonicalKey(attrs: RouteAttributes): string {
  // Key order is fixed by listing the fields, so two equal sets always give the same key.
  return JSON.stringify([
    attrs.origin, attrs.asPath, attrs.nextHop, attrs.nextHopLinkLocal, attrs.med, attrs.localPref,
    attrs.atomicAggregate, attrs.aggregator, attrs.communities, attrs.originatorId, attrs.clusterList,
    attrs.extendedCommunities, attrs.largeCommunities, attrs.unknown,
  ]);
}

function ipv4Number(text: string | undefined): number {
  if (!text) return 0;
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return ((a * 256 + b) * 256 + c) * 256 + d;
}

export class AttributeStore {
  private readonly idsByKey = new Map<string, number>();
  private readonly keys: Array<string | undefined> = [];
  private readonly sets: Array<RouteAttributes | undefined> = [];
  private readonly fields: Array<DecisionFields | undefined> = [];
  private readonly refs: number[] = [];
  private readonly freeIds: number[] = [];
  private firstMed: number | undefined;
  private medsDiffer = false;

  /**
   * Whether two attribute sets with different MEDs have ever been interned. Until then every
   * path has the same MED, which FamilyRib need not check path by path.
   */
  get medsVary(): boolean {
    return this.medsDiffer;
  }

  /** Returns the id of this attribute set and takes one reference on it. */
  intern(attrs: RouteAttributes): number {
    const key = canonicalKey(attrs);
    let id = this.idsByKey.get(key);
    if (id !== undefined) {
      this.refs[id]! += 1;
      return id;
    }
    id = this.freeIds.pop() ?? this.sets.length;
    const frozen = Object.freeze({ ...attrs });
    this.sets[id] = frozen;
    this.keys[id] = key;
    this.fields[id] = {
      localPref: attrs.localPref ?? DEFAULT_LOCAL_PREF,
      asPathLength: asPathLength(attrs),
      originRank: ORIGIN_RANK[attrs.origin ?? 'incomplete'],
      med: attrs.med ?? 0,
      neighborAs: neighborAs(attrs),
      originatorId: ipv4Number(attrs.originatorId),
      clusterListLength: attrs.clusterList?.length ?? 0,
    };
    const med = attrs.med ?? 0;
    if (this.firstMed === undefined) this.firstMed = med;
    else if (med !== this.firstMed) this.medsDiffer = true;
    this.refs[id] = 1;
    this.idsByKey.set(key, id);
    return id;
  }

  retain(id: number, count = 1): void {
    this.refs[id]! += count;
  }

  release(id: number, count = 1): void {
    const left = this.refs[id]! - count;
    if (left < 0) throw new Error(`attribute set ${id} released more often than retained`);
    this.refs[id] = left;
    if (left === 0) {
      this.idsByKey.delete(this.keys[id]!);
      this.sets[id] = undefined;
      this.keys[id] = undefined;
      this.fields[id] = undefined;
      this.freeIds.push(id);
    }
  }

  get(id: number): RouteAttributes {
    const attrs = this.sets[id];
    if (!attrs) throw new Error(`attribute set ${id} is not live`);
    return attrs;
  }

  decisionFields(id: number): DecisionFields {
    return this.fields[id]!;
  }

  refCount(id: number): number {
    return this.refs[id] ?? 0;
  }

  /** Number of distinct live attribute sets. */
  get size(): number {
    return this.idsByKey.size;
  }
}
