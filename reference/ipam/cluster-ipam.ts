import type { ClusterModel } from '../k8s/model.ts';
import { CalicoBlockIpam, CalicoIpamError, type CalicoRoute, type PodAssignment } from './calico-blocks.ts';
import { LbIpam, wantsLoadBalancerAddress, type LbPoolStatus, type LbServiceStatus } from './lb-ipam.ts';
import { ClusterPoolAllocator, PodCidrError } from './pod-cidr.ts';
import { readIpamState, writeIpamState, type IpamState } from './state-file.ts';

// One call for a consumer (the agent): the model in, every allocation out, state restored from
// and saved to one file so a restart hands out the same addresses.

export interface ClusterIpamView {
  /** Every LoadBalancer service LB-IPAM serves, with its addresses or why it has none. */
  services: LbServiceStatus[];
  pools: LbPoolStatus[];
  /** node -> pod CIDRs (spec.podCIDRs, or allocated by cluster-pool). */
  podCidrs: Record<string, string[]>;
  /** Calico pod IPAM, when the cluster uses it. */
  calico?: { assignments: PodAssignment[]; routes: Record<string, CalicoRoute[]> };
  /** Allocation failures that are not a service condition (pod CIDR or pod address exhaustion). */
  problems: string[];
}

export function allocateCluster(model: ClusterModel, statePath?: string): ClusterIpamView {
  const saved: IpamState = statePath ? readIpamState(statePath) : { version: 1 };
  const problems: string[] = [];

  const lbServices = model.services.filter(wantsLoadBalancerAddress);
  const lb = saved.lb ? LbIpam.restore(model.pools, saved.lb, lbServices) : new LbIpam(model.pools);
  const statuses = lb.reconcile(lbServices);

  const podCidrs: Record<string, string[]> = {};
  const state: IpamState = { version: 1, lb: lb.snapshot() };
  const podIpam = model.podIpam;
  if (podIpam.mode === 'cluster-pool') {
    const pool = saved.podCidrs ? ClusterPoolAllocator.restore(podIpam, saved.podCidrs) : new ClusterPoolAllocator(podIpam);
    const present = new Set(model.nodes.map((n) => n.name));
    for (const { node } of pool.snapshot().nodes) if (!present.has(node)) pool.release(node);
    for (const node of [...model.nodes].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      try {
        podCidrs[node.name] = pool.allocate(node.name);
      } catch (error) {
        if (!(error instanceof PodCidrError)) throw error;
        problems.push(error.message);
      }
    }
    state.podCidrs = pool.snapshot();
  } else {
    for (const node of model.nodes) podCidrs[node.name] = [...node.podCIDRs];
  }

  let calico: ClusterIpamView['calico'];
  if (podIpam.mode === 'calico') {
    const ipam = saved.calico ? CalicoBlockIpam.restore(podIpam, saved.calico) : new CalicoBlockIpam(podIpam);
    const pods = model.pods.filter((p) => p.node !== undefined && !p.hostNetwork);
    const present = new Set(pods.map((p) => p.key));
    for (const block of saved.calico?.blocks ?? []) for (const a of block.allocations) if (!present.has(a.pod)) ipam.release(a.pod);
    // pods with a known address first, so automatic assignments never take theirs
    const ordered = [...pods].sort((a, b) => Number(b.podIPs.length > 0) - Number(a.podIPs.length > 0) || (a.key < b.key ? -1 : 1));
    const assignments: PodAssignment[] = [];
    for (const pod of ordered) {
      const node = model.nodes.find((n) => n.name === pod.node);
      const labels = node?.labels ?? {};
      const preferred = pod.podIPs.find((ip) => podIpam.pools.some((p) => sameFamily(p.cidr, ip)));
      try {
        assignments.push(ipam.assign(pod.key, { name: pod.node!, labels }, preferred));
      } catch (error) {
        if (!(error instanceof CalicoIpamError)) throw error;
        problems.push(error.message);
      }
    }
    const routes: Record<string, CalicoRoute[]> = {};
    for (const node of model.nodes) {
      const address = node.annotations['projectcalico.org/IPv4Address']?.split('/')[0] ?? node.addresses.internalIPs.find((a) => !a.includes(':'));
      if (address) routes[node.name] = ipam.routesFor(node.name, address);
    }
    calico = { assignments, routes };
    state.calico = ipam.snapshot();
  }

  if (statePath) writeIpamState(statePath, state);
  return {
    services: lbServices.map((s) => statuses.get(s.key)!),
    pools: lb.poolStatuses(),
    podCidrs,
    ...(calico ? { calico } : {}),
    problems,
  };
}

function sameFamily(cidr: string, address: string): boolean {
  return cidr.includes(':') === address.includes(':');
}
