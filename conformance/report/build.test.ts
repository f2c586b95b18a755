import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from './build.ts';
import { casePageName } from './matrix.ts';
import { computeTotals, readSummary, writeSummary } from './summary.ts';
import { sampleCurrent, writeSampleReport } from './testdata/samples.ts';

let root = '';

function reportDir(name: string, summary = sampleCurrent()): Promise<string> {
  return writeSampleReport(join(root, name), summary);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pp-build-'));
});
afterAll(async () => root && rm(root, { recursive: true, force: true }));

describe('buildReport', () => {
  it('writes junit.xml, the matrix and case pages with the ladder from the decoded capture; skips Allure with a note', async () => {
    const dir = await reportDir('single');
    const built = await buildReport([dir]);
    expect(built.outDir).toBe(dir);
    expect(built.allure).toEqual({ built: false, note: 'no allure-results in the report dir(s): Allure report skipped' });
    expect(await readFile(built.junitFile, 'utf8')).toContain('<testsuites name="peerproof 0.1.0" tests="31"');
    const c = built.summary.cases.find((x) => x.id === 'session.establish' && x.speaker === 'reference' && x.peer === 'frr' && x.fixture.startsWith('seed-000'))!;
    const page = await readFile(join(dir, 'cases', casePageName(c)), 'utf8');
    expect(page.match(/<g class="msg /g)).toHaveLength(11);
    expect(await readFile(built.matrixFile, 'utf8')).toContain('peerproof interop matrix');
  });

  it('reports an unreadable decoded capture on the case page instead of failing', async () => {
    const summary = sampleCurrent();
    const c = summary.cases.find((x) => x.id === 'ecmp.spread' && x.speaker === 'reference')!;
    c.artifacts.push('ecmp.spread/missing.jsonl');
    const dir = join(root, 'missing-ladder');
    await writeSummary(dir, summary);
    await buildReport([dir], { allure: false });
    const page = await readFile(join(dir, 'cases', casePageName(c)), 'utf8');
    expect(page).toContain('ecmp.spread/missing.jsonl: cannot read (ENOENT)');
  });

  it('merges shard dirs into --out with artifact links that still resolve', async () => {
    const whole = sampleCurrent();
    const halves = [0, 1].map((i) => {
      const cases = whole.cases.filter((_, j) => j % 2 === i);
      return { ...whole, cases, totals: computeTotals(cases) };
    });
    const dirs = [await reportDir('shard-1', halves[0]), await reportDir('shard-2', halves[1])];
    const out = join(root, 'merged');
    const built = await buildReport(dirs, { outDir: out });
    const merged = await readSummary(out);
    expect(merged.totals).toEqual(whole.totals);
    for (const c of merged.cases) {
      for (const a of c.artifacts) expect((await stat(join(out, a))).size, a).toBeGreaterThan(0);
    }
    expect(built.warnings).toEqual([]);
  });

  it('wants --out with several dirs', async () => {
    await expect(buildReport(['a', 'b'])).rejects.toThrow('several report dirs given: say where the merged report goes with --out DIR');
  });
});

describe('peerproof report', () => {
  it('prints where everything went', async () => {
    const dir = await reportDir('cli');
    const cli = join(import.meta.dirname, '..', '..', 'bin', 'peerproof.js');
    const { stdout } = await promisify(execFile)('node', [cli, 'report', dir, '--no-allure']);
    expect(stdout.split('\n')).toEqual([
      '31 results: 25 passed (1 flaky), 3 failed, 1 broken, 2 skipped',
      `summary: ${join(dir, 'summary.json')}`,
      `junit:   ${join(dir, 'junit.xml')}`,
      `matrix:  ${join(dir, 'matrix.html')}`,
      'allure:  Allure report not requested (--no-allure)',
      '',
    ]);
  });
});

describe('ladders from raw captures', () => {
  it('decodes a real FRR <-> GoBGP capture (pcap) and a GoBGP <-> BIRD one (pcapng) into ladders', async () => {
    const dir = await reportDir('golden');
    const summary = await readSummary(dir);
    const pageOf = async (id: string, speaker: string) => {
      const c = summary.cases.find((x) => x.id === id && x.speaker === speaker)!;
      return readFile(join(dir, 'cases', casePageName(c)), 'utf8');
    };
    await buildReport([dir], { allure: false });
    const frrGobgp = await pageOf('addpath.multi-nexthop', 'gobgp');
    // 24 messages over two sessions (IPv4 with ADD-PATH, IPv6 without); FRR and GoBGP use 4-octet ASNs.
    expect(frrGobgp.match(/<g class="msg /g)).toHaveLength(24);
    expect(frrGobgp).toContain('data-host="fd00:0:1::2"');
    expect(frrGobgp).toContain('AS 4200000002');
    expect(frrGobgp).toMatch(/203\.0\.113\.128\/25 id \d+/);
    expect(frrGobgp).toContain('Cease / Administrative Shutdown');
    const holdTimer = await pageOf('fault.peer-kill', 'bird');
    expect(holdTimer).toContain('Hold Timer Expired');
    const pcapng = await pageOf('addpath.multi-nexthop', 'bird');
    expect(pcapng).toContain('data-type="OPEN"');
    // A capture with no packets: no ladder, said so.
    expect(await pageOf('podcidr.export', 'reference')).toContain('id="no-ladder"');
  });
});
