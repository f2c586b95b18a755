// `peerproof run --suite clauses` end to end through the real command line: one clause lab for
// FRR, a --clause subset, the same report files as the scenario suite with each test's
// transcript and pcap slice, and nothing left behind (namespaces, processes).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../lab/ledger.ts';
import { pidAlive } from '../lab/netns.ts';
import { validateSummary } from '../report/summary.ts';
import { CLAUSES } from './index.ts';

const execFileAsync = promisify(execFile);
const reportDir = mkdtempSync(join(tmpdir(), 'pp-clauses-'));
chmodSync(reportDir, 0o755); // FRR runs as user frr and must reach its node folders
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

describe('peerproof run --suite clauses --speaker frr --clause bgp.open.*', () => {
  it('writes summary.json, JUnit, matrix and Allure results with a transcript and a pcap per test, and leaves nothing behind', async () => {
    const bin = new URL('../../bin/peerproof.js', import.meta.url).pathname;
    const run = await execFileAsync(process.execPath, [bin, 'run', '--suite', 'clauses', '--speaker', 'frr', '--clause', 'bgp.open.*', '--report', reportDir], { timeout: 200_000 }).catch(
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
    const stdout = run.stdout;
    expect(stdout).toMatch(/^clauses against frr: \d+ tests in [\d.]+ s: \d+ passed, \d+ failed, \d+ known deviations, \d+ skipped, 0 broken$/m);

    const summary = validateSummary(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')));
    const wanted = CLAUSES.filter((c) => c.id.startsWith('bgp.open.')).map((c) => c.id);
    expect(summary.cases.map((c) => c.id).sort()).toEqual([...wanted].sort());
    expect(summary.totals.broken).toBe(0);
    for (const c of summary.cases) {
      expect(c).toMatchObject({ fixture: 'clause-lab', speaker: 'frr', peer: 'tester', rfc: [CLAUSES.find((x) => x.id === c.id)!.rfc] });
      if (c.status === 'skipped') continue;
      const transcript = c.artifacts.find((a) => a.endsWith(`${c.id}.transcript.txt`));
      const pcap = c.artifacts.find((a) => a.endsWith(`${c.id}.pcap`));
      expect(transcript, c.id).toBeDefined();
      expect(pcap, c.id).toBeDefined();
      for (const a of c.artifacts) expect(existsSync(join(reportDir, a)), a).toBe(true);
      expect(readFileSync(join(reportDir, transcript!), 'utf8')).toMatch(/-> sent +OPEN v\d/);
      // a pcap with at least the tester's SYN to the SUT: global header (24) + one record
      expect(readFileSync(join(reportDir, pcap!)).length).toBeGreaterThan(24 + 16 + 54);
    }
    expect(readFileSync(join(reportDir, 'junit.xml'), 'utf8')).toContain('bgp.open.unsupported-version');
    expect(readFileSync(join(reportDir, 'matrix.html'), 'utf8')).toContain('bgp.open.bad-peer-as');
    expect(readdirSync(join(reportDir, 'allure-results')).filter((f) => f.endsWith('-result.json'))).toHaveLength(wanted.length);

    // The clause lab is gone: no namespace of its run, no process its ledger started.
    const runs = readdirSync(join(reportDir, 'runs'));
    expect(runs).toHaveLength(1);
    const ledger = new Ledger(join(reportDir, 'runs', runs[0]!));
    expect(ledger.summary().down).toBeTruthy();
    const pids = ledger.entries().flatMap((e) => (e.t === 'proc' && e.pid !== undefined ? [e.pid] : []));
    expect(pids.length).toBeGreaterThan(2);
    expect(pids.filter(pidAlive)).toEqual([]);
    const { stdout: netns } = await execFileAsync('ip', ['netns', 'list']);
    expect(netns).not.toContain(`pp-${runs[0]}-`);
  }, 240_000);
});
