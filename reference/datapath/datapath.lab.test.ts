// Direct server return, both ways this kernel supports, in the shape of seed 003: client2
// (10.0.5.20) behind a router, a VIP from the seed's BGP pool 20.0.10.0/24 routed by the router
// to a load-balancer node (as BGP would have it), which forwards to a backend node; the backend
// answers straight to the router over a return link that bypasses the load-balancer node.
//
//   client --(10.0.5.0/24)-- router --(10.0.20.0/24)-- lb --(10.0.40.0/24)-- backend
//                              |                                                |
//                              +------------------(10.0.30.0/24, bypass)--------+
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { eventually, readPcap, TestLab, type Capture, type CapturedFrame } from '../l2/test-lab.ts';
import { renderRewriteBackend, renderRewriteLoadBalancer } from './address-rewrite.ts';
import { renderDirectRoutingBackend, renderDirectRoutingLoadBalancer } from './direct-routing.ts';
import { DatapathProgrammer, type AppliedDsr, type Step } from './programmer.ts';

const VIP = '20.0.10.100';
const CLIENT = '10.0.5.20';
const BACKEND = '10.0.40.2';
const lab = new TestLab('dsr');
let client: string;
let router: string;
let lb: string;
let backend: string;
let server: ChildProcess;

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
function networkState(ns: string, interfaceSysctls: string[] = []): string {
  return [
    lab.exec(ns, ['ip', '-4', 'addr', 'show']),
    lab.exec(ns, ['ip', 'rule', 'show']),
    lab.exec(ns, ['ip', 'route', 'show', 'table', 'all']),
    lab.exec(ns, ['nft', 'list', 'ruleset']),
    lab.exec(ns, ['sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.all.rp_filter', ...interfaceSysctls]),
  ].join('\n');
}

const backendState = () => networkState(backend, ['net.ipv4.conf.eth0.rp_filter']);

function curl(maxSeconds = 5): { ok: boolean; body: string } {
  try {
    return { ok: true, body: lab.exec(client, ['curl', '-sS', '--max-time', String(maxSeconds), `http://${VIP}/`]) };
  } catch (err) {
    return { ok: false, body: String((err as { stderr?: string }).stderr ?? err) };
  }
}

beforeAll(async () => {
  client = lab.namespace('client');
  router = lab.namespace('router');
  lb = lab.namespace('lb');
  backend = lab.namespace('backend');
  lab.link({ ns: client, ifname: 'eth0', cidr: `${CLIENT}/24` }, { ns: router, ifname: 'c0', cidr: '10.0.5.1/24' });
  lab.link({ ns: router, ifname: 'lb0', cidr: '10.0.20.1/24' }, { ns: lb, ifname: 'up0', cidr: '10.0.20.10/24' });
  lab.link({ ns: lb, ifname: 'be0', cidr: '10.0.40.1/24' }, { ns: backend, ifname: 'eth0', cidr: '10.0.40.2/24' });
  lab.link({ ns: router, ifname: 'ret0', cidr: '10.0.30.1/24' }, { ns: backend, ifname: 'ret0', cidr: '10.0.30.2/24' });
  lab.exec(client, ['ip', 'route', 'add', 'default', 'via', '10.0.5.1']);
  lab.exec(router, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  // What BGP would have told the router: the VIP and the backend subnet are behind the lb node.
  lab.exec(router, ['ip', 'route', 'add', `${VIP}/32`, 'via', '10.0.20.10']);
  lab.exec(router, ['ip', 'route', 'add', '10.0.40.0/24', 'via', '10.0.20.10']);
  lab.exec(lb, ['ip', 'route', 'add', 'default', 'via', '10.0.20.1']);
  lab.exec(backend, ['ip', 'route', 'add', 'default', 'via', '10.0.40.1']); // everything else goes back by the lb node

  server = lab.spawn(backend, [
    process.execPath,
    '-e',
    `require('node:http').createServer((q, s) => s.end('served by backend to ' + q.socket.remoteAddress + ' on ' + q.socket.localAddress + '\\n'))
       .listen(80, '0.0.0.0', () => console.log('listening'))`,
  ]);
  await new Promise<void>((resolve, reject) => {
    server.stdout!.once('data', () => resolve());
    server.once('exit', (code) => reject(new Error(`HTTP server exited with ${code}`)));
  });
});

afterAll(async () => {
  await lab.cleanup();
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

describe.each(MODES)('DSR datapath, $name', (mode) => {
  let lbApplied: AppliedDsr;
  let backendApplied: AppliedDsr;
  let stateBefore: { lb: string; backend: string };
  const lbProgrammer = () => new DatapathProgrammer(lb);
  const backendProgrammer = () => new DatapathProgrammer(backend);
  const bothStates = () => ({ lb: networkState(lb), backend: backendState() });

  it('does not reach the VIP before the datapath is programmed', () => {
    expect(curl(2).ok).toBe(false);
  });

  it('applies idempotently', () => {
    stateBefore = bothStates();
    lbApplied = lbProgrammer().apply(mode.loadBalancer());
    backendApplied = backendProgrammer().apply(mode.backend());
    const once = bothStates();
    lbApplied = lbProgrammer().apply(mode.loadBalancer(), lbApplied);
    backendApplied = backendProgrammer().apply(mode.backend(), backendApplied);
    expect(bothStates()).toEqual(once);
    expect(lab.exec(backend, ['ip', 'rule', 'show']).match(new RegExp(`from ${VIP.replaceAll('.', '\\.')} lookup 100`, 'g'))).toHaveLength(1);
  });

  it('carries a TCP exchange in through the lb node and back on the bypass link', async () => {
    const captures: Record<string, Capture> = {
      lbUplink: await lab.capture(lb, 'up0', ['tcp']),
      lbToBackend: await lab.capture(lb, 'be0', ['tcp']),
      bypass: await lab.capture(router, 'ret0', ['tcp']),
    };
    const response = curl();
    expect(response).toEqual({ ok: true, body: `served by backend to ${CLIENT} on ${mode.forwardedTo}\n` });

    const closed = (file: string, from: string) => () => (tcpSegments(readPcap(file)).some((s) => s.src === from && s.flags & FIN) ? true : null);
    await eventually(closed(captures.lbToBackend.file, CLIENT), 'the client FIN on the lb -> backend link');
    await eventually(closed(captures.bypass.file, VIP), 'the VIP FIN on the bypass link');
    for (const capture of Object.values(captures)) await capture.stop();
    const [uplink, toBackend, bypass] = [captures.lbUplink, captures.lbToBackend, captures.bypass].map((c) => tcpSegments(readPcap(c.file)));

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

  it('removes everything it added and nothing else', () => {
    lbProgrammer().remove(lbApplied);
    backendProgrammer().remove(backendApplied);
    expect(bothStates()).toEqual(stateBefore);
    expect(curl(2).ok).toBe(false);
    expect(server.exitCode).toBeNull(); // the server was never the thing that failed
  });
});
