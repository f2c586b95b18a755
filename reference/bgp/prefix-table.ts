// An open-addressing hash table from prefix keys (non-negative doubles, see prefix.ts) to int32
// values, stored in two typed arrays: about 24 bytes per entry, no object per entry.
// Linear probing with backward-shift deletion, so there are no tombstones to clean.

const EMPTY = -2147483648;
const MIN_CAPACITY = 16;

function hashKey(key: number): number {
  const low = key >>> 0;
  const high = (key / 4294967296) | 0;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class PrefixTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    let capacity = MIN_CAPACITY;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for key, or -1 when absent (values are expected to be >= 0). */
  get(key: number): number {
    const { keys, values, mask } = this;
    let slot = hashKey(key) & mask;
    for (;;) {
      const value = values[slot]!;
      if (value === EMPTY) return -1;
      if (keys[slot] === key) return value;
      slot = (slot + 1) & mask;
    }
  }

  set(key: number, value: number): void {
    if (value < 0) throw new RangeError('PrefixTable values must be >= 0');
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const { keys, values, mask } = this;
    let slot = hashKey(key) & mask;
    for (;;) {
      if (values[slot] === EMPTY) {
        keys[slot] = key;
        values[slot] = value;
        this.count += 1;
        return;
      }
      if (keys[slot] === key) {
        values[slot] = value;
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Stores value when key is absent and returns -1; otherwise returns the value already there. */
  insertIfAbsent(key: number, value: number): number {
    if (value < 0) throw new RangeError('PrefixTable values must be >= 0');
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const { keys, values, mask } = this;
    let slot = hashKey(key) & mask;
    for (;;) {
      const existing = values[slot]!;
      if (existing === EMPTY) {
        keys[slot] = key;
        values[slot] = value;
        this.count += 1;
        return -1;
      }
      if (keys[slot] === key) return existing;
      slot = (slot + 1) & mask;
    }
  }

  delete(key: number): boolean {
    const { keys, values, mask } = this;
    let slot = hashKey(key) & mask;
    for (;;) {
      if (values[slot] === EMPTY) return false;
      if (keys[slot] === key) break;
      slot = (slot + 1) & mask;
    }
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    let hole = slot;
    let next = (hole + 1) & mask;
    while (values[next] !== EMPTY) {
      const home = hashKey(keys[next]!) & mask;
      const distanceToNext = (next - home) & mask;
      const distanceToHole = (hole - home) & mask;
      if (distanceToHole <= distanceToNext) {
        keys[hole] = keys[next]!;
        values[hole] = values[next]!;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    values[hole] = EMPTY;
    this.count -= 1;
    return true;
  }

  /** A copy of all keys, safe to iterate while the table changes. */
  keySnapshot(): Float64Array {
    const out = new Float64Array(this.count);
    let n = 0;
    for (let slot = 0; slot <= this.mask; slot++) if (this.values[slot] !== EMPTY) out[n++] = this.keys[slot]!;
    return out;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Float64Array(capacity);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < oldValues.length; slot++) {
      if (oldValues[slot] !== EMPTY) this.set(oldKeys[slot]!, oldValues[slot]!);
    }
  }
}
