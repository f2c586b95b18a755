// What a speaker node must announce on one session, from the model: for a speaker that reads
// cluster/ (the reference, or any profile with the k8s-control-plane capability), what the
// reference's own translator makes of the cluster objects (reference/k8s -> IPAM -> desired
// state, per peer, so an externalTrafficPolicy: Local VIP or a per-peer advertisement lands on
// the sessions it is meant for); for a stand-in, the node's `announce:` list. Either way only the
// prefixes of a family the session carries.
import { isIP } from 'node:net';
import { computeDesiredState } from '../../reference/agent/desired.ts';
import { allocateCluster, type ClusterIpamView } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import type { ClusterModel } from '../../reference/k8s/model.ts';
import { canonicalCidr } from '../lab/exec-lines.ts';
import type { Lab } from '../lab/lab.ts';
import { k8sNodeFor, labClusterDir } from '../lab/speakers/reference.ts';
import { carriesPrefix, type SpeakerSession } from './sessions.ts';

export interface ClusterView {
  model: ClusterModel;
  ipam: ClusterIpamView;
  dir: string;
}

/** The cluster the speakers run from: the agents' copy when the reference runs, else the fixture's cluster/. */
export function clusterView(lab: Lab): ClusterView | null {
  const dir = labClusterDir(lab);
  if (!dir) return null;
  const model = loadClusterFolder(dir);
  return { model, ipam: allocateCluster(model), dir };
}

export interface ExpectedRoutes {
  prefixes: string[];
  /** Of `prefixes`, those announced with another node's address as next hop (Anthos floating IPs). */
  viaOtherNodes: string[];
  /** Where they come from, for reasons: "cluster/ (reference translator)" or "announce: of NODE". */
  source: string;
}

/**
 * The prefixes `session`'s speaker node must announce on it. `readsCluster`: the speaker under
 * test derives its routes from cluster/ (the reference agent), so the cluster model decides.
 */
export function expectedRoutes(lab: Lab, session: SpeakerSession, readsCluster: boolean, cluster: ClusterView | null): ExpectedRoutes {
  if (readsCluster && cluster) {
    const k8sNode = k8sNodeFor(cluster.model, lab.spec(session.speakerNode));
    const desired = computeDesiredState(cluster.model, cluster.ipam, k8sNode);
    const peer = desired.bgp?.peers.find((p) => canonicalCidr(p.address) === canonicalCidr(session.peerAddress));
    const routes = desired.routes.filter((r) => !peer || r.peers.includes(peer.name));
    const prefixes = [...new Set(routes.map((r) => r.prefix))].filter((p) => carriesPrefix(session, p));
    const viaOtherNodes = prefixes.filter((p) => routes.every((r) => r.prefix !== p || r.nextHop !== undefined));
    return { prefixes, viaOtherNodes, source: `${cluster.dir} (reference translator, node ${k8sNode})` };
  }
  return { prefixes: lab.spec(session.speakerNode).announce.filter((p) => carriesPrefix(session, p)), viaOtherNodes: [], source: `announce: of ${session.speakerNode}` };
}

/**
 * The node's IPv4 pod prefix (where a test pod may take an address): the PodCIDR the
 * cluster's pod IPAM gave it (Node spec.podCIDRs, cluster-pool, a Calico block), else the first
 * IPv4 prefix of /30 or shorter in its `announce:` list.
 */
export function podPrefixOf(lab: Lab, node: string, cluster: ClusterView | null): string | undefined {
  const v4 = (p: string) => isIP(p.split('/')[0]!) === 4 && Number(p.split('/')[1]) <= 30;
  if (cluster) {
    try {
      const k8sNode = k8sNodeFor(cluster.model, lab.spec(node));
      const fromIpam = [
        ...(cluster.ipam.podCidrs[k8sNode] ?? []),
        ...(cluster.ipam.calico?.routes[k8sNode] ?? []).flatMap((r) => (r.kind === 'advertise' && r.reason === 'affine-block' ? [r.prefix] : [])),
      ].find(v4);
      if (fromIpam) return fromIpam;
    } catch {
      // a node the cluster does not name: its announce list decides
    }
  }
  return lab.spec(node).announce.find(v4);
}
