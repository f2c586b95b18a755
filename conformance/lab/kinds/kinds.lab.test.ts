import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab.ts';
import { emptyNode, type LabTopology } from '../model.ts';
import { namespaceName } from '../backends/netns.ts';
import { namespacePids } from '../netns.ts';
import { leftovers } from '../teardown.ts';
import { listPeers } from './gobgp-api.ts';
import { gobgpApiSocket } from './gobgp.ts';

// Every daemon kind as a transit router in one chain: FRR (from a given integrated frr.conf)
// -> BIRD -> GoBGP. Routes originated at both ends must cross every hop.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-kinds-'));
chmodSync(runsRoot, 0o755);

const frrConf = `frr defaults traditional
hostname given
!
ip route 198.51.100.0/24 blackhole
!
router bgp 65010
 bgp router-id 10.1.0.1
 no bgp ebgp-requires-policy
 timers bgp 1 3
 neighbor 10.1.0.2 remote-as 65020
 neighbor 10.1.0.2 timers connect 1
 address-family ipv4 unicast
  redistribute static
 exit-address-family
exit
`;

function chain(): LabTopology {
  const frr = emptyNode('frr1', 'frr');
  frr.asn = 65010;
  frr.interfaces = { eth1: ['10.1.0.1/24'] };
  frr.neighbors = [{ address: '10.1.0.2', asn: 65020 }];
  frr.frrConfig = join(runsRoot, 'frr.conf');
  frr.expectRoutes = ['203.0.113.0/24'];
  const bird = emptyNode('bird1', 'bird');
  bird.asn = 65020;
  bird.routerId = '10.1.0.2';
  bird.interfaces = { eth1: ['10.1.0.2/24'], eth2: ['10.2.0.2/24'] };
  bird.neighbors = [
    { address: '10.1.0.1', asn: 65010 },
    { address: '10.2.0.3', asn: 65030 },
  ];
  bird.expectRoutes = ['198.51.100.0/24', '203.0.113.0/24'];
  const gobgp = emptyNode('gobgp1', 'gobgp');
  gobgp.asn = 65030;
  gobgp.routerId = '10.2.0.3';
  gobgp.interfaces = { eth1: ['10.2.0.3/24'] };
  gobgp.neighbors = [{ address: '10.2.0.2', asn: 65020 }];
  gobgp.announce = ['203.0.113.0/24'];
  gobgp.expectRoutes = ['198.51.100.0/24'];
  return {
    name: 'chain',
    nodes: [frr, bird, gobgp],
    links: [
      { a: { node: 'frr1', ifname: 'eth1' }, b: { node: 'bird1', ifname: 'eth1' } },
      { a: { node: 'bird1', ifname: 'eth2' }, b: { node: 'gobgp1', ifname: 'eth1' } },
    ],
  };
}

describe('FRR, BIRD and GoBGP as routers', () => {
  let lab: Lab;
  beforeAll(async () => {
    writeFileSync(join(runsRoot, 'frr.conf'), frrConf);
    lab = await startLab(chain(), { runsRoot });
  });
  afterAll(async () => {
    await lab?.stop();
    rmSync(runsRoot, { recursive: true, force: true });
  });

  it('routes cross every hop: FRR static -> BIRD -> GoBGP, GoBGP origin -> BIRD -> FRR', async () => {
    const gobgpRib = await lab.node('gobgp1').rib();
    expect(gobgpRib.find((r) => r.prefix === '198.51.100.0/24')?.nexthops).toEqual(['10.2.0.2']);
    const frrFib = await lab.node('frr1').fib();
    expect(frrFib.find((r) => r.prefix === '203.0.113.0/24')?.nexthops).toEqual(['10.1.0.2']);
    const birdRib = await lab.node('bird1').rib();
    expect(birdRib.find((r) => r.prefix === '203.0.113.0/24')?.nexthops).toEqual(['10.2.0.3']);
  });

  it('each kind reports its sessions as Established with the peer ASN', async () => {
    const sessions = await lab.sessions();
    expect(sessions.map((s) => `${s.node}>${s.peer}:${s.peerAsn}:${s.state}`).sort()).toEqual([
      'bird1>10.1.0.1:65010:Established',
      'bird1>10.2.0.3:65030:Established',
      'frr1>10.1.0.2:65020:Established',
      'gobgp1>10.2.0.2:65020:Established',
    ]);
  });

  it('GoBGP over its API socket (what the harness reads) says what the gobgp CLI in the node says', async () => {
    const socket = gobgpApiSocket(lab.ledger.nodeDir('gobgp1'));
    expect(socket).not.toBeNull();
    const viaApi = await listPeers(socket!);
    const cli = await lab.node('gobgp1').exec(['gobgp', '-u', '127.0.0.1', '-p', '50051', 'neighbor', '-j']);
    const rows = JSON.parse(cli.stdout) as Array<{ conf: { neighbor_address: string; peer_asn: number }; state: { session_state: number } }>;
    expect(viaApi).toEqual(rows.map((r) => ({ address: r.conf.neighbor_address, asn: r.conf.peer_asn, state: r.state.session_state })));
    expect(viaApi).toEqual([{ address: '10.2.0.2', asn: 65020, state: 6 }]);
    // The prefix the harness originated through AddPath is in GoBGP's RIB as our own (next hop 0.0.0.0).
    const rib = await lab.node('gobgp1').exec(['gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib', '-a', 'ipv4', '203.0.113.0/24', '-j']);
    expect(rib.stdout).toContain('"nexthop":"0.0.0.0"');
  });

  it('the given frr.conf is used as is (its hostname and static route)', async () => {
    const r = await lab.node('frr1').exec(['vtysh', '--vty_socket', lab.nodeDir('frr1'), '-c', 'show running-config']);
    expect(r.stdout).toContain('hostname given');
    expect(r.stdout).toContain('ip route 198.51.100.0/24 blackhole');
  });

  it('stops to nothing', async () => {
    await lab.stop();
    expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});

describe('speaker hook', () => {
  it('replaces the stand-in: readiness is judged from the peer side, the hook process is torn down', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pp-hook-'));
    chmodSync(root, 0o755);
    const fixture = new URL('../../../fixtures/seed-000-cilium-two-subnets/', import.meta.url).pathname;
    let hookedPid = 0;
    const lab = await startLab(fixture, {
      runsRoot: root,
      speakers: {
        // A third-party speaker plugged in by hand: gobgpd with its own config, not BIRD.
        node1: async ({ backend, node, dir }) => {
          writeFileSync(
            join(dir, 'speaker.toml'),
            `[global.config]\n  as = ${node.asn}\n  router-id = "${node.routerId}"\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.0.1.2"\n    peer-as = 65100\n  [neighbors.timers.config]\n    connect-retry = 1\n`,
          );
          const proc = await backend.spawn(node.name, ['gobgpd', '-f', join(dir, 'speaker.toml'), '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], {
            label: 'speaker-under-test',
            logFile: join(dir, 'speaker.log'),
          });
          hookedPid = proc.pid;
          return [proc];
        },
      },
      wait: false,
    });
    try {
      await lab.waitForSessions();
      expect(lab.expectedSessions().some((e) => e.node === 'node1')).toBe(false);
      const router = await lab.node('router').sessions();
      expect(router.find((s) => s.peer === '10.0.1.10')?.state).toBe('Established');
      const ps = await lab.node('node1').exec(['cat', `/proc/${hookedPid}/comm`]);
      expect(ps.stdout.trim()).toBe('gobgpd');
    } finally {
      await lab.stop();
    }
    const left = leftovers(lab.runDir);
    rmSync(root, { recursive: true, force: true });
    expect(left).toEqual({ namespaces: [], pids: [] });
  });
});

describe('OpenBGPD against FRR', () => {
  // OpenBGPD denies every UPDATE unless a filter allows it and (portable, Linux) never programs the
  // kernel: the rendered allow rules must make routes flow, and its side is judged on its RIB.
  function pair(): LabTopology {
    const frr = emptyNode('frr1', 'frr');
    frr.asn = 65010;
    frr.routerId = '10.3.0.1';
    frr.interfaces = { eth1: ['10.3.0.1/24'] };
    frr.neighbors = [{ address: '10.3.0.2', asn: 65040 }];
    frr.announce = ['198.51.100.0/24'];
    frr.expectRoutes = ['203.0.113.0/24'];
    const obgp = emptyNode('obgp1', 'openbgpd');
    obgp.asn = 65040;
    obgp.routerId = '10.3.0.2';
    obgp.interfaces = { eth1: ['10.3.0.2/24'] };
    obgp.neighbors = [{ address: '10.3.0.1', asn: 65010 }];
    obgp.announce = ['203.0.113.0/24'];
    obgp.expectRoutes = ['198.51.100.0/24'];
    return { name: 'openbgpd-frr', nodes: [frr, obgp], links: [{ a: { node: 'frr1', ifname: 'eth1' }, b: { node: 'obgp1', ifname: 'eth1' } }] };
  }

  it('the session is Established both ways and a route crosses each way; nothing is left after stop', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pp-openbgpd-'));
    chmodSync(root, 0o755);
    const lab = await startLab(pair(), { runsRoot: root });
    try {
      const sessions = await lab.sessions();
      expect(sessions.map((s) => `${s.node}>${s.peer}:${s.peerAsn}:${s.state}`).sort()).toEqual([
        'frr1>10.3.0.2:65040:Established',
        'obgp1>10.3.0.1:65010:Established',
      ]);
      // FRR's route in OpenBGPD's RIB (its own network too, next hop 0.0.0.0), OpenBGPD's in FRR's kernel.
      const rib = await lab.node('obgp1').rib();
      expect(rib.find((r) => r.prefix === '198.51.100.0/24')?.nexthops).toEqual(['10.3.0.1']);
      expect(rib.find((r) => r.prefix === '203.0.113.0/24')?.nexthops).toEqual(['0.0.0.0']);
      expect((await lab.node('frr1').fib()).find((r) => r.prefix === '203.0.113.0/24')?.nexthops).toEqual(['10.3.0.2']);
      // Portable OpenBGPD installs nothing in the kernel on Linux.
      expect((await lab.node('obgp1').fib()).some((r) => r.prefix === '198.51.100.0/24')).toBe(false);
      // Privilege separation: the parent forked its session engine and route decision engine.
      // (bgpd re-execs itself: -S session engine, -R route decision engine, -T RTR engine.)
      const argvs = namespacePids(namespaceName(lab.runId, 'obgp1')).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
      for (const flag of ['-S', '-R']) expect(argvs.some((a) => a.startsWith(`bgpd ${flag} `))).toBe(true);
    } finally {
      await lab.stop();
    }
    const left = leftovers(lab.runDir);
    rmSync(root, { recursive: true, force: true });
    expect(left).toEqual({ namespaces: [], pids: [] });
  });
});
