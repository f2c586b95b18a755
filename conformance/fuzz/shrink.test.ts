// The shrinker: ddmin finds the smallest subsequence that still shows a failure, spends no more
// tries than its budget, and the byte shrinker keeps the header and fixes its length.
import { describe, expect, it } from 'vitest';
import { ddmin, shrinkBytes } from './shrink.ts';

describe('ddmin', () => {
  it('shrinks a sequence to the one item that fails', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    let runs = 0;
    const result = await ddmin(items, async (c) => (runs++, c.includes(29)), { tries: 100 });
    expect(result).toEqual([29]);
    expect(runs).toBeLessThanOrEqual(100);
  });

  it('keeps two items that fail only together, in order', async () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const result = await ddmin(items, async (c) => c.includes(3) && c.includes(21), { tries: 200 });
    expect(result).toEqual([3, 21]);
  });

  it('stops at the budget and returns the smallest failing candidate so far', async () => {
    const items = Array.from({ length: 64 }, (_, i) => i);
    const budget = { tries: 3 };
    let runs = 0;
    const result = await ddmin(items, async (c) => (runs++, c.includes(5)), budget);
    expect(runs).toBe(3);
    expect(budget.tries).toBe(0);
    expect(result).toContain(5);
    expect(result.length).toBeLessThan(64);
  });
});

describe('shrinkBytes', () => {
  it('drops body bytes the failure does not need and rewrites the header length', async () => {
    const header = [...new Array<number>(16).fill(0xff), 0, 0, 2];
    const message = Uint8Array.from([...header, 1, 2, 3, 0xc0, 8, 12, 4, 5, 6]);
    const result = await shrinkBytes(message, async (b) => b.some((x, i) => i >= 19 && x === 0xc0 && b[i + 1] === 8), { tries: 200 });
    expect([...result.subarray(19)]).toEqual([0xc0, 8]);
    expect((result[16]! << 8) | result[17]!).toBe(result.length);
    expect([...result.subarray(0, 16)]).toEqual(new Array(16).fill(0xff));
  });
});
