// Which BGP sessions the speaker under test holds, read from the lab topology: for each speaker
// node and neighbour, the addresses and ASNs of both ends, the peer node, and the speaker's
// interface toward it (whose capture holds the session).
import { Address6 } from 'ip-address';
import { canonicalCidr, nodeAddresses } from '../lab/exec-lines.ts';
import { neighborFamilies, type AddressFamily, type LabNode, type LabTopology } from '../lab/model.ts';

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
  /** Address families the session carries (the neighbour's, default IPv4 unicast). */
  families: AddressFamily[];
}

/** Whether a prefix belongs to a family the session carries (an IPv6 PodCIDR rides the IPv6 session of a dual-stack node). */
export function carriesPrefix(session: Pick<SpeakerSession, 'families'>, prefix: string): boolean {
  return session.families.includes(prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast');
}

function ipv4ToInt(a: string): number | null {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Whether `address` is in the subnet of `cidr` (IPv4 or IPv6; different families never match). */
export function sameSubnet(cidr: string, address: string): boolean {
  const [base, lenText] = cidr.split('/');
  const len = Number(lenText);
  if (!base || !Number.isInteger(len)) return false;
  if (!base.includes(':')) {
    const a = ipv4ToInt(base);
    const b = ipv4ToInt(address);
    if (a === null || b === null || len < 0 || len > 32) return false;
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    return (a & mask) === (b & mask);
  }
  if (!address.includes(':') || !Address6.isValid(base) || !Address6.isValid(address) || len < 0 || len > 128) return false;
  return new Address6(address).isInSubnet(new Address6(`${base}/${len}`));
}

const bare = (cidr: string) => cidr.split('/')[0]!;

/** Interface -> addresses of a node, the fixture's `interfaces` plus containerlab `exec: ip addr add` lines (lo apart). */
export function nodeInterfaces(node: LabNode): Record<string, string[]> {
  const { lo: _lo, ...links } = nodeAddresses({ ...node, loopback: [] });
  return links;
}

export function nodeOwning(topology: LabTopology, address: string): LabNode | undefined {
  const wanted = canonicalCidr(address);
  return topology.nodes.find((n) => Object.values(nodeAddresses(n)).flat().some((c) => canonicalCidr(bare(c)) === wanted));
}

export function speakerSessions(topology: LabTopology): SpeakerSession[] {
  const out: SpeakerSession[] = [];
  for (const node of topology.nodes.filter((n) => n.kind === 'speaker')) {
    const interfaces = nodeInterfaces(node);
    for (const nb of node.neighbors) {
      const shared = Object.entries(interfaces).find(([, cidrs]) => cidrs.some((c) => sameSubnet(c, nb.address)));
      // Without a shared subnet (multihop), the node's first address of the neighbour's family:
      // an IPv6 neighbour is never reached from an IPv4 address.
      const sameFamily = Object.entries(interfaces).find(([, cidrs]) => cidrs.some((c) => c.includes(':') === nb.address.includes(':')));
      const fallback = sameFamily ? bare(sameFamily[1].find((c) => c.includes(':') === nb.address.includes(':'))!) : bare(Object.values(interfaces).flat()[0] ?? '');
      const speakerAddress = nb.updateSource ?? (shared ? bare(shared[1].find((c) => sameSubnet(c, nb.address))!) : fallback);
      const ifname = shared?.[0] ?? sameFamily?.[0] ?? Object.keys(interfaces)[0] ?? null;
      out.push({
        speakerNode: node.name,
        speakerAddress,
        speakerAsn: node.asn ?? 0,
        ifname,
        peerNode: nodeOwning(topology, nb.address)?.name ?? null,
        peerAddress: nb.address,
        peerAsn: nb.asn,
        multihop: nb.multihop !== undefined || !shared,
        families: neighborFamilies(nb),
      });
    }
  }
  return out;
}

/** Interfaces of a node that are ends of topology links. */
export function linkInterfaces(topology: LabTopology, node: string): string[] {
  return topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node).map((e) => e.ifname);
}
