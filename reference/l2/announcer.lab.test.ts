// The announcer on real interfaces: a client and three nodes on one bridge (seed 003's rack0:
// client2 10.0.5.20, VIP 10.0.5.100, policy interfaces ^net0$), one announcer process per node
// namespace sharing a lease directory. Every VIP is also on each node's lo with arp_ignore=1,
// as a kube-proxy replacement does, so the kernel never answers ARP for it: only the announcer
// does, and the node it draws traffic to answers pings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceName } from '../../conformance/lab/backends/netns.ts';
import { readCapturedFrames, startCapture, type Capture, type CapturedFrame } from '../../conformance/lab/capture.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { emptyNode, type LabNode, type LabTopology } from '../../conformance/lab/model.ts';
import { nsExecChecked, spawnInNamespace, type CommandError, type NamespaceProcess } from '../../conformance/lab/netns.ts';
import { eventually, JsonLines, typescriptCommand } from '../../conformance/lab/process-output.ts';
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseMac } from './addresses.ts';
import { failoverFromCapture } from './failover.ts';
import { ARP_REPLY, ARP_REQUEST, decodeArp, decodeNeighborAdvertisement } from './frames.ts';

const VIP4 = '10.0.5.100';
const VIP6 = 'fd00:5::100';
const CLIENT_MAC = '02:00:00:00:00:20';
const nodeMac = (n: number) => `02:00:00:00:00:1${n}`;
const LEASE = 'cilium-l2announce-default-nginx';

interface Node {
  name: string;
  ns: string;
  mac: string;
  process?: NamespaceProcess;
  events?: JsonLines;
}

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-l2-'));
let lab: Lab;
let client: string;
let probe: string;
const nodes: Node[] = [];
let clientCapture: Capture;
let leaderNow: Node;

/** The first node among `candidates` to report a takeover after the events already seen. */
function nextLeader(candidates: Node[]): Promise<Node> {
  const seen = new Map(candidates.map((n) => [n, n.events!.records.length]));
  return Promise.race(candidates.map((n) => n.events!.waitFor((r) => r.event === 'leader', 15_000, seen.get(n)).then(() => n)));
}

function startAnnouncer(node: Node): void {
  node.process = spawnInNamespace(
    lab.ledger,
    node.ns,
    typescriptCommand(new URL('./main.ts', import.meta.url), [
      '--identity', node.name,
      '--lease-dir', join(lab.runDir, 'leases'),
      '--interface', '^net0$',
      '--service', `${LEASE}=${VIP4},${VIP6}`,
    ]),
    { label: 'announcer', node: node.name, logFile: join(lab.nodeDir(node.name), 'announcer.log'), pipeStdout: true },
  );
  node.events = new JsonLines(node.process.child.stdout!);
}

/** Unicast replies arping printed, as MAC addresses. */
async function arpingReplies(ns: string, ifname: string, count: number): Promise<string[]> {
  let output: string;
  try {
    output = await nsExecChecked(ns, ['arping', '-c', String(count), '-w', String(count + 1), '-I', ifname, VIP4]);
  } catch (err) {
    output = (err as CommandError).result?.stdout ?? ''; // exit 1: no reply
  }
  return [...output.matchAll(/reply from \S+ \[([0-9a-fA-F:]+)\]/g)].map((m) => m[1].toLowerCase());
}

async function neighbourMac(family: '-4' | '-6', address: string): Promise<string | null> {
  const line = await nsExecChecked(client, ['ip', family, 'neigh', 'show', address, 'dev', 'net0']);
  return /lladdr (\S+)/.exec(line)?.[1] ?? null;
}

async function ping(family: '-4' | '-6', address: string): Promise<boolean> {
  try {
    await nsExecChecked(client, ['ping', family, '-c', '1', '-W', '2', address]);
    return true;
  } catch {
    return false;
  }
}

/** A host on the bridge: its net0 with a fixed MAC and IPv4 + IPv6 (no DAD) addresses. */
function bridgedHost(name: string, mac: string, ipv4: string, ipv6: string): LabNode {
  const host = emptyNode(name, 'host');
  host.interfaces = { net0: [ipv4] };
  host.exec = [`ip link set net0 address ${mac}`, `ip addr add ${ipv6} dev net0 nodad`];
  return host;
}

function topology(): LabTopology {
  const sw = emptyNode('sw', 'bridge');
  const clientNode = bridgedHost('client', CLIENT_MAC, '10.0.5.20/24', 'fd00:5::20/64');
  const nodeSpecs = [1, 2, 3].map((n) => {
    const node = bridgedHost(`node${n}`, nodeMac(n), `10.0.5.1${n}/24`, `fd00:5::1${n}/64`);
    node.loopback = [`${VIP4}/32`, `${VIP6}/128`];
    node.sysctls = { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' };
    return node;
  });
  // node1's second interface does not match ^net0$: a probe there must get no answer.
  nodeSpecs[0].interfaces.eth1 = ['10.0.5.201/24'];
  const probeNode = emptyNode('probe', 'host');
  probeNode.interfaces = { net0: ['10.0.5.202/24'] };
  return {
    name: 'l2-announcer',
    nodes: [sw, clientNode, ...nodeSpecs, probeNode],
    links: [
      { a: { node: 'client', ifname: 'net0' }, b: { node: 'sw', ifname: 'p-client' } },
      ...[1, 2, 3].map((n) => ({ a: { node: `node${n}`, ifname: 'net0' }, b: { node: 'sw', ifname: `p-node${n}` } })),
      { a: { node: 'node1', ifname: 'eth1' }, b: { node: 'probe', ifname: 'net0' } },
    ],
  };
}

beforeAll(async () => {
  lab = await startLab(topology(), { runsRoot });
  client = namespaceName(lab.runId, 'client');
  probe = namespaceName(lab.runId, 'probe');
  for (const n of [1, 2, 3]) nodes.push({ name: `node${n}`, ns: namespaceName(lab.runId, `node${n}`), mac: nodeMac(n) });
  clientCapture = await startCapture(lab.backend, lab.runDir, 'client', 'net0', lab.nodeDir('client'), ['arp', 'or', 'icmp', 'or', 'icmp6']);

  startAnnouncer(nodes[0]);
  await nodes[0].events!.waitFor((r) => r.event === 'leader');
  leaderNow = nodes[0];
  for (const node of nodes.slice(1)) startAnnouncer(node);
  await Promise.all(nodes.slice(1).map((node) => node.events!.waitFor((r) => r.event === 'follower' && r.holder === 'node1')));
});

afterAll(async () => {
  await lab?.stop();
  rmSync(runsRoot, { recursive: true, force: true });
});

describe('L2 announcer on a bridge with three nodes', () => {
  it('opens only the interfaces the policy matches', async () => {
    const ready = await nodes[0].events!.waitFor((r) => r.event === 'ready');
    expect(ready.interfaces).toEqual(['net0']);
    expect(nodes.flatMap((n) => n.events!.records).filter((r) => r.event === 'warning' || r.event === 'error')).toEqual([]);
  });

  it('answers ARP for the VIP from the lease holder only', async () => {
    expect(new Set(await arpingReplies(client, 'net0', 3))).toEqual(new Set([nodes[0].mac]));
    expect(await ping('-4', VIP4)).toBe(true);
    expect(await neighbourMac('-4', VIP4)).toBe(nodes[0].mac);
  });

  it('answers neighbour solicitations for the IPv6 VIP from the lease holder only', async () => {
    expect(await ping('-6', VIP6)).toBe(true);
    expect(await neighbourMac('-6', VIP6)).toBe(nodes[0].mac);
  });

  it('does not answer on an interface the policy does not match', async () => {
    expect(await arpingReplies(probe, 'net0', 2)).toEqual([]);
  });

  it('stops answering when it loses the lease, and the new holder announces itself', async () => {
    const node1 = nodes[0];
    const takeover = nextLeader(nodes.slice(1));
    const announcerPid = Number((await node1.events!.waitFor((r) => r.event === 'ready')).pid);
    process.kill(announcerPid, 'SIGSTOP'); // alive but silent: its lease runs out
    let holder: Node;
    try {
      holder = await takeover;
    } finally {
      process.kill(announcerPid, 'SIGCONT');
    }
    await node1.events!.waitFor((r) => r.event === 'lost' || (r.event === 'follower' && r.holder === holder.name));
    await holder.events!.waitFor((r) => r.event === 'announced' && r.round === 2);
    expect(new Set(await arpingReplies(client, 'net0', 3))).toEqual(new Set([holder.mac]));
    expect(await neighbourMac('-4', VIP4)).toBe(holder.mac); // switched by the gratuitous ARP alone
    expect(await neighbourMac('-6', VIP6)).toBe(holder.mac); // and by the unsolicited NA
    leaderNow = holder;
  });

  it('survives its link going down: the announcer restarts, another node takes over meanwhile', async () => {
    const flapped = leaderNow;
    const others = nodes.filter((n) => n !== flapped);
    const seen = flapped.events!.records.length;
    const takeover = nextLeader(others);
    await nsExecChecked(flapped.ns, ['ip', 'link', 'set', 'net0', 'down']); // libpcap's binding aborts the process here
    const restart = await flapped.events!.waitFor((r) => r.event === 'restart', 15_000, seen);
    expect(restart.reason).toMatch(/SIGABRT|exited/);
    const holder = await takeover;
    await nsExecChecked(flapped.ns, ['ip', 'link', 'set', 'net0', 'up']);
    await flapped.events!.waitFor((r) => r.event === 'ready', 20_000, seen);
    await flapped.events!.waitFor((r) => r.event === 'follower' && r.holder === holder.name, 15_000, seen);
    await holder.events!.waitFor((r) => r.event === 'announced' && r.round === 2);
    expect(new Set(await arpingReplies(client, 'net0', 2))).toEqual(new Set([holder.mac]));
    leaderNow = holder;
  });

  it('fails over when the holder dies, and client traffic resumes', async () => {
    const old = leaderNow;
    const pinger = spawnInNamespace(lab.ledger, client, ['ping', '-i', '0.05', '-W', '1', VIP4], {
      label: 'ping',
      node: 'client',
      logFile: join(lab.nodeDir('client'), 'ping.log'),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The node dies: its announcer (the supervisor, and with it the announcer) is killed outright
    // and its link goes down.
    const takeover = nextLeader(nodes.filter((n) => n !== old));
    old.process!.child.kill('SIGKILL');
    await nsExecChecked(old.ns, ['ip', 'link', 'set', 'net0', 'down']);
    const successor = await takeover;
    const isEchoReply = (f: CapturedFrame) => f.frame[12] === 0x08 && f.frame[13] === 0x00 && f.frame[23] === 1 && f.frame[34] === 0;
    // tcpdump may lag behind the wire on a loaded machine: read until the capture shows it all.
    const { failover, frames } = await eventually(() => {
      const frames = readCapturedFrames(clientCapture.file);
      const failover = failoverFromCapture(frames, parseMac(old.mac), parseMac(successor.mac), parseIpv4(VIP4));
      const resumed = failover && frames.filter((f) => f.ts > failover.firstAnnouncement && isEchoReply(f)).length > 5;
      return resumed ? { failover, frames } : null;
    }, 'the takeover and resumed echo replies in the client capture');
    await pinger.stop();
    await clientCapture.stop();
    console.log(`failover (last frame of ${old.name} -> first gratuitous ARP of ${successor.name}): ${failover.milliseconds.toFixed(0)} ms`);
    expect(failover.milliseconds).toBeGreaterThan(0);

    // Echo replies resumed from the successor's MAC after its announcement.
    const repliesAfter = frames.filter((f) => f.ts > failover.firstAnnouncement && isEchoReply(f));
    expect(repliesAfter.length).toBeGreaterThan(5);
    expect(new Set(repliesAfter.map((f) => formatMac(f.frame.subarray(6, 12))))).toEqual(new Set([successor.mac]));
  });

  it('never had two nodes answer the same ARP request, over the whole run (client capture)', () => {
    const answersPerRequest: Array<Set<string>> = [];
    for (const { frame } of readCapturedFrames(clientCapture.file)) {
      const arp = decodeArp(frame);
      if (!arp || formatIpv4(arp.targetIp) !== VIP4 && formatIpv4(arp.senderIp) !== VIP4) continue;
      if (arp.op === ARP_REQUEST && formatMac(arp.senderMac) === CLIENT_MAC) answersPerRequest.push(new Set());
      if (arp.op === ARP_REPLY && answersPerRequest.length > 0) answersPerRequest.at(-1)!.add(formatMac(arp.senderMac));
    }
    expect(answersPerRequest.length).toBeGreaterThanOrEqual(6);
    expect(answersPerRequest.filter((macs) => macs.size === 1).length).toBeGreaterThanOrEqual(6);
    for (const macs of answersPerRequest) expect(macs.size).toBeLessThanOrEqual(1);
    const advertisers = readCapturedFrames(clientCapture.file)
      .map((f) => decodeNeighborAdvertisement(f.frame))
      .filter((na) => na !== null && formatIpv6(na.target) === VIP6)
      .map((na) => formatMac(na!.targetLinkAddress!));
    expect(advertisers.length).toBeGreaterThan(0);
    for (const mac of advertisers) expect(nodes.map((n) => n.mac)).toContain(mac);
  });
});
