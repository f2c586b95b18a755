// The generality corpus (issue 19): three small fixtures of shapes the seeds do not have, each
// written from public documentation with its fabric in peerproof keys, so the same fixture runs
// against FRR and GoBGP. Every declared case passes with the reference speaker on both fabrics;
// ecmp.spread alone is skipped on GoBGP (it programs no kernel FIB, so nothing forwards by BGP).
//   corpus-cilium-perfamily  dual stack, separate IPv4 and IPv6 sessions per node, 4-octet ASNs
//   corpus-metallb-v6-enh    IPv6-only sessions carrying IPv4 with extended next hop (RFC 8950)
//   corpus-calico-ibgp-rr    iBGP to two route reflectors, several pools, ETP Cluster and Local
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSummary } from '../report/summary.ts';
import { runSuite } from './runner.ts';

const FIXTURES = ['corpus-cilium-perfamily', 'corpus-metallb-v6-enh', 'corpus-calico-ibgp-rr'];
const PEERS = ['frr', 'gobgp'] as const;
const reportDir = mkdtempSync(join(tmpdir(), 'pp-corpus-'));
chmodSync(reportDir, 0o755); // FRR runs as user frr and must reach its node folders
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

describe('peerproof run on the generality corpus (reference speaker, frr and gobgp fabrics)', () => {
  it('every declared case passes on every corpus fixture and fabric (ecmp.spread skipped on gobgp, saying why)', async () => {
    const outcome = await runSuite({
      fixtures: FIXTURES.map((f) => join('fixtures', f)),
      speakers: [{ kind: 'profile', name: 'reference' }],
      peers: [...PEERS],
      reportDir,
      allure: false,
      log: () => undefined,
    });
    const summary = validateSummary(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')));
    const expected: string[] = [];
    for (const fixture of FIXTURES) {
      const declared = (parse(readFileSync(join('fixtures', fixture, 'expect.yaml'), 'utf8')) as { cases: Array<{ id: string }> }).cases.map((c) => c.id);
      for (const peer of PEERS)
        for (const id of declared)
          expected.push(
            id === 'ecmp.spread' && peer === 'gobgp'
              ? `${fixture} ${peer} ${id} skipped fabric peer gobgp: GoBGP does not program the kernel FIB, so the fabric forwards no traffic by BGP`
              : `${fixture} ${peer} ${id} passed `,
          );
    }
    expect(summary.cases.map((c) => `${c.fixture} ${c.peer} ${c.id} ${c.status} ${c.reason}`).sort()).toEqual(expected.sort());
    const of = (fixture: string, peer: string, id: string) => summary.cases.find((c) => c.fixture === fixture && c.peer === peer && c.id === id)!.measurements;
    for (const peer of PEERS) {
      // (a) each node: one IPv4-only and one IPv6-only session; ETP Local only from node2
      expect(of('corpus-cilium-perfamily', peer, 'session.establish')).toMatchObject({
        sessions: 4,
        established: 4,
        fourOctetAsn: true,
        negotiated: 'node1->10.1.1.1: ipv4-unicast; node1->fd00:1:1::1: ipv6-unicast; node2->10.1.2.1: ipv4-unicast; node2->fd00:1:2::1: ipv6-unicast',
      });
      expect(of('corpus-cilium-perfamily', peer, 'podcidr.export')).toMatchObject({ expectedFrom: 'cluster', routesExpected: 9, routesLearned: 9 });
      expect(of('corpus-cilium-perfamily', peer, 'lb.advertise-selector')).toMatchObject({ selectedVips: '172.30.0.1/32, fd00:172:30::/128, 172.30.0.0/32', unselectedAnnouncements: 0 });
      // (b) IPv4 and IPv6 on one IPv6 session, extended next hop negotiated on each
      expect(of('corpus-metallb-v6-enh', peer, 'session.establish')).toMatchObject({ sessions: 2, established: 2, extendedNexthopSessions: 2 });
      expect(of('corpus-metallb-v6-enh', peer, 'lb.advertise-selector')).toMatchObject({ unselectedVips: '198.51.100.64/32', unselectedAnnouncements: 0 });
      // (c) iBGP to both reflectors
      expect(of('corpus-calico-ibgp-rr', peer, 'session.establish')).toMatchObject({ sessions: 4, established: 4, ibgp: 4 });
      expect(of('corpus-calico-ibgp-rr', peer, 'lb.advertise-selector')).toMatchObject({ unselectedVips: '10.50.9.1/32', unselectedAnnouncements: 0 });
    }
    expect(of('corpus-cilium-perfamily', 'frr', 'ecmp.spread')).toMatchObject({ vip: '172.30.0.1/32', client: 'ext', router: 'spine1', paths: 'node1 node2', splitFlows: 0 });
    expect(of('corpus-metallb-v6-enh', 'frr', 'ecmp.spread')).toMatchObject({ vip: '198.51.100.1/32', router: 'spine1', paths: 'node1 node2', splitFlows: 0 });
    expect(of('corpus-calico-ibgp-rr', 'frr', 'ecmp.spread')).toMatchObject({ vip: '10.50.0.1/32', client: 'user', router: 'rr1', splitFlows: 0 });
    expect(outcome.exitCode).toBe(0);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const runId of new Set(summary.cases.flatMap((c) => c.artifacts.map((a) => a.split('/')[1]!))))
      expect(netns).not.toContain(`pp-${runId}-`);
  }, 600_000);
});
