// The routing table of one address family: every path from every source (Adj-RIB-In of each
// peer plus local routes), kept per prefix with the best path first (that head is the Loc-RIB).
// Paths live in typed-array columns indexed by a path number; attribute sets are interned ids
// (attributes.ts); prefixes are numeric keys (prefix.ts). No object is made per route.
import { AttributeStore } from './attributes.ts';
import { Column } from './column.ts';
import { compareOrder, multipathEqual, type Candidate, type DecisionOptions, type PathSource } from './decision.ts';
import { PrefixTable } from './prefix-table.ts';

const NO_PATH = -1;
const FLAG_STALE = 1;

/** Source 0 is the speaker itself (static routes); peers get indexes from 1. */
export const LOCAL_SOURCE = 0;
/** Source indexes are 2-byte path columns: 2 bytes less per path (10 MB at 5M paths). */
const MAX_SOURCES = 0x10000;

export class SourceRegistry {
  private readonly sources: Array<PathSource | undefined> = [
    { local: true, ebgp: false, peerAs: 0, routerId: 0, address: '0.0.0.0' },
  ];

  add(source: PathSource): number {
    if (this.sources.length === MAX_SOURCES) throw new RangeError(`more than ${MAX_SOURCES - 1} peers`);
    this.sources.push(source);
    return this.sources.length - 1;
  }

  set(index: number, source: PathSource): void {
    this.sources[index] = source;
  }

  get(index: number): PathSource {
    return this.sources[index]!;
  }
}

export class FamilyRib {
  private readonly table: PrefixTable;
  private next: Int32Array;
  private source: Uint16Array;
  /**
   * Only ADD-PATH sessions send path ids; every other path has id 0. The column is made when the
   * first path with another id arrives: 4 bytes less per path until then (20 MB at 5M paths).
   */
  private pathIds: Uint32Array | null = null;
  private attr: Int32Array;
  /** FLAG_STALE per path, made by the first markStale (graceful restart): 1 byte less per path until then. */
  private flags: Uint8Array | null = null;
  /** The memory of the columns above, which grows in place (column.ts); each array is its column's view. */
  private readonly columns: {
    next: Column<Int32Array>;
    source: Column<Uint16Array>;
    attr: Column<Int32Array>;
    pathIds: Column<Uint32Array> | null;
    flags: Column<Uint8Array> | null;
  };
  private freeHead = NO_PATH;
  private used = 0;
  private readonly countsBySource: number[] = [];
  /** updateMany's list of batch indexes already in the table. */
  private present = new Int32Array(256);
  /**
   * Whether the head of every prefix is the best of its paths by a plain comparison with each.
   * The decision order is transitive except at the MED step (compared only between paths from
   * one neighbour AS), so reorder's scan can settle on a head that another path beats pairwise;
   * such a prefix whose MEDs later all become equal by removing a path behind its head keeps that
   * head (unlink turns this off for good when that happens). Until then, a path joining paths
   * that all share its MED only needs comparing with the head: the list comes out as reorder's
   * scan leaves it, with one comparison instead of one per path (50 per prefix with 50 peers).
   */
  private headsExact = true;
  /**
   * Whether the last change reported (by update's or withdraw's result, or a changed callback)
   * may have changed the prefix's best path or its attributes; false only where the head stayed
   * as it was. Peers that get the best path alone need not look at the other changes.
   */
  bestMayHaveChanged = true;
  private readonly scratch: Candidate = { fields: undefined!, source: undefined!, pathId: 0 };
  private readonly scratchOther: Candidate = { fields: undefined!, source: undefined!, pathId: 0 };

  constructor(
    readonly store: AttributeStore,
    readonly sources: SourceRegistry,
    readonly options: DecisionOptions = {},
    initialCapacity = 1024,
  ) {
    this.table = new PrefixTable(initialCapacity);
    this.columns = {
      next: new Column(Int32Array, initialCapacity),
      source: new Column(Uint16Array, initialCapacity),
      attr: new Column(Int32Array, initialCapacity),
      pathIds: null,
      flags: null,
    };
    this.next = this.columns.next.view;
    this.source = this.columns.source.view;
    this.attr = this.columns.attr.view;
  }

  /** Number of prefixes with at least one path. */
  get prefixCount(): number {
    return this.table.size;
  }

  pathsFrom(sourceIndex: number): number {
    return this.countsBySource[sourceIndex] ?? 0;
  }

  /**
   * Adds or replaces the path (source, pathId) of a prefix. Takes its own reference on attrId.
   * Returns false when nothing changed (same attributes re-announced).
   */
  update(key: number, sourceIndex: number, pathId: number, attrId: number): boolean {
    this.bestMayHaveChanged = true;
    // One probe for the common case of a prefix not seen before (ingesting a full table).
    const fresh = this.allocate();
    const head = this.table.insertIfAbsent(key, fresh);
    if (head === NO_PATH) {
      this.fill(fresh, sourceIndex, pathId, attrId);
      this.next[fresh] = NO_PATH;
      return true;
    }
    this.release(fresh);
    // One walk finds the path to replace and checks whether every other path of the prefix has
    // the new MED (then placeNew/placeReplaced may compare with the head alone).
    const med = this.store.decisionFields(attrId).med;
    let medUniform = true;
    let previous = NO_PATH;
    let p = head;
    for (; p !== NO_PATH; previous = p, p = this.next[p]!) {
      if (this.source[p] === sourceIndex && this.pathIdAt(p) === pathId) break;
      if (medUniform && this.store.medsVary) medUniform = this.hasMed(p, med, attrId);
    }
    if (p === NO_PATH) {
      p = this.allocate();
      this.fill(p, sourceIndex, pathId, attrId);
      this.placeNew(key, head, p, medUniform);
      return true;
    }
    const wasStale = this.isStale(p);
    if (this.flags !== null) this.flags[p] = 0;
    if (this.attr[p] === attrId) return wasStale;
    // Uniform before and after: the path kept its MED.
    const uniform = medUniform && this.store.decisionFields(this.attr[p]!).med === med && this.restMedUniform(this.next[p]!, med, attrId);
    this.store.retain(attrId);
    this.store.release(this.attr[p]!);
    this.attr[p] = attrId;
    if (p === head) this.reorder(key, head);
    else this.placeReplaced(key, head, previous, p, uniform);
    return true;
  }

  /**
   * The bulk form of update() for one packed UPDATE: the paths (source, pathIds[i]) of
   * keys[0..count), all with attrId. Prefixes new to the table take a block of path slots filled
   * by typed-array fills; the rest (already known, or repeated in the batch) go through update().
   * Calls changed(key), in batch order, for each prefix whose paths changed, when given.
   */
  updateMany(keys: Float64Array, pathIds: Uint32Array, count: number, sourceIndex: number, attrId: number, changed?: (key: number) => void): void {
    if (count === 0) return;
    while (this.used + count > this.next.length) this.growPaths();
    if (this.present.length < count) this.present = new Int32Array(Math.max(count, this.present.length * 2));
    const base = this.used;
    const present = this.present;
    const found = this.table.insertAbsentRun(keys, count, base, present);
    this.used += count;
    const end = base + count;
    this.next.fill(NO_PATH, base, end);
    this.source.fill(sourceIndex, base, end);
    if (this.pathIds === null) {
      for (let i = 0; i < count; i++) {
        if (pathIds[i] !== 0) {
          this.makePathIds();
          break;
        }
      }
    }
    this.pathIds?.set(pathIds.subarray(0, count), base);
    this.attr.fill(attrId, base, end);
    this.flags?.fill(0, base, end);
    const fresh = count - found;
    if (fresh > 0) this.store.retain(attrId, fresh);
    this.countsBySource[sourceIndex] = (this.countsBySource[sourceIndex] ?? 0) + fresh;
    this.bestMayHaveChanged = true;
    if (found === 0) {
      if (changed) for (let i = 0; i < count; i++) changed(keys[i]!);
      return;
    }
    let next = 0;
    for (let i = 0; i < count; i++) {
      if (next < found && present[next] === i) {
        next++;
        // Its slot from the block is not linked anywhere: give it back before the general path.
        this.release(base + i);
        if (this.update(keys[i]!, sourceIndex, pathIds[i]!, attrId)) changed?.(keys[i]!);
      } else {
        this.bestMayHaveChanged = true;
        changed?.(keys[i]!);
      }
    }
  }

  private fill(p: number, sourceIndex: number, pathId: number, attrId: number): void {
    this.source[p] = sourceIndex;
    if (pathId !== 0 && this.pathIds === null) this.makePathIds();
    if (this.pathIds !== null) this.pathIds[p] = pathId;
    this.attr[p] = attrId;
    if (this.flags !== null) this.flags[p] = 0;
    this.store.retain(attrId);
    this.countsBySource[sourceIndex] = (this.countsBySource[sourceIndex] ?? 0) + 1;
  }

  /** Removes the path (source, pathId) of a prefix. Returns whether it existed. */
  withdraw(key: number, sourceIndex: number, pathId: number): boolean {
    this.bestMayHaveChanged = true;
    const head = this.table.get(key);
    let previous = NO_PATH;
    for (let p = head; p !== NO_PATH; previous = p, p = this.next[p]!) {
      if (this.source[p] !== sourceIndex || this.pathIdAt(p) !== pathId) continue;
      this.unlink(key, previous, p);
      return true;
    }
    return false;
  }

  /** Calls fn with every prefix key that has at least one path. */
  forEachPrefix(fn: (key: number) => void): void {
    const keys = this.table.keySnapshot();
    for (let i = 0; i < keys.length; i++) fn(keys[i]!);
  }

  /** Every prefix key that has a path, ascending (IPv4: by address, then length). */
  sortedPrefixKeys(): Float64Array {
    return this.table.keySnapshot().sort();
  }

  /** The best path of a prefix, or -1. */
  bestPath(key: number): number {
    return this.table.get(key);
  }

  /** All paths of a prefix, best first, then in decision order. */
  sortedPaths(key: number): number[] {
    const paths: number[] = [];
    for (let p = this.table.get(key); p !== NO_PATH; p = this.next[p]!) paths.push(p);
    if (paths.length > 2) {
      const first = paths.shift()!;
      paths.sort((a, b) => this.compare(a, b));
      paths.unshift(first);
    }
    return paths;
  }

  /** The best path and every path equal to it for ECMP. */
  multipath(key: number): number[] {
    const paths = this.sortedPaths(key);
    if (paths.length === 0) return paths;
    const best = this.candidate(paths[0]!, this.scratch);
    return paths.filter((p, i) => i === 0 || multipathEqual(best, this.candidate(p, this.scratchOther), this.options));
  }

  pathAttributes(path: number): number {
    return this.attr[path]!;
  }

  pathSource(path: number): number {
    return this.source[path]!;
  }

  pathIdOf(path: number): number {
    return this.pathIdAt(path);
  }

  isStale(path: number): boolean {
    return this.flags !== null && (this.flags[path]! & FLAG_STALE) !== 0;
  }

  /** Graceful restart helper: keeps a peer's paths but marks them stale. Returns the count. */
  markStale(sourceIndex: number): number {
    let marked = 0;
    const flags = this.flags ?? (this.flags = (this.columns.flags = new Column(Uint8Array, this.next.length)).view);
    this.forEachPrefix((key) => {
      for (let p = this.table.get(key); p !== NO_PATH; p = this.next[p]!) {
        if (this.source[p] === sourceIndex) {
          flags[p]! |= FLAG_STALE;
          marked++;
        }
      }
    });
    return marked;
  }

  /**
   * Removes a source's paths (only the stale ones when onlyStale) and reports each prefix whose
   * paths changed.
   */
  removeSource(sourceIndex: number, onlyStale: boolean, changed?: (key: number) => void): number {
    let removed = 0;
    this.forEachPrefix((key) => {
      let head = this.table.get(key);
      let previous = NO_PATH;
      let p = head;
      let touched = false;
      while (p !== NO_PATH) {
        const following = this.next[p]!;
        if (this.source[p] === sourceIndex && (!onlyStale || this.isStale(p))) {
          this.unlink(key, previous, p);
          head = this.table.get(key);
          removed++;
          touched = true;
          // After unlink the list may have been reordered: restart the walk from the new head.
          previous = NO_PATH;
          p = head;
          continue;
        }
        previous = p;
        p = following;
      }
      this.bestMayHaveChanged = true;
      if (touched) changed?.(key);
    });
    return removed;
  }

  private unlink(key: number, previous: number, p: number): void {
    const following = this.next[p]!;
    const removedMed = this.store.decisionFields(this.attr[p]!).med;
    this.store.release(this.attr[p]!);
    this.countsBySource[this.source[p]!]! -= 1;
    this.release(p);
    if (previous === NO_PATH) {
      if (following === NO_PATH) this.table.delete(key);
      else this.reorder(key, following);
    } else {
      // A path behind the head was removed: the head stays (as it always has), even where the
      // rest now share one MED that the removed path did not.
      this.next[previous] = following;
      this.bestMayHaveChanged = false;
      if (this.headsExact && this.options.alwaysCompareMed !== true) {
        const head = this.table.get(key);
        const med = this.store.decisionFields(this.attr[head]!).med;
        if (removedMed !== med && this.restMedUniform(head, med, this.attr[head]!)) this.headsExact = false;
      }
    }
  }

  /** Moves the best path of the list starting at `head` to the front and stores the list. */
  private reorder(key: number, head: number): void {
    let best = head;
    let beforeBest = NO_PATH;
    for (let previous = head, p = this.next[head]!; p !== NO_PATH; previous = p, p = this.next[p]!) {
      if (this.compare(p, best) < 0) {
        best = p;
        beforeBest = previous;
      }
    }
    if (best !== head) {
      this.next[beforeBest] = this.next[best]!;
      this.next[best] = head;
    }
    this.table.set(key, best);
  }

  private headOnly(medUniform: boolean): boolean {
    return this.options.alwaysCompareMed === true || (medUniform && this.headsExact);
  }

  /** Whether the paths from `from` to the end of its list all have MED `med`. */
  private restMedUniform(from: number, med: number, attrId: number): boolean {
    if (!this.store.medsVary) return true;
    for (let p = from; p !== NO_PATH; p = this.next[p]!) if (!this.hasMed(p, med, attrId)) return false;
    return true;
  }

  /** Whether path p has MED `med` (attrId: a set known to have it, to skip the lookup). */
  private hasMed(p: number, med: number, attrId: number): boolean {
    return this.attr[p] === attrId || this.store.decisionFields(this.attr[p]!).med === med;
  }

  /** Links a new path p into the list at `head`, best first. */
  private placeNew(key: number, head: number, p: number, medUniform: boolean): void {
    if (!this.headOnly(medUniform)) {
      this.next[p] = head;
      this.reorder(key, p);
    } else if (this.compare(p, head) < 0) {
      this.next[p] = head;
      this.table.set(key, p);
    } else {
      // Where reorder would leave it: right behind the head.
      this.next[p] = this.next[head]!;
      this.next[head] = p;
      this.bestMayHaveChanged = false;
    }
  }

  /** Re-places path p (behind `previous`, not the head) after its attributes changed. */
  private placeReplaced(key: number, head: number, previous: number, p: number, medUniform: boolean): void {
    if (!this.headOnly(medUniform)) this.reorder(key, head);
    else if (this.compare(p, head) < 0) {
      this.next[previous] = this.next[p]!;
      this.next[p] = head;
      this.table.set(key, p);
    } else this.bestMayHaveChanged = false;
  }

  private compare(a: number, b: number): number {
    return compareOrder(this.candidate(a, this.scratch), this.candidate(b, this.scratchOther), this.options);
  }

  private candidate(path: number, into: Candidate): Candidate {
    into.fields = this.store.decisionFields(this.attr[path]!);
    into.source = this.sources.get(this.source[path]!);
    into.pathId = this.pathIdAt(path);
    return into;
  }

  private makePathIds(): void {
    this.pathIds = (this.columns.pathIds = new Column(Uint32Array, this.next.length)).view;
  }

  private pathIdAt(path: number): number {
    return this.pathIds === null ? 0 : this.pathIds[path]!;
  }

  private allocate(): number {
    if (this.freeHead !== NO_PATH) {
      const p = this.freeHead;
      this.freeHead = this.next[p]!;
      return p;
    }
    if (this.used === this.next.length) this.growPaths();
    return this.used++;
  }

  private release(p: number): void {
    this.next[p] = this.freeHead;
    this.freeHead = p;
  }

  private growPaths(): void {
    const capacity = this.next.length * 2;
    const { columns } = this;
    this.next = columns.next.grow(capacity);
    this.source = columns.source.grow(capacity);
    if (columns.pathIds !== null) this.pathIds = columns.pathIds.grow(capacity);
    this.attr = columns.attr.grow(capacity);
    if (columns.flags !== null) this.flags = columns.flags.grow(capacity);
  }
}
