// L2 failover time, measured on the wire: a client and two nodes on a bridge, the client pinging
// the VIP 20 times a second; the leader node dies (process killed, link down); the time from the
// last frame the old leader sent to the first gratuitous ARP of the new one, read from tcpdump
// on the client's link.
//
//   sudo npx tsx bench/l2.bench.ts [trials]
//
// ours:   reference/l2 announcers (libpcap, answers ARP for a VIP held nowhere, sends GARP/NA).
// Also printed: the new leader's acquireTime (from the lease) to its first gratuitous ARP, the
// takeover mechanism alone.
//
// anchor: the keepalived-style move (bench/l2-anchor-mover.ts): `ip addr add` + `arping -U` on
//         takeover. Both win the same kind of lease with the same timing, so they detect the
//         death identically; trials alternate so both see the same machine load.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaceName } from '../conformance/lab/backends/netns.ts';
import { readCapturedFrames, startCapture } from '../conformance/lab/capture.ts';
import { startLab, type Lab } from '../conformance/lab/lab.ts';
import { emptyNode, type LabTopology } from '../conformance/lab/model.ts';
import { nsExecChecked, spawnInNamespace } from '../conformance/lab/netns.ts';
import { eventually, JsonLines, typescriptCommand } from '../conformance/lab/process-output.ts';
import { parseIpv4, parseMac } from '../reference/l2/addresses.ts';
import { FAST_FAILOVER_TIMING } from '../reference/l2/election.ts';
import { failoverFromCapture } from '../reference/l2/failover.ts';
import { FileLeaseStore } from '../reference/l2/lease-store.ts';

const TRIALS = Number(process.argv[2] ?? 5);
const VIP = '10.0.5.100';
const TARGET_MS = 1000;
type Flavour = 'ours' | 'anchor';

const nodeMac = (n: number) => `02:00:00:00:00:1${n}`;
const runsRoot = mkdtempSync(join(tmpdir(), 'pp-l2bench-'));
let lab: Lab | undefined;

interface TrialResult {
  /** Last frame of the old leader to the first gratuitous ARP of the new one. */
  failoverMs: number;
  /** The new leader's acquireTime in the lease to its first gratuitous ARP: the takeover mechanism alone. */
  announceMs: number;
}

async function trial(lab: Lab, flavour: Flavour, index: number, client: string, nodes: string[]): Promise<TrialResult> {
  const trialDirectory = join(lab.runDir, `${flavour}-${index}`);
  const leaseDirectory = join(trialDirectory, 'leases');
  mkdirSync(trialDirectory, { recursive: true });
  const spawnIn = (node: string, label: string, argv: string[], pipeStdout = false) =>
    spawnInNamespace(lab.ledger, namespaceName(lab.runId, node), argv, { label, node, logFile: join(trialDirectory, `${node}-${label}.log`), pipeStdout });
  const start = (n: number) => {
    const argv =
      flavour === 'ours'
        ? typescriptCommand(new URL('../reference/l2/main.ts', import.meta.url), ['--identity', `node${n}`, '--lease-dir', leaseDirectory, '--interface', '^net0$', '--service', `bench=${VIP}`])
        : typescriptCommand(new URL('./l2-anchor-mover.ts', import.meta.url), [`node${n}`, leaseDirectory, 'net0', VIP]);
    const process = spawnIn(`node${n}`, flavour, argv, true);
    return { process, events: new JsonLines(process.child.stdout!) };
  };
  await nsExecChecked(client, ['ip', 'neigh', 'flush', 'dev', 'net0']);
  // Each trial's tcpdump logs in the trial's folder, so its start is not read from an earlier one's log.
  const capture = await startCapture(lab.backend, lab.runDir, 'client', 'net0', trialDirectory, ['arp', 'or', 'icmp']);
  const leader = start(1);
  await leader.events.waitFor((r) => r.event === 'leader');
  const follower = start(2);
  await follower.events.waitFor((r) => r.event === 'follower');
  const pinger = spawnIn('client', 'ping', ['ping', '-i', '0.05', '-W', '1', VIP]);
  await new Promise((resolve) => setTimeout(resolve, 700));

  leader.process.child.kill('SIGKILL');
  await nsExecChecked(nodes[0], ['ip', 'link', 'set', 'net0', 'down']);
  await follower.events.waitFor((r) => r.event === 'leader');
  const failover = await eventually(
    () => failoverFromCapture(readCapturedFrames(capture.file), parseMac(nodeMac(1)), parseMac(nodeMac(2)), parseIpv4(VIP)),
    `${flavour}: the takeover in the client capture`,
  );
  const lease = new FileLeaseStore(leaseDirectory).read(flavour === 'ours' ? 'bench' : 'bench-anchor')!.lease.spec;
  if (lease.holderIdentity !== 'node2') throw new Error(`${flavour}: node2 should hold the lease, ${lease.holderIdentity} does`);
  await Promise.all([pinger.stop(), follower.process.stop(), capture.stop()]);
  // Back to the starting point: node1 alive again, no VIP left on any interface.
  await nsExecChecked(nodes[0], ['ip', 'link', 'set', 'net0', 'up']);
  for (const ns of nodes) await nsExecChecked(ns, ['ip', 'addr', 'flush', 'dev', 'net0', 'to', `${VIP}/32`]);
  return { failoverMs: failover.milliseconds, announceMs: failover.firstAnnouncement * 1000 - Date.parse(lease.acquireTime!) };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1)! };
}

/** A client and two nodes on the bridge `sw`. */
function topology(): LabTopology {
  const sw = emptyNode('sw', 'bridge');
  const client = emptyNode('client', 'host');
  client.interfaces = { net0: ['10.0.5.20/24'] };
  client.exec = ['ip link set net0 address 02:00:00:00:00:20'];
  const nodes = [1, 2].map((n) => {
    const node = emptyNode(`node${n}`, 'host');
    node.interfaces = { net0: [`10.0.5.1${n}/24`] };
    node.exec = [`ip link set net0 address ${nodeMac(n)}`];
    // For the announcer the node's kernel must accept the VIP's traffic without answering ARP for it.
    // With the VIP on lo and arp_ignore=1 the anchor's `ip addr add` on net0 is what makes the
    // kernel answer ARP, as it would on a node without the VIP on lo.
    node.loopback = [`${VIP}/32`];
    node.sysctls = { 'net.ipv4.conf.all.arp_ignore': '1' };
    return node;
  });
  return {
    name: 'l2-bench',
    nodes: [sw, client, ...nodes],
    links: ['client', 'node1', 'node2'].map((name) => ({ a: { node: name, ifname: 'net0' }, b: { node: 'sw', ifname: `p-${name}` } })),
  };
}

try {
  lab = await startLab(topology(), { runsRoot });
  const client = namespaceName(lab.runId, 'client');
  const nodes = [1, 2].map((n) => namespaceName(lab!.runId, `node${n}`));

  const results: Record<Flavour, TrialResult[]> = { ours: [], anchor: [] };
  for (let i = 0; i < TRIALS; i++) {
    for (const flavour of (i % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours']) as Flavour[]) {
      const result = await trial(lab, flavour, i, client, nodes);
      results[flavour].push(result);
      console.log(`trial ${i + 1} ${flavour.padEnd(6)} failover ${result.failoverMs.toFixed(0)} ms, takeover -> announcement ${result.announceMs.toFixed(1)} ms`);
    }
  }
  const ours = summary(results.ours.map((r) => r.failoverMs));
  const anchor = summary(results.anchor.map((r) => r.failoverMs));
  const oursAnnounce = summary(results.ours.map((r) => r.announceMs));
  const anchorAnnounce = summary(results.anchor.map((r) => r.announceMs));
  const { leaseDurationMs, renewIntervalMs, retryIntervalMs } = FAST_FAILOVER_TIMING;
  console.log(`\nlease ${leaseDurationMs} ms, renew every ${renewIntervalMs} ms, candidates retry every ${retryIntervalMs} ms; ${TRIALS} trials each`);
  console.log(`ours   (announcer, GARP via libpcap)     median ${ours.median.toFixed(0)} ms  [${ours.min.toFixed(0)}-${ours.max.toFixed(0)}]`);
  console.log(`anchor (ip addr add + arping -U)         median ${anchor.median.toFixed(0)} ms  [${anchor.min.toFixed(0)}-${anchor.max.toFixed(0)}]`);
  console.log(`ratio ours/anchor ${(ours.median / anchor.median).toFixed(2)}; target < ${TARGET_MS} ms: ${ours.max < TARGET_MS ? 'met (worst trial)' : 'NOT met'}`);
  console.log(
    `takeover -> announcement on the wire: ours median ${oursAnnounce.median.toFixed(1)} ms, anchor ${anchorAnnounce.median.toFixed(1)} ms, ` +
      `ratio ${(oursAnnounce.median / anchorAnnounce.median).toFixed(2)}`,
  );
} finally {
  await lab?.stop();
  rmSync(runsRoot, { recursive: true, force: true });
}
