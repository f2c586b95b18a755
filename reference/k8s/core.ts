import { canonicalIp } from '../ipam/address.ts';
import type { Manifest } from './manifests.ts';
import type { ClusterNode, ClusterPod, ClusterService, LabelRequirement, Selector, ServiceEndpoints, SourceRef } from './model.ts';
import { EVERYTHING, labelSelector } from './selectors.ts';
import {
  anything,
  bool,
  INVALID,
  int,
  intOrString,
  ip,
  list,
  metadataSchema,
  obj,
  oneOf,
  record,
  report,
  str,
  unsupported,
  type Infer,
  type labelSelectorSchema,
  type Schema,
} from './schema.ts';

// Core Kubernetes objects: Node, Service, EndpointSlice.

export function sourceOf(m: Manifest): SourceRef {
  return { file: m.file, line: m.line, object: m.ref };
}

/** Checks a whole object against its schema; null (with issues recorded) when it is invalid. */
export function checkObject<T>(m: Manifest, schema: Schema<T>): T | null {
  const checked = schema.check(m.value, [], m.ctx);
  return checked === INVALID ? null : checked;
}

/** An absent selector selects everything (the CRDs' convention), an empty one too. */
export function toSelector(selector: Infer<typeof labelSelectorSchema> | undefined): Selector {
  if (!selector) return EVERYTHING;
  const expressions: LabelRequirement[] = (selector.matchExpressions ?? []).map((e) => ({
    key: e.key!,
    operator: e.operator!,
    values: e.values ?? [],
  }));
  return labelSelector(selector.matchLabels ?? {}, expressions);
}

const apiHeader = { apiVersion: str(), kind: str(), metadata: metadataSchema };

const nodeSchema = obj(
  {
    ...apiHeader,
    spec: obj({
      podCIDR: str(),
      podCIDRs: list(str()),
      providerID: anything(),
      taints: anything(),
      unschedulable: anything(),
      externalID: anything(),
      configSource: anything(),
    }),
    status: obj({
      addresses: list(obj({ type: str(), address: str() }, ['type', 'address'])),
      capacity: anything(),
      allocatable: anything(),
      conditions: anything(),
      daemonEndpoints: anything(),
      nodeInfo: anything(),
      images: anything(),
      volumesInUse: anything(),
      volumesAttached: anything(),
      phase: anything(),
      config: anything(),
      runtimeHandlers: anything(),
      features: anything(),
    }),
  },
  ['metadata'],
);

export function translateNode(m: Manifest): ClusterNode | null {
  const node = checkObject(m, nodeSchema);
  if (!node) return null;
  const addresses = node.status?.addresses ?? [];
  const of = (type: string): string[] => addresses.filter((a) => a.type === type).map((a) => canonicalIp(a.address!) ?? a.address!);
  const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
  const hostname = of('Hostname')[0];
  return {
    name: m.name,
    labels: node.metadata?.labels ?? {},
    annotations: node.metadata?.annotations ?? {},
    addresses: { internalIPs: of('InternalIP'), externalIPs: of('ExternalIP'), ...(hostname ? { hostname } : {}) },
    podCIDRs,
    source: sourceOf(m),
  };
}

const servicePortSchema = obj(
  {
    name: str(),
    protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const),
    port: int(1, 65535, 'a port'),
    targetPort: intOrString(),
    nodePort: int(1, 65535, 'a port'),
    appProtocol: anything(),
  },
  ['port'],
);

const serviceSchema = obj(
  {
    ...apiHeader,
    spec: obj({
      type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const),
      selector: record(str()),
      ports: list(servicePortSchema),
      externalTrafficPolicy: oneOf(['Cluster', 'Local'] as const),
      internalTrafficPolicy: anything(),
      loadBalancerIP: ip(),
      loadBalancerClass: str(),
      loadBalancerSourceRanges: unsupported('loadBalancerSourceRanges (source filtering is not enforced by the reference datapath)'),
      clusterIP: str(),
      clusterIPs: list(str()),
      externalIPs: list(ip()),
      externalName: str(),
      ipFamilies: list(oneOf(['IPv4', 'IPv6'] as const)),
      ipFamilyPolicy: oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const),
      sessionAffinity: anything(),
      sessionAffinityConfig: anything(),
      allocateLoadBalancerNodePorts: anything(),
      healthCheckNodePort: anything(),
      publishNotReadyAddresses: anything(),
      trafficDistribution: anything(),
    }),
    status: anything(),
  },
  ['metadata'],
);

/** Annotations through which the flavours let a service ask for addresses. */
const REQUESTED_IP_ANNOTATIONS = ['io.cilium/lb-ipam-ips', 'lbipam.cilium.io/ips', 'metallb.universe.tf/loadBalancerIPs', 'metallb.io/loadBalancerIPs', 'projectcalico.org/loadBalancerIPs'];
const REQUESTED_POOL_ANNOTATIONS = ['metallb.universe.tf/address-pool', 'metallb.io/address-pool', 'io.cilium/lb-ipam-pool'];
const UNSUPPORTED_ANNOTATIONS: Record<string, string> = {
  'io.cilium/lb-ipam-sharing-key': 'LB-IPAM address sharing between services',
  'lbipam.cilium.io/sharing-key': 'LB-IPAM address sharing between services',
  'metallb.universe.tf/allow-shared-ip': 'MetalLB address sharing between services',
  'metallb.io/allow-shared-ip': 'MetalLB address sharing between services',
};

export function translateService(m: Manifest): ClusterService | null {
  const service = checkObject(m, serviceSchema);
  if (!service) return null;
  const spec = service.spec ?? {};
  const annotations = service.metadata?.annotations ?? {};
  const requested: string[] = [];
  let ok = true;
  if (spec.loadBalancerIP) requested.push(spec.loadBalancerIP);
  for (const key of REQUESTED_IP_ANNOTATIONS) {
    if (annotations[key] === undefined) continue;
    for (const part of annotations[key]!.split(',').map((p) => p.trim()).filter(Boolean)) {
      const canonical = canonicalIp(part);
      if (!canonical) {
        report(m.ctx, ['metadata', 'annotations', key], `expected comma-separated IP addresses, got ${JSON.stringify(part)}`);
        ok = false;
      } else if (!requested.includes(canonical)) requested.push(canonical);
    }
  }
  for (const key of Object.keys(annotations)) {
    const feature = UNSUPPORTED_ANNOTATIONS[key];
    if (feature) m.ctx.unsupported.push({ file: m.file, line: m.ctx.locate(['metadata', 'annotations', key]).line, object: m.ref, path: `metadata.annotations.${key}`, feature });
  }
  if (!ok) return null;
  const requestedPools = REQUESTED_POOL_ANNOTATIONS.flatMap((k) => (annotations[k] ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  const namespace = service.metadata?.namespace ?? 'default';
  const families = (spec.ipFamilies ?? []).map((f) => (f === 'IPv6' ? 6 : 4) as 4 | 6);
  const ipFamilies: Array<4 | 6> =
    requested.length > 0 && families.length === 0 ? [...new Set(requested.map((a) => (a.includes(':') ? 6 : 4) as 4 | 6))] : families.length > 0 ? families : [4];
  if (spec.ipFamilyPolicy === 'RequireDualStack' && families.length < 2) ipFamilies.splice(0, ipFamilies.length, 4, 6);
  return {
    key: `${namespace}/${m.name}`,
    namespace,
    name: m.name,
    type: spec.type ?? 'ClusterIP',
    labels: service.metadata?.labels ?? {},
    annotations,
    podSelector: spec.selector ?? {},
    ports: (spec.ports ?? []).map((p) => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      protocol: p.protocol ?? 'TCP',
      port: p.port!,
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
      ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
    })),
    externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
    ipFamilies,
    requestedIPs: requested,
    requestedPools,
    ...(spec.loadBalancerClass !== undefined ? { loadBalancerClass: spec.loadBalancerClass } : {}),
    ...(spec.clusterIP !== undefined ? { clusterIP: spec.clusterIP } : {}),
    externalIPs: spec.externalIPs ?? [],
    source: sourceOf(m),
  };
}

const endpointSliceSchema = obj(
  {
    ...apiHeader,
    addressType: oneOf(['IPv4', 'IPv6', 'FQDN'] as const),
    endpoints: list(
      obj(
        {
          addresses: list(str()),
          conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
          nodeName: str(),
          zone: str(),
          hostname: str(),
          targetRef: anything(),
          deprecatedTopology: anything(),
          hints: anything(),
        },
        ['addresses'],
      ),
    ),
    ports: anything(),
  },
  ['metadata', 'addressType'],
);

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One EndpointSlice's contribution; slices of one service are merged by the loader. */
export function translateEndpointSlice(m: Manifest): ServiceEndpoints | null {
  const slice = checkObject(m, endpointSliceSchema);
  if (!slice) return null;
  const serviceName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!serviceName) {
    report(m.ctx, ['metadata', 'labels'], `missing label ${SERVICE_NAME_LABEL} naming the service the slice belongs to`);
    return null;
  }
  const byNode: Record<string, string[]> = {};
  const readyByNode: Record<string, string[]> = {};
  for (const endpoint of slice.endpoints ?? []) {
    const node = endpoint.nodeName ?? '';
    const addresses = (endpoint.addresses ?? []).map((a) => canonicalIp(a) ?? a);
    (byNode[node] ??= []).push(...addresses);
    if (endpoint.conditions?.ready !== false) (readyByNode[node] ??= []).push(...addresses);
  }
  return { service: `${slice.metadata?.namespace ?? 'default'}/${serviceName}`, byNode, readyByNode };
}

export function mergeEndpoints(slices: ServiceEndpoints[]): ServiceEndpoints[] {
  const merged = new Map<string, ServiceEndpoints>();
  for (const slice of slices) {
    const target = merged.get(slice.service) ?? { service: slice.service, byNode: {}, readyByNode: {} };
    for (const [node, addresses] of Object.entries(slice.byNode)) (target.byNode[node] ??= []).push(...addresses);
    for (const [node, addresses] of Object.entries(slice.readyByNode)) (target.readyByNode[node] ??= []).push(...addresses);
    merged.set(slice.service, target);
  }
  return [...merged.values()];
}

const podSchema = obj(
  {
    ...apiHeader,
    spec: obj({
      nodeName: str(),
      hostNetwork: bool(),
      containers: anything(),
      initContainers: anything(),
      volumes: anything(),
      restartPolicy: anything(),
      serviceAccountName: anything(),
      nodeSelector: anything(),
      affinity: anything(),
      tolerations: anything(),
      securityContext: anything(),
      dnsPolicy: anything(),
      priorityClassName: anything(),
      terminationGracePeriodSeconds: anything(),
    }),
    status: obj({
      podIP: ip(),
      podIPs: list(obj({ ip: ip() }, ['ip'])),
      phase: anything(),
      conditions: anything(),
      hostIP: anything(),
      hostIPs: anything(),
      startTime: anything(),
      containerStatuses: anything(),
      qosClass: anything(),
    }),
  },
  ['metadata'],
);

export function translatePod(m: Manifest): ClusterPod | null {
  const pod = checkObject(m, podSchema);
  if (!pod) return null;
  const namespace = pod.metadata?.namespace ?? 'default';
  const listed = (pod.status?.podIPs ?? []).map((p) => p.ip!);
  const podIPs = listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : [];
  return {
    key: `${namespace}/${m.name}`,
    namespace,
    name: m.name,
    ...(pod.spec?.nodeName !== undefined ? { node: pod.spec.nodeName } : {}),
    labels: pod.metadata?.labels ?? {},
    podIPs,
    hostNetwork: pod.spec?.hostNetwork ?? false,
    source: sourceOf(m),
  };
}
