// `peerproof compliance` on the summary of a real clause run (the reference speaker on loopback),
// plus a failed result with a known deviation: the table has a row per clause test and links the
// failure to its evidence, which quotes the transcript.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAUSES } from '../../clauses/index.ts';
import { runClauses } from '../../clauses/run.ts';
import { buildSummary, writeSummary, type CaseResult } from '../../report/summary.ts';
import { startLoopbackSut } from '../../tester/sut-loopback.ts';

const bin = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'peerproof-compliance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('peerproof compliance', () => {
  it('writes a row per clause test and the evidence of each failure', async () => {
    const sut = await startLoopbackSut();
    const picked = CLAUSES.filter((c) => ['bgp.open.unsupported-version', 'bgp.header.bad-type'].includes(c.id));
    const results = await runClauses(picked, sut).finally(() => sut.stop());
    const cases: Array<CaseResult & { deviation?: { reason: string; reference: string } }> = results.map((r) => {
      const artifact = `clauses/${r.id}.transcript.txt`;
      mkdirSync(join(dir, 'clauses'), { recursive: true });
      writeFileSync(join(dir, artifact), r.sessions.flatMap((s) => [s.label, ...s.transcript.map((e) => `${e.at} ${e.dir} ${e.what}`)]).join('\n'));
      const clause = picked.find((c) => c.id === r.id)!;
      return { id: r.id, fixture: 'clause-lab', speaker: 'reference', peer: 'tester', status: r.status, reason: r.reason ?? '', rfc: [clause.rfc], seed: 'clauses', durationS: r.durationMs / 1000, flaky: false, measurements: {}, artifacts: [artifact] };
    });
    expect(cases.map((c) => c.status)).toEqual(['passed', 'passed']);
    // The same evidence presented as another speaker's known deviation, to see the failure path.
    cases.push({ ...cases.find((c) => c.id === 'bgp.open.unsupported-version')!, speaker: 'frr', status: 'failed', reason: 'expected NOTIFICATION 2/1, got 2/0', deviation: { reason: 'answers with the unspecific subcode', reference: 'https://example.org/frr-issue' } });
    const summary = buildSummary({ version: '0.1.0', startedAt: new Date(), durationS: 1, host: { kernel: 'k', frr: '8.4.4', gobgp: '3.10.0', bird: '2.0.12' }, cases });
    await writeSummary(dir, summary);

    const out = join(dir, 'compliance.md');
    const run = spawnSync(process.execPath, [bin, 'compliance', dir, '--out', out], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`${CLAUSES.length} clause tests x 2 speaker(s) (reference, frr)`);
    const md = readFileSync(out, 'utf8');
    expect(md.split('\n').filter((l) => l.startsWith('| `')).length).toBe(CLAUSES.length);
    expect(md).toMatch(/\| `bgp\.open\.unsupported-version`.*\| RFC 4271 6\.2 \| MUST \(negative\) \| pass \| \[deviation\]\(#frr-bgp-open-unsupported-version\) \|/);
    expect(md).toContain('<a id="frr-bgp-open-unsupported-version"></a>FRR 8.4.4');
    expect(md).toContain('Known deviation: answers with the unspecific subcode (https://example.org/frr-issue)');
    expect(md).toMatch(/received NOTIFICATION 2\/1/);
  }, 60_000);

  it('refuses reports that hold no clause result', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(empty, 'summary.json'), JSON.stringify(buildSummary({ version: '0.1.0', startedAt: new Date(), durationS: 0, host: { kernel: 'k', frr: '8.4.4', gobgp: '3.10.0', bird: '2.0.12' }, cases: [] })));
    const run = spawnSync(process.execPath, [bin, 'compliance', empty, '--out', join(empty, 'c.md')], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('holds a clause-suite result (run `peerproof run --suite clauses` first)');
  });
});
