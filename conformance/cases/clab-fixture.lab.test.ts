// A plain containerlab fixture (fixtures/clab-cilium-dualstack: FRR configs bound with `binds`,
// addresses and default routes from `exec:` lines incl. `ip -6`, Cilium v2 CRDs, an overlay that
// names kinds only) comes up and its declared cases pass with the reference speaker against FRR.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSummary } from '../report/summary.ts';
import { runSuite } from './runner.ts';

const FIXTURE = 'fixtures/clab-cilium-dualstack';
const reportDir = mkdtempSync(join(tmpdir(), 'pp-clab-'));
chmodSync(reportDir, 0o755); // FRR runs as user frr and must reach its node folders
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

describe(`peerproof run ${FIXTURE} (reference speaker, frr fabric)`, () => {
  it('every declared case passes, on IPv4 and IPv6 sessions the configs and CRDs define', async () => {
    const declared = (parse(readFileSync(join(FIXTURE, 'expect.yaml'), 'utf8')) as { cases: Array<{ id: string }> }).cases.map((c) => c.id);
    const outcome = await runSuite({
      fixtures: [FIXTURE],
      speakers: [{ kind: 'profile', name: 'reference' }],
      peers: ['frr'],
      reportDir,
      allure: false,
      log: () => undefined,
    });
    const summary = validateSummary(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')));
    expect(summary.cases.map((c) => `${c.id} ${c.status} ${c.reason}`).sort()).toEqual(declared.map((id) => `${id} passed `).sort());
    const of = (id: string) => summary.cases.find((c) => c.id === id)!.measurements;
    // 3 nodes x (IPv4 + IPv6) sessions, 4-octet ASNs, every OPEN read from the captures
    expect(of('session.establish')).toMatchObject({ sessions: 6, established: 6, opensChecked: 6, fourOctetAsn: true });
    // each family's PodCIDR on its own session: 3 nodes x (2 PodCIDRs + 2 VIPs)
    expect(of('podcidr.export')).toMatchObject({ routesExpected: 12, routesLearned: 12, crossRack: true });
    expect(of('lb.advertise-selector')).toMatchObject({ selectedVips: '172.16.100.1/32, fd00:172:16:100::/128', unselectedAnnouncements: 0 });
    expect(of('ecmp.spread')).toMatchObject({ router: 'spine1', paths: 'node1 node2 node3', splitFlows: 0 });
    expect(outcome.exitCode).toBe(0);
    const runId = summary.cases[0]!.artifacts[0]!.split('/')[1]!;
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`pp-${runId}-`);
  }, 240_000);
});
