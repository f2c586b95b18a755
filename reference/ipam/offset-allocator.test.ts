import { describe, expect, it } from 'vitest';
import { OffsetAllocator } from './offset-allocator.ts';

describe('OffsetAllocator', () => {
  it('reuses released offsets before fresh ones, and never hands out an offset claimed meanwhile', () => {
    const allocator = new OffsetAllocator<string>(4);
    expect([allocator.allocate('a'), allocator.allocate('b')]).toEqual([0, 1]);
    expect(allocator.release(0)).toBe(true);
    expect(allocator.claim(0, 'requested')).toBe(true);
    expect(allocator.claim(3, 'requested-high')).toBe(true);
    expect(allocator.allocate('c')).toBe(2);
    expect(allocator.allocate('d')).toBeNull();
    expect(allocator.ownerOf(0)).toBe('requested');
    expect(allocator.usedCount).toBe(4);
  });

  it('refuses double release, out-of-range and double claims', () => {
    const allocator = new OffsetAllocator<string>(2);
    expect(allocator.release(0)).toBe(false);
    expect(allocator.claim(2, 'x')).toBe(false);
    expect(allocator.claim(-1, 'x')).toBe(false);
    expect(allocator.claim(0.5, 'x')).toBe(false);
    expect(allocator.claim(1, 'x')).toBe(true);
    expect(allocator.claim(1, 'y')).toBe(false);
    expect(() => new OffsetAllocator(2 ** 60)).toThrow(RangeError);
  });
});
