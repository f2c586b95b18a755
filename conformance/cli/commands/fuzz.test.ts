// `peerproof fuzz` on the real command line: against the reference speaker on loopback it sends
// and judges 2000 messages, finds nothing, and writes summary.json; bad input exits 2 with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'pp-fuzz-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/peerproof.js'), ...args], { cwd: repo, encoding: 'utf8', timeout: 110_000 });

describe('peerproof fuzz', () => {
  it('--against reference --seed 1 --messages 2000: every message judged, no finding, summary.json written', () => {
    const report = join(tmp, 'reference');
    const result = cli('fuzz', '--against', 'reference', '--seed', '1', '--messages', '2000', '--report', report, '--shrink-tries', '40');
    expect(result.status, result.stderr).toBe(0);
    const last = result.stdout.trim().split('\n').pop()!;
    expect(last).toMatch(/^fuzz reference seed 1: 2000 messages sent and judged in \d+ sessions \+ \d+ OPEN cases, [\d.]+ s \(\d+ msgs\/s\) \+ [\d.]+ s shrinking, 0 finding\(s\); report /);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ tool: 'peerproof fuzz', against: 'reference', seed: 1, messagesSent: 2000, messagesJudged: 2000, verdict: 'no-finding', findings: [] });
    expect(summary.sessions).toBeGreaterThan(10);
    expect(summary.openCases).toBeGreaterThan(0);
  }, 120_000);

  it('bad input: an unknown speaker, neither or both of --messages/--duration, a seed that is not a number', () => {
    const report = join(tmp, 'bad');
    const unknown = cli('fuzz', '--against', 'quagga', '--seed', '1', '--messages', '5', '--report', report);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--against "quagga": expected reference, frr, gobgp, bird, openbgpd, docker:IMAGE or external:ADDRESS');
    const neither = cli('fuzz', '--against', 'reference', '--seed', '1', '--report', report);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain('give one of --messages N or --duration S');
    const both = cli('fuzz', '--against', 'reference', '--seed', '1', '--messages', '5', '--duration', '5', '--report', report);
    expect(both.status).toBe(2);
    const docker = cli('fuzz', '--against', 'docker:example/bgp:1', '--seed', '1', '--messages', '5', '--report', report);
    expect(docker.status).toBe(2);
    expect(docker.stderr).toContain('--against docker:example/bgp:1 needs --speaker-profile FILE');
    const seed = cli('fuzz', '--against', 'reference', '--seed', 'x', '--messages', '5', '--report', report);
    expect(seed.status).not.toBe(0);
    expect(seed.stderr).toContain('expected a seed (a whole number >= 0)');
    expect(existsSync(join(report, 'summary.json'))).toBe(false);
  }, 60_000);
});
