import { describe, expect, it } from 'vitest';
import { loadClusterFiles } from './load.ts';
import { ClusterInputError } from './manifests.ts';
import type { InputIssue } from './schema.ts';

function issuesOf(files: Record<string, string>): InputIssue[] {
  try {
    loadClusterFiles(files);
  } catch (error) {
    if (error instanceof ClusterInputError) return error.issues;
    throw error;
  }
  throw new Error('expected the cluster files to be rejected');
}

const policy = (neighbor: string): string => `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata:
  name: rack0
spec:
  virtualRouters:
  - localASN: 65005
    neighbors:
    - peerAddress: 10.0.5.1/32
${neighbor}`;

describe('bad cluster input is reported with file, line, object, field path and expectation', () => {
  it('unknown field', () => {
    const [issue] = issuesOf({ 'bgp.yaml': policy('      peerASN: 65005\n      peerAsn: 65005') });
    expect(issue).toMatchObject({ file: 'bgp.yaml', line: 11, object: 'CiliumBGPPeeringPolicy/rack0', path: 'spec.virtualRouters[0].neighbors[0].peerAsn' });
    expect(issue!.message).toMatch(/^unknown field "peerAsn" \(known fields here: peerAddress, peerPort, peerASN/);
  });

  it('wrong type, with the value it got', () => {
    const [issue] = issuesOf({ 'bgp.yaml': policy('      peerASN: "65005x"') });
    expect(issue).toMatchObject({ line: 10, column: 7, path: 'spec.virtualRouters[0].neighbors[0].peerASN', message: 'expected an AS number 1..4294967295, got string "65005x"' });
  });

  it('missing required field', () => {
    const [issue] = issuesOf({ 'bgp.yaml': policy('      holdTimeSeconds: 9') });
    expect(issue).toMatchObject({ path: 'spec.virtualRouters[0].neighbors[0].peerASN', message: expect.stringMatching(/^missing required field "peerASN"/) });
  });

  it('value outside an enumeration', () => {
    const [issue] = issuesOf({ 's.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancr\n' });
    expect(issue).toMatchObject({ line: 5, object: 'Service/web', path: 'spec.type', message: 'expected one of "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", got string "LoadBalancr"' });
  });

  it('YAML syntax errors', () => {
    const [issue] = issuesOf({ 'broken.yaml': 'apiVersion: v1\nkind: Node\nmetadata:\n  name: [unclosed\n' });
    expect(issue).toMatchObject({ file: 'broken.yaml', object: '(document)', message: expect.stringMatching(/^YAML syntax/) });
  });

  it('documents that are not Kubernetes objects', () => {
    const issues = issuesOf({ 'x.yaml': '- just\n- a list\n---\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {}\n' });
    expect(issues.map((i) => [i.line, i.message])).toEqual([
      [1, 'expected a Kubernetes object (a mapping with apiVersion, kind, metadata)'],
      [4, 'missing or non-string apiVersion'],
      [9, 'expected metadata.name (a string)'],
    ]);
  });

  it('keys that are lists or mappings', () => {
    const [issue] = issuesOf({ 'k.yaml': 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  labels:\n    ? [a, b]\n    : x\n' });
    expect(issue).toMatchObject({ file: 'k.yaml', line: 6, message: 'mapping keys must be plain names, not lists or mappings' });
  });

  it('invalid Calico selector expression', () => {
    const [issue] = issuesOf({ 'p.yaml': "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: p}\nspec:\n  peerIP: 192.168.1.1\n  asNumber: 65000\n  nodeSelector: rr-group = 'rr1'\n" });
    expect(issue).toMatchObject({ line: 7, path: 'spec.nodeSelector', message: "selector \"rr-group = 'rr1'\": expected a label key, a quoted value or an operator at column 10" });
  });

  it('bad pool blocks in each flavour', () => {
    const issues = issuesOf({
      'cilium.yaml': 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: p}\nspec:\n  blocks:\n  - cidr: 20.0.10.0/33\n  - start: 10.0.0.1\n    stop: "2001:db8::1"\n',
      'metallb.yaml': 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: m, namespace: metallb-system}\nspec:\n  addresses: [10.0.0.9-10.0.0.1]\n',
      'anthos.yaml': 'apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata: {name: bm}\nspec:\n  controlPlane: {nodePoolSpec: {nodes: [{address: 10.0.1.10}]}}\n  loadBalancer:\n    type: bgp\n    localASN: 65001\n    addressPools:\n    - name: pool1\n      addresses: [10.0.0.1..10.0.0.4]\n',
    });
    expect(issues.map((i) => [i.file, i.line, i.path])).toEqual([
      ['cilium.yaml', 6, 'spec.blocks[0].cidr'],
      ['cilium.yaml', 7, 'spec.blocks[1]'],
      ['metallb.yaml', 5, 'spec.addresses[0]'],
      ['anthos.yaml', 11, 'spec.loadBalancer.addressPools[0].addresses[0]'],
    ]);
  });

  it('bad communities and durations', () => {
    const issues = issuesOf({
      'm.yaml':
        'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a, namespace: x}\nspec:\n  communities: ["70000:1", "no-such-alias"]\n---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: p, namespace: x}\nspec:\n  myASN: 1\n  peerAddress: 10.0.0.1\n  holdTime: 90 seconds\n',
    });
    expect(issues.map((i) => [i.line, i.path, i.message.split(',')[0]])).toEqual([
      [5, 'spec.communities[0]', 'expected a community "asn:value"'],
      [5, 'spec.communities[1]', 'expected a community "asn:value"'],
      [13, 'spec.holdTime', 'expected a duration like "90s" or "1m30s"'],
    ]);
    expect(issues[1]!.message).toContain('got "no-such-alias"');
  });

  it('errors inside the embedded config.yaml of the bgp-config ConfigMap point into the outer file', () => {
    const [issue] = issuesOf({
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bgp-config\n  namespace: kube-system\ndata:\n  config.yaml: |\n    peers:\n    - peer-address: 192.168.121.16\n      peer-asn: 65100\n      my-asn: sixty-five-thousand\n',
    });
    expect(issue).toMatchObject({ file: 'cm.yaml', line: 11, object: 'ConfigMap/kube-system/bgp-config', path: 'data.config.yaml.peers[0].my-asn' });
  });

  it('references to missing objects, duplicates and EndpointSlices without their service', () => {
    const issues = issuesOf({
      'a.yaml':
        'apiVersion: cilium.io/v2\nkind: CiliumBGPClusterConfig\nmetadata: {name: c}\nspec:\n  bgpInstances:\n  - name: i\n    localASN: 65001\n    peers:\n    - name: tor\n      peerAddress: 10.0.0.1\n      peerASN: 65000\n      peerConfigRef: {name: nope}\n',
      'b.yaml': 'apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.2}]}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints: []\n',
    });
    expect(issues.map((i) => [i.file, i.line, i.message])).toEqual([
      ['b.yaml', 6, 'duplicate object: already defined at b.yaml:1'],
      ['b.yaml', 12, 'missing label kubernetes.io/service-name naming the service the slice belongs to'],
      ['a.yaml', 12, 'no CiliumBGPPeerConfig named "nope" in the cluster folder'],
    ]);
  });

  it('requested addresses in annotations must be addresses', () => {
    const [issue] = issuesOf({ 's.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    io.cilium/lb-ipam-ips: "10.0.0.1, ten"\nspec: {type: LoadBalancer}\n' });
    expect(issue).toMatchObject({ line: 6, path: 'metadata.annotations.io.cilium/lb-ipam-ips', message: 'expected comma-separated IP addresses, got "ten"' });
  });

  it('collects every problem at once and formats them one per line', () => {
    let error: unknown;
    try {
      loadClusterFiles({ 'bgp.yaml': policy('      peerASN: x\n      peerPort: 0\n      bogus: 1') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterInputError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('3 problem(s) in the cluster objects:');
    expect(lines[1]).toBe('  bgp.yaml:10:7: CiliumBGPPeeringPolicy/rack0: spec.virtualRouters[0].neighbors[0].peerASN: expected an AS number 1..4294967295, got string "x"');
  });
});

describe('valid but unsupported features are listed, not ignored', () => {
  it('MD5 passwords, BFD, sharing keys (graceful restart is mapped, not listed)', () => {
    const model = loadClusterFiles({
      'all.yaml': `${policy('      peerASN: 65005\n      authSecretRef: bgp-auth\n      gracefulRestart:\n        enabled: true')}
---
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: p}
spec: {peerIP: 192.168.1.1, asNumber: 64512, password: {secretKeyRef: {name: s, key: k}}}
---
apiVersion: v1
kind: Service
metadata:
  name: s
  annotations: {io.cilium/lb-ipam-sharing-key: shared}
spec: {type: LoadBalancer}
`,
    });
    expect(model.unsupported.map((u) => [u.line, u.object, u.path, u.feature])).toEqual([
      [24, 'Service/s', 'metadata.annotations.io.cilium/lb-ipam-sharing-key', 'LB-IPAM address sharing between services'],
      [11, 'CiliumBGPPeeringPolicy/rack0', 'spec.virtualRouters[0].neighbors[0].authSecretRef', 'TCP MD5 authentication'],
      [18, 'BGPPeer/p', 'spec.password', 'TCP MD5 authentication'],
    ]);
  });
});

describe('peer addresses', () => {
  it('a v2alpha1 peerAddress must be an address (a prefix length is tolerated, as in seeds 002/003)', () => {
    const [issue] = issuesOf({ 'bgp.yaml': policy('      peerASN: 65005').replace('10.0.5.1/32', 'leaf01') });
    expect(issue).toMatchObject({ line: 9, path: 'spec.virtualRouters[0].neighbors[0].peerAddress', message: 'expected a peer address, optionally with a prefix length ("10.0.0.1/32"), got "leaf01"' });
  });
});
