import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, ['bin/peerproof.js', 'cluster', ...args], { cwd: root, encoding: 'utf8' });

describe('peerproof cluster', () => {
  it('prints sessions, allocations and unsupported features of a cluster folder', () => {
    const result = run('reference/k8s/testdata/seed003-cilium-lb-ipam/cluster');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('service default/nginx-service-l2: 10.0.5.100 (l2-pool-for-rack0)');
    expect(result.stdout).toContain('  peer 10.0.10.1 AS 65010: announces pod-cidr, lb-vip');
    expect(result.stdout).toContain('unsupported: cluster/deployment.yaml:1 Deployment/nginx-deployment: kind Deployment (apps/v1) is not modelled');
  });

  it('prints JSON with --json', () => {
    const result = run('reference/k8s/testdata/seed000-cilium-bgp-configmap/cluster', '--json');
    const parsed = JSON.parse(result.stdout) as { model: { flavours: string[] }; allocations: { podCidrs: Record<string, string[]> } };
    expect(parsed.model.flavours).toEqual(['cilium']);
    expect(parsed.allocations.podCidrs.node1).toEqual(['172.31.254.0/26']);
  });

  it('exits 2 with every problem on bad input, and on a missing folder', () => {
    const bad = run('/nonexistent-peerproof-folder');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('peerproof cluster: cannot read /nonexistent-peerproof-folder');
  });
});
