// One node's desired state, computed from the cluster model and the IPAM allocations: the BGP
// instance it runs, the routes it originates (to which peers, with which next hops), the kernel
// objects it needs (blackholes, VIPs on lo) and the L2 announcements it takes part in.
// Pure: no I/O, so every flavour is unit-tested without root.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { cidrContains, formatCidr, mustParseCidr, mustParseIp } from '../ipam/address.ts';
import type { ClusterIpamView } from '../ipam/cluster-ipam.ts';
import { matchesSelector } from '../k8s/selectors.ts';
import type { AdvertisementIntent, BgpInstance, ClusterModel, ClusterService, Labels } from '../k8s/model.ts';
import { leaseNameFor } from '../l2/main.ts';

export interface DesiredPeer {
  name: string;
  address: string;
  asn: number;
  port: number;
  localAddress?: string;
  families: Array<'ipv4-unicast' | 'ipv6-unicast'>;
  addPath?: 'send' | 'receive' | 'both';
  holdTime: number;
  connectRetry: number;
  /** IP TTL towards an eBGP peer that is not directly connected (absent: 1 for eBGP). */
  multihopTtl?: number;
  /** RFC 4724 graceful restart offered to this peer, with the restart time to advertise. */
  gracefulRestart?: { restartTime: number };
}

export interface DesiredRoute {
  prefix: string;
  /** 0 for a single path; 1.. when several next hops share the prefix (sent with ADD-PATH). */
  pathId: number;
  /** Absent: the session's own address (next hop self). */
  nextHop?: string;
  communities: string[];
  largeCommunities: string[];
  localPref?: number;
  /** Names of the peers the route is sent to. */
  peers: string[];
  /** Advertisement intent ids that asked for it. */
  reasons: string[];
}

export interface DesiredL2Group {
  /** Interface regular expressions, shared by the services of the group. */
  interfaces: string[];
  services: Array<{ lease: string; addresses: string[] }>;
}

/** Direct server return for one service (Cilium loadBalancer.mode=dsr), address-rewrite shape. */
export interface DesiredDsr {
  service: string;
  /** Part of the nftables table names: lowercase, digits, _ (at most 36). */
  name: string;
  vip: string;
  ports: number[];
  /** Set when this node receives the VIP's traffic: the backends it forwards it to. */
  backends?: string[];
  /** Endpoint addresses on this node; their replies leave with the VIP as source. */
  localBackends: string[];
}

export interface DesiredState {
  node: string;
  bgp: {
    instance: string;
    routerId: string;
    localAsn: number;
    listenPort?: number;
    peers: DesiredPeer[];
  } | null;
  routes: DesiredRoute[];
  /** Calico: a blackhole route per affine block, so unassigned addresses are dropped locally. */
  blackholes: string[];
  /** Service addresses this node accepts traffic for (put on lo, hidden from ARP). */
  localVips: string[];
  l2: DesiredL2Group[];
  dsr: DesiredDsr[];
  /** Install the routes learned from peers in the kernel (Calico does; Cilium, MetalLB, Anthos do not). */
  installLearnedRoutes: boolean;
  /** What could not be honoured, in words a user can act on. */
  problems: string[];
}

export interface DesiredOptions {
  /** Override every peer's connect-retry (seconds); labs want 1 s, the CRDs say 120 s. */
  connectRetrySeconds?: number;
}

/** The addresses a node is known by: its name when it is an address (Anthos), its IPs. */
export function nodeAddresses(model: ClusterModel, node: string): string[] {
  const found = model.nodes.find((n) => n.name === node);
  const addresses = found ? [...found.addresses.internalIPs, ...found.addresses.externalIPs] : [];
  if (isIP(node)) addresses.unshift(node);
  return [...new Set(addresses)];
}

function nodeLabels(model: ClusterModel, node: string): Labels {
  return model.nodes.find((n) => n.name === node)?.labels ?? {};
}

function serviceLabels(service: ClusterService): Labels {
  return { ...service.labels, 'io.kubernetes.service.namespace': service.namespace, 'io.kubernetes.service.name': service.name };
}

function hasLocalEndpoint(model: ClusterModel, service: ClusterService, node: string): boolean {
  const endpoints = model.endpoints.find((e) => e.service === service.key);
  return (endpoints?.readyByNode[node]?.length ?? 0) > 0;
}

/** Nodes that may carry a service's traffic: all, or with externalTrafficPolicy=Local those with a ready endpoint. */
function servingNodes(model: ClusterModel, service: ClusterService, nodes: string[]): string[] {
  return service.externalTrafficPolicy === 'Local' ? nodes.filter((n) => hasLocalEndpoint(model, service, n)) : nodes;
}

/** The prefix announced for a service address: a host route, or its aggregate (MetalLB aggregationLength). */
function hostPrefix(address: string, aggregation: { v4?: number; v6?: number }): string {
  const v6 = address.includes(':');
  const length = (v6 ? aggregation.v6 : aggregation.v4) ?? (v6 ? 128 : 32);
  return formatCidr(mustParseCidr(`${address}/${length}`));
}

interface ServiceAddresses {
  service: ClusterService;
  addresses: Array<{ address: string; pool?: string }>;
}

function serviceAddresses(model: ClusterModel, ipam: ClusterIpamView, intent: AdvertisementIntent): ServiceAddresses[] {
  const out: ServiceAddresses[] = [];
  for (const service of model.services) {
    if (!matchesSelector(intent.serviceSelector, serviceLabels(service))) continue;
    let addresses: ServiceAddresses['addresses'] = [];
    if (intent.kind === 'lb-vip') {
      const status = ipam.services.find((s) => s.service === service.key);
      addresses = (status?.addresses ?? []).filter((a) => intent.pools.length === 0 || intent.pools.includes(a.pool));
    } else if (intent.kind === 'external-ip') addresses = service.externalIPs.map((address) => ({ address }));
    else if (intent.kind === 'cluster-ip' && service.clusterIP && service.clusterIP !== 'None') addresses = [{ address: service.clusterIP }];
    if (addresses.length > 0) out.push({ service, addresses });
  }
  return out;
}

class RouteCollector {
  private readonly routes = new Map<string, DesiredRoute>();

  add(intent: AdvertisementIntent, peer: string, prefix: string, pathId = 0, nextHop?: string): void {
    const key = `${prefix}#${pathId}`;
    let route = this.routes.get(key);
    if (!route) {
      route = {
        prefix,
        pathId,
        ...(nextHop ? { nextHop } : {}),
        communities: [...intent.communities],
        largeCommunities: [...intent.largeCommunities],
        ...(intent.localPref !== undefined ? { localPref: intent.localPref } : {}),
        peers: [],
        reasons: [],
      };
      this.routes.set(key, route);
    }
    if (!route.peers.includes(peer)) route.peers.push(peer);
    if (!route.reasons.includes(intent.id)) route.reasons.push(intent.id);
  }

  list(): DesiredRoute[] {
    return [...this.routes.values()].sort((a, b) => (a.prefix === b.prefix ? a.pathId - b.pathId : a.prefix < b.prefix ? -1 : 1));
  }
}

export function computeDesiredState(model: ClusterModel, ipam: ClusterIpamView, node: string, options: DesiredOptions = {}): DesiredState {
  const problems: string[] = [];
  const labels = nodeLabels(model, node);
  const instances = model.bgpInstances.filter((i) => i.node === node);
  if (instances.length > 1) {
    problems.push(`node ${node} has ${instances.length} BGP instances (${instances.map((i) => i.name).join(', ')}); the agent runs the first, ${instances[0]!.name}`);
  }
  const instance: BgpInstance | undefined = instances[0];
  const routes = new RouteCollector();
  const blackholes = new Set<string>();
  const localVips = new Set<string>();

  for (const peer of instance?.peers ?? []) {
    for (const id of peer.advertisements) {
      const intent = model.advertisements.find((a) => a.id === id);
      if (!intent) {
        problems.push(`peer ${peer.name}: advertisement ${id} is not in the model`);
        continue;
      }
      if (!matchesSelector(intent.nodeSelector, labels)) continue;
      for (const prefix of intent.prefixes) routes.add(intent, peer.name, prefix);
      if (intent.kind === 'pod-cidr') {
        for (const prefix of ipam.podCidrs[node] ?? []) routes.add(intent, peer.name, prefix);
      } else if (intent.kind === 'ipam-blocks') {
        for (const route of ipam.calico?.routes[node] ?? []) {
          if (route.kind === 'advertise') routes.add(intent, peer.name, route.prefix);
          else if (route.kind === 'blackhole') blackholes.add(route.prefix);
        }
      } else if (intent.kind === 'lb-vip' || intent.kind === 'external-ip' || intent.kind === 'cluster-ip') {
        const aggregation = { v4: intent.aggregationLengthV4, v6: intent.aggregationLengthV6 };
        for (const { service, addresses } of serviceAddresses(model, ipam, intent)) {
          // Fixed ranges (Calico serviceLoadBalancerIPs) also bound the service addresses a node
          // announces: an address outside them (another LoadBalancer pool) is not advertised.
          for (const { address } of addresses.filter((a) => intent.kind !== 'lb-vip' || intent.prefixes.length === 0 || intent.prefixes.some((p) => cidrContains(mustParseCidr(p), mustParseIp(a.address))))) {
            const prefix = hostPrefix(address, aggregation);
            if (intent.nextHop.type === 'self') {
              if (servingNodes(model, service, [node]).length === 0) continue;
              routes.add(intent, peer.name, prefix);
              localVips.add(address);
              continue;
            }
            // Anthos: the session's node announces one path per load-balancer node.
            servingNodes(model, service, intent.nextHop.nodes).forEach((target, index) => {
              const nextHop = nodeAddresses(model, target).find((a) => isIP(a) === isIP(address));
              if (!nextHop) {
                problems.push(`${intent.id}: load-balancer node ${target} has no ${address.includes(':') ? 'IPv6' : 'IPv4'} address for ${service.key}`);
                return;
              }
              routes.add(intent, peer.name, prefix, index + 1, nextHop);
            });
            if (intent.nextHop.nodes.includes(node)) localVips.add(address);
          }
        }
      }
    }
  }
  // Anthos: a load-balancer node without a session of its own still receives the VIP traffic.
  for (const intent of model.advertisements) {
    if (intent.nextHop.type !== 'nodes' || !intent.nextHop.nodes.includes(node)) continue;
    for (const { addresses } of serviceAddresses(model, ipam, intent)) for (const { address } of addresses) localVips.add(address);
  }

  const l2 = desiredL2(model, ipam, node, labels, localVips);
  const dsr = model.loadBalancerMode === 'dsr' ? desiredDsr(model, ipam, node, localVips, problems) : [];

  return {
    node,
    bgp: instance
      ? {
          instance: instance.name,
          routerId: instance.routerId,
          localAsn: instance.localASN,
          ...(instance.listenPort !== undefined ? { listenPort: instance.listenPort } : {}),
          peers: instance.peers.map((p) => ({
            name: p.name,
            address: p.address,
            asn: p.asn,
            port: p.port,
            ...(p.localAddress ? { localAddress: p.localAddress } : {}),
            families: [...p.families],
            ...(p.addPath ? { addPath: p.addPath } : {}),
            holdTime: p.timers.holdTimeSeconds,
            connectRetry: options.connectRetrySeconds ?? p.timers.connectRetrySeconds,
            ...(p.multihopTtl !== undefined ? { multihopTtl: p.multihopTtl } : {}),
            ...(p.gracefulRestart?.enabled ? { gracefulRestart: { restartTime: p.gracefulRestart.restartTimeSeconds } } : {}),
          })),
        }
      : null,
    routes: routes.list(),
    blackholes: [...blackholes].sort(),
    localVips: [...localVips].sort(),
    l2,
    dsr,
    installLearnedRoutes: model.podIpam.mode === 'calico',
    problems: [...problems, ...ipam.problems],
  };
}

function desiredL2(model: ClusterModel, ipam: ClusterIpamView, node: string, labels: Labels, localVips: Set<string>): DesiredL2Group[] {
  const groups = new Map<string, DesiredL2Group>();
  for (const intent of model.l2Announcements) {
    if (!matchesSelector(intent.nodeSelector, labels)) continue;
    for (const service of model.services) {
      if (!matchesSelector(intent.serviceSelector, serviceLabels(service))) continue;
      const addresses: string[] = [];
      if (intent.loadBalancerIPs) {
        const status = ipam.services.find((s) => s.service === service.key);
        for (const a of status?.addresses ?? []) if (intent.pools.length === 0 || intent.pools.includes(a.pool)) addresses.push(a.address);
      }
      if (intent.externalIPs) addresses.push(...service.externalIPs);
      if (addresses.length === 0) continue;
      const key = JSON.stringify(intent.interfaces);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { interfaces: [...intent.interfaces], services: [] }));
      const lease = leaseNameFor(service.namespace, service.name);
      const existing = group.services.find((s) => s.lease === lease);
      if (existing) existing.addresses = [...new Set([...existing.addresses, ...addresses])];
      else group.services.push({ lease, addresses });
      for (const address of addresses) localVips.add(address);
    }
  }
  return [...groups.values()];
}

/** nftables table name part: lowercase, <= 36 characters (room for a suffix), unique per service. */
function dsrName(service: ClusterService): string {
  const base = `${service.namespace}_${service.name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return base.length <= 36 ? base : `${base.slice(0, 27)}_${createHash('sha256').update(service.key).digest('hex').slice(0, 8)}`;
}

function desiredDsr(model: ClusterModel, ipam: ClusterIpamView, node: string, localVips: Set<string>, problems: string[]): DesiredDsr[] {
  const out: DesiredDsr[] = [];
  for (const status of ipam.services) {
    const service = model.services.find((s) => s.key === status.service);
    const endpoints = model.endpoints.find((e) => e.service === status.service);
    if (!service || !endpoints) continue;
    const backends = [...new Set(Object.values(endpoints.readyByNode).flat())].filter((a) => isIP(a) === 4).sort();
    if (backends.length === 0) continue;
    const ports: number[] = [];
    for (const port of service.ports) {
      if (port.protocol !== 'TCP') continue;
      if (port.targetPort !== undefined && port.targetPort !== port.port) {
        problems.push(`${service.key}: DSR rewrites addresses only, so port ${port.port} cannot reach targetPort ${port.targetPort}; not served by DSR`);
        continue;
      }
      ports.push(port.port);
    }
    if (ports.length === 0) continue;
    const localBackends = (endpoints.readyByNode[node] ?? []).filter((a) => isIP(a) === 4);
    for (const { address } of status.addresses) {
      if (isIP(address) !== 4) continue;
      const receives = localVips.has(address);
      if (!receives && localBackends.length === 0) continue;
      out.push({
        service: service.key,
        name: dsrName(service),
        vip: address,
        ports,
        ...(receives ? { backends } : {}),
        localBackends,
      });
    }
  }
  return out;
}
