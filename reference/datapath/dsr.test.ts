import { describe, expect, it } from 'vitest';
import { DatapathError, DatapathProgrammer, renderBackend, renderLoadBalancer, type CommandRunner } from './dsr.ts';

const BACKEND = { vip: '10.0.5.100', returnGateway: '10.0.30.1', returnInterface: 'ret0', ingressInterfaces: ['eth0'], table: 100, rulePriority: 1000 };

/** A stand-in for `ip` and `sysctl` keeping just enough state to tell what is in place. */
function fakeKernel() {
  const sysctls = new Map([['net.ipv4.ip_forward', '0'], ['net.ipv4.conf.all.arp_ignore', '0'], ['net.ipv4.conf.all.arp_announce', '0'], ['net.ipv4.conf.eth0.rp_filter', '1']]);
  const objects = new Set<string>();
  const log: string[] = [];
  const run: CommandRunner = (full) => {
    const argv = full.slice(0, 3).join(' ') === 'ip netns exec' ? full.slice(4) : full;
    log.push(argv.join(' '));
    const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });
    if (argv[0] === 'sysctl' && argv[1] === '-n') return ok(`${sysctls.get(argv[2])}\n`);
    if (argv[0] === 'sysctl') {
      const [key, value] = argv[3].split('=');
      sysctls.set(key, value);
      return ok();
    }
    const [, object, verb, ...rest] = argv;
    const key = `${object} ${rest.join(' ')}`;
    if (object === 'rule' && verb === 'show') return ok([...objects].filter((o) => o.startsWith('rule')).map((o) => o.replace(/^rule priority (\d+) /, '$1:\t')).join('\n'));
    if (verb === 'replace' || verb === 'add') {
      if (verb === 'add' && objects.has(key)) return { status: 2, stdout: '', stderr: 'RTNETLINK answers: File exists' };
      objects.add(key);
      return ok();
    }
    if (verb === 'del') {
      const match = [...objects].find((o) => o.startsWith(key));
      if (!match) return { status: 2, stdout: '', stderr: 'RTNETLINK answers: No such process' };
      objects.delete(match);
      return ok();
    }
    throw new Error(`unexpected command ${argv.join(' ')}`);
  };
  return { sysctls, objects, log, run };
}

describe('rendering', () => {
  it('routes the VIP to one backend, or to several as one ECMP route', () => {
    expect(renderLoadBalancer({ vip: '10.0.5.100', backends: ['10.0.40.2'] })[1]).toMatchObject({
      apply: ['ip', 'route', 'replace', '10.0.5.100/32', 'via', '10.0.40.2'],
    });
    expect(renderLoadBalancer({ vip: '10.0.5.100', backends: ['10.0.40.2', '10.0.40.3'] })[1]).toMatchObject({
      apply: ['ip', 'route', 'replace', '10.0.5.100/32', 'nexthop', 'via', '10.0.40.2', 'nexthop', 'via', '10.0.40.3'],
    });
  });

  it('puts the VIP on lo, hides it from ARP and sends its replies by the return gateway', () => {
    const steps = renderBackend(BACKEND);
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
    expect(() => renderLoadBalancer({ vip: '10.0.5.100', backends: [] })).toThrow('backends: at least one backend is needed');
    expect(() => renderLoadBalancer({ vip: '10.0.5.100', backends: ['backend-1'] })).toThrow('backends[0]: "backend-1" is not an IPv4 address');
    expect(() => renderBackend({ ...BACKEND, table: 254 })).toThrow(/table: 254/);
    expect(() => renderBackend({ ...BACKEND, rulePriority: 0 })).toThrow(/rulePriority: 0/);
    expect(() => renderBackend({ ...BACKEND, returnInterface: 'eth0; rm -rf /' })).toThrow(DatapathError);
  });
});

describe('DatapathProgrammer', () => {
  it('applies idempotently and removes exactly what it added, restoring sysctls', () => {
    const kernel = fakeKernel();
    kernel.objects.add('route 10.0.9.0/24 via 10.0.40.1'); // someone else's
    const programmer = new DatapathProgrammer('node-x', kernel.run);
    const steps = renderBackend(BACKEND);
    const first = programmer.apply(steps);
    const second = programmer.apply(steps, first);
    expect([...kernel.objects].filter((o) => o.startsWith('rule'))).toHaveLength(1);
    expect(kernel.sysctls.get('net.ipv4.conf.eth0.rp_filter')).toBe('2');
    expect(second.originalSysctls).toEqual({ 'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.all.arp_announce': '0', 'net.ipv4.conf.eth0.rp_filter': '1' });
    programmer.remove(second);
    expect([...kernel.objects]).toEqual(['route 10.0.9.0/24 via 10.0.40.1']);
    expect(kernel.sysctls.get('net.ipv4.conf.eth0.rp_filter')).toBe('1');
    expect(kernel.sysctls.get('net.ipv4.conf.all.arp_ignore')).toBe('0');
    programmer.remove(second); // a second removal finds nothing and is fine
  });

  it('rolls back a half-applied program and reports the failing command', () => {
    const kernel = fakeKernel();
    const failing: CommandRunner = (argv) =>
      argv.includes('rule') && argv.includes('add') ? { status: 2, stdout: '', stderr: 'RTNETLINK answers: Permission denied' } : kernel.run(argv);
    const programmer = new DatapathProgrammer(null, failing);
    expect(() => programmer.apply(renderBackend(BACKEND))).toThrow('ip rule add priority 1000 from 10.0.5.100 lookup 100 failed: RTNETLINK answers: Permission denied');
    expect(kernel.objects.size).toBe(0);
    expect(kernel.sysctls.get('net.ipv4.conf.all.arp_ignore')).toBe('0');
  });
});
