import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateCluster } from '../../../reference/ipam/cluster-ipam.ts';
import { computeDesiredState } from '../../../reference/agent/desired.ts';
import { loadClusterFolder } from '../../../reference/k8s/load.ts';
import { loadFixture } from '../fixture/load.ts';
import { emptyNode } from '../model.ts';
import { k8sNodeFor } from './reference.ts';

// Every speaker node of every fixture with a cluster/ folder maps to one Kubernetes node, and
// the agent there would run a BGP instance, with routes where the article's node announces, and
// no problem to report.

const fixturesDir = fileURLToPath(new URL('../../../fixtures', import.meta.url));
const fixtures = readdirSync(fixturesDir).filter((name) => existsSync(join(fixturesDir, name, 'cluster')));

describe('reference speaker hook: topology node -> Kubernetes node', () => {
  it.each(fixtures)('%s', (name) => {
    const fixture = loadFixture(join(fixturesDir, name));
    const model = loadClusterFolder(join(fixturesDir, name, 'cluster'));
    const ipam = allocateCluster(model);
    const speakers = fixture.topology.nodes.filter((n) => n.kind === 'speaker');
    expect(speakers.length).toBeGreaterThan(0);
    const mapped = speakers.map((n) => k8sNodeFor(model, n));
    expect(new Set(mapped).size).toBe(speakers.length);
    speakers.forEach((speaker, i) => {
      const node = mapped[i]!;
      const desired = computeDesiredState(model, ipam, node);
      expect(desired.problems, node).toEqual([]);
      expect(desired.bgp, node).not.toBeNull();
      // something to announce wherever the article's node announces something
      if (speaker.announce.length > 0) expect(desired.routes.length, node).toBeGreaterThan(0);
    });
  });

  it('an explicit mapping wins; an unknown node gets a message that says how to map it', () => {
    const model = loadClusterFolder(join(fixturesDir, 'seed-000-cilium-two-subnets', 'cluster'));
    expect(k8sNodeFor(model, emptyNode('router', 'speaker'), { router: 'node2' })).toBe('node2');
    expect(() => k8sNodeFor(model, emptyNode('stranger', 'speaker'))).toThrow(/stranger: no Kubernetes node maps to it.*peerproof\.io\/lab-node: stranger/);
  });
});
