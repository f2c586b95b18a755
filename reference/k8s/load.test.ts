import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadClusterFolder } from './load.ts';
import { matchesSelector } from './selectors.ts';
import { LbIpam, wantsLoadBalancerAddress } from '../ipam/lb-ipam.ts';
import { ClusterPoolAllocator } from '../ipam/pod-cidr.ts';
import { CalicoBlockIpam } from '../ipam/calico-blocks.ts';
import type { ClusterModel } from './model.ts';

const folder = (name: string): string => fileURLToPath(new URL(`./testdata/${name}/cluster`, import.meta.url));

function peersOf(model: ClusterModel, node: string) {
  return model.bgpInstances.filter((b) => b.node === node).flatMap((b) => b.peers.map((p) => ({ instance: b.name, localASN: b.localASN, routerId: b.routerId, ...p })));
}

function allocate(model: ClusterModel): LbIpam {
  const ipam = new LbIpam(model.pools);
  ipam.reconcile(model.services.filter(wantsLoadBalancerAddress));
  return ipam;
}

describe('seed 000: Cilium bgp-config ConfigMap and cluster-pool', () => {
  const model = loadClusterFolder(folder('seed000-cilium-bgp-configmap'));
  it('peers both nodes (AS 65000) with the router 192.168.121.16 AS 65100', () => {
    for (const [node, id] of [['node1', '10.0.1.10'], ['node2', '10.0.2.10']]) {
      expect(peersOf(model, node!)).toMatchObject([{ localASN: 65000, routerId: id, address: '192.168.121.16', asn: 65100, port: 179 }]);
    }
  });
  it('allocates 192.0.2.0 to whoami-lb and advertises it to the router', () => {
    expect(model.pools).toMatchObject([{ name: 'default', blocks: ['192.0.2.0/24'], reserveFirstLast: false }]);
    expect(allocate(model).addressesOf('default/whoami-lb')).toEqual([{ address: '192.0.2.0', pool: 'default' }]);
    const intent = model.advertisements.find((a) => a.id === peersOf(model, 'node1')[0]!.advertisements[0]);
    expect(intent).toMatchObject({ kind: 'lb-vip', pools: ['default'] });
  });
  it('cuts 172.31.254.0/23 into /26 pod CIDRs per node', () => {
    expect(model.podIpam).toMatchObject({ mode: 'cluster-pool', ipv4Cidrs: ['172.31.254.0/23'], ipv4MaskSize: 26 });
    if (model.podIpam.mode !== 'cluster-pool') throw new Error('unreachable');
    const pool = new ClusterPoolAllocator(model.podIpam);
    expect(model.nodes.map((n) => pool.allocate(n.name))).toEqual([['172.31.254.0/26'], ['172.31.254.64/26']]);
  });
});

describe('seed 001: Calico', () => {
  const model = loadClusterFolder(folder('seed001-calico'));
  it('peers only rr-group=rr1 nodes with the switch, no node mesh, AS 1111111', () => {
    expect(peersOf(model, 'master1')).toEqual([]);
    expect(peersOf(model, 'worker01')).toMatchObject([{ address: '192.168.1.1', asn: 1111111, localASN: 1111111, routerId: '192.168.1.4', advertisements: ['calico/ipam-blocks'] }]);
    expect(peersOf(model, 'worker02').map((p) => p.address)).toEqual(['192.168.1.1']);
  });
  it('gives pod 1.1.1.1/32 the next hop 192.168.1.4 from the 1.1.1.0/31 pool', () => {
    if (model.podIpam.mode !== 'calico') throw new Error(`expected calico pod IPAM, got ${model.podIpam.mode}`);
    expect(model.podIpam).toMatchObject({ strictAffinity: false, maxBlocksPerHost: 4, pools: [{ name: 'ippool-test-0', cidr: '1.1.1.0/31', blockSize: 32 }] });
    const ipam = new CalicoBlockIpam(model.podIpam);
    const node = (name: string) => ({ name, labels: model.nodes.find((n) => n.name === name)!.labels });
    ipam.assign('kube-system/first', node('worker02'));
    expect(ipam.assign('default/nettool', node('worker01')).address).toBe('1.1.1.1');
    expect(ipam.routesFor('worker01', '192.168.1.4')).toContainEqual({ kind: 'advertise', prefix: '1.1.1.1/32', nextHop: '192.168.1.4', reason: 'affine-block' });
  });
  it('meshes all nodes when nodeToNodeMeshEnabled is left on', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    const meshed = loadClusterFiles({
      'nodes.yaml': ['a:10.0.0.1', 'b:10.0.0.2', 'c:10.0.0.3'].map((s) => `apiVersion: v1\nkind: Node\nmetadata: {name: ${s.split(':')[0]}, annotations: {projectcalico.org/ASNumber: "65001"}}\nstatus: {addresses: [{type: InternalIP, address: ${s.split(':')[1]}}]}`).join('\n---\n'),
      'calico.yaml': 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: rr}\nspec: {peerSelector: "has(route-reflector)", nodeSelector: "!has(route-reflector)"}\n---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 65000}',
    });
    // every node carries its own AS by annotation; the mesh peers with each other node's AS
    expect(peersOf(meshed, 'a').map((p) => [p.name, p.address, p.asn, p.localASN])).toEqual([
      ['mesh/b', '10.0.0.2', 65001, 65001],
      ['mesh/c', '10.0.0.3', 65001, 65001],
    ]);
  });
});

describe('seed 002: CiliumBGPPeeringPolicy per rack', () => {
  const model = loadClusterFolder(folder('seed002-cilium-clab'));
  it('peers rack0 nodes with 10.1.5.1 AS 65005 and rack1 with 10.1.8.1 AS 65008, exporting pod CIDRs', () => {
    expect(peersOf(model, 'cilium-bgp-worker')).toMatchObject([{ localASN: 65005, routerId: '10.1.5.11', address: '10.1.5.1', asn: 65005 }]);
    expect(peersOf(model, 'cilium-bgp-worker3')).toMatchObject([{ localASN: 65008, routerId: '10.1.8.11', address: '10.1.8.1', asn: 65008 }]);
    const intent = model.advertisements.find((a) => a.id === peersOf(model, 'cilium-bgp-worker3')[0]!.advertisements[0]);
    expect(intent?.kind).toBe('pod-cidr');
    expect(model.nodes.find((n) => n.name === 'cilium-bgp-worker3')!.podCIDRs).toEqual(['10.98.3.0/24']);
    expect(peersOf(model, 'cilium-bgp-worker')[0]!.timers).toEqual({ holdTimeSeconds: 90, keepaliveSeconds: 30, connectRetrySeconds: 120 });
  });
});

describe('seed 003: Cilium LB-IPAM over BGP and L2', () => {
  const model = loadClusterFolder(folder('seed003-cilium-lb-ipam'));
  it('allocates from the pool whose serviceSelector matches (10.0.5.100 for the L2 service)', () => {
    const ipam = allocate(model);
    expect(ipam.addressesOf('default/nginx-service')).toEqual([{ address: '20.0.10.0', pool: 'lb-pool' }]);
    expect(ipam.addressesOf('default/nginx-service-l2')).toEqual([{ address: '10.0.5.100', pool: 'l2-pool-for-rack0' }]);
  });
  it('advertises only advertise-bgp services, from both racks', () => {
    const lbIntents = model.advertisements.filter((a) => a.kind === 'lb-vip');
    expect(lbIntents).toHaveLength(2);
    const bgpService = model.services.find((s) => s.name === 'nginx-service')!;
    const l2Service = model.services.find((s) => s.name === 'nginx-service-l2')!;
    for (const intent of lbIntents) {
      expect(matchesSelector(intent.serviceSelector, bgpService.labels)).toBe(true);
      expect(matchesSelector(intent.serviceSelector, l2Service.labels)).toBe(false);
    }
  });
  it('announces the L2 pool on ^net0$ from rack0 nodes only', () => {
    const [policy] = model.l2Announcements;
    expect(policy).toMatchObject({ name: 'l2-lb-policy-for-rack0', interfaces: ['^net0$'], loadBalancerIPs: true, externalIPs: false });
    const rack0 = model.nodes.filter((n) => matchesSelector(policy!.nodeSelector, n.labels)).map((n) => n.name);
    expect(rack0).toEqual(['worker-a', 'worker-b']);
  });
  it('groups endpoints by node, ready ones apart', () => {
    expect(model.endpoints).toEqual([{ service: 'default/nginx-service', byNode: { 'worker-c': ['10.1.1.134'], 'worker-b': ['10.1.3.7'] }, readyByNode: { 'worker-c': ['10.1.1.134'] } }]);
  });
  it('lists the Deployment as not modelled rather than dropping it silently', () => {
    expect(model.unsupported).toContainEqual(expect.objectContaining({ object: 'Deployment/nginx-deployment', file: 'cluster/deployment.yaml', line: 1 }));
  });
});

describe('seed 004: Anthos bundled LB with BGP', () => {
  const model = loadClusterFolder(folder('seed004-anthos-bgp'));
  it('peers control-plane nodes with the bgpPeers that list them, multihop, advertising the control-plane VIP', () => {
    expect(peersOf(model, 'cp-1')).toMatchObject([{ instance: 'control-plane', localASN: 65001, address: '10.0.1.254', asn: 65002, localAddress: '10.0.1.10', multihopTtl: 255, advertisements: ['anthos/control-plane-vip'] }]);
    expect(peersOf(model, 'cp-3').map((p) => p.address)).toEqual(['10.0.2.254']);
    expect(model.advertisements.find((a) => a.id === 'anthos/control-plane-vip')!.prefixes).toEqual(['10.0.0.8/32']);
  });
  it('runs two data-plane sessions to bgppeer1 from the floating IPs, ADD-PATH, next hops on every LB node', () => {
    expect(model.floatingIPs.map((f) => [f.address, f.node])).toEqual([['10.0.3.100', 'lb-1'], ['10.0.3.101', 'lb-2']]);
    const sessions = model.bgpInstances.filter((b) => b.name.startsWith('floating/')).flatMap((b) => b.peers.map((p) => [b.node, p.localAddress, p.address, p.asn, p.addPath]));
    expect(sessions).toEqual([
      ['lb-1', '10.0.3.100', '10.0.3.254', 65002, 'send'],
      ['lb-2', '10.0.3.101', '10.0.3.254', 65002, 'send'],
    ]);
    expect(model.advertisements.find((a) => a.id === 'anthos/service-vips')!.nextHop).toEqual({ type: 'nodes', nodes: ['lb-1', 'lb-2'] });
    expect(model.loadBalancerNodes).toEqual(['lb-1', 'lb-2']);
  });
  it('reads the address pool range 10.0.0.1-10.0.0.4 and lists unmodelled Cluster fields', () => {
    expect(model.pools).toMatchObject([{ name: 'pool1', flavour: 'anthos', blocks: ['10.0.0.1-10.0.0.4'], autoAssign: true }]);
    expect(model.unsupported.map((u) => u.path)).toEqual(['spec.type', 'spec.anthosBareMetalVersion', 'spec.clusterNetwork']);
  });
});

describe('MetalLB CRDs', () => {
  const model = loadClusterFolder(folder('metallb-crds'));
  it('orders pools by priority, ORs serviceSelectors, keeps namespaces and autoAssign', () => {
    const [production, spare] = model.pools;
    expect(production).toMatchObject({ name: 'production', namespaces: ['web'], avoidBuggyIPs: true, autoAssign: true });
    expect(spare).toMatchObject({ name: 'spare', autoAssign: false });
    expect(matchesSelector(production!.serviceSelector, { team: 'green' })).toBe(true);
    expect(matchesSelector(production!.serviceSelector, { exposure: 'public' })).toBe(true);
    expect(matchesSelector(production!.serviceSelector, { team: 'red' })).toBe(false);
  });
  it('resolves community aliases and well-known names, pools by selector, peers by name', () => {
    expect(model.advertisements).toMatchObject([{ kind: 'lb-vip', pools: ['production'], communities: ['65535:65282', '1234:1', '65535:65281'], localPref: 100, aggregationLengthV4: 32 }]);
    const n1 = peersOf(model, 'n1');
    expect(n1.map((p) => [p.name, p.asn, p.multihopTtl, p.timers.holdTimeSeconds, p.advertisements.length])).toEqual([
      ['tor-a', 64501, 255, 90, 1],
      ['tor-b', 64502, undefined, 180, 0],
    ]);
    expect(peersOf(model, 'n2').map((p) => p.name)).toEqual(['tor-b']);
  });
  it('turns L2Advertisement interface names into anchored patterns and notes BFD as unsupported', () => {
    expect(model.l2Announcements).toMatchObject([{ name: 'spare-l2', interfaces: ['^eth0\\.100$'], pools: ['spare'] }]);
    expect(model.unsupported).toEqual([expect.objectContaining({ object: 'BGPPeer/metallb-system/tor-a', path: 'spec.bfdProfile', feature: 'BFD' })]);
  });
});

describe('Cilium BGP v2 (ClusterConfig / PeerConfig / Advertisement)', () => {
  const model = loadClusterFolder(folder('cilium-bgp-v2'));
  it('builds the instance on selected nodes with router id from the annotation and peer config timers', () => {
    expect(model.bgpInstances.map((b) => b.node)).toEqual(['kind-worker']);
    const peers = peersOf(model, 'kind-worker');
    expect(peers.map((p) => [p.name, p.address, p.asn, p.routerId, p.multihopTtl, p.timers.holdTimeSeconds, p.timers.keepaliveSeconds, p.families])).toEqual([
      ['peer-65000-tor1', 'fd00:10:0:1::1', 65000, '10.255.0.1', 4, 9, 3, ['ipv4-unicast']],
      ['peer-65000-tor2', '172.18.0.1', 65000, '10.255.0.1', 4, 9, 3, ['ipv4-unicast']],
    ]);
  });
  it('selects advertisements by label with their attributes', () => {
    const ids = peersOf(model, 'kind-worker')[0]!.advertisements;
    const intents = ids.map((id) => model.advertisements.find((a) => a.id === id)!);
    expect(intents.map((i) => [i.kind, i.communities, i.localPref, i.aggregationLengthV4])).toEqual([
      ['pod-cidr', ['65000:99'], 99, undefined],
      ['lb-vip', [], undefined, 24],
    ]);
    expect(matchesSelector(intents[1]!.serviceSelector, { any: 'service' })).toBe(true);
    // CiliumBGPPeerConfig.spec.gracefulRestart maps to the speaker's RFC 4724 graceful restart
    expect(model.unsupported).toEqual([]);
    expect(peersOf(model, 'kind-worker').map((p) => p.gracefulRestart)).toEqual([
      { enabled: true, restartTimeSeconds: 15 },
      { enabled: true, restartTimeSeconds: 15 },
    ]);
  });
});

describe('Cilium Helm values and pods', () => {
  it('reads cluster-pool, bgp.announce and loadBalancer.mode from cilium-values.yaml, listing the rest', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    const model = loadClusterFiles({
      'cluster/cilium-values.yaml':
        'k8sServiceHost: "10.0.1.10"\nipam:\n  operator:\n    clusterPoolIPv4PodCIDR: "172.31.254.0/23"\n    clusterPoolIPv4PodCIDRList: []\n    clusterPoolIPv4MaskSize: 26\nloadBalancer:\n  mode: dsr\nbgp:\n  enabled: true\n  announce:\n    loadbalancerIP: false\n    podCIDR: true\n',
      'cluster/bgp-config.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bgp-config, namespace: kube-system}\ndata:\n  config.yaml: |\n    peers:\n    - {peer-address: 192.168.121.16, peer-asn: 65100, my-asn: 65000}\n    address-pools:\n    - {name: default, protocol: bgp, addresses: [192.0.2.0/24]}\n',
      'cluster/nodes.yaml': 'apiVersion: v1\nkind: Node\nmetadata: {name: node1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.1.10}]}\n',
    });
    expect(model.podIpam).toMatchObject({ mode: 'cluster-pool', ipv4Cidrs: ['172.31.254.0/23'], ipv4MaskSize: 26 });
    expect(model.loadBalancerMode).toBe('dsr');
    const [peer] = peersOf(model, 'node1');
    expect(peer!.advertisements.map((id) => model.advertisements.find((a) => a.id === id)!.kind)).toEqual(['pod-cidr']);
    expect(model.unsupported).toEqual([expect.objectContaining({ object: 'HelmValues/cilium', path: 'k8sServiceHost', line: 1, feature: 'Helm value not modelled' })]);
  });

  it('reads pods with their node and known addresses', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    const model = loadClusterFiles({ 'pods.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: nettool, namespace: default }\nspec: { nodeName: worker01, containers: [{ name: n, image: i }] }\nstatus: { podIP: 1.1.1.1 }\n' });
    expect(model.pods).toMatchObject([{ key: 'default/nettool', node: 'worker01', podIPs: ['1.1.1.1'], hostNetwork: false }]);
  });
});

describe('Cilium path attributes', () => {
  it('per-pool attributes split the LB intent by pool; unsupported notes appear once for many nodes', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    const nodes = ['a:10.0.0.1', 'b:10.0.0.2'].map((s) => `apiVersion: v1\nkind: Node\nmetadata: {name: ${s.split(':')[0]}}\nstatus: {addresses: [{type: InternalIP, address: ${s.split(':')[1]}}]}`).join('\n---\n');
    const model = loadClusterFiles({
      'nodes.yaml': nodes,
      'pools.yaml':
        'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: gold, labels: {tier: gold}}\nspec: {blocks: [{cidr: 10.9.0.0/24}]}\n---\napiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: plain}\nspec: {blocks: [{cidr: 10.8.0.0/24}]}\n',
      'bgp.yaml': `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: p}
spec:
  virtualRouters:
  - localASN: 65001
    serviceSelector: {matchExpressions: [{key: x, operator: DoesNotExist}]}
    neighbors:
    - peerAddress: 10.0.0.254/32
      peerASN: 65000
      gracefulRestart: {enabled: true}
      advertisedPathAttributes:
      - selectorType: CiliumLoadBalancerIPPool
        selector: {matchLabels: {tier: gold}}
        communities: {standard: ["65000:100"], wellKnown: [no-export]}
        localPreference: 200
`,
    });
    const ids = peersOf(model, 'a')[0]!.advertisements;
    const intents = ids.map((id) => model.advertisements.find((a) => a.id === id)!);
    expect(intents.map((i) => [i.pools, i.communities, i.localPref])).toEqual([
      [['gold'], ['65000:100', '65535:65281'], 200],
      [['plain'], [], undefined],
    ]);
    expect(peersOf(model, 'b')[0]!.advertisements).toEqual(ids);
    expect(model.unsupported.filter((u) => u.path.endsWith('gracefulRestart'))).toHaveLength(0);
    // v2alpha1 neighbours' gracefulRestart without restartTimeSeconds: Cilium's default 120 s
    expect(peersOf(model, 'a')[0]!.gracefulRestart).toEqual({ enabled: true, restartTimeSeconds: 120 });
  });
});

describe('CiliumBGPNodeConfigOverride', () => {
  const clusterConfig = `apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: c}
spec:
  bgpInstances:
  - name: i65001
    localASN: 65001
    peers:
    - {name: tor, peerAddress: "fd00::1", peerASN: 65000}
`;
  const v6Node = 'apiVersion: v1\nkind: Node\nmetadata: {name: v6only}\nstatus: {addresses: [{type: InternalIP, address: "fd00::10"}]}\n';

  it('sets router id, port and peer source address per node', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    const model = loadClusterFiles({
      'a.yaml': clusterConfig,
      'n.yaml': v6Node,
      'o.yaml': 'apiVersion: cilium.io/v2\nkind: CiliumBGPNodeConfigOverride\nmetadata: {name: v6only}\nspec:\n  bgpInstances:\n  - name: i65001\n    routerID: 192.0.2.10\n    localPort: 1790\n    peers:\n    - {name: tor, localAddress: "fd00::10"}\n',
    });
    expect(model.bgpInstances).toMatchObject([{ node: 'v6only', routerId: '192.0.2.10', listenPort: 1790, peers: [{ name: 'tor', localAddress: 'fd00::10' }] }]);
  });

  it('an IPv6-only node without override, or an override for nothing, is an error', async () => {
    const { loadClusterFiles } = await import('./load.ts');
    expect(() => loadClusterFiles({ 'a.yaml': clusterConfig, 'n.yaml': v6Node })).toThrow(/node v6only has no IPv4 address for a router id: set routerID in a CiliumBGPNodeConfigOverride/);
    expect(() =>
      loadClusterFiles({ 'a.yaml': clusterConfig, 'n.yaml': v6Node, 'o.yaml': 'apiVersion: cilium.io/v2\nkind: CiliumBGPNodeConfigOverride\nmetadata: {name: v6only}\nspec:\n  bgpInstances:\n  - {name: typo, routerID: 192.0.2.10}\n' }),
    ).toThrow(/o.yaml:6:6: CiliumBGPNodeConfigOverride\/v6only: spec.bgpInstances\[0\].name: no BGP instance "typo" runs on node v6only/);
  });
});
