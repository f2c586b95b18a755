import { describe, expect, it } from 'vitest';
import { Column } from './column.ts';

describe.each([true, false])('Column (in place: %s)', (inPlace) => {
  it('keeps its values across growth, past page boundaries, with new values 0', () => {
    const column = new Column(Int32Array, 4, inPlace);
    expect(column.inPlace).toBe(inPlace);
    expect(column.view).toHaveLength(4);
    column.view.set([1, -2, 3, -4]);
    let length = 4;
    while (length < 100_000) {
      const before = Array.from(column.view);
      length *= 2;
      const view = column.grow(length);
      expect(view).toBe(column.view);
      expect(view).toHaveLength(length);
      expect(Array.from(view.subarray(0, length / 2))).toEqual(before);
      expect(view.subarray(length / 2).every((v) => v === 0)).toBe(true);
      view[length - 1] = length;
    }
    expect(column.view[65_535]).toBe(65_536);
  });

  it('sizes a 1- and 2-byte column by its values, not its pages', () => {
    const bytes = new Column(Uint8Array, 3, inPlace);
    const halves = new Column(Uint16Array, 70_000, inPlace);
    expect(bytes.view).toHaveLength(3);
    halves.view[69_999] = 0xffff;
    expect(halves.grow(140_000)[69_999]).toBe(0xffff);
    expect(halves.view).toHaveLength(140_000);
  });
});
