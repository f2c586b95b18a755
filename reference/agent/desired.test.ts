import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateCluster } from '../ipam/cluster-ipam.ts';
import { loadClusterFiles, loadClusterFolder } from '../k8s/load.ts';
import { computeDesiredState } from './desired.ts';
import { dsrSteps } from './dsr.ts';
import { kernelSteps } from './kernel.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}/cluster`, import.meta.url));

function desiredFor(dir: string, node: string) {
  const model = loadClusterFolder(dir);
  return computeDesiredState(model, allocateCluster(model), node, { connectRetrySeconds: 1 });
}

describe('desired state per flavour', () => {
  it('cilium ConfigMap (seed 000): pod CIDR from cluster-pool and the first VIP, to the one peer, next hop self', () => {
    const node1 = desiredFor(fixture('seed-000-cilium-two-subnets'), 'node1');
    const node2 = desiredFor(fixture('seed-000-cilium-two-subnets'), 'node2');
    expect(node1.bgp).toMatchObject({ localAsn: 65000, routerId: '10.0.1.10', peers: [{ address: '192.168.121.16', asn: 65100, connectRetry: 1 }] });
    expect(node1.routes.map((r) => [r.prefix, r.pathId, r.nextHop, r.peers])).toEqual([
      ['172.31.254.0/26', 0, undefined, ['192.168.121.16']],
      ['192.0.2.0/32', 0, undefined, ['192.168.121.16']],
    ]);
    expect(node2.routes.map((r) => r.prefix)).toEqual(['172.31.254.64/26', '192.0.2.0/32']);
    expect(node1.localVips).toEqual(['192.0.2.0']);
    expect(node1.problems).toEqual([]);
  });

  it('cilium peering policy (seed 003): only advertise-bgp services, per rack; L2 VIP only on rack0', () => {
    const rack0 = desiredFor(fixture('seed-003-rack-lb'), 'rack0-node1');
    const rack1 = desiredFor(fixture('seed-003-rack-lb'), 'rack1-node2');
    const vipOf = (d: typeof rack0) => d.routes.filter((r) => r.reasons.some((id) => !id.includes('PodCIDR') && !id.includes('pod'))).map((r) => r.prefix);
    expect(rack0.routes.map((r) => r.prefix)).toContain('10.1.0.0/24');
    expect(rack1.routes.map((r) => r.prefix)).toContain('10.1.1.0/24');
    const rack0Vips = rack0.routes.filter((r) => r.prefix.startsWith('20.0.0.'));
    expect(rack0Vips).toHaveLength(1); // nginx-service only, not unselected-service
    expect(rack0Vips[0]!.prefix).toMatch(/\/32$/);
    expect(rack1.routes.filter((r) => r.prefix.startsWith('20.0.0.')).map((r) => r.prefix)).toEqual(rack0Vips.map((r) => r.prefix));
    expect(vipOf(rack0).some((p) => p.startsWith('10.0.5.'))).toBe(false); // the L2 VIP is not in BGP
    expect(rack0.l2).toEqual([{ interfaces: ['^net0$'], services: [{ lease: 'cilium-l2announce-default-nginx-service-l2', addresses: ['10.0.5.100'] }] }]);
    expect(rack1.l2).toEqual([]);
  });

  it('calico (seed 001): block advertised with a blackhole on the owner, borrowed /32 from the borrower', () => {
    const worker01 = desiredFor(fixture('seed-001-calico-rr'), 'worker01');
    const worker02 = desiredFor(fixture('seed-001-calico-rr'), 'worker02');
    expect(worker01.routes.map((r) => r.prefix)).toEqual(['1.1.1.0/29']);
    expect(worker01.blackholes).toEqual(['1.1.1.0/29']);
    expect(worker02.routes.map((r) => r.prefix)).toContain('1.1.1.2/32');
    expect(worker02.blackholes).not.toContain('1.1.1.0/29');
    expect(kernelSteps(worker01).map((s) => (s.kind === 'command' ? s.apply.join(' ') : s.kind))).toEqual(['ip route replace blackhole 1.1.1.0/29 proto static']);
  });

  it('anthos (seed 004): floating-IP sessions carry one path per load-balancer node; control plane announces its VIP', () => {
    const lb1 = desiredFor(fixture('seed-004-anthos-floating'), '10.0.1.20');
    expect(lb1.bgp!.peers.map((p) => [p.address, p.localAddress, p.addPath])).toEqual([
      ['10.8.0.10', '10.0.1.100', 'send'],
      ['10.8.0.11', '10.0.1.100', 'send'],
    ]);
    expect(lb1.routes.map((r) => [r.prefix, r.pathId, r.nextHop])).toEqual([
      ['10.0.0.1/32', 1, '10.0.1.20'],
      ['10.0.0.1/32', 2, '10.0.2.20'],
    ]);
    expect(lb1.localVips).toEqual(['10.0.0.1']);
    const cp1 = desiredFor(fixture('seed-004-anthos-floating'), '10.0.1.10');
    expect(cp1.routes.map((r) => [r.prefix, r.pathId])).toEqual([['10.0.0.8/32', 0]]);
    expect(cp1.localVips).toEqual([]);
  });

  it('externalTrafficPolicy=Local: only nodes with a ready local endpoint announce', () => {
    const files = {
      'nodes.yaml': `apiVersion: v1
kind: Node
metadata: { name: a, labels: { bgp: "on" } }
status: { addresses: [{ type: InternalIP, address: 10.0.0.1 }] }
---
apiVersion: v1
kind: Node
metadata: { name: b, labels: { bgp: "on" } }
status: { addresses: [{ type: InternalIP, address: 10.0.0.2 }] }
`,
      'bgp.yaml': `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: { name: p }
spec:
  nodeSelector: { matchLabels: { bgp: "on" } }
  virtualRouters:
    - localASN: 65001
      serviceSelector: { matchLabels: { bgp: "yes" } }
      neighbors: [{ peerAddress: "10.0.0.254/32", peerASN: 65000 }]
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: { name: pool }
spec: { blocks: [{ cidr: 198.51.100.0/24 }] }
`,
      'svc.yaml': `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default, labels: { bgp: "yes" } }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ports: [{ port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
endpoints:
  - { addresses: [10.244.0.5], nodeName: b, conditions: { ready: true } }
`,
    };
    const model = loadClusterFiles(files);
    const ipam = allocateCluster(model);
    expect(computeDesiredState(model, ipam, 'a').routes).toEqual([]);
    expect(computeDesiredState(model, ipam, 'b').routes.map((r) => r.prefix)).toEqual(['198.51.100.0/32']);
  });

  it('DSR (seed 000, loadBalancer.mode=dsr) once the service has an endpoint: receivers rewrite to it, its node answers from the VIP', () => {
    const dir = fixture('seed-000-cilium-two-subnets');
    const files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    files['endpoints.yaml'] = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: whoami-lb-1, namespace: default, labels: { kubernetes.io/service-name: whoami-lb } }
addressType: IPv4
endpoints:
  - { addresses: [10.0.2.10], nodeName: node2, conditions: { ready: true } }
`;
    const model = loadClusterFiles(files);
    const ipam = allocateCluster(model);
    const node1 = computeDesiredState(model, ipam, 'node1');
    const node2 = computeDesiredState(model, ipam, 'node2');
    expect(node1.dsr).toEqual([{ service: 'default/whoami-lb', name: 'default_whoami_lb', vip: '192.0.2.0', ports: [80], backends: ['10.0.2.10'], localBackends: [] }]);
    expect(node2.dsr).toEqual([{ service: 'default/whoami-lb', name: 'default_whoami_lb', vip: '192.0.2.0', ports: [80], backends: ['10.0.2.10'], localBackends: ['10.0.2.10'] }]);
    const problems: string[] = [];
    const steps = dsrSteps(node2.dsr, { gateway: '10.0.2.2', dev: 'eth1' }, problems);
    expect(problems).toEqual([]);
    expect(steps.filter((x) => x.kind === 'nft-table').map((x) => x.kind === 'nft-table' && x.name)).toEqual(['peerproof_dsr_default_whoami_lb_lb', 'peerproof_dsr_default_whoami_lb_be0']);
    expect(steps.some((x) => x.kind === 'command' && x.apply.join(' ') === 'ip rule add priority 1000 from 192.0.2.0 lookup 100')).toBe(true);
    // no return path: said, not guessed
    dsrSteps(node2.dsr, null, problems);
    expect(problems).toEqual(['default/whoami-lb: no IPv4 default route on this node, so DSR replies from 192.0.2.0 have no return path']);
    expect(computeDesiredState(loadClusterFolder(dir), allocateCluster(loadClusterFolder(dir)), 'node1').dsr).toEqual([]); // no endpoints yet
  });

  it('MetalLB aggregationLength announces the aggregate (IPv4 and IPv6), not the host route', () => {
    const model = loadClusterFiles({
      'all.yaml': `apiVersion: v1
kind: Node
metadata: { name: a }
status: { addresses: [{ type: InternalIP, address: 10.0.0.1 }] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [198.51.100.8/29, "2001:db8:5::/120"] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor, namespace: metallb-system }
spec: { myASN: 65001, peerASN: 65000, peerAddress: 10.0.0.254 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: agg, namespace: metallb-system }
spec: { ipAddressPools: [pool], aggregationLength: 30, aggregationLengthV6: 64 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: LoadBalancer
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  ports: [{ port: 80, protocol: TCP }]
`,
    });
    const desired = computeDesiredState(model, allocateCluster(model), 'a');
    expect(desired.problems).toEqual([]);
    expect(desired.routes.map((r) => r.prefix)).toEqual(['198.51.100.8/30', '2001:db8:5::/64']);
  });
});

describe('graceful restart from the CRDs to the speaker config', () => {
  it('CiliumBGPPeerConfig.spec.gracefulRestart: the peer offers RFC 4724 GR with the restart time asked for', async () => {
    const { speakerConfigFor } = await import('./speaker-routes.ts');
    const dir = fileURLToPath(new URL('../k8s/testdata/cilium-bgp-v2/cluster', import.meta.url));
    const desired = desiredFor(dir, 'kind-worker');
    expect(desired.bgp!.peers.map((p) => p.gracefulRestart)).toEqual([{ restartTime: 15 }, { restartTime: 15 }]);
    const config = speakerConfigFor(desired.bgp!, 'agent');
    expect(config.gracefulRestart).toEqual({ enabled: true, restartTime: 15, restarting: false });
    expect(config.peers.map((p) => p.gracefulRestart)).toEqual([true, true]);
  });

  it('a peer without gracefulRestart gets no GR capability, and no peer asking for it leaves GR off', async () => {
    const { speakerConfigFor } = await import('./speaker-routes.ts');
    const node1 = desiredFor(fixture('seed-000-cilium-two-subnets'), 'node1');
    expect(node1.bgp!.peers[0]!.gracefulRestart).toBeUndefined();
    const config = speakerConfigFor(node1.bgp!, 'agent');
    expect(config.gracefulRestart.enabled).toBe(false);
    expect(config.peers[0]!.gracefulRestart).toBe(false);
  });
});
