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
// GoBGP and BIRD both originate 198.51.100.0/24 to us, to FRR and to each other (BIRD from two
// static protocols), so every router holds several paths for it: the ADD-PATH case in both
// directions. GoBGP peers with BIRD directly because FRR's best path may be GoBGP's own (the older
// path wins), and then FRR gives GoBGP no second path to pass on to us.
// One bring-up serves every test.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../conformance/checks/captured.ts';
import type { BackendProcess } from '../../conformance/lab/backend.ts';
import { birdc as birdcOn } from '../../conformance/lab/kinds/bird.ts';
import { vtysh as vtyshOn } from '../../conformance/lab/kinds/frr.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { labLink, labNode, type LabNode, type LabTopology, type Neighbor } from '../../conformance/lab/model.ts';
import { isRoot } from '../../conformance/lab/netns.ts';
import { daemonProcesses, killDaemon, restartDaemon } from '../../conformance/lab/restart.ts';
import { startReferenceSpeaker } from '../../conformance/lab/speakers/reference.ts';
import { fetchStatus, type BgpSessionResource } from './status.ts';

const nodes = ['us', 'frr', 'gobgp', 'bird'] as const;
type NodeName = (typeof nodes)[number];
const v4: Record<NodeName, string> = { us: '10.10.0.1', frr: '10.10.0.2', gobgp: '10.10.0.3', bird: '10.10.0.4' };
const v6: Record<NodeName, string> = { us: 'fd00:10::1', frr: 'fd00:10::2', gobgp: 'fd00:10::3', bird: 'fd00:10::4' };
const SHARED = '198.51.100.0/24';

let lab: Lab;
let speaker: BackendProcess;
const socketPath = () => join(lab.ledger.nodeDir('us'), 'status.sock');

function topology(): LabTopology {
  const both: Neighbor['families'] = ['ipv4-unicast', 'ipv6-unicast'];
  const interfaces = (name: NodeName) => ({ eth0: [`${v4[name]}/24`, `${v6[name]}/64`] });
  const router = (name: Exclude<NodeName, 'us'>, kind: 'frr' | 'gobgp' | 'bird', asn: number, neighbors: Neighbor[], extra: Partial<LabNode> = {}) =>
    labNode(name, kind, { asn, routerId: v4[name], interfaces: interfaces(name), neighbors, ...extra });
  const us = labNode('us', 'host', { interfaces: interfaces('us') });
  const frr = router('frr', 'frr', 65001, [
    { address: v4.us, asn: 4200000001, passive: true, families: both, addPath: true },
    { address: v6.us, asn: 4200000001, families: both },
    { address: v4.gobgp, asn: 65002 },
    { address: v4.bird, asn: 65003 },
  ], { announce: ['2001:db8:1::/48'], multipath: true, gracefulRestart: { restartTime: 120, stalePathTime: 60 } });
  // GoBGP's IPv6 route needs an explicit next hop: originateAtGobgp adds it.
  const gobgp = router('gobgp', 'gobgp', 65002, [
    { address: v4.us, asn: 4200000001, families: both, addPath: true },
    { address: v4.frr, asn: 65001 },
    { address: v4.bird, asn: 65003 },
  ], { announce: [SHARED], gracefulRestart: { restartTime: 30 } });
  // Two paths of its own for the shared prefix (two static protocols): ADD-PATH from BIRD too.
  const bird = router('bird', 'bird', 65003, [
    { address: v4.us, asn: 4200000001, families: both, addPath: true, name: 'to_us' },
    { address: v4.frr, asn: 65001 },
    { address: v4.gobgp, asn: 65002 },
  ], { announce: [SHARED, '2001:db8:3::/48'], announcePaths: 2, gracefulRestart: { restartTime: 120 } });
  // One shared segment: a bridge node enslaving every link end on its side.
  return { name: 'speaker-interop', nodes: [labNode('sw', 'bridge'), us, frr, gobgp, bird], links: nodes.map((n) => labLink(n, 'eth0', 'sw', `p-${n}`)) };
}

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

async function sessions(): Promise<BgpSessionResource[]> {
  return ((await fetchStatus({ socket: socketPath() }, '/sessions?limit=100')) as { items: BgpSessionResource[] }).items;
}

async function session(name: string): Promise<BgpSessionResource> {
  return (await fetchStatus({ socket: socketPath() }, `/sessions/${name}?limit=100`)) as BgpSessionResource;
}

/** Polls `probe` (every 250 ms) until it returns a truthy value; throws with `what` and the last error. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const { value, met } = await pollUntil(() => probe().catch((err: Error) => err), (v) => !!v && !(v instanceof Error), timeoutMs, 250);
  if (!met) throw new Error(`timed out waiting for ${what}${value instanceof Error ? `: ${value.message}` : ''}`);
  return value as T;
}

async function vtysh(command: string): Promise<any> {
  const out = await vtyshOn(lab.kindContext(lab.spec('frr')), command);
  return command.endsWith('json') ? JSON.parse(out || '{}') : out;
}

async function gobgp(args: string[]): Promise<any> {
  const result = await lab.node('gobgp').exec(['gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
  if (result.code !== 0) throw new Error(`gobgp ${args.join(' ')}: ${(result.stderr || result.stdout).trim()}`);
  return args.includes('-j') ? JSON.parse(result.stdout || 'null') : result.stdout;
}

async function birdc(command: string): Promise<string> {
  return birdcOn(lab.kindContext(lab.spec('bird')), command);
}

/** FRR's paths for a prefix as [{peer, stale, pathId}]. */
async function frrPaths(prefix: string, afi = 'ipv4'): Promise<Array<{ peer: string; stale: boolean; as: string }>> {
  const json = await vtysh(`show bgp ${afi} unicast ${prefix} json`);
  return (json.paths ?? []).map((p: any) => ({ peer: p.peer?.peerId ?? '', stale: p.stale === true, as: p.aspath?.string ?? '' }));
}

async function startSpeaker(extra: string[] = []): Promise<void> {
  speaker = await startReferenceSpeaker(lab, 'us', speakerYaml(), { args: extra });
}

/** The GoBGP kind originates SHARED; the IPv6 route with its explicit next hop goes in by API. */
async function originateAtGobgp(): Promise<void> {
  await eventually('gobgpd API', async () => {
    await gobgp(['global', 'rib', '-a', 'ipv6', 'add', '2001:db8:2::/48', 'nexthop', v6.gobgp]);
    return true;
  }, 10_000);
}

const gobgpdPid = () => daemonProcesses(lab.ledger.entries(), 'gobgp')[0]!.pid;

const root = isRoot();

describe.skipIf(!root)('reference speaker interop with FRR, GoBGP and BIRD', () => {
  beforeAll(async () => {
    lab = await startLab(topology(), { wait: false });
    await originateAtGobgp();
    await startSpeaker();
    // Every router's sessions (a dead daemon or speaker is named at once), then ours.
    await lab.waitForSessions({ timeoutMs: 40_000 });
    await eventually('every session Established', async () => (await sessions()).every((s) => s.status.state === 'Established'), 40_000);
  });

  afterAll(async () => {
    await lab?.stop();
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
      if (name === 'gobgp') expect(routes.map((r) => r.asPath)).toEqual(expect.arrayContaining(['65002', '65002 65003']));
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
    const gobgpd = gobgpdPid();
    process.kill(gobgpd, 'SIGSTOP');
    try {
      await eventually('hold timer expiry', async () => {
        const s = await session('gobgp');
        return s.status.state !== 'Established' && s.status.lastError === 'hold timer expired';
      }, 20_000);
    } finally {
      process.kill(gobgpd, 'SIGCONT');
    }
    await eventually('session back', async () => (await session('gobgp')).status.state === 'Established', 30_000);
  });

  it('is dropped by the peer\'s hold timer while it is silent, and comes back', async () => {
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
    await killDaemon(lab, 'gobgp');
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
    await restartDaemon(lab, 'gobgp');
    await originateAtGobgp();
    const after = await eventually('GoBGP back with fresh routes', async () => {
      const s = await session('gobgp');
      const fresh = s.status.state === 'Established' && s.status.staleFamilies.length === 0;
      return fresh && s.status.receivedRoutes.some((r) => r.prefix === SHARED && r.asPath === '65002') && s;
    }, 30_000);
    expect(after.status.receivedRoutes.some((r) => r.prefix === '2001:db8:2::/48')).toBe(true);
  });

  it('restarts gracefully: peers keep our routes stale, then have them fresh, nothing lost', async () => {
    process.kill(speaker.pid, 'SIGUSR1');
    await speaker.exited;
    const staleAtFrr = await eventually('stale at FRR', async () => {
      const paths = (await frrPaths('203.0.113.10/32')).filter((p) => p.peer === v4.us);
      return paths.length === 1 && paths[0]!.stale && paths;
    }, 15_000);
    expect(staleAtFrr).toHaveLength(1);
    expect(await birdc('show route 203.0.113.10/32 protocol to_us')).toContain('203.0.113.10/32');
    await startSpeaker(['--restarting']);
    await eventually('sessions back', async () => (await sessions()).every((s) => s.status.state === 'Established'), 40_000);
    await eventually('fresh at FRR', async () => {
      const paths = (await frrPaths('203.0.113.10/32')).filter((p) => p.peer === v4.us);
      return paths.length === 1 && !paths[0]!.stale;
    }, 20_000);
    expect((await frrPaths('2001:db8:100::10/128', 'ipv6')).length).toBeGreaterThanOrEqual(1);
    expect(await birdc('show route 203.0.113.10/32 protocol to_us')).toContain('203.0.113.10/32');
  });
});
