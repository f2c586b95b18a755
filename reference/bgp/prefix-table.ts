// An open-addressing hash table from prefix keys (non-negative integers below 2^53, see
// prefix.ts) to int32 values >= 0, in one Int32Array: no object per entry.
// Linear probing with backward-shift deletion, so there are no tombstones to clean.
//
// A slot is three int32s side by side: the key's low 32 bits, its high bits, and value + 1
// (0: empty, so a new table needs no fill). Key and value share a cache line: a probe of a
// table too big for the cache costs one miss, not one per array as with separate key and value
// arrays; ingesting a full table is bound by those misses. 12 bytes a slot.

const SLOT = 3;
const MIN_CAPACITY = 16;
/** Capacity below which the table grows 4x at a time (64k slots: 768 kB). */
const FAST_GROWTH_BELOW = 1 << 16;
const TWO_32 = 4294967296;

function hashParts(low: number, high: number): number {
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class PrefixTable {
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    let capacity = MIN_CAPACITY;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for key, or -1 when absent. */
  get(key: number): number {
    const at = this.find(key);
    return at < 0 ? -1 : this.slots[at + 2]! - 1;
  }

  set(key: number, value: number): void {
    if (value < 0) throw new RangeError('PrefixTable values must be >= 0');
    const at = this.find(key);
    if (at >= 0) this.slots[at + 2] = value + 1;
    else this.insertNew(key, value);
  }

  /** Stores value when key is absent and returns -1; otherwise returns the value already there. */
  insertIfAbsent(key: number, value: number): number {
    if (value < 0) throw new RangeError('PrefixTable values must be >= 0');
    const at = this.find(key);
    if (at >= 0) return this.slots[at + 2]! - 1;
    this.insertNew(key, value);
    return -1;
  }

  /**
   * The bulk form of insertIfAbsent: stores firstValue + i for each keys[i] (i < count) that is
   * absent, and writes the indexes i of the keys already present (also a key repeated within
   * the batch) to `present`, in order. Returns how many were present. Grows at most once, before
   * the loop, and probes in one loop with no call per key, so a fresh process optimises it early.
   */
  insertAbsentRun(keys: Float64Array, count: number, firstValue: number, present: Int32Array): number {
    if (firstValue < 0) throw new RangeError('PrefixTable values must be >= 0');
    if (count > keys.length || count > present.length) throw new RangeError(`insertAbsentRun: ${count} keys, columns of ${keys.length} and ${present.length}`);
    if ((this.count + count) * 4 > (this.mask + 1) * 3) this.grow(count);
    const slots = this.slots;
    const mask = this.mask;
    let found = 0;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      const low = key | 0;
      const high = (key / TWO_32) | 0;
      let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      let at = ((h ^ (h >>> 16)) & mask) * SLOT;
      for (;;) {
        if (slots[at + 2] === 0) {
          slots[at] = low;
          slots[at + 1] = high;
          slots[at + 2] = firstValue + i + 1;
          break;
        }
        if (slots[at] === low && slots[at + 1] === high) {
          present[found++] = i;
          break;
        }
        at = at + SLOT > mask * SLOT ? 0 : at + SLOT;
      }
    }
    this.count += count - found;
    return found;
  }

  delete(key: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    const at = this.find(key);
    if (at < 0) return false;
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    let hole = at / SLOT;
    let next = (hole + 1) & mask;
    while (slots[next * SLOT + 2] !== 0) {
      const home = hashParts(slots[next * SLOT]!, slots[next * SLOT + 1]!) & mask;
      const distanceToNext = (next - home) & mask;
      const distanceToHole = (hole - home) & mask;
      if (distanceToHole <= distanceToNext) {
        slots.copyWithin(hole * SLOT, next * SLOT, next * SLOT + SLOT);
        hole = next;
      }
      next = (next + 1) & mask;
    }
    slots[hole * SLOT + 2] = 0;
    this.count -= 1;
    return true;
  }

  /** A copy of all keys, safe to iterate while the table changes. */
  keySnapshot(): Float64Array {
    const out = new Float64Array(this.count);
    const slots = this.slots;
    let n = 0;
    for (let at = 0; at < slots.length; at += SLOT) {
      if (slots[at + 2] !== 0) out[n++] = slots[at + 1]! * TWO_32 + (slots[at]! >>> 0);
    }
    return out;
  }

  /** Index in `slots` of key's slot, or -1. */
  private find(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const low = key | 0;
    const high = (key / TWO_32) | 0;
    let slot = hashParts(low, high) & mask;
    for (;;) {
      const at = slot * SLOT;
      if (slots[at + 2] === 0) return -1;
      if (slots[at] === low && slots[at + 1] === high) return at;
      slot = (slot + 1) & mask;
    }
  }

  private insertNew(key: number, value: number): void {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow(1);
    const slots = this.slots;
    const mask = this.mask;
    const low = key | 0;
    const high = (key / TWO_32) | 0;
    let slot = hashParts(low, high) & mask;
    while (slots[slot * SLOT + 2] !== 0) slot = (slot + 1) & mask;
    slots[slot * SLOT] = low;
    slots[slot * SLOT + 1] = high;
    slots[slot * SLOT + 2] = value + 1;
    this.count += 1;
  }

  /**
   * Makes room for `more` entries. Small tables grow 4x (a rehash costs about what the inserts
   * did, and a table filling from empty rehashes its entries at every step), large ones 2x so
   * a million-route table does not carry 4x slack.
   */
  private grow(more: number): void {
    const old = this.slots;
    let capacity = this.mask + 1;
    while ((this.count + more) * 4 > capacity * 3) capacity *= capacity < FAST_GROWTH_BELOW ? 4 : 2;
    const slots = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    // Every key is distinct: only an empty slot needs finding, no key comparison.
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from + 2] === 0) continue;
      const low = old[from]!;
      const high = old[from + 1]!;
      let slot = hashParts(low, high) & mask;
      while (slots[slot * SLOT + 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * SLOT] = low;
      slots[slot * SLOT + 1] = high;
      slots[slot * SLOT + 2] = old[from + 2]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
