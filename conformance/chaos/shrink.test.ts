import { describe, expect, it } from 'vitest';
import { shrink } from './shrink.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('ddmin shrinking', () => {
  it('finds the one culprit among many, trying halves first', async () => {
    const calls: number[][] = [];
    const r = await shrink(range(16), async (s) => (calls.push(s), s.includes(11)));
    expect(r.minimal).toEqual([11]);
    expect(r.exhausted).toBe(false);
    // halves, then halves of the failing half: a single culprit costs about 2 log2(n) tries
    expect(calls[0]).toEqual(range(8));
    expect(r.tries.length).toBeLessThanOrEqual(8);
  });

  it('keeps a pair that only fails together (an interaction of two faults)', async () => {
    const r = await shrink(range(10), async (s) => s.includes(2) && s.includes(7));
    expect(r.minimal).toEqual([2, 7]);
  });

  it('keeps order and never tries the same subset twice', async () => {
    const seen = new Set<string>();
    const r = await shrink(['a', 'b', 'c', 'd', 'e'], async (s) => {
      const k = s.join();
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      return s.includes('e') && s.includes('b');
    });
    expect(r.minimal).toEqual(['b', 'e']);
  });

  it('stops at the budget and says so, with the smallest failing subset found so far', async () => {
    const r = await shrink(range(64), async (s) => s.includes(40), { maxTries: 3 });
    expect(r.exhausted).toBe(true);
    expect(r.tries).toHaveLength(3);
    expect(r.minimal).toContain(40);
    expect(r.minimal.length).toBeLessThan(64);
  });

  it('a single failing item is already minimal (no tries)', async () => {
    const r = await shrink([5], async () => true);
    expect(r).toEqual({ minimal: [5], tries: [], exhausted: false });
  });

  it('a failure needing everything stays whole', async () => {
    const r = await shrink(range(4), async (s) => s.length === 4);
    expect(r.minimal).toEqual(range(4));
  });
});
