import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { compareSummaries, findRegressions, formatComparison, formatComparisonMarkdown, runExitCode, withBaseline } from './gate.ts';
import { buildSummary, type CaseResult, type CaseStatus, type RunSummary, writeSummary } from './summary.ts';
import { SAMPLE_HOST, sampleBaseline, sampleCurrent } from './testdata/samples.ts';

function run(cases: Array<[string, CaseStatus, boolean?]>): RunSummary {
  const results: CaseResult[] = cases.map(([id, status, flaky]) => ({
    id,
    fixture: 'seed-003-rack-lb',
    speaker: 'reference',
    peer: 'frr',
    status,
    reason: status === 'passed' ? '' : `${id} ${status}`,
    rfc: ['RFC 4271 9.2'],
    seed: '003_365a6485593f9ec8.txt',
    durationS: 1,
    flaky: flaky ?? false,
    measurements: {},
    artifacts: [],
  }));
  return buildSummary({ version: '0.1.0', startedAt: new Date('2026-11-21T00:00:00Z'), durationS: 10, host: SAMPLE_HOST, cases: results });
}

describe('regressions', () => {
  it('are exactly passed -> failed and passed -> broken', () => {
    const baseline = run([
      ['a.pass-fail', 'passed'],
      ['b.pass-broken', 'passed'],
      ['c.fail-fail', 'failed'],
      ['d.skip-fail', 'skipped'],
      ['e.broken-fail', 'broken'],
      ['f.pass-skip', 'passed'],
      ['g.pass-pass', 'passed'],
      ['h.removed', 'passed'],
      ['i.flaky-fail', 'passed', true],
      ['j.fail-pass', 'failed'],
    ]);
    const current = run([
      ['a.pass-fail', 'failed'],
      ['b.pass-broken', 'broken'],
      ['c.fail-fail', 'failed'],
      ['d.skip-fail', 'failed'],
      ['e.broken-fail', 'failed'],
      ['f.pass-skip', 'skipped'],
      ['g.pass-pass', 'passed', true],
      ['i.flaky-fail', 'failed'],
      ['j.fail-pass', 'passed'],
      ['k.new-fail', 'failed'],
    ]);
    const cmp = compareSummaries(baseline, current);
    expect(cmp.regressions.map((r) => `${r.id}:${r.was}->${r.now}`)).toEqual(['a.pass-fail:passed->failed', 'b.pass-broken:passed->broken', 'i.flaky-fail:passed->failed']);
    expect(cmp).toMatchObject({ compared: 9, added: 1, removed: 1, fixed: 1 });
  });

  it('key on id, fixture, speaker and peer: the same id elsewhere is not the same case', () => {
    const baseline = run([['lb.withdraw', 'passed']]);
    const current = run([['lb.withdraw', 'failed']]);
    current.cases[0]!.peer = 'gobgp';
    expect(findRegressions(baseline, current)).toEqual([]);
  });

  it('finds the two regressions of the sample runs', () => {
    expect(findRegressions(sampleBaseline(), sampleCurrent())).toEqual([
      { id: 'dsr.return-path', fixture: 'seed-003-rack-lb', speaker: 'reference', peer: 'frr', was: 'passed', now: 'broken' },
      { id: 'lb.withdraw', fixture: 'seed-003-rack-lb', speaker: 'reference', peer: 'frr', was: 'passed', now: 'failed' },
    ]);
  });

  it('print as a short table', () => {
    const text = formatComparison(compareSummaries(sampleBaseline(), sampleCurrent()));
    expect(text.split('\n')).toEqual([
      '2 regressions (30 cases compared, 1 new, 1 no longer run, 0 fixed):',
      'case             fixture           speaker    peer  was     now',
      '---------------  ----------------  ---------  ----  ------  ------',
      'dsr.return-path  seed-003-rack-lb  reference  frr   passed  broken',
      'lb.withdraw      seed-003-rack-lb  reference  frr   passed  failed',
    ]);
    expect(formatComparison(compareSummaries(sampleCurrent(), sampleCurrent()))).toBe('no regressions (31 cases compared, 0 new, 0 no longer run, 0 fixed)');
  });

  it('print as a Markdown table of regressions (with why) and fixes, one line per cell', () => {
    const baseline = run([['a.pass-fail', 'passed'], ['j.fail-pass', 'failed'], ['e.broken-pass', 'broken'], ['g.pass-pass', 'passed']]);
    const current = run([['a.pass-fail', 'failed'], ['j.fail-pass', 'passed'], ['e.broken-pass', 'passed'], ['g.pass-pass', 'passed']]);
    current.cases[0]!.reason = 'route 10.0.0.1/32 | absent\nafter 9 s';
    const cmp = compareSummaries(baseline, current);
    expect(cmp.fixes.map((f) => `${f.id}:${f.was}`)).toEqual(['e.broken-pass:broken', 'j.fail-pass:failed']);
    expect(formatComparisonMarkdown(cmp).split('\n')).toEqual([
      '### peerproof gate: 1 regression, 2 fixed',
      '',
      '4 cases compared, 0 new, 0 no longer run, 2 fixed.',
      '',
      '| change | case | fixture | speaker | peer | was | now | why now |',
      '|---|---|---|---|---|---|---|---|',
      '| **regression** | `a.pass-fail` | seed-003-rack-lb | reference | frr | passed | failed | route 10.0.0.1/32 \\| absent after 9 s |',
      '| fixed | `e.broken-pass` | seed-003-rack-lb | reference | frr | broken | passed |  |',
      '| fixed | `j.fail-pass` | seed-003-rack-lb | reference | frr | failed | passed |  |',
    ]);
    expect(formatComparisonMarkdown(compareSummaries(sampleCurrent(), sampleCurrent()))).toBe(
      '### peerproof gate: no regressions\n\n31 cases compared, 0 new, 0 no longer run, 0 fixed.',
    );
  });
});

describe('known deviations', () => {
  const deviation = { reason: 'answers with data 0400', reference: 'https://example.org/bird/packets.c' };
  const known = (r: RunSummary, id: string) => {
    const c = r.cases.find((x) => x.id === id)!;
    c.deviation = deviation;
    return r;
  };
  it('pass the gate and the run while they still fail; a change either way is a regression', () => {
    const baseline = known(known(known(run([['a.still', 'failed'], ['b.fixed', 'failed'], ['c.broke', 'failed'], ['d.new', 'passed']]), 'a.still'), 'b.fixed'), 'c.broke');
    expect(runExitCode(known(run([['a.still', 'failed']]), 'a.still'))).toBe(0);
    const same = known(known(known(run([['a.still', 'failed'], ['b.fixed', 'failed'], ['c.broke', 'failed'], ['d.new', 'passed']]), 'a.still'), 'b.fixed'), 'c.broke');
    expect(compareSummaries(baseline, same).regressions).toEqual([]);
    const changed = known(run([['a.still', 'failed'], ['b.fixed', 'passed'], ['c.broke', 'broken'], ['d.new', 'failed']]), 'a.still');
    const cmp = compareSummaries(baseline, changed);
    expect(cmp.regressions.map((r) => [r.id, r.was, r.now])).toEqual([
      ['b.fixed', 'failed', 'passed'],
      ['c.broke', 'failed', 'broken'],
      ['d.new', 'passed', 'failed'],
    ]);
    expect(Object.values(cmp.reasons)[0]).toMatch(/known deviation passes now: remove it/);
    expect(runExitCode(withBaseline(changed, baseline))).toBe(1);
    // without a baseline an unlisted failure still fails the run
    expect(runExitCode(changed)).toBe(1);
  });
});

describe('exit code of a run (contract)', () => {
  it('with a baseline: non-zero exactly when regressions exist', () => {
    expect(runExitCode(withBaseline(sampleCurrent(), sampleBaseline()))).toBe(1);
    // Failures that were failures before do not fail a gated run.
    const current = run([['c', 'failed']]);
    const gated = withBaseline(current, run([['c', 'failed']]));
    expect(gated.regressions).toEqual([]);
    expect(runExitCode(gated)).toBe(0);
  });

  it('without one: non-zero exactly when a case failed or broke', () => {
    expect(runExitCode(run([['a', 'passed'], ['b', 'skipped'], ['c', 'passed', true]]))).toBe(0);
    expect(runExitCode(run([['a', 'passed'], ['b', 'broken']]))).toBe(1);
    expect(runExitCode(run([['a', 'failed']]))).toBe(1);
  });
});

describe('peerproof gate', () => {
  const exec = promisify(execFile);
  const cli = join(import.meta.dirname, '..', '..', 'bin', 'peerproof.js');
  let dir = '';
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

  it('exits 1 and prints the table on regressions, 0 without, with a clear error on a bad file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pp-gate-'));
    const base = await writeSummary(join(dir, 'base'), sampleBaseline());
    const cur = await writeSummary(join(dir, 'cur'), sampleCurrent());

    const failing = await exec('node', [cli, 'gate', base, cur]).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('2 regressions');
    expect(failing.stdout).toMatch(/lb\.withdraw\s+seed-003-rack-lb\s+reference\s+frr\s+passed\s+failed/);

    const passing = await exec('node', [cli, 'gate', cur, join(dir, 'cur')]);
    expect(passing.stdout).toContain('no regressions');

    const markdown = await exec('node', [cli, 'gate', '--format', 'markdown', base, cur]).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toMatch(/^### peerproof gate: 2 regressions\n/);
    expect(markdown.stdout).toContain('| **regression** | `lb.withdraw` | seed-003-rack-lb | reference | frr | passed | failed | router 10.0.5.1 still holds');

    const bad = await exec('node', [cli, 'gate', base, join(dir, 'missing.json')]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(dir, 'missing.json')}: cannot read run summary (ENOENT)`);
  });
});
