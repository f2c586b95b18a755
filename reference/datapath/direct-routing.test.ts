import { describe, expect, it } from 'vitest';
import { DatapathError } from './programmer.ts';
import { renderDirectRoutingBackend, renderDirectRoutingLoadBalancer } from './direct-routing.ts';

const BACKEND = { vip: '10.0.5.100', returnGateway: '10.0.30.1', returnInterface: 'ret0', ingressInterfaces: ['eth0'], table: 100, rulePriority: 1000 };

describe('direct routing rendering', () => {
  it('routes the VIP to one backend, or to several as one ECMP route', () => {
    expect(renderDirectRoutingLoadBalancer({ vip: '10.0.5.100', backends: ['10.0.40.2'] })[1]).toMatchObject({
      apply: ['ip', 'route', 'replace', '10.0.5.100/32', 'via', '10.0.40.2'],
    });
    expect(renderDirectRoutingLoadBalancer({ vip: '10.0.5.100', backends: ['10.0.40.2', '10.0.40.3'] })[1]).toMatchObject({
      apply: ['ip', 'route', 'replace', '10.0.5.100/32', 'nexthop', 'via', '10.0.40.2', 'nexthop', 'via', '10.0.40.3'],
    });
  });

  it('puts the VIP on lo, hides it from ARP and sends its replies by the return gateway', () => {
    const steps = renderDirectRoutingBackend(BACKEND);
    expect(steps.filter((s) => s.kind === 'sysctl')).toEqual([
      { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
      { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_announce', value: '2' },
      { kind: 'sysctl', key: 'net.ipv4.conf.eth0.rp_filter', value: '2' },
    ]);
    const applies = steps.flatMap((s) => (s.kind === 'command' ? [s.apply.join(' ')] : []));
    expect(applies).toEqual([
      'ip addr replace 10.0.5.100/32 dev lo',
      'ip route replace default via 10.0.30.1 dev ret0 table 100',
      'ip rule add priority 1000 from 10.0.5.100 lookup 100',
    ]);
  });

  it('names the field that is wrong', () => {
    expect(() => renderDirectRoutingLoadBalancer({ vip: '10.0.5.100', backends: [] })).toThrow('backends: at least one backend is needed');
    expect(() => renderDirectRoutingLoadBalancer({ vip: '10.0.5.100', backends: ['backend-1'] })).toThrow('backends[0]: "backend-1" is not an IPv4 address');
    expect(() => renderDirectRoutingBackend({ ...BACKEND, table: 254 })).toThrow(/table: 254/);
    expect(() => renderDirectRoutingBackend({ ...BACKEND, rulePriority: 0 })).toThrow(/rulePriority: 0/);
    expect(() => renderDirectRoutingBackend({ ...BACKEND, returnInterface: 'eth0; rm -rf /' })).toThrow(DatapathError);
  });
});

