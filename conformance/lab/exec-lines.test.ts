import { describe, expect, it } from 'vitest';
import { execArgv, execDefaultGateway, execPlan, nodeAddresses, parseExecLine, type ExecCommand } from './exec-lines.ts';
import { emptyNode } from './model.ts';

const ok = (line: string): ExecCommand => {
  const parsed = parseExecLine(line);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.command;
};
const error = (line: string): string => {
  const parsed = parseExecLine(line);
  if (parsed.ok) throw new Error(`"${line}" parsed as ${JSON.stringify(parsed.command)}`);
  return parsed.error;
};

describe('parseExecLine: addresses', () => {
  it.each([
    ['ip addr add 10.1.0.11/24 dev eth1', 4, '10.1.0.11/24'],
    ['ip address add 10.1.0.11/24 dev eth1', 4, '10.1.0.11/24'],
    ['ip a add 10.1.0.11/24 dev eth1', 4, '10.1.0.11/24'],
    ['ip -4 addr add 10.1.0.11/24 dev eth1', 4, '10.1.0.11/24'],
    ['ip -6 addr add fd00:255:11::/127 dev eth1', 6, 'fd00:255:11::/127'],
    ['ip -6 address add fd00:255:11::1/127 dev eth1 nodad', 6, 'fd00:255:11::1/127'],
    ['ip addr add fd00:1::10/64 dev eth1', 6, 'fd00:1::10/64'],
    ['  ip   -6  a  add  fd00::1/64  dev  eth1  ', 6, 'fd00::1/64'],
  ])('%s', (line, family, cidr) => {
    expect(ok(line)).toEqual({ type: 'addr', family, cidr, dev: 'eth1' });
  });

  it('runs as one ip command with the family, IPv6 without DAD', () => {
    expect(execArgv(ok('ip -6 addr add fd00:255:11::/127 dev eth1'))).toEqual(['ip', '-6', 'addr', 'add', 'fd00:255:11::/127', 'dev', 'eth1', 'nodad']);
    expect(execArgv(ok('ip addr add 10.1.0.11/24 dev eth1'))).toEqual(['ip', '-4', 'addr', 'add', '10.1.0.11/24', 'dev', 'eth1']);
  });

  it.each([
    ['ip -6 addr add 10.1.0.11/24 dev eth1', /IPv4 but the line says -6/],
    ['ip -4 addr add fd00::1/64 dev eth1', /IPv6 but the line says -4/],
    ['ip addr add 10.1.0.11 dev eth1', /CIDR form/],
    ['ip addr add 10.1.0.11/33 dev eth1', /CIDR form/],
    ['ip addr add 10.1.0.11/24', /dev IF/],
    ['ip addr add 10.1.0.11/24 dev eth1 label x', /unexpected "label"/],
    ['ip addr del 10.1.0.11/24 dev eth1', /only "addr add"/],
    ['ip -s addr add 10.1.0.11/24 dev eth1', /option "-s"/],
  ])('refuses %s', (line, why) => {
    expect(error(line)).toMatch(why);
  });
});

describe('parseExecLine: routes', () => {
  it.each([
    ['ip route add 10.2.0.0/16 via 10.1.0.1', { type: 'route', family: 4, action: 'add', to: '10.2.0.0/16', via: '10.1.0.1' }],
    ['ip route replace default via 192.0.2.1', { type: 'route', family: 4, action: 'replace', to: 'default', via: '192.0.2.1' }],
    ['ip r add default via 192.0.2.1 dev eth1 metric 10', { type: 'route', family: 4, action: 'add', to: 'default', via: '192.0.2.1', dev: 'eth1', metric: 10 }],
    ['ip -6 route add default via fd00:1::1', { type: 'route', family: 6, action: 'add', to: 'default', via: 'fd00:1::1' }],
    ['ip -6 route replace fd00:2::/64 via fd00:1::1', { type: 'route', family: 6, action: 'replace', to: 'fd00:2::/64', via: 'fd00:1::1' }],
    ['ip route replace default via fd00:1::1', { type: 'route', family: 6, action: 'replace', to: 'default', via: 'fd00:1::1' }],
    ['ip route add 10.9.9.9 dev eth1', { type: 'route', family: 4, action: 'add', to: '10.9.9.9/32', dev: 'eth1' }],
    ['ip route add 10.2.0.0/16 via inet6 fe80::1 dev eth1', { type: 'route', family: 4, action: 'add', to: '10.2.0.0/16', via: 'fe80::1', dev: 'eth1' }],
    ['ip route add 10.2.0.0/16 via 10.1.0.1 onlink', { type: 'route', family: 4, action: 'add', to: '10.2.0.0/16', via: '10.1.0.1', onlink: true }],
  ])('%s', (line, command) => {
    expect(ok(line)).toEqual(command);
  });

  it('runs with the family, so a bare "default" means the right table', () => {
    expect(execArgv(ok('ip -6 route replace default via fd00:1::1'))).toEqual(['ip', '-6', 'route', 'replace', 'default', 'via', 'fd00:1::1']);
    expect(execArgv(ok('ip route add 10.2.0.0/16 via inet6 fe80::1 dev eth1'))).toEqual(['ip', '-4', 'route', 'add', '10.2.0.0/16', 'via', 'inet6', 'fe80::1', 'dev', 'eth1']);
  });

  it.each([
    ['ip -6 route add default via 10.0.0.1', /IPv4, the route is IPv6/],
    ['ip -4 route add fd00::/64 via fd00:1::1', /IPv6 but the line says -4/],
    ['ip route add fd00::/64 via 10.0.0.1', /IPv4, the route is IPv6/],
    ['ip route del default', /only "route add" and "route replace"/],
    ['ip route add default', /needs "via GW" or "dev IF"/],
    ['ip route add default via 10.0.0.0/24', /gateway address/],
    ['ip route add nowhere via 10.0.0.1', /prefix or "default"/],
    ['ip route add default via 10.0.0.1 table 10', /unexpected "table"/],
  ])('refuses %s', (line, why) => {
    expect(error(line)).toMatch(why);
  });
});

describe('parseExecLine: links, sysctl, the rest', () => {
  it('link set up / mtu', () => {
    expect(ok('ip link set eth1 up')).toEqual({ type: 'link', dev: 'eth1', state: 'up' });
    expect(ok('ip link set dev eth1 mtu 9000 up')).toEqual({ type: 'link', dev: 'eth1', state: 'up', mtu: 9000 });
    expect(execArgv(ok('ip link set eth1 mtu 9000'))).toEqual(['ip', 'link', 'set', 'dev', 'eth1', 'mtu', '9000']);
    expect(error('ip link set eth1')).toMatch(/up, down, mtu N or address MAC/);
    expect(ok('ip link set net0 address 02:00:00:00:00:0A')).toEqual({ type: 'link', dev: 'net0', mac: '02:00:00:00:00:0a' });
    expect(execArgv(ok('ip link set net0 address 02:00:00:00:00:11'))).toEqual(['ip', 'link', 'set', 'dev', 'net0', 'address', '02:00:00:00:00:11']);
    expect(error('ip link set net0 address 02:00')).toMatch(/MAC address/);
    // A topology built in code is not validated first: the lab's plan refuses a line it cannot run instead of dropping it.
    expect(() => execPlan({ name: 'h1', exec: ['ip link set net0 txqueuelen 5'], interfaces: {}, loopback: [] })).toThrow(/node h1: exec "ip link set net0 txqueuelen 5": unexpected "txqueuelen"/);
    expect(error('ip link set eth1 mtu 10')).toMatch(/MTU 68-65535/);
    expect(error('ip link add br0 type bridge')).toMatch(/only "link set"/);
  });

  it('sysctl KEY=VALUE', () => {
    expect(ok('sysctl -w net.ipv6.conf.all.forwarding=1')).toEqual({ type: 'sysctl', key: 'net.ipv6.conf.all.forwarding', value: '1' });
    expect(execArgv(ok('sysctl net.ipv4.ip_forward=1'))).toEqual(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    expect(error('sysctl net.ipv4.ip_forward')).toMatch(/KEY=VALUE/);
  });

  it('anything else names the supported forms', () => {
    expect(error('bash -c "echo hi"')).toMatch(/only ip and sysctl commands run in lab nodes; supported: ip \[-4\|-6\] addr add/);
    expect(error('ip neigh add 10.0.0.1 lladdr 00:00:00:00:00:01 dev eth1')).toMatch(/"ip neigh" is not supported/);
  });
});

describe('a node of exec lines', () => {
  const node = {
    ...emptyNode('node1', 'speaker'),
    interfaces: { eth1: ['10.1.0.11/24'] },
    exec: [
      'ip addr add 10.1.0.11/24 dev eth1',
      'ip -6 addr add FD00:1:0::11/64 dev eth1',
      'ip -6 addr add fd00:1::11/64 dev eth1',
      'ip route replace default via 10.1.0.1',
      'ip -6 route replace default via fd00:1::1',
      'ip link set eth1 mtu 9000',
    ],
  };

  it('adds an address once, whether the overlay or an earlier line gave it (any spelling)', () => {
    expect(execPlan(node).map((c) => execArgv(c).join(' '))).toEqual([
      'ip -6 addr add FD00:1:0::11/64 dev eth1 nodad',
      'ip -4 route replace default via 10.1.0.1',
      'ip -6 route replace default via fd00:1::1',
      'ip link set dev eth1 mtu 9000',
    ]);
  });

  it('counts exec addresses with the fixture ones, and finds the default gateway per family', () => {
    expect(nodeAddresses(node)).toEqual({ eth1: ['10.1.0.11/24', 'FD00:1:0::11/64'] });
    expect(execDefaultGateway(node)).toBe('10.1.0.1');
    expect(execDefaultGateway(node, 6)).toBe('fd00:1::1');
  });
});
