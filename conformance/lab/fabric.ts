import { emptyNode, type DaemonKindName, type LabLink, type LabNode, type LabTopology } from './model.ts';

// A leaf-spine fabric generator: S spines, L leaves, N Kubernetes nodes per leaf, each role on
// a daemon kind of its own, as a LabTopology startLab builds like any fixture. Every link is a
// veth /31 (no bridges); sessions are eBGP on the link addresses with 4-octet ASNs (RFC 6793):
// all spines share one AS (RFC 7938 section 5.2.1), every leaf and every node has its own. Each
// node is a `speaker` (a stand-in daemon until a speaker under test is hooked) announcing one
// /24, its PodCIDR; the lab is ready when every session is Established and every node /24 is in
// every spine's FIB (and, with `leafFib`, in every leaf's).
//
// Address plan (IPv4, all private):
//   spine s - leaf l       10.1.0.0/16   /31 number s * leaves + l (spine .0, leaf .1)
//   leaf l - its node k    10.2.0.0/15   /31 number of the node (leaf .0, node .1)
//   node n's PodCIDR       10.128.0.0/9  10.(128 + n / 256).(n % 256).0/24
//   router ids             10.0.0.0/16   one per router, spines first, then leaves, then nodes
// Names: spine0.., leaf0.., node<leaf>-<k>; interfaces: spine eth<l+1> to leaf l, leaf eth<s+1>
// to spine s and eth<spines+k+1> to its node k, node eth1.

export interface FabricOptions {
  spines: number;
  leaves: number;
  nodesPerLeaf: number;
  /** Daemon per role: defaults FRR spines and leaves, GoBGP stand-ins for nodes (Cilium's BGP is GoBGP-based). */
  spineKind?: DaemonKindName;
  leafKind?: DaemonKindName;
  nodeKind?: DaemonKindName;
  /** Topology name (default fabric-SxLxN). */
  name?: string;
  /** Also expect every node /24 in every leaf's FIB before ready (default: spines only). */
  leafFib?: boolean;
}

export const SPINE_ASN = 4_200_000_000;
export const LEAF_ASN_BASE = 4_200_000_100;
export const NODE_ASN_BASE = 4_210_000_000;

const MAX = { spines: 64, leaves: 1024, nodes: 32_768, spineLinks: 32_768 };

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
const base = (a: number, b: number, c: number) => ((10 << 24) | (a << 16) | (b << 8) | c) >>> 0;

export function fabricNodeCount(o: Pick<FabricOptions, 'spines' | 'leaves' | 'nodesPerLeaf'>): number {
  return o.spines + o.leaves + o.leaves * o.nodesPerLeaf;
}

/** The PodCIDR node `n` (global index, leaf-major) announces. */
export function nodePrefix(n: number): string {
  return `${ipv4(base(128 + (n >> 8), n & 255, 0))}/24`;
}

export function fabricTopology(opts: FabricOptions): LabTopology {
  const { spines, leaves, nodesPerLeaf } = opts;
  for (const [key, value] of [['spines', spines], ['leaves', leaves], ['nodesPerLeaf', nodesPerLeaf]] as const) {
    if (!Number.isInteger(value) || value < (key === 'nodesPerLeaf' ? 0 : 1)) throw new Error(`fabric: ${key} must be a whole number >= ${key === 'nodesPerLeaf' ? 0 : 1}, got ${value}`);
  }
  if (spines > MAX.spines || leaves > MAX.leaves || leaves * nodesPerLeaf > MAX.nodes || spines * leaves > MAX.spineLinks)
    throw new Error(`fabric: ${spines}x${leaves}x${nodesPerLeaf} is beyond the address plan (at most ${MAX.spines} spines, ${MAX.leaves} leaves, ${MAX.nodes} nodes)`);
  const spineKind = opts.spineKind ?? 'frr';
  const leafKind = opts.leafKind ?? 'frr';
  const nodeKind = opts.nodeKind ?? 'gobgp';
  let routerIndex = 0;
  const routerId = () => ipv4(base(0, 0, 0) + ++routerIndex);

  const spine: LabNode[] = [];
  const leaf: LabNode[] = [];
  const k8s: LabNode[] = [];
  const links: LabLink[] = [];
  for (let s = 0; s < spines; s++) {
    spine.push({ ...emptyNode(`spine${s}`, spineKind), role: 'spine', asn: SPINE_ASN, routerId: routerId(), multipath: true });
  }
  for (let l = 0; l < leaves; l++) {
    leaf.push({ ...emptyNode(`leaf${l}`, leafKind), role: 'leaf', asn: LEAF_ASN_BASE + l, routerId: routerId(), multipath: true });
  }
  for (let s = 0; s < spines; s++) {
    for (let l = 0; l < leaves; l++) {
      const net = base(1, 0, 0) + 2 * (s * leaves + l);
      const sp = spine[s]!;
      const lf = leaf[l]!;
      sp.interfaces[`eth${l + 1}`] = [`${ipv4(net)}/31`];
      lf.interfaces[`eth${s + 1}`] = [`${ipv4(net + 1)}/31`];
      sp.neighbors.push({ address: ipv4(net + 1), asn: lf.asn! });
      lf.neighbors.push({ address: ipv4(net), asn: SPINE_ASN });
      links.push({ a: { node: sp.name, ifname: `eth${l + 1}` }, b: { node: lf.name, ifname: `eth${s + 1}` } });
    }
  }
  const prefixes: string[] = [];
  for (let l = 0; l < leaves; l++) {
    for (let k = 0; k < nodesPerLeaf; k++) {
      const n = l * nodesPerLeaf + k;
      const net = base(2, 0, 0) + 2 * n;
      const lf = leaf[l]!;
      const ifname = `eth${spines + k + 1}`;
      const node: LabNode = {
        ...emptyNode(`node${l}-${k}`, 'speaker'),
        standIn: nodeKind,
        role: 'k8s-node',
        asn: NODE_ASN_BASE + n,
        routerId: routerId(),
        interfaces: { eth1: [`${ipv4(net + 1)}/31`] },
        neighbors: [{ address: ipv4(net), asn: lf.asn! }],
        announce: [nodePrefix(n)],
      };
      lf.interfaces[ifname] = [`${ipv4(net)}/31`];
      lf.neighbors.push({ address: ipv4(net + 1), asn: node.asn! });
      links.push({ a: { node: lf.name, ifname }, b: { node: node.name, ifname: 'eth1' } });
      prefixes.push(nodePrefix(n));
      k8s.push(node);
    }
  }
  for (const sp of spine) sp.expectRoutes = [...prefixes];
  if (opts.leafFib) for (const lf of leaf) lf.expectRoutes = [...prefixes];
  return {
    name: opts.name ?? `fabric-${spines}x${leaves}x${nodesPerLeaf}`,
    nodes: [...spine, ...leaf, ...k8s],
    links,
  };
}
