import { sampleRouter } from './sample-router.ts';
import { describe, expect, it } from 'vitest';
import { emptyNode } from '../model.ts';
import { parseBirdProtocols, parseBirdRoutes, renderBirdConf } from './bird.ts';
import { parseFrrRib, renderBgpd } from './frr.ts';
import { parseGobgpRib, renderGobgpToml } from './gobgp.ts';
import { normaliseState, parseIpRoutes } from './kind.ts';

const router = (kind: 'frr' | 'bird' | 'gobgp' | 'speaker') => sampleRouter(kind);

describe('FRR bgpd rendering', () => {
  it('turns off the eBGP policy requirement and uses second-scale timers', () => {
    const text = renderBgpd({ ...router('frr'), multipath: true });
    expect(text).toContain('router bgp 65005');
    expect(text).toContain(' no bgp ebgp-requires-policy');
    expect(text).toContain(' timers bgp 1 3');
    expect(text).toContain(' neighbor 10.1.10.1 timers connect 1');
    expect(text).toContain(' neighbor 10.1.10.1 advertisement-interval 0');
    expect(text).toContain(' bgp bestpath as-path multipath-relax');
    expect(text).toContain('  network 10.98.0.0/24');
    expect(text).toContain('  neighbor 10.1.5.10 route-reflector-client');
    expect(text).toContain('  neighbor 10.1.5.10 addpath-tx-all-paths');
    expect(text).not.toContain('neighbor 10.1.10.1 route-reflector-client');
  });
});

describe('GoBGP TOML rendering', () => {
  it('renders each neighbor with 1 s connect-retry, 3 s hold and RR/ADD-PATH where asked', () => {
    const text = renderGobgpToml(router('gobgp'));
    expect(text).toContain('as = 65005');
    expect(text).toContain('router-id = "10.1.5.1"');
    expect(text.match(/\[\[neighbors\]\]/g)).toHaveLength(2);
    expect(text).toContain('connect-retry = 1');
    expect(text).toContain('hold-time = 3');
    expect(text).toContain('route-reflector-client = true');
    expect(text).toContain('send-max = 8');
  });
});

describe('BIRD rendering', () => {
  it('a stand-in speaker exports only its statics and imports nothing', () => {
    const text = renderBirdConf(router('speaker'), '/x/bird.log');
    expect(text).toContain('route 10.98.0.0/24 blackhole;');
    expect(text).toContain('import none; export where source = RTS_STATIC;');
    expect(text).toContain('connect delay time 1');
  });
  it("the node's static routes become BIRD statics (next hops resolve through them), never exported; a connected announce is exported by prefix", () => {
    const n = router('bird');
    n.routes = [{ to: '10.0.2.0/24', via: '10.8.0.11' }, { to: 'default', via: '10.8.0.1' }];
    const text = renderBirdConf(n, '/x/bird.log');
    expect(text).toMatch(/protocol static lab_routes_ipv4 \{\s+ipv4;\s+route 10\.0\.2\.0\/24 via 10\.8\.0\.11 \{ igp_metric = 0; \};\s+route 0\.0\.0\.0\/0 via 10\.8\.0\.1 \{ igp_metric = 0; \};\s+\}/);
    expect(text).toContain('export where source != RTS_DEVICE && proto !~ "lab_routes_*";');
    const standIn = router('speaker');
    standIn.routes = [{ to: 'default', via: '10.8.0.1' }];
    expect(renderBirdConf(standIn, '/x/bird.log')).toContain('export where source = RTS_STATIC && proto !~ "lab_routes_*";');
    n.interfaces = { eth1: ['10.0.5.1/24'] };
    n.announce = ['10.0.5.0/24', '10.98.0.0/24'];
    expect(renderBirdConf(n, '/x/bird.log')).toContain('export where (source != RTS_DEVICE && proto !~ "lab_routes_*") || (source = RTS_DEVICE && net ~ [ 10.0.5.0/24 ]);');
  });
  it('a router imports all and reflects to rr clients', () => {
    const text = renderBirdConf(router('bird'), '/x/bird.log');
    expect(text).toContain('import all; export where source != RTS_DEVICE;');
    expect(text).toMatch(/protocol bgp peer1 \{[^}]*rr client;/);
    expect(text).toContain('add paths on;');
  });
});

describe('BIRD output parsing', () => {
  it('reads BGP protocol states from show protocols', () => {
    const text = [
      'BIRD 2.0.12 ready.',
      'Name       Proto      Table      State  Since         Info',
      'device1    Device     ---        up     00:00:05.123  ',
      'peer0      BGP        ---        up     00:00:06.456  Established   ',
      'peer1      BGP        ---        start  00:00:05.123  Active        Socket: Connection refused',
    ].join('\n');
    expect(parseBirdProtocols(text)).toEqual([
      { name: 'device1', proto: 'Device', state: 'up', info: '' },
      { name: 'peer0', proto: 'BGP', state: 'up', info: 'Established' },
      { name: 'peer1', proto: 'BGP', state: 'start', info: 'Active        Socket: Connection refused' },
    ]);
  });
  it('reads prefixes with every next hop from show route', () => {
    const text = [
      'Table master4:',
      '192.0.2.0/32         unicast [peer0 00:00:06.789] * (100) [AS65010i]',
      '\tvia 10.0.1.10 on eth1',
      '                     unicast [peer1 00:00:06.790] (100) [AS65020i]',
      '\tvia 10.0.2.10 on eth2',
      '172.31.254.0/26      blackhole [announced 00:00:05.123] * (200)',
      '10.0.1.0/24          unicast [direct1 00:00:05.123] * (240)',
      '\tdev eth1',
    ].join('\n');
    expect(parseBirdRoutes(text)).toEqual([
      { prefix: '192.0.2.0/32', nexthops: ['10.0.1.10', '10.0.2.10'], table: 'rib' },
      { prefix: '172.31.254.0/26', nexthops: ['blackhole'], table: 'rib' },
      { prefix: '10.0.1.0/24', nexthops: ['eth1'], table: 'rib' },
    ]);
  });
});

describe('state names', () => {
  it('normalises daemon spellings to RFC 4271 names', () => {
    expect(normaliseState('ESTABLISHED')).toBe('Established');
    expect(normaliseState('OpenSent')).toBe('OpenSent');
    expect(normaliseState('Idle (Admin)')).toBe('Idle (Admin)');
  });
});

describe('RIB parsers', () => {
  it('FRR: IPv4 and IPv6 tables, valid paths only, the global IPv6 next hop before the link-local one', () => {
    // the third path as FRR 8.4 prints one whose next hop is inaccessible: no "valid" key at all
    const v4 = JSON.stringify({
      routes: {
        '10.98.0.0/24': [
          { valid: true, nexthops: [{ ip: '10.1.10.1' }] },
          { valid: false, nexthops: [{ ip: '10.1.10.9' }] },
          { pathFrom: 'external', nexthops: [{ ip: '10.1.10.8', afi: 'ipv4', used: true }] },
        ],
      },
    });
    expect(parseFrrRib(v4)).toEqual([{ prefix: '10.98.0.0/24', nexthops: ['10.1.10.1'], table: 'rib' }]);
    const v6 = JSON.stringify({
      routes: {
        '2001:db8:97::/64': [{ valid: true, nexthops: [{ ip: '2001:db8:90::1', scope: 'global' }, { ip: 'fe80::1', scope: 'link-local' }] }],
        '2001:db8:98::/64': [{ valid: true, nexthops: [{ ip: 'fe80::2', scope: 'link-local' }] }],
      },
    });
    expect(parseFrrRib(v6)).toEqual([
      { prefix: '2001:db8:97::/64', nexthops: ['2001:db8:90::1'], table: 'rib' },
      { prefix: '2001:db8:98::/64', nexthops: ['fe80::2'], table: 'rib' },
    ]);
    expect(parseFrrRib('')).toEqual([]);
    expect(() => parseFrrRib('% BGP instance not found')).toThrow(/FRR RIB is not JSON/);
  });

  it('GoBGP: NEXT_HOP, else the MP_REACH_NLRI next hop (IPv6, or IPv4 over an IPv6 next hop)', () => {
    const rib = JSON.stringify({
      '10.97.1.0/24': [{ attrs: [{ type: 1, value: 0 }, { type: 3, nexthop: '10.90.0.1' }] }],
      '2001:db8:97::/64': [{ attrs: [{ type: 14, nexthop: '2001:db8:90::1', afi: 2, safi: 1, value: [{ prefix: '2001:db8:97::/64' }] }] }],
      '10.97.2.0/24': [{ attrs: [{ type: 14, nexthop: '2001:db8:90::1', afi: 1, safi: 1 }] }],
    });
    expect(parseGobgpRib(rib)).toEqual([
      { prefix: '10.97.1.0/24', nexthops: ['10.90.0.1'], table: 'rib' },
      { prefix: '2001:db8:97::/64', nexthops: ['2001:db8:90::1'], table: 'rib' },
      { prefix: '10.97.2.0/24', nexthops: ['2001:db8:90::1'], table: 'rib' },
    ]);
    expect(parseGobgpRib('null')).toEqual([]);
    expect(() => parseGobgpRib('rpc error')).toThrow(/GoBGP RIB is not JSON/);
  });
});

describe('families and ADD-PATH directions per neighbour', () => {
  const node = () => {
    const n = emptyNode('p', 'frr');
    n.asn = 65002;
    n.routerId = '10.90.0.2';
    n.neighbors = [{ address: '10.90.0.1', asn: 65001, addPath: 'send', families: ['ipv4-unicast', 'ipv6-unicast'] }];
    n.announce = ['192.0.2.0/24'];
    return n;
  };

  it('FRR activates IPv6 unicast on the IPv4 session and offers send only (no receive)', () => {
    const text = renderBgpd(node());
    expect(text).toContain(' address-family ipv6 unicast\n  maximum-paths 16\n  maximum-paths ibgp 16\n  neighbor 10.90.0.1 activate\n');
    expect(text.match(/addpath-tx-all-paths/g)).toHaveLength(2);
    expect(text.match(/disable-addpath-rx/g)).toHaveLength(2);
    expect(renderBgpd(router('frr'))).not.toContain('address-family ipv6');
  });

  it('GoBGP gets an afi-safi per family and send-max without receive', () => {
    const text = renderGobgpToml({ ...node(), kind: 'gobgp' });
    expect(text).toContain('afi-safi-name = "ipv4-unicast"');
    expect(text).toContain('afi-safi-name = "ipv6-unicast"');
    expect(text).toContain('    send-max = 8');
    expect(text).not.toContain('receive = true');
  });

  it('BIRD gets an ipv6 channel with `add paths tx`, and resolves IPv6 next hops on the link', () => {
    const text = renderBirdConf({ ...node(), kind: 'bird' }, '/x/bird.log');
    expect(text).toContain('  ipv6 { import all; export where source != RTS_DEVICE; add paths tx; };');
    expect(text).toContain('  ipv4 { import all; export where source != RTS_DEVICE; add paths tx; };');
    expect(text).toContain('protocol direct direct6 { ipv6; }');
    const receiveOnly = renderBirdConf({ ...node(), kind: 'bird', neighbors: [{ address: '10.90.0.1', asn: 65001, addPath: 'receive' }] }, '/x/bird.log');
    expect(receiveOnly).toContain('add paths rx;');
    expect(receiveOnly).not.toContain('ipv6 {');
  });

  it('BIRD show route: IPv6 prefixes parse like IPv4 ones', () => {
    const text = ['Table master6:', '2001:db8:97::/48     unicast [peer0 03:20:00.123] * (100) [AS65001i]', '\tvia fd00:90::1 on eth1', '                     unicast [peer0 03:20:00.123] (100) [AS65001i]', '\tvia fd00:90::3 on eth1'].join('\n');
    expect(parseBirdRoutes(text)).toEqual([{ prefix: '2001:db8:97::/48', nexthops: ['fd00:90::1', 'fd00:90::3'], table: 'rib' }]);
  });
});

describe('extended next hop offered to a neighbour', () => {
  it('FRR asks for the capability, BIRD turns it on in the IPv4 channel', () => {
    const n = { ...router('bird'), neighbors: [{ address: '10.90.0.1', asn: 65001, extendedNexthop: true }] };
    expect(renderBirdConf(n, '/x/bird.log')).toContain('export where source != RTS_DEVICE; extended next hop on; };');
    expect(renderBgpd({ ...n, kind: 'frr' })).toContain(' neighbor 10.90.0.1 capability extended-nexthop');
    expect(renderBirdConf(router('bird'), '/x/bird.log')).not.toContain('extended next hop');
  });
});

describe('a neighbour over IPv6 transport', () => {
  const node = (kind: 'frr' | 'bird' | 'gobgp') => {
    const n = emptyNode('p', kind);
    n.asn = 65002;
    n.routerId = '10.90.0.2';
    n.interfaces = { eth1: ['fd00:90::2/64'] };
    n.neighbors = [
      { address: 'fd00:90::1', asn: 65001, extendedNexthop: true },
      { address: 'fd00:91::1', asn: 65003, families: ['ipv6-unicast'] },
    ];
    return n;
  };

  it('FRR: remote-as on the IPv6 address, IPv4 unicast activated explicitly, the capability asked for', () => {
    const text = renderBgpd(node('frr'));
    expect(text).toContain(' neighbor fd00:90::1 remote-as 65001\n');
    expect(text).toContain(' neighbor fd00:90::1 capability extended-nexthop\n');
    const ipv4 = text.slice(text.indexOf(' address-family ipv4 unicast'), text.indexOf(' address-family ipv6 unicast'));
    expect(ipv4).toContain('  neighbor fd00:90::1 activate\n');
    expect(ipv4).toContain('  no neighbor fd00:91::1 activate\n');
    const ipv6 = text.slice(text.indexOf(' address-family ipv6 unicast'));
    expect(ipv6).toContain('  neighbor fd00:91::1 activate\n');
    expect(ipv6).not.toContain('fd00:90::1');
    expect(renderBgpd(router('frr'))).not.toMatch(/^  neighbor \S+ activate$/m);
  });

  it('BIRD: neighbor on the IPv6 address, the channels its families say, extended next hop in the ipv4 channel', () => {
    const text = renderBirdConf(node('bird'), '/x/bird.log');
    expect(text).toContain('  neighbor fd00:90::1 as 65001;\n');
    expect(text).toContain('  ipv4 { import all; export where source != RTS_DEVICE; extended next hop on; };');
    const announcing = renderBirdConf({ ...node('bird'), announce: ['192.0.2.0/24', '2001:db8:2::/48'] }, '/x/bird.log');
    expect(announcing).toContain('protocol static announced {\n  ipv4;\n  route 192.0.2.0/24 blackhole;\n}');
    expect(announcing).toContain('protocol static announced6 {\n  ipv6;\n  route 2001:db8:2::/48 blackhole;\n}');
    expect(text).toContain('  neighbor fd00:91::1 as 65003;\n  hold time 3; keepalive time 1; connect delay time 1; connect retry time 1; error wait time 1, 4;\n  direct;\n  ipv6 {');
  });

  it('GoBGP: the IPv6 neighbour address with its afi-safis (it has no setting to offer extended next hop)', () => {
    const text = renderGobgpToml(node('gobgp'));
    expect(text).toContain('    neighbor-address = "fd00:90::1"\n');
    expect(text).toContain('    neighbor-address = "fd00:91::1"\n');
    expect(text.match(/afi-safi-name = "ipv4-unicast"/g)).toHaveLength(1);
    expect(text.match(/afi-safi-name = "ipv6-unicast"/g)).toHaveLength(1);
    expect(text).not.toMatch(/extended|nexthop/i);
  });

  it('kernel FIB: an IPv4 route via an IPv6 gateway (`via inet6`) keeps that gateway as its next hop', () => {
    const json = JSON.stringify([
      { dst: '10.94.3.0/24', nhid: 8, via: { family: 'inet6', host: 'fd00:90::1' }, dev: 'eth1', protocol: 'bgp', metric: 20, flags: [] },
      { dst: '10.94.4.0/24', nexthops: [{ via: { family: 'inet6', host: 'fe80::1' }, dev: 'eth1' }, { gateway: '10.0.0.1', dev: 'eth2' }] },
      { dst: '10.90.0.0/24', dev: 'eth1', protocol: 'kernel', scope: 'link' },
    ]);
    expect(parseIpRoutes(json)).toEqual([
      { prefix: '10.94.3.0/24', nexthops: ['fd00:90::1'], table: 'fib' },
      { prefix: '10.94.4.0/24', nexthops: ['fe80::1', '10.0.0.1'], table: 'fib' },
      { prefix: '10.90.0.0/24', nexthops: ['eth1'], table: 'fib' },
    ]);
  });
});
