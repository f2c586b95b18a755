import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleCurrent } from './testdata/samples.ts';
import {
  computeTotals,
  NOT_INSTALLED,
  parseVersionBanner,
  readHostVersions,
  readSummary,
  SummaryError,
  validateSummary,
  writeSummary,
} from './summary.ts';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function problemsOf(value: unknown, file = 'reports/x/summary.json'): string[] {
  try {
    validateSummary(value, file);
  } catch (err) {
    expect(err).toBeInstanceOf(SummaryError);
    expect((err as Error).message.startsWith(`${file}: not a valid run summary`)).toBe(true);
    return (err as SummaryError).problems;
  }
  return [];
}

describe('validateSummary', () => {
  it('accepts a realistic summary and returns it', () => {
    const s = sampleCurrent();
    expect(validateSummary(clone(s))).toEqual(s);
    expect(s.totals).toEqual({ passed: 25, failed: 3, skipped: 2, broken: 1 });
  });

  it('names the field and what was expected', () => {
    const s = clone(sampleCurrent()) as unknown as { cases: Array<Record<string, unknown>> };
    s.cases[3]!.status = 'ok';
    expect(problemsOf(s)).toContain('cases[3].status: expected one of passed|failed|skipped|broken, got "ok"');
  });

  it('rejects totals that do not match the cases', () => {
    const s = clone(sampleCurrent());
    s.totals.failed = 0;
    expect(problemsOf(s)).toEqual(['totals.failed: expected 3 (counted from cases), got 0']);
  });

  it('rejects flaky on anything but a pass, a multi-line reason, a missing reason on a failure', () => {
    const s = clone(sampleCurrent());
    const failed = s.cases.findIndex((c) => c.status === 'failed');
    s.cases[failed]!.flaky = true;
    s.cases[0]!.reason = 'line one\nline two';
    const skipped = s.cases.findIndex((c) => c.status === 'skipped');
    s.cases[skipped]!.reason = '';
    const problems = problemsOf(s);
    expect(problems).toContain(`cases[${failed}].flaky: expected false unless the status is passed (flaky = passed on retry), got true`);
    expect(problems).toContain('cases[0].reason: expected one line, got "line one\\nline two"');
    expect(problems).toContain(`cases[${skipped}].reason: expected why the case is skipped, got ""`);
  });

  it('rejects absolute artifact paths, bad measurements, non-string rfc clauses', () => {
    const s = clone(sampleCurrent()) as unknown as { cases: Array<Record<string, unknown>> };
    s.cases[1]!.artifacts = ['/tmp/router.pcap'];
    s.cases[1]!.measurements = { flows: Number.NaN, note: { nested: true } };
    s.cases[2]!.rfc = ['RFC 4271 9.1', 4271];
    const problems = problemsOf(JSON.parse(JSON.stringify(s).replace('"flows":null', '"flows":"NaN"')));
    expect(problems).toContain('cases[1].artifacts[0]: expected a path relative to the report dir, got "/tmp/router.pcap"');
    expect(problems).toContain('cases[1].measurements.note: expected a finite number, string or boolean, got {"nested":true}');
    expect(problems.some((p) => p.startsWith('cases[2].rfc: expected an array of clause strings'))).toBe(true);
  });

  it('rejects duplicate cases, a missing host, a wrong tool and a bad date', () => {
    const s = clone(sampleCurrent()) as unknown as Record<string, unknown> & { cases: unknown[] };
    s.cases.push(clone(s.cases[0]));
    delete s.host;
    s.tool = 'other';
    s.startedAt = 'yesterday';
    const problems = problemsOf(s);
    expect(problems).toContain(`cases[${s.cases.length - 1}]: duplicate of cases[0] (session.establish | seed-000-cilium-two-subnets | reference | frr)`);
    expect(problems).toContain('host: expected an object {kernel, frr, gobgp, bird}, got nothing');
    expect(problems).toContain('tool: expected "peerproof", got "other"');
    expect(problems).toContain('startedAt: expected an ISO-8601 date-time string, got "yesterday"');
  });

  it('checks regressions when present', () => {
    const s = clone(sampleCurrent()) as unknown as Record<string, unknown>;
    s.regressions = [{ id: 'lb.withdraw', fixture: 'seed-003-rack-lb', speaker: 'reference', peer: 'frr', was: 'passed', now: 'gone' }];
    expect(problemsOf(s)).toEqual(['regressions[0].now: expected one of passed|failed|skipped|broken, got "gone"']);
  });

  it('rejects a non-object', () => {
    expect(problemsOf([1, 2])).toEqual(['(top level): expected a JSON object, got [1,2]']);
  });
});

describe('reading and writing', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('writes summary.json and reads it back, by dir or by file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pp-summary-'));
    dirs.push(dir);
    const file = await writeSummary(dir, sampleCurrent());
    expect(file).toBe(join(dir, 'summary.json'));
    expect(await readSummary(dir)).toEqual(sampleCurrent());
    expect(await readSummary(file)).toEqual(sampleCurrent());
  });

  it('refuses to write an invalid summary and leaves no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pp-summary-'));
    dirs.push(dir);
    const s = sampleCurrent();
    s.totals = computeTotals([]);
    await expect(writeSummary(dir, s)).rejects.toThrow(/totals\.passed: expected 25/);
    await expect(readFile(join(dir, 'summary.json'))).rejects.toThrow(/ENOENT/);
  });

  it('says which file is missing or not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pp-summary-'));
    dirs.push(dir);
    await expect(readSummary(join(dir, 'nope'))).rejects.toThrow(`${join(dir, 'nope', 'summary.json')}: cannot read run summary (ENOENT)`);
    await writeFile(join(dir, 'summary.json'), '{"tool": "peerproof",');
    await expect(readSummary(dir)).rejects.toThrow(/summary\.json: not a valid run summary:\n {2}- not JSON/);
  });
});

describe('host versions', () => {
  it('parses the banners of the installed daemons', () => {
    expect(parseVersionBanner('bgpd version 8.4.4\nCopyright 1996-2005 Kunihiro Ishiguro, et al.', /bgpd/)).toBe('8.4.4');
    expect(parseVersionBanner('gobgpd version 3.10.0', /gobgpd/)).toBe('3.10.0');
    expect(parseVersionBanner('BIRD version 2.0.12', /BIRD/)).toBe('2.0.12');
    expect(parseVersionBanner(null, /BIRD/)).toBe(NOT_INSTALLED);
    expect(parseVersionBanner('command not found', /BIRD/)).toBe(NOT_INSTALLED);
  });

  it('reads them from the binaries on this machine', async () => {
    const host = await readHostVersions();
    expect(host.kernel).toMatch(/^\d+\.\d+/);
    for (const v of [host.frr, host.gobgp, host.bird]) expect(v === NOT_INSTALLED || /^\d+\.\d+/.test(v)).toBe(true);
  });
});
