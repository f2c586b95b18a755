import { describe, expect, it } from 'vitest';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { expectedVips, hostRoute, judgeSelectorAdvertisements } from './selector-advertisements.ts';

const cluster = new URL('../../fixtures/seed-003-rack-lb/cluster', import.meta.url).pathname;
const model = loadClusterFolder(cluster);
const addresses = new Map(allocateCluster(model).services.map((s) => [s.service, s.addresses]));

describe('expectedVips (seed-003: per-rack policies selecting advertise-bgp=true)', () => {
  it('requires the advertise-bgp VIP on every rack node and forbids the unselected and L2 services', () => {
    for (const node of ['rack0-node1', 'rack0-node2', 'rack1-node1', 'rack1-node2']) {
      const e = expectedVips(model, addresses, node);
      expect([...e.required]).toEqual([['20.0.0.100/32', 'default/nginx-service']]);
      expect([...e.forbidden.keys()].sort()).toEqual(['10.0.5.100/32', '20.0.0.101/32']);
    }
  });

  it('requires nothing from a node no policy selects', () => {
    const e = expectedVips(model, addresses, 'not-a-node');
    expect(e.required.size).toBe(0);
    expect([...e.forbidden.keys()]).toContain('20.0.0.100/32');
  });

  it('leaves externalTrafficPolicy Local services out of both sets', () => {
    const local = { ...model, services: model.services.map((s) => (s.key === 'default/nginx-service' ? { ...s, externalTrafficPolicy: 'Local' as const } : s)) };
    const e = expectedVips(local, addresses, 'rack0-node1');
    expect(e.required.size).toBe(0);
    expect(e.forbidden.has('20.0.0.100/32')).toBe(false);
  });

  it('selects by the labels Cilium adds to every Service (io.kubernetes.service.name)', () => {
    const byName = {
      ...model,
      advertisements: model.advertisements.map((a) =>
        a.kind === 'lb-vip' ? { ...a, serviceSelector: { type: 'labels' as const, matchLabels: { 'io.kubernetes.service.name': 'unselected-service' }, matchExpressions: [] } } : a,
      ),
    };
    const e = expectedVips(byName, addresses, 'rack1-node1');
    expect([...e.required.keys()]).toEqual(['20.0.0.101/32']);
    expect(e.forbidden.has('20.0.0.100/32')).toBe(true);
  });

  it('selects only addresses from the pools an intent names', () => {
    const pooled = { ...model, advertisements: model.advertisements.map((a) => (a.kind === 'lb-vip' ? { ...a, pools: ['other-pool'] } : a)) };
    const e = expectedVips(pooled, addresses, 'rack0-node1');
    expect(e.required.size).toBe(0);
    expect(e.forbidden.has('20.0.0.100/32')).toBe(true);
  });

  it('writes host routes per family', () => {
    expect(hostRoute('20.0.0.1')).toBe('20.0.0.1/32');
    expect(hostRoute('2001:db8::1')).toBe('2001:db8::1/128');
  });
});

describe('judgeSelectorAdvertisements', () => {
  const e = expectedVips(model, addresses, 'rack0-node1');
  const session = 'rack0-node1 -> 10.0.5.1';

  it('accepts the selected VIP as /32 next to the PodCIDR', () => {
    expect(judgeSelectorAdvertisements({ session, announced: ['10.1.0.0/24', '20.0.0.100/32'] }, e)).toEqual([]);
  });

  it('reports a missing selected VIP', () => {
    expect(judgeSelectorAdvertisements({ session, announced: ['10.1.0.0/24'] }, e)).toEqual([
      `${session}: 20.0.0.100/32 (default/nginx-service, selected) not announced`,
    ]);
  });

  it('reports the unselected service and the L2-only VIP when announced', () => {
    const problems = judgeSelectorAdvertisements({ session, announced: ['20.0.0.100/32', '20.0.0.101/32', '10.0.5.100/32'] }, e);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/20\.0\.0\.101\/32 \(default\/unselected-service\)/);
    expect(problems.join('\n')).toMatch(/10\.0\.5\.100\/32 \(default\/nginx-service-l2\)/);
  });

  it('reports a VIP sent only inside a shorter prefix', () => {
    const problems = judgeSelectorAdvertisements({ session, announced: ['20.0.0.0/24'] }, e);
    expect(problems).toContain(`${session}: 20.0.0.0/24 announced instead of the host route(s) 20.0.0.100/32`);
  });
});
