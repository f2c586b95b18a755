// `peerproof fuzz --against frr` end to end through the real command line: the lab SUT comes up,
// every message is sent and judged, each finding is listed on stdout and in summary.json with its
// replay fixture, and the lab is gone afterwards (namespaces, processes).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../lab/ledger.ts';
import { pidAlive } from '../lab/netns.ts';
import { readExpect } from '../replay/symptoms.ts';

const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'pp-fuzz-lab-'));
chmodSync(dir, 0o755); // FRR runs as user frr and must reach its node folders
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('peerproof fuzz --against frr', () => {
  it('judges every message, lists each finding with its fixture, and leaves nothing behind', async () => {
    const bin = new URL('../../bin/peerproof.js', import.meta.url).pathname;
    const report = join(dir, 'report');
    const runs = join(dir, 'runs');
    const run = await execFileAsync(process.execPath, [bin, 'fuzz', '--against', 'frr', '--seed', '3', '--messages', '300', '--shrink-tries', '6', '--report', report, '--runs-dir', runs], { timeout: 280_000 }).catch(
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
    expect(run.stdout).toMatch(/^fuzz frr seed 3: 300 messages sent and judged in \d+ sessions/m);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ against: 'frr', sut: 'frr', seed: 3, messagesSent: 300, messagesJudged: 300 });
    const findingLines = run.stdout.split('\n').filter((l) => l.startsWith('finding '));
    expect(findingLines).toHaveLength(summary.findings.length);
    for (const f of summary.findings.filter((x: { fixture: string | null }) => x.fixture)) {
      const expectFile = readExpect(join(report, f.fixture, 'expect.yaml'));
      expect(expectFile.symptoms.length).toBeGreaterThan(0);
      expect(existsSync(join(report, f.fixture, 'recording.json'))).toBe(true);
    }

    const [runId] = readdirSync(runs);
    const ledger = new Ledger(join(runs, runId!));
    expect(ledger.summary().down).toBeTruthy();
    const pids = ledger.entries().flatMap((e) => (e.t === 'proc' && e.pid !== undefined ? [e.pid] : []));
    expect(pids.filter(pidAlive)).toEqual([]);
    const { stdout: netns } = await execFileAsync('ip', ['netns', 'list']);
    expect(netns).not.toContain(`pp-${runId}-`);
  }, 300_000);
});
