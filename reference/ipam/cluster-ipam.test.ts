import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateCluster } from './cluster-ipam.ts';
import { loadClusterFiles, loadClusterFolder } from '../k8s/load.ts';
import type { ClusterModel } from '../k8s/model.ts';

const dir = mkdtempSync(join(tmpdir(), `peerproof-cluster-ipam-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const testdata = (name: string): string => fileURLToPath(new URL(`../k8s/testdata/${name}/cluster`, import.meta.url));

describe('allocateCluster', () => {
  it('seed 003: allocates, survives restarts, releases deleted services and keeps the others stable', () => {
    const state = join(dir, 'seed003.json');
    const model = loadClusterFolder(testdata('seed003-cilium-lb-ipam'));
    const first = allocateCluster(model, state);
    expect(first.services.map((s) => [s.service, s.addresses.map((a) => a.address)])).toEqual([
      ['default/nginx-service', ['20.0.10.0']],
      ['default/nginx-service-l2', ['10.0.5.100']],
    ]);
    expect(allocateCluster(model, state)).toEqual(first);

    // a newer service arrives while an older one is deleted; the survivor keeps its address
    const changed: ClusterModel = {
      ...model,
      services: [
        { ...model.services[1]!, key: 'default/another-l2', name: 'another-l2' },
        model.services[1]!,
      ],
    };
    const second = allocateCluster(changed, state);
    expect(second.services.map((s) => [s.service, s.addresses[0]?.address])).toEqual([
      ['default/another-l2', '10.0.5.101'],
      ['default/nginx-service-l2', '10.0.5.100'],
    ]);
    expect(second.pools.find((p) => p.name === 'lb-pool')!.used).toBe(0);
  });

  it('seed 000: pod CIDRs per node from the cluster pool, stable across restarts', () => {
    const state = join(dir, 'seed000.json');
    const model = loadClusterFolder(testdata('seed000-cilium-bgp-configmap'));
    const view = allocateCluster(model, state);
    expect(view.podCidrs).toEqual({ node1: ['172.31.254.0/26'], node2: ['172.31.254.64/26'] });
    const withoutNode1 = allocateCluster({ ...model, nodes: model.nodes.slice(1) }, state);
    expect(withoutNode1.podCidrs).toEqual({ node2: ['172.31.254.64/26'] });
    expect(view.services[0]!.addresses[0]!.address).toBe('192.0.2.0');
  });

  it('Calico: known pod addresses, borrowed /32 and blackholes per node', () => {
    const model = loadClusterFiles({
      'nodes.yaml': ['worker01:192.168.1.4', 'worker02:192.168.1.5'].map((s) => `apiVersion: v1\nkind: Node\nmetadata: {name: ${s.split(':')[0]}}\nstatus: {addresses: [{type: InternalIP, address: ${s.split(':')[1]}}]}`).join('\n---\n'),
      'calico.yaml': 'apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: ippool-test-0}\nspec: {cidr: 1.1.1.0/24, blockSize: 29, ipipMode: Never, nodeSelector: all()}\n---\napiVersion: crd.projectcalico.org/v1\nkind: IPAMConfig\nmetadata: {name: default}\nspec: {strictAffinity: false, maxBlocksPerHost: 4}\n',
      'pods.yaml':
        'apiVersion: v1\nkind: Pod\nmetadata: {name: nettool, namespace: default}\nspec: {nodeName: worker01}\nstatus: {podIP: 1.1.1.1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: nettool-borrowed, namespace: default}\nspec: {nodeName: worker02}\nstatus: {podIP: 1.1.1.2}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: fresh, namespace: default}\nspec: {nodeName: worker02}\n',
    });
    const view = allocateCluster(model, join(dir, 'calico.json'));
    expect(view.problems).toEqual([]);
    expect(view.calico!.assignments.map((a) => [a.pod, a.address, a.borrowed])).toEqual([
      ['default/nettool', '1.1.1.1', false],
      ['default/nettool-borrowed', '1.1.1.2', true],
      ['default/fresh', '1.1.1.8', false],
    ]);
    expect(view.calico!.routes.worker01!.filter((r) => r.kind !== 'local')).toEqual([
      { kind: 'advertise', prefix: '1.1.1.0/29', nextHop: '192.168.1.4', reason: 'affine-block' },
      { kind: 'blackhole', prefix: '1.1.1.0/29' },
    ]);
    expect(view.calico!.routes.worker02).toContainEqual({ kind: 'advertise', prefix: '1.1.1.2/32', nextHop: '192.168.1.5', reason: 'borrowed-address' });
    expect(allocateCluster(model, join(dir, 'calico.json'))).toEqual(view);
  });
});
