// lb.advertise-selector: which load-balancer VIPs a node may announce, from the cluster's
// objects (advertisement intents with their node and service selectors, and the addresses
// LB-IPAM gave each service), judged against what each session carried on the wire.
import { isIP } from 'node:net';
import type { ClusterModel } from '../../reference/k8s/model.ts';
import { matchesSelector } from '../../reference/k8s/selectors.ts';

export interface VipExpectation {
  /** Host routes (VIP/32, VIP/128) the node must announce: selected services on a selecting policy. */
  required: Map<string, string>;
  /** Host routes of load-balancer services the node must never announce (service key per prefix). */
  forbidden: Map<string, string>;
}

export function hostRoute(address: string): string {
  return `${address}/${isIP(address) === 6 ? 128 : 32}`;
}

/** An address LB-IPAM gave a service, and the pool it came from. */
export interface ServiceAddress {
  address: string;
  pool?: string;
}

/** Labels a service selector sees: the Service's own plus those Cilium adds for every Service. */
function selectableLabels(service: ClusterModel['services'][number]): Record<string, string> {
  return { ...service.labels, 'io.kubernetes.service.namespace': service.namespace, 'io.kubernetes.service.name': service.name };
}

/**
 * `addresses`: service key -> the addresses LB-IPAM (or the Service status) gave it. An intent
 * limited to pools (MetalLB) selects only addresses from those pools.
 * Services with externalTrafficPolicy Local are left out of both sets: whether a node announces
 * them depends on where endpoints run, which lb.advertise-selector does not judge.
 */
export function expectedVips(model: ClusterModel, addresses: ReadonlyMap<string, readonly ServiceAddress[]>, k8sNode: string): VipExpectation {
  const node = model.nodes.find((n) => n.name === k8sNode);
  const intents = model.advertisements.filter((a) => a.kind === 'lb-vip' && node !== undefined && matchesSelector(a.nodeSelector, node.labels));
  const required = new Map<string, string>();
  const forbidden = new Map<string, string>();
  for (const service of model.services.filter((s) => s.type === 'LoadBalancer')) {
    const selecting = intents.filter((a) => matchesSelector(a.serviceSelector, selectableLabels(service)));
    if (selecting.length > 0 && service.externalTrafficPolicy === 'Local') continue;
    for (const { address, pool } of addresses.get(service.key) ?? []) {
      const selected = selecting.some((a) => a.pools.length === 0 || (pool !== undefined && a.pools.includes(pool)));
      (selected ? required : forbidden).set(hostRoute(address), service.key);
    }
  }
  return { required, forbidden };
}

export interface SessionAnnouncements {
  /** "rack0-node1 -> 10.0.5.1" */
  session: string;
  /** Prefixes announced at the end of the capture. */
  announced: readonly string[];
}

function contains(prefix: string, address: string): boolean {
  const [base, lenText] = prefix.split('/');
  const len = Number(lenText);
  if (isIP(base ?? '') !== 4 || isIP(address) !== 4) return false;
  const toInt = (a: string) => a.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (toInt(base!) & mask) === (toInt(address) & mask);
}

/** Problems in words (empty = the session carried exactly the selected VIPs, each as a host route). */
export function judgeSelectorAdvertisements(session: SessionAnnouncements, expected: VipExpectation): string[] {
  const problems: string[] = [];
  const announced = new Set(session.announced);
  for (const [prefix, service] of expected.required)
    if (!announced.has(prefix)) problems.push(`${session.session}: ${prefix} (${service}, selected) not announced`);
  for (const [prefix, service] of expected.forbidden)
    if (announced.has(prefix)) problems.push(`${session.session}: ${prefix} (${service}) announced although no policy selecting this node selects the service`);
  // A VIP must go out as a host route, never inside a shorter prefix made for it (PodCIDRs are not).
  for (const prefix of announced) {
    const [address, len] = prefix.split('/');
    const isHost = (isIP(address!) === 4 && len === '32') || (isIP(address!) === 6 && len === '128');
    if (isHost) continue;
    const covered = [...expected.required.keys()].filter((vip) => contains(prefix, vip.split('/')[0]!) && !announced.has(vip));
    if (covered.length > 0) problems.push(`${session.session}: ${prefix} announced instead of the host route(s) ${covered.join(', ')}`);
  }
  return problems;
}
