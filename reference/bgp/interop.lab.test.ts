// Interop of the reference speaker with real FRR, GoBGP and BIRD, each in its own namespace on
// one shared segment (a bridge in a switch namespace):
//
//   us    10.10.0.1 fd00:10::1  AS 4200000001 (4-octet)   our speaker, `peerproof speaker` process
//   frr   10.10.0.2 fd00:10::2  AS 65001   two sessions with us: IPv4 (we connect), IPv6 (it connects)
//   gobgp 10.10.0.3 fd00:10::3  AS 65002
//   bird  10.10.0.4 fd00:10::4  AS 65003
// (BIRD cannot be made a 2-octet-only speaker towards a 4-octet AS: the AS_TRANS side is proven
// against FRR without capabilities in as2.lab.test.ts, and with a raw 2-octet client in
// speaker-errors.test.ts.)
//
// GoBGP and BIRD both originate 198.51.100.0/24 to us and to FRR (BIRD from two static
// protocols), so every router holds several paths for it: the ADD-PATH case in both directions.
// One bring-up serves every test.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, defaultRunsRoot } from '../../conformance/lab/ledger.ts';
import {
  createNamespace,
  createVeth,
  createBridge,
  assertNoneExited,
  ProcessExitedError,
  deleteNamespace,
  isRoot,
  runChecked,
  spawnInNamespace,
  type NamespaceProcess,
} from '../../conformance/lab/netns.ts';
import { ensureDir, frrOwner, waitForFile, writeConfig } from '../../conformance/lab/kinds/files.ts';
import { fetchStatus, type BgpSessionResource } from './status.ts';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const runId = `sp${randomBytes(3).toString('hex')}`;
const ns = (node: string) => `pp-${runId}-${node}`;
const nodes = ['us', 'frr', 'gobgp', 'bird'] as const;
type NodeName = (typeof nodes)[number];
const v4: Record<NodeName, string> = { us: '10.10.0.1', frr: '10.10.0.2', gobgp: '10.10.0.3', bird: '10.10.0.4' };
const v6: Record<NodeName, string> = { us: 'fd00:10::1', frr: 'fd00:10::2', gobgp: 'fd00:10::3', bird: 'fd00:10::4' };
const SHARED = '198.51.100.0/24';

let ledger: Ledger;
const processes = new Map<string, NamespaceProcess>();
const dirOf = (node: string) => ledger.nodeDir(node);
const socketPath = () => join(dirOf('us'), 'status.sock');

function speakerYaml(): string {
  return `routerId: 10.10.0.1
localAs: 4200000001
listen: { address: "::", port: 179 }
holdTime: 9
connectRetry: 1
gracefulRestart: { enabled: true, restartTime: 30 }
status: { socket: ${socketPath()} }
peers:
  - { name: frr-v4, address: ${v4.frr}, asn: 65001, families: [ipv4-unicast, ipv6-unicast], addPath: both, nextHop6: ${v6.us} }
  - { name: frr-v6, address: ${v6.frr}, asn: 65001, passive: true, families: [ipv4-unicast, ipv6-unicast], nextHop: ${v4.us} }
  - { name: gobgp, address: ${v4.gobgp}, asn: 65002, families: [ipv4-unicast, ipv6-unicast], addPath: both, nextHop6: ${v6.us} }
  - { name: bird, address: ${v4.bird}, asn: 65003, families: [ipv4-unicast, ipv6-unicast], addPath: both, nextHop6: ${v6.us} }
routes:
  - { prefix: 203.0.113.10/32, nextHop: 10.10.0.50, communities: ["65000:10"] }
  - 2001:db8:100::10/128
`;
}

function frrConf(): string {
  return `frr defaults traditional
hostname frr
log file ${join(dirOf('frr'), 'frr.log')}
router bgp 65001
 bgp router-id ${v4.frr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart stalepath-time 60
 bgp bestpath as-path multipath-relax
 timers bgp 1 3
 neighbor ${v4.us} remote-as 4200000001
 neighbor ${v4.us} passive
 neighbor ${v4.us} timers connect 1
 neighbor ${v4.us} advertisement-interval 0
 neighbor ${v6.us} remote-as 4200000001
 neighbor ${v6.us} timers connect 1
 neighbor ${v6.us} advertisement-interval 0
 neighbor ${v4.gobgp} remote-as 65002
 neighbor ${v4.gobgp} timers connect 1
 neighbor ${v4.bird} remote-as 65003
 neighbor ${v4.bird} timers connect 1
 address-family ipv4 unicast
  neighbor ${v4.us} addpath-tx-all-paths
  maximum-paths 8
 exit-address-family
 address-family ipv6 unicast
  neighbor ${v4.us} activate
  neighbor ${v6.us} activate
  network 2001:db8:1::/48
 exit-address-family
exit
`;
}

function gobgpToml(): string {
  const neighbor = (address: string, asn: number, addPath: boolean, families: string[]) => [
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${address}"`,
    `    peer-as = ${asn}`,
    '  [neighbors.timers.config]',
    '    connect-retry = 1',
    '    hold-time = 3',
    '    keepalive-interval = 1',
    '    minimum-advertisement-interval = 0',
    '    idle-hold-time-after-reset = 1',
    '  [neighbors.graceful-restart.config]',
    '    enabled = true',
    '    restart-time = 30',
    ...(addPath ? ['  [neighbors.add-paths.config]', '    receive = true', '    send-max = 8'] : []),
    ...families.flatMap((f) => [
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${f}"`,
      '    [neighbors.afi-safis.mp-graceful-restart.config]',
      '      enabled = true',
    ]),
  ];
  return [
    '[global.config]',
    '  as = 65002',
    `  router-id = "${v4.gobgp}"`,
    '  port = 179',
    ...neighbor(v4.us, 4200000001, true, ['ipv4-unicast', 'ipv6-unicast']),
    ...neighbor(v4.frr, 65001, false, ['ipv4-unicast']),
    '',
  ].join('\n');
}

function birdConf(): string {
  return `router id ${v4.bird};
log "${join(dirOf('bird'), 'bird.log')}" all;
protocol device {}
protocol static s4 { ipv4; route ${SHARED} blackhole; }
protocol static s4b { ipv4; route ${SHARED} via "eth0"; }
protocol static s6 { ipv6; route 2001:db8:3::/48 blackhole; }
template bgp peer_tpl { local ${v4.bird} as 65003; hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 5; graceful restart on; }
protocol bgp to_us from peer_tpl {
  neighbor ${v4.us} as 4200000001;
  ipv4 { import all; export all; add paths on; };
  ipv6 { import all; export all; add paths on; next hop address ${v6.bird}; };
}
protocol bgp to_frr from peer_tpl {
  neighbor ${v4.frr} as 65001;
  ipv4 { import all; export where proto = "s4"; };
}
`;
}

async function sessions(): Promise<BgpSessionResource[]> {
  return ((await fetchStatus({ socket: socketPath() }, '/sessions?limit=100')) as { items: BgpSessionResource[] }).items;
}

async function session(name: string): Promise<BgpSessionResource> {
  return (await fetchStatus({ socket: socketPath() }, `/sessions/${name}?limit=100`)) as BgpSessionResource;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = undefined;
    } catch (err) {
      if (err instanceof ProcessExitedError) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function vtysh(command: string): Promise<any> {
  const out = await runChecked(['ip', 'netns', 'exec', ns('frr'), 'vtysh', '--vty_socket', dirOf('frr'), '-c', command]);
  return command.endsWith('json') ? JSON.parse(out || '{}') : out;
}

async function gobgp(args: string[]): Promise<any> {
  const out = await runChecked(['ip', 'netns', 'exec', ns('gobgp'), 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
  return args.includes('-j') ? JSON.parse(out || 'null') : out;
}

async function birdc(command: string): Promise<string> {
  return runChecked(['ip', 'netns', 'exec', ns('bird'), 'birdc', '-s', join(dirOf('bird'), 'bird.ctl'), ...command.split(' ')]);
}

/** FRR's paths for a prefix as [{peer, stale, pathId}]. */
async function frrPaths(prefix: string, afi = 'ipv4'): Promise<Array<{ peer: string; stale: boolean; as: string }>> {
  const json = await vtysh(`show bgp ${afi} unicast ${prefix} json`);
  return (json.paths ?? []).map((p: any) => ({ peer: p.peer?.peerId ?? '', stale: p.stale === true, as: p.aspath?.string ?? '' }));
}

function startSpeaker(extra: string[] = []): void {
  const proc = spawnInNamespace(ledger, ns('us'), [process.execPath, join(repo, 'bin/peerproof.js'), 'speaker', '--config', join(dirOf('us'), 'speaker.yaml'), ...extra], {
    logFile: join(dirOf('us'), 'speaker.log'),
    label: 'speaker',
    node: 'us',
    cwd: repo,
  });
  processes.set('us', proc);
}

async function startFrr(): Promise<void> {
  const owner = frrOwner();
  ensureDir(dirOf('frr'), owner);
  writeConfig(dirOf('frr'), 'frr.conf', frrConf(), owner);
  const zserv = join(dirOf('frr'), 'zserv.api');
  const argv = (daemon: string) => [`/usr/lib/frr/${daemon}`, '-f', join(dirOf('frr'), 'frr.conf'), '-i', join(dirOf('frr'), `${daemon}.pid`), '-z', zserv, '--vty_socket', dirOf('frr'), '-P', '0', '-u', 'frr', '-g', 'frr'];
  processes.set('zebra', spawnInNamespace(ledger, ns('frr'), argv('zebra'), { logFile: join(dirOf('frr'), 'zebra.out'), label: 'zebra', node: 'frr' }));
  await waitForFile(zserv, 5000);
  processes.set('bgpd', spawnInNamespace(ledger, ns('frr'), argv('bgpd'), { logFile: join(dirOf('frr'), 'bgpd.out'), label: 'bgpd', node: 'frr' }));
}

async function startGobgp(): Promise<void> {
  ensureDir(dirOf('gobgp'));
  writeConfig(dirOf('gobgp'), 'gobgpd.toml', gobgpToml());
  const argv = ['gobgpd', '-f', join(dirOf('gobgp'), 'gobgpd.toml'), '-t', 'toml', '-l', 'info', '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'];
  processes.set('gobgpd', spawnInNamespace(ledger, ns('gobgp'), argv, { logFile: join(dirOf('gobgp'), 'gobgpd.log'), label: 'gobgpd', node: 'gobgp' }));
  await eventually('gobgpd API', async () => {
    await gobgp(['global', 'rib', 'add', SHARED, '-a', 'ipv4']);
    await gobgp(['global', 'rib', '-a', 'ipv6', 'add', '2001:db8:2::/48', 'nexthop', v6.gobgp]);
    return true;
  }, 10_000);
}

function startBird(): void {
  ensureDir(dirOf('bird'));
  writeConfig(dirOf('bird'), 'bird.conf', birdConf());
  const argv = ['bird', '-f', '-c', join(dirOf('bird'), 'bird.conf'), '-s', join(dirOf('bird'), 'bird.ctl'), '-P', join(dirOf('bird'), 'bird.pid')];
  processes.set('bird', spawnInNamespace(ledger, ns('bird'), argv, { logFile: join(dirOf('bird'), 'bird.out'), label: 'bird', node: 'bird' }));
}

const root = isRoot();

describe.skipIf(!root)('reference speaker interop with FRR, GoBGP and BIRD', () => {
  beforeAll(async () => {
    ledger = Ledger.create(defaultRunsRoot, runId, 'netns', 'speaker-interop');
    await createNamespace(ledger, ns('sw'));
    for (const node of nodes) {
      await createNamespace(ledger, ns(node));
      await createVeth(ledger, { ns: ns('sw'), node: 'sw', ifname: `p-${node}` }, { ns: ns(node), node, ifname: 'eth0' });
      await runChecked(['ip', '-n', ns(node), 'addr', 'add', `${v4[node]}/24`, 'dev', 'eth0']);
      await runChecked(['ip', '-n', ns(node), '-6', 'addr', 'add', `${v6[node]}/64`, 'dev', 'eth0', 'nodad']);
    }
    await createBridge(ns('sw'), 'br0', nodes.map((n) => `p-${n}`));
    ensureDir(dirOf('us'));
    writeFileSync(join(dirOf('us'), 'speaker.yaml'), speakerYaml());
    await startFrr();
    startBird();
    await startGobgp();
    startSpeaker();
    await eventually('every session Established', async () => {
      assertNoneExited([...processes.values()]);
      return (await sessions()).every((s) => s.status.state === 'Established');
    }, 40_000);
  });

  afterAll(async () => {
    for (const proc of [...processes.values()].reverse()) await proc.stop('SIGTERM', 3000).catch(() => undefined);
    for (const node of [...nodes, 'sw']) await deleteNamespace(ns(node)).catch(() => undefined);
    ledger?.collectState();
    ledger?.record({ t: 'down', at: new Date().toISOString() });
  });

  it('brings sessions up as initiator and as responder, over IPv4 and IPv6, with 4-octet AS on our side and 2-octet ASNs on theirs', async () => {
    const all = await sessions();
    const byName = Object.fromEntries(all.map((s) => [s.metadata.name, s]));
    expect(byName['frr-v4']!.status.connection).toBe('outbound');
    expect(byName['frr-v6']!.status.connection).toBe('inbound');
    expect(byName['frr-v6']!.spec.localIP).toBe(v6.us);
    for (const s of all) expect(s.status.negotiated!.families).toEqual(['1/1', '2/1']);
    expect(byName['frr-v4']!.status.negotiated!.fourOctetAs).toBe(true);
    expect(byName['gobgp']!.status.negotiated!.fourOctetAs).toBe(true);
    expect(byName['bird']!.status.negotiated!.fourOctetAs).toBe(true);
    const frrSummary = await vtysh('show bgp ipv4 unicast summary json');
    expect(frrSummary.peers[v4.us].state).toBe('Established');
    expect(frrSummary.peers[v6.us].state).toBe('Established');
    expect(await birdc('show protocols to_us')).toMatch(/Established/);
  });

  it('delivers IPv4 and IPv6 routes both ways, with the explicit next hop of the load-balancer node', async () => {
    const atFrr = await eventually('203.0.113.10/32 at FRR', async () => {
      const paths = (await frrPaths('203.0.113.10/32')).filter((p) => p.peer === v4.us || p.peer === v6.us);
      return paths.length >= 2 && paths;
    });
    expect(atFrr.every((p) => p.as === '4200000001')).toBe(true);
    const frrRoute = await vtysh('show bgp ipv4 unicast 203.0.113.10/32 json');
    const direct = frrRoute.paths.find((p: any) => p.peer?.peerId === v4.us);
    expect(direct.nexthops[0].ip).toBe('10.10.0.50');
    expect(direct.community?.string).toBe('65000:10');
    await eventually('IPv6 route at FRR', async () => (await frrPaths('2001:db8:100::10/128', 'ipv6')).length >= 1);
    const gobgpRib = await eventually('route at GoBGP', async () => {
      const rib = await gobgp(['global', 'rib', '203.0.113.10/32', '-a', 'ipv4', '-j']);
      return rib?.['203.0.113.10/32'] && rib;
    });
    expect(JSON.stringify(gobgpRib)).toContain('4200000001');
    const birdRoute = await eventually('route at BIRD', async () => {
      const out = await birdc('show route 203.0.113.10/32 all');
      return out.includes('203.0.113.10/32') && out;
    });
    expect(birdRoute).toMatch(/BGP\.as_path: 4200000001/);
    expect(await birdc('show route 2001:db8:100::10/128')).toContain('2001:db8:100::10/128');

    const us = await eventually('routes from every peer at us', async () => {
      const [frr, gob, bird] = await Promise.all([session('frr-v4'), session('gobgp'), session('bird')]);
      const has = (s: BgpSessionResource, prefix: string) => s.status.receivedRoutes.some((r) => r.prefix === prefix);
      return has(frr, '2001:db8:1::/48') && has(gob, SHARED) && has(gob, '2001:db8:2::/48') && has(bird, SHARED) && has(bird, '2001:db8:3::/48') && { gob, bird };
    });
    expect(us.bird.status.receivedRoutes.find((r) => r.prefix === SHARED)!.asPath).toBe('65003');
    expect(us.gob.status.receivedRoutes.find((r) => r.prefix === SHARED)).toMatchObject({ asPath: '65002', nextHop: v4.gobgp });
  });

  it('exchanges several ADD-PATH path ids for one prefix in both directions', async () => {
    const fromFrr = await eventually('two paths from FRR', async () => {
      const routes = (await session('frr-v4')).status.receivedRoutes.filter((r) => r.prefix === SHARED);
      return routes.length >= 2 && routes;
    });
    expect(new Set(fromFrr.map((r) => r.pathId)).size).toBe(fromFrr.length);
    expect(fromFrr.map((r) => r.asPath).sort()).toEqual(['65001 65002', '65001 65003']);
    // FRR gets our GoBGP-learned and BIRD-learned paths as two path ids on one session.
    const atFrr = await eventually('two of our paths at FRR', async () => {
      const ours = (await frrPaths(SHARED)).filter((p) => p.peer === v4.us);
      return ours.length >= 2 && ours;
    });
    expect(atFrr.map((p) => p.as).sort()).toEqual(expect.arrayContaining(['4200000001 65002', '4200000001 65003']));
    const toBird = await eventually('several of our paths at BIRD', async () => {
      const out = await birdc(`show route ${SHARED} protocol to_us`);
      const count = out.split('\n').filter((l) => /unicast|via/.test(l)).length;
      return count >= 2 && out;
    });
    expect(toBird).toContain(SHARED);
    const atGobgp = await eventually('several of our paths at GoBGP', async () => {
      const rib = await gobgp(['global', 'rib', SHARED, '-a', 'ipv4', '-j']);
      const ours = (rib?.[SHARED] ?? []).filter((p: unknown) => JSON.stringify(p).includes('4200000001'));
      return ours.length >= 2 && ours;
    });
    expect(atGobgp.length).toBeGreaterThanOrEqual(2);
    // And GoBGP and BIRD send us several paths for the prefix, each with its own path id.
    for (const name of ['gobgp', 'bird']) {
      const routes = await eventually(`several paths from ${name}`, async () => {
        const r = (await session(name)).status.receivedRoutes.filter((route) => route.prefix === SHARED);
        return r.length >= 2 && r;
      });
      expect(new Set(routes.map((r) => r.pathId)).size).toBe(routes.length);
    }
  });

  it('answers route refresh from FRR and BIRD, and the peers keep every route', async () => {
    const before = (await session('frr-v4')).status.routeRefreshesReceived;
    await vtysh(`clear bgp ipv4 unicast ${v4.us} soft in`);
    await eventually('ROUTE-REFRESH received', async () => (await session('frr-v4')).status.routeRefreshesReceived > before, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await frrPaths('203.0.113.10/32')).some((p) => p.peer === v4.us)).toBe(true);
    expect((await session('frr-v4')).status.state).toBe('Established');
    // (GoBGP keeps its Adj-RIB-In: its soft reset never sends a ROUTE-REFRESH, so it is not asked.)
    const birdBefore = (await session('bird')).status.routeRefreshesReceived;
    await birdc('reload in to_us');
    await eventually('ROUTE-REFRESH from BIRD', async () => (await session('bird')).status.routeRefreshesReceived > birdBefore, 10_000);
    expect(await birdc('show route 203.0.113.10/32 protocol to_us')).toContain('203.0.113.10/32');
  });

  it('passes withdrawals on, path by path', async () => {
    const direct = (routes: Array<{ prefix: string; asPath?: string }>) => routes.some((r) => r.prefix === SHARED && r.asPath === '65002');
    const oursViaGobgp = async () => (await frrPaths(SHARED)).some((p) => p.peer === v4.us && p.as === '4200000001 65002');
    expect(direct((await session('gobgp')).status.receivedRoutes)).toBe(true);
    expect(await oursViaGobgp()).toBe(true);
    await gobgp(['global', 'rib', 'del', SHARED, '-a', 'ipv4']);
    await eventually('withdrawn at us', async () => !direct((await session('gobgp')).status.receivedRoutes));
    await eventually('our GoBGP-learned path withdrawn at FRR', async () => !(await oursViaGobgp()));
    expect((await frrPaths(SHARED)).some((p) => p.peer === v4.us && p.as === '4200000001 65003')).toBe(true);
    await gobgp(['global', 'rib', 'add', SHARED, '-a', 'ipv4']);
    await eventually('re-announced', oursViaGobgp);
  });

  it('expires the hold timer of a silent peer with NOTIFICATION 4/0 and recovers', async () => {
    const gobgpd = processes.get('gobgpd')!;
    process.kill(gobgpd.pid, 'SIGSTOP');
    try {
      await eventually('hold timer expiry', async () => {
        const s = await session('gobgp');
        return s.status.state !== 'Established' && s.status.lastError === 'hold timer expired';
      }, 20_000);
    } finally {
      process.kill(gobgpd.pid, 'SIGCONT');
    }
    await eventually('session back', async () => (await session('gobgp')).status.state === 'Established', 30_000);
  });

  it('is dropped by the peer\'s hold timer while it is silent, and comes back', async () => {
    const speaker = processes.get('us')!;
    process.kill(speaker.pid, 'SIGSTOP');
    try {
      // Only FRR's hold timer (3 s) can end the session while we are frozen.
      await eventually('FRR drops the silent session', async () => {
        const summary = await vtysh('show bgp ipv4 unicast summary json');
        return summary.peers[v4.us].state !== 'Established';
      }, 20_000);
      const neighbor = await vtysh(`show bgp neighbors ${v4.us} json`);
      expect(JSON.stringify(neighbor[v4.us])).toMatch(/Hold Timer Expired/i);
    } finally {
      process.kill(speaker.pid, 'SIGCONT');
    }
    await eventually('sessions back', async () => (await sessions()).every((s) => s.status.state === 'Established'), 40_000);
  });

  it('helps a restarting peer: keeps its routes stale while it is gone, fresh once it is back', async () => {
    const gobgpd = processes.get('gobgpd')!;
    process.kill(gobgpd.pid, 'SIGKILL');
    await gobgpd.exited;
    const during = await eventually('GoBGP routes kept stale', async () => {
      const s = await session('gobgp');
      return s.status.state !== 'Established' && s.status.staleFamilies.length > 0 && s;
    }, 15_000);
    expect(during.status.staleFamilies.sort()).toEqual([1, 2]);
    expect(during.status.receivedRoutes.some((r) => r.prefix === SHARED && r.asPath === '65002')).toBe(true);
    expect(during.status.receivedRoutes.some((r) => r.prefix === '2001:db8:2::/48')).toBe(true);
    // Still advertised onwards while stale, and still there a while later (GoBGP's restart time is 30 s).
    expect((await frrPaths(SHARED)).some((p) => p.peer === v4.us && p.as === '4200000001 65002')).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await session('gobgp')).status.receivedRoutes.some((r) => r.prefix === SHARED && r.asPath === '65002')).toBe(true);
    await startGobgp();
    const after = await eventually('GoBGP back with fresh routes', async () => {
      const s = await session('gobgp');
      const fresh = s.status.state === 'Established' && s.status.staleFamilies.length === 0;
      return fresh && s.status.receivedRoutes.some((r) => r.prefix === SHARED && r.asPath === '65002') && s;
    }, 30_000);
    expect(after.status.receivedRoutes.some((r) => r.prefix === '2001:db8:2::/48')).toBe(true);
  });

  it('restarts gracefully: peers keep our routes stale, then have them fresh, nothing lost', async () => {
    const speaker = processes.get('us')!;
    process.kill(speaker.pid, 'SIGUSR1');
    await speaker.exited;
    const staleAtFrr = await eventually('stale at FRR', async () => {
      const paths = (await frrPaths('203.0.113.10/32')).filter((p) => p.peer === v4.us);
      return paths.length === 1 && paths[0]!.stale && paths;
    }, 15_000);
    expect(staleAtFrr).toHaveLength(1);
    expect(await birdc('show route 203.0.113.10/32 protocol to_us')).toContain('203.0.113.10/32');
    startSpeaker(['--restarting']);
    await eventually('sessions back', async () => (await sessions()).every((s) => s.status.state === 'Established'), 40_000);
    await eventually('fresh at FRR', async () => {
      const paths = (await frrPaths('203.0.113.10/32')).filter((p) => p.peer === v4.us);
      return paths.length === 1 && !paths[0]!.stale;
    }, 20_000);
    expect((await frrPaths('2001:db8:100::10/128', 'ipv6')).length).toBeGreaterThanOrEqual(1);
    expect(await birdc('show route 203.0.113.10/32 protocol to_us')).toContain('203.0.113.10/32');
  });
});
