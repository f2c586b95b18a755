import { describe, expect, it } from 'vitest';
import { LbIpam, LbIpamError } from './lb-ipam.ts';
import { labelSelector } from '../k8s/selectors.ts';
import { testPool, testService } from './test-helpers.ts';

describe('LbIpam', () => {
  it('hands out the first address of a MetalLB-style pool (seed 000: 192.0.2.0 for whoami-lb)', () => {
    const ipam = new LbIpam([testPool('default', ['192.0.2.0/24'], { flavour: 'metallb' })]);
    expect(ipam.ensure(testService('default/whoami-lb')).addresses).toEqual([{ address: '192.0.2.0', pool: 'default' }]);
  });

  it('skips first and last of CIDR blocks when the pool reserves them, not of ranges', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/30', '10.0.5.100-10.0.5.101'], { reserveFirstLast: true })]);
    const got = ['a', 'b', 'c', 'd', 'e'].map((n) => ipam.ensure(testService(`ns/${n}`)).addresses[0]?.address);
    expect(got).toEqual(['10.0.0.1', '10.0.0.2', '10.0.5.100', '10.0.5.101', undefined]);
    expect(ipam.statusOf('ns/e')!.conditions[0]!.reason).toBe('PoolExhausted');
  });

  it('selects pools by service labels (seed 003 L2 pool for advertise-l2-rack0)', () => {
    const ipam = new LbIpam([
      testPool('lb-pool', ['20.0.10.0/24'], { serviceSelector: labelSelector({ 'advertise-bgp': 'true' }) }),
      testPool('l2-pool-for-rack0', ['10.0.5.100-10.0.5.200'], { serviceSelector: labelSelector({ 'advertise-l2-rack0': 'true' }) }),
    ]);
    expect(ipam.ensure(testService('default/nginx-service', { labels: { 'advertise-l2-rack0': 'true' } })).addresses[0]!.address).toBe('10.0.5.100');
    expect(ipam.ensure(testService('default/web', { labels: { 'advertise-bgp': 'true' } })).addresses[0]!.address).toBe('20.0.10.0');
    const none = ipam.ensure(testService('default/other'));
    expect(none.addresses).toEqual([]);
    expect(none.conditions[0]!.reason).toBe('NoMatchingPool');
  });

  it('honours requested addresses and reports one already taken', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/24'])]);
    expect(ipam.ensure(testService('a/one', { requestedIPs: ['10.0.0.42'] })).addresses[0]!.address).toBe('10.0.0.42');
    const clash = ipam.ensure(testService('a/two', { requestedIPs: ['10.0.0.42'] }));
    expect(clash.addresses).toEqual([]);
    expect(clash.conditions[0]).toMatchObject({ reason: 'RequestedIPUnavailable' });
    expect(clash.conditions[0]!.message).toContain('a/one');
    const outside = ipam.ensure(testService('a/three', { requestedIPs: ['192.168.0.1'] }));
    expect(outside.conditions[0]!.reason).toBe('RequestedIPOutsidePools');
    // the automatic allocator steps over the requested address
    const auto = Array.from({ length: 43 }, (_, i) => ipam.ensure(testService(`b/s${i}`)).addresses[0]!.address);
    expect(new Set(auto).size).toBe(43);
    expect(auto).not.toContain('10.0.0.42');
  });

  it('marks the newer of two overlapping pools conflicting and allocates nothing from it', () => {
    const ipam = new LbIpam([
      testPool('old', ['10.0.0.0/30'], { createdAt: '2024-01-01T00:00:00Z' }),
      testPool('new', ['10.0.0.2-10.0.0.9'], { createdAt: '2024-02-01T00:00:00Z' }),
    ]);
    expect(ipam.poolStatuses().map((p) => [p.name, p.conflicting, p.conflictsWith])).toEqual([
      ['old', false, undefined],
      ['new', true, 'old'],
    ]);
    for (let i = 0; i < 4; i++) ipam.ensure(testService(`ns/s${i}`));
    expect(ipam.ensure(testService('ns/s4')).conditions[0]!.reason).toBe('PoolExhausted');
    expect(ipam.ensure(testService('ns/r', { requestedIPs: ['10.0.0.8'] })).conditions[0]!.reason).toBe('RequestedIPOutsidePools');
  });

  it('keeps existing addresses of a disabled pool but gives no new ones', () => {
    const pools = [testPool('p', ['10.0.0.0/29'])];
    const ipam = new LbIpam(pools);
    ipam.ensure(testService('ns/a'));
    const restarted = LbIpam.restore([testPool('p', ['10.0.0.0/29'], { disabled: true })], ipam.snapshot());
    expect(restarted.ensure(testService('ns/a')).addresses[0]!.address).toBe('10.0.0.0');
    expect(restarted.ensure(testService('ns/b')).conditions[0]!.reason).toBe('NoMatchingPool');
  });

  it('releases on delete and reuses the address', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/31'])]);
    ipam.ensure(testService('ns/a'));
    ipam.ensure(testService('ns/b'));
    expect(ipam.ensure(testService('ns/c')).conditions[0]!.reason).toBe('PoolExhausted');
    ipam.release('ns/a');
    expect(ipam.ensure(testService('ns/c')).addresses[0]!.address).toBe('10.0.0.0');
  });

  it('gives dual-stack services one address per family and formats IPv6 canonically', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/24', '2001:db8:0:1::/64'])]);
    const status = ipam.ensure(testService('ns/dual', { ipFamilies: [4, 6] }));
    expect(status.addresses.map((a) => a.address)).toEqual(['10.0.0.0', '2001:db8:0:1::']);
    expect(ipam.ensure(testService('ns/v6', { ipFamilies: [6] })).addresses[0]!.address).toBe('2001:db8:0:1::1');
  });

  it('avoids .0 and .255 when avoidBuggyIPs is set', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.254-10.0.1.1'], { avoidBuggyIPs: true })]);
    const got = ['a', 'b', 'c'].map((n) => ipam.ensure(testService(`ns/${n}`)).addresses[0]?.address);
    expect(got).toEqual(['10.0.0.254', '10.0.1.1', undefined]);
    expect(ipam.poolStatuses()[0]!.used).toBe(2);
  });

  it('serves only pools a service asks for, and non-auto-assign pools only on request', () => {
    const ipam = new LbIpam([testPool('auto', ['10.0.0.0/30']), testPool('manual', ['10.1.0.0/30'], { autoAssign: false })]);
    expect(ipam.ensure(testService('ns/a')).addresses[0]!.pool).toBe('auto');
    expect(ipam.ensure(testService('ns/b', { requestedPools: ['manual'] })).addresses[0]!.address).toBe('10.1.0.0');
    expect(ipam.ensure(testService('ns/c', { requestedIPs: ['10.1.0.3'] })).addresses[0]!.pool).toBe('manual');
  });

  it('reconcile releases deleted services and lets holders keep their addresses', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/29'])]);
    ipam.reconcile([testService('ns/z'), testService('ns/y')]);
    const before = ipam.addressesOf('ns/z');
    const after = ipam.reconcile([testService('ns/a'), testService('ns/z')]);
    expect(after.get('ns/z')!.addresses).toEqual(before);
    expect(ipam.addressesOf('ns/y')).toEqual([]);
  });

  it('snapshot/restore reproduces allocations exactly', () => {
    const pools = [testPool('p', ['10.0.0.0/24']), testPool('q', ['2001:db8::/120'])];
    const ipam = new LbIpam(pools);
    for (let i = 0; i < 20; i++) ipam.ensure(testService(`ns/s${i}`, { ipFamilies: i % 2 ? [4] : [6, 4] }));
    for (let i = 0; i < 20; i += 3) ipam.release(`ns/s${i}`);
    const restored = LbIpam.restore(pools, ipam.snapshot());
    expect(restored.snapshot()).toEqual(ipam.snapshot());
  });

  it('rejects malformed blocks and duplicate pool names with a clear error', () => {
    expect(() => new LbIpam([testPool('p', ['10.0.0.0/40'])])).toThrow(LbIpamError);
    expect(() => new LbIpam([testPool('p', ['10.0.0.0/30']), testPool('p', ['10.0.1.0/30'])])).toThrow(/two pools are named "p"/);
  });

  it('lets a pool select by the service namespace and name (Cilium virtual labels)', () => {
    const ipam = new LbIpam([
      testPool('team-a', ['10.0.0.0/30'], { serviceSelector: labelSelector({ 'io.kubernetes.service.namespace': 'team-a' }) }),
      testPool('named', ['10.0.1.0/30'], { serviceSelector: labelSelector({ 'io.kubernetes.service.name': 'special' }) }),
    ]);
    expect(ipam.ensure(testService('team-a/web')).addresses[0]!.pool).toBe('team-a');
    expect(ipam.ensure(testService('team-b/special')).addresses[0]!.pool).toBe('named');
    expect(ipam.ensure(testService('team-b/other')).conditions[0]!.reason).toBe('NoMatchingPool');
  });

  it('after a restart with a shrunk pool, drops addresses no longer in it and re-allocates', () => {
    const ipam = new LbIpam([testPool('p', ['10.0.0.0/29'])]);
    for (const name of ['a', 'b', 'c', 'd', 'e']) ipam.ensure(testService(`ns/${name}`));
    const restored = LbIpam.restore([testPool('p', ['10.0.0.0/30'])], ipam.snapshot());
    expect(restored.snapshot().allocations.map((a) => a.address)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(restored.ensure(testService('ns/e')).conditions[0]!.reason).toBe('PoolExhausted');
    restored.release('ns/a');
    expect(restored.ensure(testService('ns/e')).addresses[0]!.address).toBe('10.0.0.0');
  });

  it('explains requests beyond the 2^53 window of a huge IPv6 pool', () => {
    const ipam = new LbIpam([testPool('v6', ['2001:db8::/64'])]);
    expect(ipam.ensure(testService('ns/low', { requestedIPs: ['2001:db8::ffff:1'] })).addresses[0]!.address).toBe('2001:db8::ffff:1');
    const high = ipam.ensure(testService('ns/high', { requestedIPs: ['2001:db8::ffff:ffff:ffff:ff00'] }));
    expect(high.conditions[0]!.message).toMatch(/beyond the first 2\^53 addresses of pool v6/);
  });
});
