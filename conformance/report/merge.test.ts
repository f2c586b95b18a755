import { describe, expect, it } from 'vitest';
import { caseKey, computeTotals, type RunSummary } from './summary.ts';
import { MergeError, mergeSummaries, type Shard } from './merge.ts';
import { sampleBaseline, sampleCurrent } from './testdata/samples.ts';
import { withBaseline } from './gate.ts';

/** The sample run cut into `n` shards as vitest would (each case in exactly one). */
function shards(summary: RunSummary, n: number): Shard[] {
  return Array.from({ length: n }, (_, i) => {
    const cases = summary.cases.filter((_, j) => j % n === i);
    const startedAt = new Date(Date.parse(summary.startedAt) + i * 5000).toISOString();
    return {
      file: `reports/shard-${i + 1}/summary.json`,
      dir: `reports/shard-${i + 1}`,
      summary: { ...summary, startedAt, durationS: 100 + i, cases, totals: computeTotals(cases) },
    };
  });
}

describe('mergeSummaries', () => {
  it('is the union of the shards with totals recomputed and artifacts rebased on the merged dir', () => {
    const whole = sampleCurrent();
    const { summary, warnings } = mergeSummaries(shards(whole, 3), { outDir: 'reports/merged' });
    expect(warnings).toEqual([]);
    expect(summary.cases.map(caseKey).sort()).toEqual(whole.cases.map(caseKey).sort());
    expect(summary.totals).toEqual(whole.totals);
    // Shard 3 started 10 s after shard 1 and ran 102 s: the merged run spans 112 s.
    expect(summary.startedAt).toBe(whole.startedAt);
    expect(summary.durationS).toBe(112);
    const first = summary.cases.find((c) => c.id === 'ecmp.spread' && c.speaker === 'reference')!;
    expect(first.artifacts[0]).toMatch(/^\.\.\/shard-\d\/ecmp\.spread\/seed-000-cilium-two-subnets\/reference-frr\/pcaps\/router-eth1\.pcap$/);
    expect(summary.regressions).toBeUndefined();
  });

  it('merging one shard into its own dir changes nothing', () => {
    const [only] = shards(sampleCurrent(), 1);
    expect(mergeSummaries([only!], { outDir: only!.dir }).summary).toEqual({ ...sampleCurrent(), durationS: 100 });
  });

  it('refuses overlapping shards, naming the case and both files', () => {
    const parts = shards(sampleCurrent(), 2);
    parts[1]!.summary.cases.push({ ...parts[0]!.summary.cases[0]!, status: 'failed', reason: 'hold timer expired' });
    parts[1]!.summary.totals = computeTotals(parts[1]!.summary.cases);
    expect(() => mergeSummaries(parts, { outDir: 'reports/merged' })).toThrow(MergeError);
    expect(() => mergeSummaries(parts, { outDir: 'reports/merged' })).toThrow(
      'case session.establish | seed-000-cilium-two-subnets | reference | frr is in two shards: reports/shard-1/summary.json (passed) and reports/shard-2/summary.json (failed)',
    );
  });

  it('with keepWorst keeps the worse of two duplicates (broken > failed > flaky > passed > skipped) and says so', () => {
    const parts = shards(sampleCurrent(), 2);
    const original = parts[0]!.summary.cases[0]!;
    parts[1]!.summary.cases.push({ ...original, flaky: true, reason: 'passed on retry' });
    parts[1]!.summary.totals = computeTotals(parts[1]!.summary.cases);
    const { summary, warnings } = mergeSummaries(parts, { outDir: 'reports/merged', keepWorst: true });
    const kept = summary.cases.filter((c) => caseKey(c) === caseKey(original));
    expect(kept).toHaveLength(1);
    expect(kept[0]!.flaky).toBe(true);
    expect(summary.cases).toHaveLength(sampleCurrent().cases.length);
    expect(warnings).toEqual([`duplicate case ${caseKey(original)}: kept passed from reports/shard-2/summary.json`]);
  });

  it('warns when shards ran on different daemon versions', () => {
    const parts = shards(sampleCurrent(), 2);
    parts[1]!.summary = { ...parts[1]!.summary, host: { ...parts[1]!.summary.host, frr: '9.1.0' } };
    const { warnings, summary } = mergeSummaries(parts, { outDir: 'reports/merged' });
    expect(summary.host.frr).toBe('8.4.4');
    expect(warnings).toEqual(['host.frr differs between shards (8.4.4, 9.1.0); the merged summary shows 8.4.4']);
  });

  it('unites the regressions of gated shards', () => {
    const baseline = sampleBaseline();
    const parts = shards(sampleCurrent(), 4).map((s) => ({ ...s, summary: withBaseline(s.summary, baseline) }));
    const { summary } = mergeSummaries(parts, { outDir: 'reports/merged' });
    expect(summary.regressions!.map((r) => `${r.id}:${r.now}`).sort()).toEqual(['dsr.return-path:broken', 'lb.withdraw:failed']);
  });

  it('needs at least one shard', () => {
    expect(() => mergeSummaries([], { outDir: 'x' })).toThrow('nothing to merge');
  });
});
