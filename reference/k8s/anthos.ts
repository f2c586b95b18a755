import { checkObject, sourceOf } from './core.ts';
import { advertisementIntent, emptyOutput, type FlavourTranslator } from './flavour.ts';
import type { Manifest } from './manifests.ts';
import { DEFAULT_BGP_TIMERS, type AdvertisementIntent, type BgpPeer, type ClusterNode, type SourceRef } from './model.ts';
import { EVERYTHING, labelSelector, matchesSelector, NOTHING } from './selectors.ts';
import { anything, asn, bool, int, ip, list, metadataSchema, noteUnsupported, obj, oneOf, port, record, report, str, unsupported } from './schema.ts';
import { parseRange } from '../ipam/address.ts';

// Anthos clusters on bare metal, bundled load balancer with BGP (seed 004): the Cluster's
// spec.loadBalancer, NetworkGatewayGroup (floating IPs), BGPLoadBalancer (peerSelector) and
// BGPPeer (sessions). Control-plane VIP sessions start from control-plane nodes; service VIP
// sessions start from floating IPs and carry every load-balancer node as a next hop (ADD-PATH).

/** Anthos peers eBGP multihop by default (seed 004). */
const MULTIHOP_TTL = 255;
const DEFAULT_SESSIONS = 2;

const notModelled = (what: string) => unsupported(`${what} (not part of the network model)`);
const nodeList = list(obj({ address: ip(), k8sIP: ip(), labels: record(str()) }, ['address']));

const clusterSchema = obj(
  {
    apiVersion: str(),
    kind: str(),
    metadata: metadataSchema,
    status: anything(),
    spec: obj({
      type: notModelled('cluster type'),
      profile: notModelled('profile'),
      anthosBareMetalVersion: notModelled('version'),
      bypassPreflightCheck: notModelled('preflight checks'),
      gkeConnect: notModelled('GKE connect'),
      gkeOnPremAPI: notModelled('GKE On-Prem API'),
      controlPlane: obj({ nodePoolSpec: obj({ nodes: nodeList, clusterName: str(), taints: anything(), labels: anything(), kubeletConfig: anything() }), apiServerCertExtraSANs: anything() }),
      clusterNetwork: notModelled('clusterNetwork (pod/service CIDRs, advanced networking)'),
      loadBalancer: obj({
        mode: oneOf(['bundled', 'manual'] as const),
        type: oneOf(['bgp', 'layer2'] as const),
        localASN: asn(),
        bgpPeers: list(obj({ ip: ip(), asn: asn(), controlPlaneNodes: list(ip()) }, ['ip', 'asn'])),
        ports: obj({ controlPlaneLBPort: port() }),
        vips: obj({ controlPlaneVIP: ip(), ingressVIP: ip() }),
        addressPools: list(obj({ name: str(), addresses: list(str()), avoidBuggyIPs: bool(), manualAssign: bool() }, ['name', 'addresses'])),
        nodePoolSpec: obj({ nodes: nodeList, clusterName: str(), taints: anything(), labels: anything(), kubeletConfig: anything() }),
        controlPlaneBGP: unsupported('loadBalancer.controlPlaneBGP (separate control-plane BGP settings)'),
        localPoolSpec: anything(),
      }),
      clusterOperations: notModelled('clusterOperations'),
      storage: notModelled('storage'),
      proxy: notModelled('proxy'),
      kubevirt: notModelled('kubevirt'),
      authentication: notModelled('authentication'),
      nodeAccess: notModelled('nodeAccess'),
      nodeConfig: notModelled('nodeConfig'),
      osEnvironmentConfig: notModelled('osEnvironmentConfig'),
      maintenanceBlocks: notModelled('maintenanceBlocks'),
      clusterSecurity: notModelled('clusterSecurity'),
      registryMirrors: notModelled('registryMirrors'),
      upgradeStrategy: notModelled('upgradeStrategy'),
      binaryAuthorization: notModelled('binaryAuthorization'),
      podDensity: notModelled('podDensity'),
      kubeletConfig: notModelled('kubeletConfig'),
      adminCluster: notModelled('adminCluster'),
    }),
  },
  ['spec'],
);

const header = { apiVersion: str(), kind: str(), metadata: metadataSchema, status: anything() };
const gatewayGroupSchema = obj({ ...header, spec: obj({ floatingIPs: list(ip()), nodeSelector: unsupported('NetworkGatewayGroup nodeSelector (floating IPs spread over the load-balancer nodes)') }, ['floatingIPs']) }, ['spec']);
const bgpLoadBalancerSchema = obj({ ...header, spec: obj({ peerSelector: record(str()) }) }, ['spec']);
const bgpPeerSchema = obj(
  { ...header, spec: obj({ localASN: asn(), peerASN: asn(), peerIP: ip(), sessions: int(1, 64, 'a session count'), selectors: unsupported('BGPPeer selectors') }, ['localASN', 'peerASN', 'peerIP']) },
  ['spec'],
);

function nodeNameFor(address: string, nodes: ClusterNode[]): string {
  return nodes.find((n) => n.addresses.internalIPs.includes(address) || n.addresses.externalIPs.includes(address))?.name ?? address;
}

function peer(name: string, address: string, peerAsn: number, advertisements: string[], source: SourceRef, extra: Partial<BgpPeer> = {}): BgpPeer {
  return {
    name,
    address,
    asn: peerAsn,
    port: 179,
    multihopTtl: MULTIHOP_TTL,
    timers: { ...DEFAULT_BGP_TIMERS },
    families: ['ipv4-unicast'],
    advertisements,
    source,
    ...extra,
  };
}

export const anthosTranslator: FlavourTranslator = {
  flavour: 'anthos',
  handles: (m) => m.group === 'baremetal.cluster.gke.io' || m.group === 'networking.gke.io',
  translate(input) {
    const out = emptyOutput();
    const clusters = input.manifests.filter((m) => m.kind === 'Cluster' && m.group === 'baremetal.cluster.gke.io');
    const floating: Array<{ address: string; m: Manifest }> = [];
    let peerSelector: Record<string, string> | null = null;
    const dataPeers: Array<{ m: Manifest; labels: Record<string, string>; localASN: number; peerASN: number; peerIP: string; sessions: number }> = [];
    for (const m of input.manifests) {
      if (m.kind === 'NetworkGatewayGroup') {
        const checked = checkObject(m, gatewayGroupSchema);
        for (const address of checked?.spec?.floatingIPs ?? []) floating.push({ address, m });
      } else if (m.kind === 'BGPLoadBalancer') {
        const checked = checkObject(m, bgpLoadBalancerSchema);
        if (checked) peerSelector = { ...(peerSelector ?? {}), ...(checked.spec?.peerSelector ?? {}) };
      } else if (m.kind === 'BGPPeer' && m.group === 'networking.gke.io') {
        const checked = checkObject(m, bgpPeerSchema);
        if (checked) {
          const s = checked.spec!;
          dataPeers.push({ m, labels: checked.metadata?.labels ?? {}, localASN: s.localASN!, peerASN: s.peerASN!, peerIP: s.peerIP!, sessions: s.sessions ?? DEFAULT_SESSIONS });
        }
      } else if (m.kind !== 'Cluster') {
        noteUnsupported(m.ctx, [], `kind ${m.kind} (${m.apiVersion}) is not modelled; the object is ignored`);
      }
    }
    if (clusters.length > 1) report(clusters[1]!.ctx, [], 'only one Anthos Cluster per cluster folder is supported');
    const clusterManifest = clusters[0];
    if (!clusterManifest) {
      if (input.manifests.length > 0) report(input.manifests[0]!.ctx, [], 'Anthos objects need the Cluster (baremetal.cluster.gke.io/v1) that holds spec.loadBalancer');
      return out;
    }
    const cluster = checkObject(clusterManifest, clusterSchema);
    if (!cluster) return out;
    const lb = cluster.spec?.loadBalancer;
    if (!lb) {
      report(clusterManifest.ctx, ['spec', 'loadBalancer'], 'missing required field "loadBalancer"');
      return out;
    }
    if (lb.mode === 'manual') {
      noteUnsupported(clusterManifest.ctx, ['spec', 'loadBalancer', 'mode'], 'manual load balancing (an external load balancer peerproof does not model); nothing is announced');
      return out;
    }
    const source = sourceOf(clusterManifest);
    const cpAddresses = (cluster.spec?.controlPlane?.nodePoolSpec?.nodes ?? []).map((n) => n.address!);
    const lbAddresses = lb.nodePoolSpec?.nodes?.map((n) => n.address!) ?? cpAddresses;
    out.loadBalancerNodes = lbAddresses.map((a) => nodeNameFor(a, input.nodes));

    (lb.addressPools ?? []).forEach((pool, p) => {
      const blocks = pool.addresses ?? [];
      const bad = blocks.findIndex((b) => !parseRange(b) || !(b.includes('/') || b.includes('-')));
      if (bad >= 0) {
        report(clusterManifest.ctx, ['spec', 'loadBalancer', 'addressPools', p, 'addresses', bad], `expected a CIDR or a range like 10.0.0.1-10.0.0.4, got ${JSON.stringify(blocks[bad])}`);
        return;
      }
      out.pools.push({
        name: pool.name!,
        flavour: 'anthos',
        blocks,
        serviceSelector: EVERYTHING,
        namespaces: [],
        disabled: false,
        autoAssign: !(pool.manualAssign ?? false),
        reserveFirstLast: false,
        avoidBuggyIPs: pool.avoidBuggyIPs ?? false,
        source,
      });
    });

    if ((lb.type ?? 'layer2') === 'layer2') {
      out.l2Announcements.push({
        name: 'anthos-bundled-layer2',
        serviceSelector: EVERYTHING,
        nodeSelector: EVERYTHING, // restricted to loadBalancerNodes by the consumer
        interfaces: [],
        loadBalancerIPs: true,
        externalIPs: false,
        pools: [],
        source,
      });
      return out;
    }
    if (lb.localASN === undefined) {
      report(clusterManifest.ctx, ['spec', 'loadBalancer', 'localASN'], 'missing required field "localASN" for type bgp');
      return out;
    }

    const intent = (id: string, kind: AdvertisementIntent['kind'], prefixes: string[], nextHop: AdvertisementIntent['nextHop']): AdvertisementIntent =>
      advertisementIntent(id, kind, kind === 'lb-vip' ? EVERYTHING : NOTHING, source, { pools: kind === 'lb-vip' ? out.pools.map((p) => p.name) : [], prefixes, nextHop });

    // Control plane: each control-plane node peers with the bgpPeers that list it (or all).
    if (lb.vips?.controlPlaneVIP) {
      out.advertisements.push(intent('anthos/control-plane-vip', 'control-plane-vip', [`${lb.vips.controlPlaneVIP}/32`], { type: 'self' }));
    }
    for (const address of cpAddresses) {
      const peers = (lb.bgpPeers ?? [])
        .filter((p) => (p.controlPlaneNodes ?? []).length === 0 || p.controlPlaneNodes!.includes(address))
        .map((p) => peer(`control-plane/${p.ip}`, p.ip!, p.asn!, lb.vips?.controlPlaneVIP ? ['anthos/control-plane-vip'] : [], source, { localAddress: address }));
      if (peers.length > 0) out.bgpInstances.push({ node: nodeNameFor(address, input.nodes), name: 'control-plane', localASN: lb.localASN, routerId: address, peers, source });
    }

    // Data plane: sessions from floating IPs, next hops = every load-balancer node.
    const lbNodes = out.loadBalancerNodes;
    const vipIntent = intent('anthos/service-vips', 'lb-vip', lb.vips?.ingressVIP ? [`${lb.vips.ingressVIP}/32`] : [], { type: 'nodes', nodes: lbNodes });
    out.advertisements.push(vipIntent);
    if (lbNodes.length === 0) {
      report(clusterManifest.ctx, ['spec', 'loadBalancer', 'nodePoolSpec'], 'no load-balancer nodes: set loadBalancer.nodePoolSpec.nodes or controlPlane.nodePoolSpec.nodes');
      return out;
    }
    out.floatingIPs = floating.map((f, i) => ({ address: f.address, node: lbNodes[i % lbNodes.length]!, source: sourceOf(f.m) }));
    if (out.floatingIPs.length === 0 && (dataPeers.length > 0 || peerSelector)) {
      report(clusterManifest.ctx, ['spec', 'loadBalancer'], 'BGP load balancing for services needs a NetworkGatewayGroup with floatingIPs');
      return out;
    }
    const selector = peerSelector;
    const selected = selector ? dataPeers.filter((p) => matchesSelector(labelSelector(selector), p.labels)) : dataPeers;
    const sessionsPerPeer =
      selected.length > 0
        ? selected.map((p) => ({ name: p.m.name, address: p.peerIP, asn: p.peerASN, localASN: p.localASN, sessions: p.sessions, src: sourceOf(p.m) }))
        : (lb.bgpPeers ?? []).map((p) => ({ name: `bgp-peer/${p.ip}`, address: p.ip!, asn: p.asn!, localASN: lb.localASN!, sessions: DEFAULT_SESSIONS, src: source }));
    for (const p of sessionsPerPeer) {
      const count = Math.min(p.sessions, out.floatingIPs.length);
      for (let s = 0; s < count; s++) {
        const fip = out.floatingIPs[s]!;
        const instanceName = `floating/${fip.address}`;
        let instance = out.bgpInstances.find((b) => b.node === fip.node && b.name === instanceName);
        if (!instance) {
          instance = { node: fip.node, name: instanceName, localASN: p.localASN, routerId: fip.address, peers: [], source: fip.source };
          out.bgpInstances.push(instance);
        }
        instance.peers.push(peer(`${p.name}/${fip.address}`, p.address, p.asn, [vipIntent.id], p.src, { localAddress: fip.address, addPath: 'send' }));
      }
    }
    return out;
  },
};
