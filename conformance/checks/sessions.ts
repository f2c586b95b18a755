// Which BGP sessions the speaker under test holds, read from the lab topology: for each speaker
// node and neighbour, the addresses and ASNs of both ends, the peer node, and the speaker's
// interface toward it (whose capture holds the session).
import type { LabNode, LabTopology } from '../lab/model.ts';

export interface SpeakerSession {
  speakerNode: string;
  /** Address the speaker sends from (update source, or its address on the shared subnet). */
  speakerAddress: string;
  speakerAsn: number;
  /** Speaker interface whose capture carries the session (null when none shares a subnet). */
  ifname: string | null;
  peerNode: string | null;
  peerAddress: string;
  peerAsn: number;
  multihop: boolean;
}

function ipv4ToInt(a: string): number | null {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function sameSubnet(cidr: string, address: string): boolean {
  const [base, lenText] = cidr.split('/');
  const a = ipv4ToInt(base ?? '');
  const b = ipv4ToInt(address);
  const len = Number(lenText);
  if (a === null || b === null || !Number.isInteger(len)) return false;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (a & mask) === (b & mask);
}

const bare = (cidr: string) => cidr.split('/')[0]!;

/** Interface -> addresses of a node, the fixture's `interfaces` plus containerlab `exec: ip addr add` lines. */
export function nodeInterfaces(node: LabNode): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(Object.entries(node.interfaces).map(([k, v]) => [k, [...v]]));
  for (const line of node.exec) {
    const m = /^\s*ip\s+(?:-\d\s+)?addr(?:ess)?\s+add\s+(\S+)\s+dev\s+(\S+)/.exec(line);
    if (m) (out[m[2]!] ??= []).push(m[1]!);
  }
  return out;
}

export function nodeOwning(topology: LabTopology, address: string): LabNode | undefined {
  return topology.nodes.find((n) => [...Object.values(nodeInterfaces(n)).flat(), ...n.loopback].some((c) => bare(c) === address));
}

export function speakerSessions(topology: LabTopology): SpeakerSession[] {
  const out: SpeakerSession[] = [];
  for (const node of topology.nodes.filter((n) => n.kind === 'speaker')) {
    const interfaces = nodeInterfaces(node);
    for (const nb of node.neighbors) {
      const shared = Object.entries(interfaces).find(([, cidrs]) => cidrs.some((c) => sameSubnet(c, nb.address)));
      const speakerAddress = nb.updateSource ?? (shared ? bare(shared[1].find((c) => sameSubnet(c, nb.address))!) : bare(Object.values(interfaces).flat()[0] ?? ''));
      const ifname = shared?.[0] ?? Object.keys(interfaces)[0] ?? null;
      out.push({
        speakerNode: node.name,
        speakerAddress,
        speakerAsn: node.asn ?? 0,
        ifname,
        peerNode: nodeOwning(topology, nb.address)?.name ?? null,
        peerAddress: nb.address,
        peerAsn: nb.asn,
        multihop: nb.multihop !== undefined || !shared,
      });
    }
  }
  return out;
}

/** Interfaces of a node that are ends of topology links. */
export function linkInterfaces(topology: LabTopology, node: string): string[] {
  return topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node).map((e) => e.ifname);
}
