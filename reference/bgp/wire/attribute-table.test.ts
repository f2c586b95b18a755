import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttributeCode } from './attribute-format.ts';
import { ATTRIBUTE_BY_CODE, ATTRIBUTE_TABLE, renderAttributeTable } from './attribute-table.ts';

describe('attribute table', () => {
  it('has one row per named attribute code, in code order', () => {
    expect(ATTRIBUTE_TABLE.map((r) => r.code)).toEqual(Object.values(AttributeCode).sort((a, b) => a - b));
    for (const r of ATTRIBUTE_TABLE) expect(ATTRIBUTE_BY_CODE[r.code]).toBe(r);
    expect(ATTRIBUTE_BY_CODE[99]).toBeUndefined();
  });

  it('docs/attributes.md is the rendering of the table', () => {
    expect(readFileSync(new URL('../../../docs/attributes.md', import.meta.url), 'utf8')).toBe(renderAttributeTable());
  });
});
