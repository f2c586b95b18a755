/**
 * Hands out integer offsets in [0, size) with amortised O(1) cost independent of `size`:
 * a high-water mark for never-used offsets, a LIFO free list of released ones, and a map of
 * taken offsets to their owner. Nothing proportional to `size` is ever materialised, so a
 * huge IPv6 pool costs the same as a /30.
 *
 * Offsets claimed explicitly (a requested address) may sit above the high-water mark or on
 * the free list; both are skipped lazily when reached, each at most once per claim.
 */
export class OffsetAllocator<Owner> {
  private nextUnused = 0;
  private readonly released: number[] = [];
  private readonly taken = new Map<number, Owner>();

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`allocator size ${size} is not a safe integer`);
  }

  get usedCount(): number {
    return this.taken.size;
  }

  get freeCount(): number {
    return this.size - this.taken.size;
  }

  ownerOf(offset: number): Owner | undefined {
    return this.taken.get(offset);
  }

  /** The lowest-cost free offset, or null when every offset is taken. */
  allocate(owner: Owner): number | null {
    while (this.released.length > 0) {
      const offset = this.released.pop()!;
      if (!this.taken.has(offset)) {
        this.taken.set(offset, owner);
        return offset;
      }
    }
    while (this.nextUnused < this.size) {
      const offset = this.nextUnused++;
      if (!this.taken.has(offset)) {
        this.taken.set(offset, owner);
        return offset;
      }
    }
    return null;
  }

  /** Takes a specific offset; false when it is out of range or already taken. */
  claim(offset: number, owner: Owner): boolean {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size || this.taken.has(offset)) return false;
    this.taken.set(offset, owner);
    return true;
  }

  release(offset: number): boolean {
    if (!this.taken.delete(offset)) return false;
    if (offset < this.nextUnused) this.released.push(offset);
    return true;
  }

  *entries(): IterableIterator<[number, Owner]> {
    yield* this.taken.entries();
  }
}
