// The one internal model every CRD flavour is translated into. Plain data (JSON-serialisable):
// the agent, the L2 announcer, the datapath and the checks all read this, never the CRDs.

export type Flavour = 'cilium' | 'calico' | 'metallb' | 'anthos';

/** Where a piece of the model came from, for messages a user can act on. */
export interface SourceRef {
  file: string;
  line: number;
  object: string; // "Kind/name" or "Kind/namespace/name"
}

export type Labels = Record<string, string>;

export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** Calico selector expression syntax tree (`rr-group == 'rr1' && has(zone)`). */
export type SelectorExpression =
  | { op: 'all' }
  | { op: 'has'; key: string }
  | { op: '=='; key: string; value: string }
  | { op: '!='; key: string; value: string }
  | { op: 'in'; key: string; values: string[] }
  | { op: 'not in'; key: string; values: string[] }
  | { op: '!'; operand: SelectorExpression }
  | { op: '&&'; operands: SelectorExpression[] }
  | { op: '||'; operands: SelectorExpression[] };

/**
 * `everything` matches all objects (an absent selector in most CRDs), `nothing` none;
 * `labels` is a Kubernetes LabelSelector (matchLabels AND matchExpressions), `expression` a
 * Calico selector.
 */
export type Selector =
  | { type: 'everything' }
  | { type: 'nothing' }
  | { type: 'labels'; matchLabels: Labels; matchExpressions: LabelRequirement[] }
  | { type: 'expression'; source: string; expression: SelectorExpression };

export interface NodeAddresses {
  internalIPs: string[];
  externalIPs: string[];
  hostname?: string;
}

export interface ClusterNode {
  name: string;
  labels: Labels;
  annotations: Record<string, string>;
  addresses: NodeAddresses;
  /** spec.podCIDRs (or spec.podCIDR) as written; empty when an IPAM allocates them. */
  podCIDRs: string[];
  source: SourceRef;
}

export interface ServicePort {
  name?: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ClusterService {
  /** "namespace/name" */
  key: string;
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  labels: Labels;
  annotations: Record<string, string>;
  /** spec.selector (pod labels), informational. */
  podSelector: Labels;
  ports: ServicePort[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Address families the service wants, from spec.ipFamilies (default IPv4). */
  ipFamilies: Array<4 | 6>;
  /** Addresses asked for: spec.loadBalancerIP and the flavours' annotations, canonical text. */
  requestedIPs: string[];
  /** Pools asked for by annotation (MetalLB address-pool, Cilium lb-ipam-pool); empty = any. */
  requestedPools: string[];
  loadBalancerClass?: string;
  clusterIP?: string;
  externalIPs: string[];
  source: SourceRef;
}

/** A pod, for pod IPAM (Calico blocks and borrowing need to know which node a pod is on). */
export interface ClusterPod {
  key: string; // "namespace/name"
  namespace: string;
  name: string;
  node?: string; // spec.nodeName
  labels: Labels;
  /** status.podIPs (or podIP) when the fixture states them: the address the pod must keep. */
  podIPs: string[];
  hostNetwork: boolean;
  source: SourceRef;
}

/** Endpoints of one service, grouped by the node they run on. */
export interface ServiceEndpoints {
  service: string; // "namespace/name"
  /** node name -> endpoint addresses on it; endpoints without a node are under "". */
  byNode: Record<string, string[]>;
  /** node name -> addresses of endpoints that are ready (conditions.ready != false) */
  readyByNode: Record<string, string[]>;
}

/** A load-balancer address pool. */
export interface LbPool {
  name: string;
  flavour: Flavour;
  /** Each block is a CIDR ("10.0.0.0/24") or an inclusive range ("10.0.0.1-10.0.0.4"). */
  blocks: string[];
  serviceSelector: Selector;
  /** Namespaces the pool serves (MetalLB serviceAllocation.namespaces); empty = all. */
  namespaces: string[];
  disabled: boolean;
  /** false: only services that request the pool or one of its addresses get an address. */
  autoAssign: boolean;
  /** Skip the first and last address of every CIDR block longer than /31 (/127). */
  reserveFirstLast: boolean;
  /** MetalLB avoidBuggyIPs: skip addresses ending in .0 and .255. */
  avoidBuggyIPs: boolean;
  /** Conflict order: older pools win an overlap. ISO timestamp when known. */
  createdAt?: string;
  source: SourceRef;
}

export interface BgpTimers {
  holdTimeSeconds: number;
  keepaliveSeconds: number;
  connectRetrySeconds: number;
}

export type AddressFamily = 'ipv4-unicast' | 'ipv6-unicast';

export interface BgpPeer {
  name: string;
  address: string;
  asn: number;
  port: number;
  /** Source address of the session; absent = chosen by the kernel / node address. */
  localAddress?: string;
  /** eBGP multihop TTL; absent = directly connected (TTL 1 for eBGP). */
  multihopTtl?: number;
  timers: BgpTimers;
  families: AddressFamily[];
  addPath?: 'send' | 'receive' | 'both';
  /** RFC 4724 graceful restart offered to this peer (Cilium gracefulRestart); absent = not offered. */
  gracefulRestart?: { enabled: boolean; restartTimeSeconds: number };
  /** Ids of the AdvertisementIntents sent to this peer. */
  advertisements: string[];
  source: SourceRef;
}

/** One BGP speaker instance on one node (Cilium virtual router / bgpInstance, Calico node...). */
export interface BgpInstance {
  node: string;
  name: string;
  localASN: number;
  routerId: string;
  /** Port to listen on; absent = do not listen (Cilium -1) or the default 179. */
  listenPort?: number;
  peers: BgpPeer[];
  source: SourceRef;
}

export type NextHop =
  | { type: 'self' }
  /** Several next hops over one session (Anthos: every load-balancer node, with ADD-PATH). */
  | { type: 'nodes'; nodes: string[] };

export type AdvertisementKind =
  | 'pod-cidr' // the node's pod CIDRs (Cilium exportPodCIDR, BIRD in seed 000)
  | 'ipam-blocks' // Calico: affine blocks + borrowed /32s (see reference/ipam/calico-blocks.ts)
  | 'lb-vip' // load-balancer addresses of selected services
  | 'external-ip'
  | 'cluster-ip'
  | 'control-plane-vip'; // Anthos controlPlaneVIP

export interface AdvertisementIntent {
  id: string;
  kind: AdvertisementKind;
  /** Services concerned (lb-vip / external-ip / cluster-ip). */
  serviceSelector: Selector;
  /** Pools whose addresses qualify (MetalLB ipAddressPools); empty = any pool. */
  pools: string[];
  /** Fixed prefixes to announce (control-plane VIP, Calico serviceLoadBalancerIPs CIDRs). */
  prefixes: string[];
  /** Nodes that may announce; combined with externalTrafficPolicy=Local by the agent. */
  nodeSelector: Selector;
  communities: string[]; // "65000:100" or well-known names resolved to "65535:65281"
  largeCommunities: string[];
  localPref?: number;
  aggregationLengthV4?: number;
  aggregationLengthV6?: number;
  nextHop: NextHop;
  source: SourceRef;
}

export interface L2AnnouncementIntent {
  name: string;
  serviceSelector: Selector;
  nodeSelector: Selector;
  /** Regular expressions (Go RE2 subset) on interface names; empty = every interface. */
  interfaces: string[];
  loadBalancerIPs: boolean;
  externalIPs: boolean;
  /** MetalLB: pools this applies to; empty = all. */
  pools: string[];
  source: SourceRef;
}

export interface FloatingIp {
  address: string;
  /** Load-balancer node that holds the address (deterministic spread over the LB nodes). */
  node: string;
  source: SourceRef;
}

/** Pod address management the cluster uses. */
export type PodIpam =
  | { mode: 'kubernetes' } // nodes carry spec.podCIDRs
  | { mode: 'cluster-pool'; ipv4Cidrs: string[]; ipv4MaskSize: number; ipv6Cidrs: string[]; ipv6MaskSize: number; source: SourceRef }
  | { mode: 'calico'; pools: CalicoPool[]; strictAffinity: boolean; maxBlocksPerHost: number };

export interface CalicoPool {
  name: string;
  cidr: string;
  blockSize: number;
  nodeSelector: Selector;
  disabled: boolean;
  disableBGPExport: boolean;
  source: SourceRef;
}

export interface UnsupportedFeature {
  file: string;
  line: number;
  object: string;
  path: string; // field path, e.g. spec.virtualRouters[0].neighbors[0].gracefulRestart
  feature: string; // what it is and what we do instead
}

export interface ClusterModel {
  flavours: Flavour[];
  nodes: ClusterNode[];
  services: ClusterService[];
  pods: ClusterPod[];
  endpoints: ServiceEndpoints[];
  pools: LbPool[];
  podIpam: PodIpam;
  bgpInstances: BgpInstance[];
  advertisements: AdvertisementIntent[];
  l2Announcements: L2AnnouncementIntent[];
  floatingIPs: FloatingIp[];
  /** Anthos: nodes where load-balanced traffic arrives (nodePoolSpec, default control plane). */
  loadBalancerNodes: string[];
  /** How service traffic reaches backends when the flavour says (Cilium loadBalancer.mode). */
  loadBalancerMode?: 'snat' | 'dsr' | 'hybrid';
  unsupported: UnsupportedFeature[];
}

export const DEFAULT_BGP_TIMERS: BgpTimers = { holdTimeSeconds: 90, keepaliveSeconds: 30, connectRetrySeconds: 120 };
