// Direct server return, both ways this kernel supports, in the shape of seed 003: client2
// (10.0.5.20) behind a router, a VIP from the seed's BGP pool 20.0.10.0/24 routed by the router
// to a load-balancer node (as BGP would have it), which forwards to a backend node; the backend
// answers straight to the router over a return link that bypasses the load-balancer node.
//
//   client --(10.0.5.0/24)-- router --(10.0.20.0/24)-- lb --(10.0.40.0/24)-- backend
//                              |                                                |
//                              +------------------(10.0.30.0/24, bypass)--------+
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceName } from '../../conformance/lab/backends/netns.ts';
import { readCapturedFrames, startCapture, type Capture, type CapturedFrame } from '../../conformance/lab/capture.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { emptyNode, type LabNode, type LabTopology, type StaticRoute } from '../../conformance/lab/model.ts';
import { nsExecChecked, spawnInNamespace, type CommandError, type NamespaceProcess } from '../../conformance/lab/netns.ts';
import { eventually } from '../../conformance/lab/process-output.ts';
import { renderRewriteBackend, renderRewriteLoadBalancer } from './address-rewrite.ts';
import { renderDirectRoutingBackend, renderDirectRoutingLoadBalancer } from './direct-routing.ts';
import { DatapathProgrammer, type AppliedDsr, type Step } from './programmer.ts';

const VIP = '20.0.10.100';
const CLIENT = '10.0.5.20';
const BACKEND = '10.0.40.2';
const runsRoot = mkdtempSync(join(tmpdir(), 'pp-dsr-'));
let lab: Lab;
let client: string;
let lb: string;
let backend: string;
let server: NamespaceProcess;

interface TcpSegment {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

function tcpSegments(frames: CapturedFrame[]): TcpSegment[] {
  const segments: TcpSegment[] = [];
  for (const { frame } of frames) {
    if (frame.length < 54 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 6) continue;
    const tcp = 14 + (frame[14] & 0x0f) * 4;
    segments.push({
      src: Array.from(frame.subarray(26, 30)).join('.'),
      dst: Array.from(frame.subarray(30, 34)).join('.'),
      sport: (frame[tcp] << 8) | frame[tcp + 1],
      dport: (frame[tcp + 2] << 8) | frame[tcp + 3],
      flags: frame[tcp + 13],
    });
  }
  return segments;
}

/** What `remove` must restore: addresses, rules, routes of every table, nftables, and the touched sysctls. */
async function networkState(ns: string, interfaceSysctls: string[] = []): Promise<string> {
  const outputs = await Promise.all([
    nsExecChecked(ns, ['ip', '-4', 'addr', 'show']),
    nsExecChecked(ns, ['ip', 'rule', 'show']),
    nsExecChecked(ns, ['ip', 'route', 'show', 'table', 'all']),
    nsExecChecked(ns, ['nft', 'list', 'ruleset']),
    nsExecChecked(ns, ['sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.all.rp_filter', ...interfaceSysctls]),
  ]);
  return outputs.join('\n');
}

const backendState = () => networkState(backend, ['net.ipv4.conf.eth0.rp_filter']);

async function curl(maxSeconds = 5): Promise<{ ok: boolean; body: string }> {
  try {
    return { ok: true, body: await nsExecChecked(client, ['curl', '-sS', '--max-time', String(maxSeconds), `http://${VIP}/`]) };
  } catch (err) {
    return { ok: false, body: (err as CommandError).result?.stderr ?? String(err) };
  }
}

function host(name: string, interfaces: Record<string, string[]>, routes: StaticRoute[], sysctls: Record<string, string> = {}): LabNode {
  return { ...emptyNode(name, 'host'), interfaces, routes, sysctls };
}

function topology(): LabTopology {
  const link = (a: string, aIf: string, b: string, bIf: string) => ({ a: { node: a, ifname: aIf }, b: { node: b, ifname: bIf } });
  return {
    name: 'dsr',
    nodes: [
      host('client', { eth0: [`${CLIENT}/24`] }, [{ to: 'default', via: '10.0.5.1' }]),
      // What BGP would have told the router: the VIP and the backend subnet are behind the lb node.
      host('router', { c0: ['10.0.5.1/24'], lb0: ['10.0.20.1/24'], ret0: ['10.0.30.1/24'] }, [
        { to: `${VIP}/32`, via: '10.0.20.10' },
        { to: '10.0.40.0/24', via: '10.0.20.10' },
      ], { 'net.ipv4.ip_forward': '1' }),
      host('lb', { up0: ['10.0.20.10/24'], be0: ['10.0.40.1/24'] }, [{ to: 'default', via: '10.0.20.1' }]),
      // Everything else goes back by the lb node.
      host('backend', { eth0: ['10.0.40.2/24'], ret0: ['10.0.30.2/24'] }, [{ to: 'default', via: '10.0.40.1' }]),
    ],
    links: [link('client', 'eth0', 'router', 'c0'), link('router', 'lb0', 'lb', 'up0'), link('lb', 'be0', 'backend', 'eth0'), link('router', 'ret0', 'backend', 'ret0')],
  };
}

/** tcpdump of TCP on node:ifname; each capture logs in its own folder so its start is told apart. */
async function captureTcp(node: string, ifname: string, run: string): Promise<Capture> {
  const logDir = join(lab.nodeDir(node), `captures-${run}`);
  mkdirSync(logDir, { recursive: true });
  return startCapture(lab.backend, lab.runDir, node, ifname, logDir, ['tcp']);
}

beforeAll(async () => {
  lab = await startLab(topology(), { runsRoot });
  [client, , lb, backend] = ['client', 'router', 'lb', 'backend'].map((node) => namespaceName(lab.runId, node));

  server = spawnInNamespace(
    lab.ledger,
    backend,
    [
      process.execPath,
      '-e',
      `require('node:http').createServer((q, s) => s.end('served by backend to ' + q.socket.remoteAddress + ' on ' + q.socket.localAddress + '\\n'))
       .listen(80, '0.0.0.0', () => console.log('listening'))`,
    ],
    { label: 'http', node: 'backend', logFile: join(lab.nodeDir('backend'), 'http.log'), pipeStdout: true },
  );
  await new Promise<void>((resolve, reject) => {
    server.child.stdout!.once('data', () => resolve());
    void server.exited.then((code) => reject(new Error(`HTTP server exited with ${code}`)));
  });
});

afterAll(async () => {
  await lab?.stop();
  rmSync(runsRoot, { recursive: true, force: true });
});

interface Mode {
  name: string;
  loadBalancer: () => Step[];
  backend: () => Step[];
  /** Where the client's packets are addressed on the lb -> backend link. */
  forwardedTo: string;
}

const RETURN_PATH = { vip: VIP, returnGateway: '10.0.30.1', returnInterface: 'ret0', table: 100, rulePriority: 1000 };
const MODES: Mode[] = [
  {
    name: 'direct routing (VIP on the backend lo, packets forwarded unchanged)',
    loadBalancer: () => renderDirectRoutingLoadBalancer({ vip: VIP, backends: [BACKEND] }),
    backend: () => renderDirectRoutingBackend({ ...RETURN_PATH, ingressInterfaces: ['eth0'] }),
    forwardedTo: VIP,
  },
  {
    name: 'stateless nftables rewrite (seed 003: client -> backend address in, VIP -> client out)',
    loadBalancer: () => renderRewriteLoadBalancer({ name: 'web', vip: VIP, ports: [80], backends: [BACKEND] }),
    backend: () => renderRewriteBackend({ ...RETURN_PATH, name: 'web', backendAddress: BACKEND, ports: [80], ingressInterfaces: ['eth0'] }),
    forwardedTo: BACKEND,
  },
];

describe.each(MODES.map((mode, index) => ({ ...mode, index })))('DSR datapath, $name', (mode) => {
  let lbApplied: AppliedDsr;
  let backendApplied: AppliedDsr;
  let stateBefore: { lb: string; backend: string };
  const lbProgrammer = () => new DatapathProgrammer(lb);
  const backendProgrammer = () => new DatapathProgrammer(backend);
  const bothStates = async () => ({ lb: await networkState(lb), backend: await backendState() });

  it('does not reach the VIP before the datapath is programmed', async () => {
    expect((await curl(2)).ok).toBe(false);
  });

  it('applies idempotently', async () => {
    stateBefore = await bothStates();
    lbApplied = lbProgrammer().apply(mode.loadBalancer());
    backendApplied = backendProgrammer().apply(mode.backend());
    const once = await bothStates();
    lbApplied = lbProgrammer().apply(mode.loadBalancer(), lbApplied);
    backendApplied = backendProgrammer().apply(mode.backend(), backendApplied);
    expect(await bothStates()).toEqual(once);
    expect((await nsExecChecked(backend, ['ip', 'rule', 'show'])).match(new RegExp(`from ${VIP.replaceAll('.', '\\.')} lookup 100`, 'g'))).toHaveLength(1);
  });

  it('carries a TCP exchange in through the lb node and back on the bypass link', async () => {
    const captures: Record<string, Capture> = {
      lbUplink: await captureTcp('lb', 'up0', String(mode.index)),
      lbToBackend: await captureTcp('lb', 'be0', String(mode.index)),
      bypass: await captureTcp('router', 'ret0', String(mode.index)),
    };
    const response = await curl();
    expect(response).toEqual({ ok: true, body: `served by backend to ${CLIENT} on ${mode.forwardedTo}\n` });

    const closed = (file: string, from: string) => () => (tcpSegments(readCapturedFrames(file)).some((s) => s.src === from && s.flags & FIN) ? true : null);
    await eventually(closed(captures.lbToBackend.file, CLIENT), 'the client FIN on the lb -> backend link');
    await eventually(closed(captures.bypass.file, VIP), 'the VIP FIN on the bypass link');
    for (const capture of Object.values(captures)) await capture.stop();
    const [uplink, toBackend, bypass] = [captures.lbUplink, captures.lbToBackend, captures.bypass].map((c) => tcpSegments(readCapturedFrames(c.file)));

    // Forward path: the client's own address reaches the backend through the lb node.
    for (const [segments, destination] of [[uplink, VIP], [toBackend, mode.forwardedTo]] as const) {
      const forward = segments.filter((s) => s.src === CLIENT && s.dst === destination && s.dport === 80);
      expect(forward.some((s) => s.flags === SYN)).toBe(true);
      expect(forward.length).toBeGreaterThanOrEqual(4);
    }
    // Return path: from the VIP straight to the client on the bypass link...
    const returned = bypass.filter((s) => s.src === VIP && s.dst === CLIENT && s.sport === 80);
    expect(returned.some((s) => s.flags === (SYN | ACK))).toBe(true);
    expect(returned.length).toBeGreaterThanOrEqual(3);
    // ...and no reply of any kind through the lb node.
    expect([...uplink, ...toBackend].filter((s) => s.sport === 80)).toEqual([]);
    expect(bypass.filter((s) => s.src !== VIP)).toEqual([]);
  });

  it('removes everything it added and nothing else', async () => {
    lbProgrammer().remove(lbApplied);
    backendProgrammer().remove(backendApplied);
    expect(await bothStates()).toEqual(stateBefore);
    expect((await curl(2)).ok).toBe(false);
    expect(server.child.exitCode).toBeNull(); // the server was never the thing that failed
  });
});
