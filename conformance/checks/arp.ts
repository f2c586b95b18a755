// ARP as a client's link sees it, for the L2 cases: who answered the client's requests for a
// VIP (RFC 826 Packet Reception: one reply per request, from one owner), who announced the VIP
// gratuitously (RFC 5227 3) and when. Pure functions over captured frames, plus the L2
// announcement a fixture's cluster objects declare (the expectation, not the speaker's view).
import type { CapturedFrame } from '../lab/capture.ts';
import type { LabTopology } from '../lab/model.ts';
import { k8sNodeFor } from '../lab/speakers/reference.ts';
import { formatIpv4, formatMac } from '../../reference/l2/addresses.ts';
import { ARP_REPLY, ARP_REQUEST, decodeArp, type ArpFrame } from '../../reference/l2/frames.ts';
import type { ClusterIpamView } from '../../reference/ipam/cluster-ipam.ts';
import type { ClusterModel } from '../../reference/k8s/model.ts';
import { matchesSelector } from '../../reference/k8s/selectors.ts';
import { linkInterfaces, nodeInterfaces } from './sessions.ts';

export interface TimedArp {
  /** Capture time, seconds since the epoch. */
  ts: number;
  arp: ArpFrame;
}

const ipText = (b: Uint8Array) => formatIpv4(b);

/** The ARP frames of a capture, in capture order; anything else (or malformed) is skipped. */
export function arpFrames(frames: CapturedFrame[]): TimedArp[] {
  const out: TimedArp[] = [];
  for (const f of frames) {
    const arp = decodeArp(f.frame);
    if (arp) out.push({ ts: f.ts, arp });
  }
  return out;
}

/** Sender IP equals target IP: an announcement (RFC 5227 3), as a request or as a reply. */
export function isGratuitous(arp: ArpFrame): boolean {
  return ipText(arp.senderIp) === ipText(arp.targetIp);
}

export interface ArpExchange {
  /** Requests for `vip` sent by the requester (not announcements). */
  requests: number;
  /** Replies claiming `vip`, addressed to the requester. */
  replies: number;
  /** Sender MAC (lowercase) -> replies it sent. */
  repliesBy: Record<string, number>;
  /** Requests that got no reply before the next request (or the end of the capture). */
  unanswered: number;
  /** Requests that got more than one reply. */
  answeredMoreThanOnce: number;
}

/**
 * How `requesterMac`'s ARP requests for `vip` were answered. A reply belongs to the latest
 * request sent before it (the requester asks one at a time, far apart compared with a reply).
 */
export function arpExchange(frames: TimedArp[], vip: string, requesterMac: string): ArpExchange {
  const requester = requesterMac.toLowerCase();
  const perRequest: number[] = [];
  const repliesBy: Record<string, number> = {};
  let replies = 0;
  for (const { arp } of frames) {
    if (arp.op === ARP_REQUEST && formatMac(arp.senderMac) === requester && ipText(arp.targetIp) === vip && !isGratuitous(arp)) {
      perRequest.push(0);
    } else if (arp.op === ARP_REPLY && ipText(arp.senderIp) === vip && formatMac(arp.targetMac) === requester && !isGratuitous(arp)) {
      const mac = formatMac(arp.senderMac);
      repliesBy[mac] = (repliesBy[mac] ?? 0) + 1;
      replies++;
      if (perRequest.length > 0) perRequest[perRequest.length - 1]!++;
    }
  }
  return {
    requests: perRequest.length,
    replies,
    repliesBy,
    unanswered: perRequest.filter((n) => n === 0).length,
    answeredMoreThanOnce: perRequest.filter((n) => n > 1).length,
  };
}

export interface Announcement {
  ts: number;
  mac: string;
}

/** Gratuitous ARP for `vip` (sender = target = vip), by sender MAC, in capture order. */
export function announcementsOf(frames: TimedArp[], vip: string): Announcement[] {
  return frames
    .filter(({ arp }) => isGratuitous(arp) && ipText(arp.senderIp) === vip)
    .map(({ ts, arp }) => ({ ts, mac: formatMac(arp.senderMac) }));
}

/** The first announcement of `vip` after `afterTs` from a MAC other than `notMac`, or null. */
export function firstTakeover(frames: TimedArp[], vip: string, afterTs: number, notMac: string): Announcement | null {
  return announcementsOf(frames, vip).find((a) => a.ts > afterTs && a.mac !== notMac.toLowerCase()) ?? null;
}

// ---- what the fixture declares ---------------------------------------------------------------

export interface L2Candidate {
  /** Topology node. */
  node: string;
  /** Its interfaces the policy matches, and those it does not. */
  matching: string[];
  notMatching: string[];
}

export interface L2Target {
  policy: string;
  /** "namespace/name" */
  service: string;
  vip: string;
  /** The policy's interface regular expressions (empty: every interface). */
  interfaces: string[];
  /** The speaker nodes the policy selects. */
  candidates: L2Candidate[];
  /** A host on the same segment as a candidate's matching interface, to ask from. */
  client: { node: string; ifname: string; address: string } | null;
}

/**
 * The IPv4 VIPs an L2 announcement policy of the cluster objects covers, the topology's speaker
 * nodes it selects, and a client host bridged to them. Empty when the cluster announces nothing
 * over L2.
 */
export function l2Targets(model: ClusterModel, ipam: ClusterIpamView, topology: LabTopology): L2Target[] {
  const targets: L2Target[] = [];
  const speakers = topology.nodes.filter((n) => n.kind === 'speaker');
  for (const policy of model.l2Announcements) {
    const patterns = policy.interfaces.map((p) => new RegExp(p));
    const matches = (ifname: string) => patterns.length === 0 || patterns.some((p) => p.test(ifname));
    const candidates: L2Candidate[] = [];
    for (const node of speakers) {
      let k8sNode: string;
      try {
        k8sNode = k8sNodeFor(model, node);
      } catch {
        continue; // a topology node that is no Kubernetes node cannot be selected
      }
      const labels = model.nodes.find((n) => n.name === k8sNode)?.labels ?? {};
      if (!matchesSelector(policy.nodeSelector, labels)) continue;
      const ifnames = linkInterfaces(topology, node.name);
      candidates.push({ node: node.name, matching: ifnames.filter(matches), notMatching: ifnames.filter((i) => !matches(i)) });
    }
    for (const service of model.services) {
      const labels = { ...service.labels, 'io.kubernetes.service.namespace': service.namespace, 'io.kubernetes.service.name': service.name };
      if (!policy.loadBalancerIPs || !matchesSelector(policy.serviceSelector, labels)) continue;
      const allocated = ipam.services.find((s) => s.service === service.key)?.addresses ?? [];
      for (const a of allocated) {
        if (a.address.includes(':') || (policy.pools.length > 0 && !policy.pools.includes(a.pool))) continue;
        targets.push({ policy: policy.name, service: service.key, vip: a.address, interfaces: policy.interfaces, candidates, client: clientOnSegment(topology, candidates) });
      }
    }
  }
  return targets;
}

/** A `host` node bridged to a candidate's matching interface, with its address on that bridge. */
function clientOnSegment(topology: LabTopology, candidates: L2Candidate[]): L2Target['client'] {
  const ends = topology.links.flatMap((l) => [[l.a, l.b], [l.b, l.a]] as const);
  const kind = (name: string) => topology.nodes.find((n) => n.name === name)?.kind;
  for (const c of candidates) {
    for (const ifname of c.matching) {
      const bridge = ends.find(([a]) => a.node === c.node && a.ifname === ifname)?.[1].node;
      if (!bridge || kind(bridge) !== 'bridge') continue;
      for (const [b, host] of ends) {
        if (b.node !== bridge || kind(host.node) !== 'host') continue;
        const address = nodeInterfaces(topology.nodes.find((n) => n.name === host.node)!)[host.ifname]?.find((a) => !a.includes(':'));
        if (address) return { node: host.node, ifname: host.ifname, address: address.split('/')[0]! };
      }
    }
  }
  return null;
}
