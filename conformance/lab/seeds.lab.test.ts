import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.ts';
import { leftovers } from './teardown.ts';

// Each seed fixture comes up on real daemons (every expected session Established, the routes
// the article shows in the FIB) and tears down to nothing. One bring-up per fixture.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-seeds-'));
chmodSync(runsRoot, 0o755); // FRR drops to user frr, which must reach its node folders
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

const fixture = (name: string) => new URL(`../../fixtures/${name}/`, import.meta.url).pathname;

/** Interface names in the host's own namespace (the lab must never add any). */
function hostLinks(): Set<string> {
  const rows = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>;
  return new Set(rows.map((r) => r.ifname));
}

async function fibNexthops(lab: Lab, node: string, prefix: string): Promise<string[]> {
  const route = (await lab.node(node).fib()).find((r) => r.prefix === prefix);
  return route ? [...route.nexthops].sort() : [];
}

function seedSuite(name: string, checks: (lab: () => Lab) => void): void {
  describe(name, () => {
    let lab: Lab | undefined;
    afterAll(async () => {
      await lab?.stop();
    });

    it('comes up: every expected session Established, nothing added to the host namespace', async () => {
      const hostBefore = hostLinks();
      lab = await startLab(fixture(name), { runsRoot, timeoutMs: 30_000 });
      const ours = new Set(lab.topology.links.flatMap((l) => [l.a.ifname, l.b.ifname]).concat(lab.topology.nodes.map((n) => n.name)));
      expect([...hostLinks()].filter((l) => !hostBefore.has(l) && ours.has(l))).toEqual([]);
      const expected = lab.expectedSessions();
      expect(expected.length).toBeGreaterThan(0);
      const sessions = await lab.sessions();
      for (const e of expected) {
        const s = sessions.find((x) => x.node === e.node && x.peer === e.peer && (x.local === undefined || x.local === e.local));
        expect(s?.state, `${e.node} -> ${e.peer}`).toBe('Established');
      }
    });

    checks(() => {
      if (!lab) throw new Error('lab did not come up');
      return lab;
    });

    it('tears down to nothing: no namespace, no process', async () => {
      const current = lab!;
      const runDir = current.runDir;
      expect(leftovers(runDir).namespaces.length).toBeGreaterThan(0);
      await current.stop();
      lab = undefined;
      expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`pp-${current.runId}-`);
    });
  });
}

seedSuite('seed-000-cilium-two-subnets', (lab) => {
  it('the router learns each PodCIDR from its node and holds the VIP on two ECMP next hops', async () => {
    expect(await fibNexthops(lab(), 'router', '172.31.254.0/26')).toEqual(['10.0.1.10']);
    expect(await fibNexthops(lab(), 'router', '172.31.254.64/26')).toEqual(['10.0.2.10']);
    expect(await fibNexthops(lab(), 'router', '192.0.2.0/32')).toEqual(['10.0.1.10', '10.0.2.10']);
  });
  it('node1 reaches node2 and the client through the router (routes are real kernel routes)', async () => {
    for (const target of ['10.0.2.10', '10.0.3.10']) {
      const ping = await lab().node('node1').exec(['ping', '-c', '1', '-W', '2', target]);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    }
  });
});

seedSuite('seed-001-calico-rr', (lab) => {
  it('the switch reflects the borrowed /32 so the block owner routes it to the borrower', async () => {
    expect(await fibNexthops(lab(), 'switch', '1.1.1.0/29')).toEqual(['192.168.1.4']);
    expect(await fibNexthops(lab(), 'switch', '1.1.1.2/32')).toEqual(['192.168.1.5']);
    expect(await fibNexthops(lab(), 'worker01', '1.1.1.2/32')).toEqual(['192.168.1.5']);
    expect(await fibNexthops(lab(), 'master1', '1.1.1.0/29')).toEqual(['192.168.1.4']);
  });
  it('the switch sessions are iBGP with the 4-octet AS 1111111', async () => {
    const sessions = await lab().node('switch').sessions();
    expect(sessions.map((s) => s.peerAsn)).toEqual([1111111, 1111111, 1111111]);
  });
});

seedSuite('seed-002-spine-leaf', (lab) => {
  it('every router learns every node PodCIDR; leaf0 spreads rack1 over both spines', async () => {
    for (const router of ['spine0', 'spine1', 'leaf0', 'leaf1']) {
      const prefixes = (await lab().node(router).fib()).map((r) => r.prefix);
      expect(prefixes).toEqual(expect.arrayContaining(['10.98.0.0/24', '10.98.1.0/24', '10.98.2.0/24', '10.98.3.0/24']));
    }
    expect(await fibNexthops(lab(), 'leaf0', '10.98.2.0/24')).toEqual(['10.1.10.1', '10.1.12.1']);
    expect(await fibNexthops(lab(), 'leaf0', '10.98.0.0/24')).toEqual(['10.1.5.10']);
  });
  it('the node stand-ins announce through GoBGP (RIB holds the node PodCIDR)', async () => {
    const rib = await lab().node('server1').rib();
    expect(rib.map((r) => r.prefix)).toContain('10.98.0.0/24');
  });
  it('captures leaf0 eth1 from the first packet and flushes it on stop', async () => {
    const capture = lab().captures.find((c) => c.node === 'leaf0' && c.ifname === 'eth1');
    expect(capture).toBeDefined();
    const file = await capture!.stop();
    const text = execFileSync('tcpdump', ['-r', file, '-n', 'tcp port 179'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(text).toMatch(/Flags \[S\]/); // the TCP handshake of the session is on file
    expect(text.split('\n').filter(Boolean).length).toBeGreaterThan(4);
  });
});

seedSuite('seed-003-rack-lb', (lab) => {
  it('the VIP is routed to one LB node per rack, as in the article', async () => {
    expect(await fibNexthops(lab(), 'leaf01', '20.0.0.100/32')).toEqual(['10.0.5.11']);
    expect(await fibNexthops(lab(), 'leaf02', '20.0.0.100/32')).toEqual(['10.0.10.12']);
    expect(await fibNexthops(lab(), 'spine01', '20.0.0.100/32')).toEqual(['10.0.101.2', '10.0.102.2']);
  });
  it('client2 on rack0 reaches the client behind spine02 across the fabric', async () => {
    const ping = await lab().node('client2').exec(['ping', '-c', '1', '-W', '2', '192.168.0.2']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
  });
});

seedSuite('seed-004-anthos-floating', (lab) => {
  it('both peers hold the control-plane VIP and the service VIP from the floating IPs', async () => {
    const peer1 = await lab().node('peer1').rib();
    const service = peer1.find((r) => r.prefix === '10.0.0.1/32');
    expect(service?.nexthops.sort()).toEqual(['10.0.1.100', '10.0.2.100']);
    const cpVip = peer1.find((r) => r.prefix === '10.0.0.8/32');
    expect(cpVip?.nexthops.sort()).toEqual(['10.0.1.10', '10.0.1.11', '10.0.2.10']);
  });
  it('floating-IP sessions are separate sessions sourced from the floating IPs', async () => {
    const sessions = await lab().node('lb1').sessions();
    expect(sessions.map((s) => [s.peer, s.local, s.state])).toEqual([
      ['10.8.0.10', '10.0.1.100', 'Established'],
      ['10.8.0.11', '10.0.1.100', 'Established'],
    ]);
  });
});
