// `peerproof run` end to end on one fixture, one speaker, one peer: real lab, real vitest run of
// the case files, summary.json and report written, artifacts on disk, nothing left behind.
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSummary } from '../report/summary.ts';
import { runSuite } from './runner.ts';

const reportDir = mkdtempSync(join(tmpdir(), 'pp-run-'));
chmodSync(reportDir, 0o755); // FRR runs as user frr and must reach its node folders
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

describe('peerproof run (seed-000, frr speaker, frr fabric)', () => {
  it('runs the declared cases against one shared lab and publishes the summary', async () => {
    const lines: string[] = [];
    const outcome = await runSuite({
      fixtures: ['fixtures/seed-000-cilium-two-subnets'],
      speakers: [{ kind: 'profile', name: 'frr' }, { kind: 'docker', image: 'example/speaker:1' }],
      peers: ['frr'],
      cases: ['session.establish', 'update.encoding', 'podcidr.export'],
      reportDir,
      allure: false,
      log: (l) => lines.push(l),
    });
    const summary = validateSummary(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')));
    const frr = summary.cases.filter((c) => c.speaker === 'frr');
    expect(frr.map((c) => `${c.id} ${c.status} ${c.reason}`).sort()).toEqual([
      'podcidr.export passed ',
      'session.establish passed ',
      'update.encoding passed ',
    ]);
    expect(outcome.timings.combos).toBe(1);
    const encoding = frr.find((c) => c.id === 'update.encoding')!;
    expect(encoding.measurements).toMatchObject({ sessions: 2, sessionsWithEndOfRib: 2 });
    expect(encoding.rfc).toContain('RFC 4724 2');
    expect(encoding.artifacts).toContain(encoding.artifacts.find((a) => /node1-eth1\.pcap$/.test(a)));
    for (const a of encoding.artifacts) expect(existsSync(join(reportDir, a)), a).toBe(true);
    expect(encoding.artifacts.some((a) => a.endsWith('bgpd.conf') || a.endsWith('frr.conf'))).toBe(true);
    // A docker: speaker without its profile (how to configure and start the image) is skipped with that reason.
    const docker = summary.cases.filter((c) => c.speaker.startsWith('docker:'));
    expect(docker).toHaveLength(3);
    expect(docker.every((c) => c.status === 'skipped' && /needs --speaker-profile/.test(c.reason))).toBe(true);
    expect(lines.filter((l) => /^passed +session\.establish +seed-000 +frr\/frr/.test(l))).toHaveLength(1);
    expect(outcome.exitCode).toBe(0);
    expect(existsSync(outcome.report.matrixFile)).toBe(true);
    expect(existsSync(outcome.report.junitFile)).toBe(true);
    // The lab is gone: no namespace of its run remains.
    const runId = encoding.artifacts[0]!.split('/')[1]!;
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`pp-${runId}-`);
  }, 240_000);
});
