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
import { parseIpv4, parseMac } from '../reference/l2/addresses.ts';
import { FAST_FAILOVER_TIMING } from '../reference/l2/election.ts';
import { FileLeaseStore } from '../reference/l2/lease-store.ts';
import { eventually, failoverFromCapture, JsonLines, readPcap, stopProcess, TestLab, typescriptCommand } from '../reference/l2/test-lab.ts';

const TRIALS = Number(process.argv[2] ?? 5);
const VIP = '10.0.5.100';
const TARGET_MS = 1000;
type Flavour = 'ours' | 'anchor';

const lab = new TestLab('l2bench');
const nodeMac = (n: number) => `02:00:00:00:00:1${n}`;

interface TrialResult {
  /** Last frame of the old leader to the first gratuitous ARP of the new one. */
  failoverMs: number;
  /** The new leader's acquireTime in the lease to its first gratuitous ARP: the takeover mechanism alone. */
  announceMs: number;
}

async function trial(flavour: Flavour, index: number, client: string, nodes: string[]): Promise<TrialResult> {
  const leaseDirectory = `${lab.directory}/leases-${flavour}-${index}`;
  const start = (n: number) => {
    const argv =
      flavour === 'ours'
        ? typescriptCommand('./main.ts', ['--identity', `node${n}`, '--lease-dir', leaseDirectory, '--interface', '^net0$', '--service', `bench=${VIP}`])
        : typescriptCommand('../../bench/l2-anchor-mover.ts', [`node${n}`, leaseDirectory, 'net0', VIP]);
    const child = lab.spawn(nodes[n - 1], argv);
    return { child, events: new JsonLines(child) };
  };
  lab.exec(client, ['ip', 'neigh', 'flush', 'dev', 'net0']);
  const capture = await lab.capture(client, 'net0', ['arp', 'or', 'icmp']);
  const leader = start(1);
  await leader.events.waitFor((r) => r.event === 'leader');
  const follower = start(2);
  await follower.events.waitFor((r) => r.event === 'follower');
  const pinger = lab.spawn(client, ['ping', '-i', '0.05', '-W', '1', VIP]);
  await new Promise((resolve) => setTimeout(resolve, 700));

  leader.child.kill('SIGKILL');
  lab.exec(nodes[0], ['ip', 'link', 'set', 'net0', 'down']);
  await follower.events.waitFor((r) => r.event === 'leader');
  const failover = await eventually(
    () => failoverFromCapture(readPcap(capture.file), parseMac(nodeMac(1)), parseMac(nodeMac(2)), parseIpv4(VIP)),
    `${flavour}: the takeover in the client capture`,
  );
  const lease = new FileLeaseStore(leaseDirectory).read(flavour === 'ours' ? 'bench' : 'bench-anchor')!.lease.spec;
  if (lease.holderIdentity !== 'node2') throw new Error(`${flavour}: node2 should hold the lease, ${lease.holderIdentity} does`);
  await Promise.all([stopProcess(pinger), stopProcess(follower.child), capture.stop()]);
  // Back to the starting point: node1 alive again, no VIP left on any interface.
  lab.exec(nodes[0], ['ip', 'link', 'set', 'net0', 'up']);
  for (const ns of nodes) lab.exec(ns, ['ip', 'addr', 'flush', 'dev', 'net0', 'to', `${VIP}/32`]);
  return { failoverMs: failover.milliseconds, announceMs: failover.firstAnnouncement * 1000 - Date.parse(lease.acquireTime!) };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1)! };
}

try {
  const sw = lab.namespace('sw');
  const client = lab.namespace('client');
  lab.link({ ns: client, ifname: 'net0', cidr: '10.0.5.20/24', mac: '02:00:00:00:00:20' }, { ns: sw, ifname: 'p-client' });
  const nodes = [1, 2].map((n) => {
    const ns = lab.namespace(`node${n}`);
    lab.link({ ns, ifname: 'net0', cidr: `10.0.5.1${n}/24`, mac: nodeMac(n) }, { ns: sw, ifname: `p-node${n}` });
    // For the announcer the node's kernel must accept the VIP's traffic without answering ARP for it.
    lab.exec(ns, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    lab.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1']);
    return ns;
  });
  lab.bridge(sw, ['p-client', 'p-node1', 'p-node2']);
  // With the VIP on lo and arp_ignore=1 the anchor's `ip addr add` on net0 is what makes the
  // kernel answer ARP, as it would on a node without the VIP on lo.

  const results: Record<Flavour, TrialResult[]> = { ours: [], anchor: [] };
  for (let i = 0; i < TRIALS; i++) {
    for (const flavour of (i % 2 === 0 ? ['ours', 'anchor'] : ['anchor', 'ours']) as Flavour[]) {
      const result = await trial(flavour, i, client, nodes);
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
  await lab.cleanup();
}
