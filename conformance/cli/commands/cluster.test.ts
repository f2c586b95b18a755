import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { summary } from './cluster.ts';
import { loadClusterFolder } from '../../../reference/k8s/load.ts';
import { allocateCluster } from '../../../reference/ipam/cluster-ipam.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('peerproof cluster', () => {
  it('summarises sessions, allocations and unsupported features of a cluster folder', () => {
    const model = loadClusterFolder(`${root}reference/k8s/testdata/seed003-cilium-lb-ipam/cluster`);
    const text = summary(model, allocateCluster(model));
    expect(text).toContain('service default/nginx-service-l2: 10.0.5.100 (l2-pool-for-rack0)');
    expect(text).toContain('  peer 10.0.10.1 AS 65010: announces pod-cidr, lb-vip');
    expect(text).toContain('unsupported: cluster/deployment.yaml:1 Deployment/nginx-deployment: kind Deployment (apps/v1) is not modelled');
  });

  it('exits 2 with the reason on stderr (through the real CLI)', () => {
    const missing = spawnSync(process.execPath, ['bin/peerproof.js', 'cluster', '/nonexistent-peerproof-folder', '--json'], { cwd: root, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('peerproof cluster: cannot read /nonexistent-peerproof-folder');
  });
});
