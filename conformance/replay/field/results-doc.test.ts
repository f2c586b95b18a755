import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daemonOfVersion, mergeRows, parseResultsDoc, renderResultsDoc, type ResultRow } from './results-doc.ts';

const row = (fixture: string, version: string, verdict: string, generatedAt = '2026-12-07T16:00Z'): ResultRow => ({ fixture, version, verdict, observed: `Established; x | y`, generatedAt });

describe('docs/field-results.md generation', () => {
  it('reads the committed doc back: every row, its daemon and the date of its run', () => {
    const rows = parseResultsDoc(readFileSync(new URL('../../../docs/field-results.md', import.meta.url), 'utf8'));
    expect(rows.length).toBeGreaterThanOrEqual(107);
    for (const r of rows) {
      expect(daemonOfVersion(r.version), r.version).toBeDefined();
      expect(['pass', 'bug-present', 'fail']).toContain(r.verdict);
      expect(r.generatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    }
  });

  it('a run of one daemon replaces its rows and keeps the others with their own dates; the text round-trips', () => {
    const kept = [row('field-a', 'FRR 8.4.4', 'pass', '2026-11-22T08:43Z'), row('field-a', 'OpenBGPD 7.6', 'fail', '2026-11-01T00:00Z')];
    const merged = mergeRows([row('field-a', 'OpenBGPD 7.7', 'bug-present')], ['openbgpd'], kept);
    expect(merged.map((r) => `${r.version}:${r.verdict}:${r.generatedAt}`)).toEqual(['FRR 8.4.4:pass:2026-11-22T08:43Z', 'OpenBGPD 7.7:bug-present:2026-12-07T16:00Z']);
    const text = renderResultsDoc(merged, new Map([['field-b', new Map([['openbgpd', 'OpenBGPD 7.7 cannot offer it']])]]), '## What differs\n\ntext');
    expect(text).toContain('| fixture | FRR | OpenBGPD |');
    expect(text).toContain('| field-a | healthy | **bug** |');
    expect(text).toContain('| field-b | — | not run¹ |');
    expect(text).toContain('"OpenBGPD 7.7 cannot offer it"');
    expect(text).toContain('## What differs');
    expect(parseResultsDoc(text)).toEqual(merged);
  });
});
