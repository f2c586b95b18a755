// Lab side of the L2 cases: what the fixture declares (l2Targets over its cluster objects), the
// MACs of the candidates, real ARP requests from a client (iputils arping, broadcast every time
// so every node hears each request) and an ARP-only capture on the client's link to judge them.
import { existsSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startCapture, readCapturedFrames, type Capture, type CapturedFrame } from '../lab/capture.ts';
import type { Lab } from '../lab/lab.ts';
import { HarnessError } from '../lab/harness-error.ts';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { FileLeaseStore } from '../../reference/l2/lease-store.ts';
import { leaseNameFor } from '../../reference/l2/main.ts';
import { l2Targets, type L2Target } from './arp.ts';

/** The L2 targets of the fixture's cluster objects, on this lab's topology. */
export function fixtureL2Targets(lab: Lab, fixtureDir: string): L2Target[] {
  const clusterDir = join(fixtureDir, 'cluster');
  if (!existsSync(clusterDir)) return [];
  const model = loadClusterFolder(clusterDir);
  return l2Targets(model, allocateCluster(model), lab.topology);
}

export async function interfaceMac(lab: Lab, node: string, ifname: string): Promise<string> {
  const r = await lab.node(node).exec(['ip', '-j', 'link', 'show', 'dev', ifname]);
  const [link] = (r.code === 0 ? JSON.parse(r.stdout) : []) as Array<{ address?: string }>;
  if (!link?.address) throw new Error(`no MAC for ${node}:${ifname}: ${r.stderr.trim() || 'not found'}`);
  return link.address.toLowerCase();
}

/** MAC of each candidate's matching interfaces -> candidate node. */
export async function candidateMacs(lab: Lab, target: L2Target): Promise<Map<string, string>> {
  const macs = new Map<string, string>();
  for (const c of target.candidates) for (const ifname of c.matching) macs.set(await interfaceMac(lab, c.node, ifname), c.node);
  return macs;
}

/** Who holds the service's lease in the reference agents' lease folder (null when there is none). */
export function leaseHolder(lab: Lab, service: string): string | null {
  const dir = join(lab.runDir, 'agent', 'leases');
  if (!existsSync(dir)) return null;
  const [namespace, name] = service.split('/');
  return new FileLeaseStore(dir).read(leaseNameFor(namespace!, name!))?.lease.spec.holderIdentity ?? null;
}

export interface ArpCapture {
  /** Frames so far (tcpdump writes each at once). */
  frames(): CapturedFrame[];
  /** Stops tcpdump (flushed) and keeps the pcap as pcaps/<name>.pcap; returns that path relative to the run folder. */
  finish(): Promise<string>;
}

/**
 * An ARP-only capture on one interface of a node, written under the lab's generic name for it
 * until finished (so one such capture per interface at a time), then kept as pcaps/<name>.pcap.
 */
export async function startArpCapture(lab: Lab, node: string, ifname: string, name: string): Promise<ArpCapture> {
  // tcpdump's log folder tells it is listening: a fresh one per capture, or an earlier capture's
  // "listening on" line would be taken for this one's.
  mkdirSync(lab.nodeDir(node), { recursive: true });
  const logDir = mkdtempSync(join(lab.nodeDir(node), `${name}-`));
  const capture: Capture = await startCapture(lab.backend, lab.runDir, node, ifname, logDir, ['arp']);
  let kept: string | null = null;
  return {
    frames: () => (existsSync(capture.file) ? readCapturedFrames(capture.file) : []),
    async finish() {
      if (kept) return kept;
      await capture.stop();
      const file = join(lab.runDir, 'pcaps', `${name}.pcap`);
      renameSync(capture.file, file);
      kept = relative(lab.runDir, file);
      return kept;
    },
  };
}

export interface ArpingResult {
  frames: CapturedFrame[];
  /** pcap of the probe, relative to the run folder. */
  pcap: string;
  /** Requests arping saw answered. */
  answered: number;
  /** arping's last words (errors included). */
  output: string;
}

/**
 * `count` ARP requests for `vip` from `node`'s `ifname`, one arping each (it waits up to 1 s
 * for the reply, then 0.2 s to the next; iputils arping takes whole seconds as its interval),
 * captured on that interface; the pcap is kept as pcaps/<name>.pcap.
 */
export async function arping(lab: Lab, node: string, ifname: string, vip: string, count: number, name: string): Promise<ArpingResult> {
  const capture = await startArpCapture(lab, node, ifname, name);
  const script = `n=0; i=0; while [ $i -lt ${count} ]; do i=$((i+1)); arping -c 1 -w 1 -I "$1" "$2" >/dev/null && n=$((n+1)); sleep 0.2; done; echo "answered=$n"`;
  let result;
  try {
    result = await lab.node(node).exec(['sh', '-c', script, 'arping', ifname, vip]);
  } finally {
    await capture.finish();
  }
  const pcap = await capture.finish();
  const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-2).join(' / ');
  if (/arping: (not found|command not found)/.test(result.stderr)) throw new HarnessError(`arping is not installed in node ${node} (the probe could not send a request)`);
  return { frames: readCapturedFrames(join(lab.runDir, pcap)), pcap, answered: Number(/answered=(\d+)/.exec(result.stdout)?.[1] ?? 0), output };
}
