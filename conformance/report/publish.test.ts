import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishRun } from './publish.ts';
import { readSummary, writeSummary } from './summary.ts';
import { sampleBaseline, sampleCurrent } from './testdata/samples.ts';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pp-publish-'));
});
afterAll(async () => root && rm(root, { recursive: true, force: true }));

describe('publishRun', () => {
  it('without a baseline: no regressions field, exit 1 because cases failed or broke', async () => {
    const run = await publishRun({ dir: join(root, 'plain'), summary: sampleCurrent(), allure: false });
    expect(run.exitCode).toBe(1);
    expect(run.gate).toBeUndefined();
    expect((await readSummary(join(root, 'plain'))).regressions).toBeUndefined();
  });

  it('with a baseline: regressions stored in summary.json, table returned, exit 1 on them', async () => {
    const baseline = await writeSummary(join(root, 'base'), sampleBaseline());
    const run = await publishRun({ dir: join(root, 'gated'), summary: sampleCurrent(), baseline, allure: false });
    expect(run.exitCode).toBe(1);
    expect(run.gate).toMatch(/^2 regressions/);
    expect((await readSummary(join(root, 'gated'))).regressions!.map((r) => r.id)).toEqual(['dsr.return-path', 'lb.withdraw']);
  });

  it('with a baseline that already failed the same cases: exit 0 despite failures', async () => {
    const baseline = await writeSummary(join(root, 'same'), sampleCurrent());
    const run = await publishRun({ dir: join(root, 'again'), summary: sampleCurrent(), baseline, allure: false });
    expect(run.summary.totals.failed).toBe(3);
    expect(run.summary.regressions).toEqual([]);
    expect(run.exitCode).toBe(0);
  });
});
