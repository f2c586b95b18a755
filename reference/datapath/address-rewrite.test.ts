import { describe, expect, it } from 'vitest';
import { renderRewriteBackend, renderRewriteLoadBalancer } from './address-rewrite.ts';

const BACKEND = {
  name: 'web',
  vip: '20.0.10.100',
  backendAddress: '10.0.40.2',
  ports: [80, 443],
  returnGateway: '10.0.30.1',
  returnInterface: 'ret0',
  ingressInterfaces: ['eth0'],
  table: 100,
  rulePriority: 1000,
};

describe('address rewrite rendering', () => {
  it('rewrites the VIP to the backend before routing, untracked', () => {
    const [forwarding, table] = renderRewriteLoadBalancer({ name: 'web', vip: '20.0.10.100', ports: [80], backends: ['10.0.40.2'] });
    expect(forwarding).toEqual({ kind: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' });
    expect(table).toMatchObject({ kind: 'nft-table', family: 'ip', name: 'peerproof_dsr_web' });
    expect(table.kind === 'nft-table' && table.body).toContain('type filter hook prerouting priority raw;');
    expect(table.kind === 'nft-table' && table.body).toContain('ip daddr 20.0.10.100 tcp dport { 80 } notrack ip daddr set 10.0.40.2');
  });

  it('spreads connections over several backends by a hash of the client address and port', () => {
    const [, table] = renderRewriteLoadBalancer({ name: 'web', vip: '20.0.10.100', ports: [80], backends: ['10.0.40.2', '10.0.40.3'] });
    expect(table.kind === 'nft-table' && table.body).toContain('ip daddr set jhash ip saddr . tcp sport mod 2 map { 0 : 10.0.40.2, 1 : 10.0.40.3 }');
  });

  it('rewrites replies to come from the VIP in a route chain, then routes them by the return path', () => {
    const steps = renderRewriteBackend(BACKEND);
    const table = steps.find((s) => s.kind === 'nft-table');
    expect(table && table.kind === 'nft-table' && table.body).toContain('type route hook output priority mangle;');
    expect(table && table.kind === 'nft-table' && table.body).toContain('ip saddr 10.0.40.2 tcp sport { 80, 443 } ip saddr set 20.0.10.100');
    expect(steps.flatMap((s) => (s.kind === 'command' ? [s.apply.join(' ')] : []))).toEqual([
      'ip route replace default via 10.0.30.1 dev ret0 table 100',
      'ip rule add priority 1000 from 20.0.10.100 lookup 100',
    ]);
  });

  it('names the field that is wrong', () => {
    expect(() => renderRewriteBackend({ ...BACKEND, name: 'Web Service' })).toThrow(/name: "Web Service"/);
    expect(() => renderRewriteBackend({ ...BACKEND, ports: [] })).toThrow('ports: at least one port is needed');
    expect(() => renderRewriteBackend({ ...BACKEND, ports: [80, 70000] })).toThrow('ports[1]: 70000 is not a TCP port');
    expect(() => renderRewriteBackend({ ...BACKEND, backendAddress: 'pod-1' })).toThrow('backendAddress: "pod-1" is not an IPv4 address');
    expect(() => renderRewriteLoadBalancer({ name: 'web', vip: '20.0.10.100', ports: [80], backends: [] })).toThrow(/backends/);
  });
});
