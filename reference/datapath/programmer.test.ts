import { describe, expect, it } from 'vitest';
import { renderDirectRoutingBackend } from './direct-routing.ts';
import { renderRewriteLoadBalancer } from './address-rewrite.ts';
import { DatapathProgrammer, type CommandRunner } from './programmer.ts';

const BACKEND = { vip: '10.0.5.100', returnGateway: '10.0.30.1', returnInterface: 'ret0', ingressInterfaces: ['eth0'], table: 100, rulePriority: 1000 };

/** A stand-in for `ip` and `sysctl` keeping just enough state to tell what is in place. */
function fakeKernel() {
  const sysctls = new Map([['net.ipv4.ip_forward', '0'], ['net.ipv4.conf.all.arp_ignore', '0'], ['net.ipv4.conf.all.arp_announce', '0'], ['net.ipv4.conf.eth0.rp_filter', '1']]);
  const objects = new Set<string>();
  const log: string[] = [];
  const run: CommandRunner = (full, input) => {
    const argv = full.slice(0, 3).join(' ') === 'ip netns exec' ? full.slice(4) : full;
    log.push(argv.join(' '));
    const ok = (stdout = '') => ({ status: 0, stdout, stderr: '' });
    if (argv[0] === 'nft' && argv[1] === '-f') {
      const name = /table (\S+ \S+) \{/.exec(input ?? '')![1];
      objects.add(`nft ${name}`);
      return ok();
    }
    if (argv[0] === 'nft' && argv[1] === 'delete') {
      const key = `nft ${argv[3]} ${argv[4]}`;
      if (!objects.delete(key)) return { status: 1, stdout: '', stderr: 'Error: No such file or directory' };
      return ok();
    }
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

describe('DatapathProgrammer', () => {
  it('applies idempotently and removes exactly what it added, restoring sysctls', () => {
    const kernel = fakeKernel();
    kernel.objects.add('route 10.0.9.0/24 via 10.0.40.1'); // someone else's
    const programmer = new DatapathProgrammer('node-x', kernel.run);
    const steps = renderDirectRoutingBackend(BACKEND);
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

  it('replaces its nftables table as a whole and deletes it on removal', () => {
    const kernel = fakeKernel();
    const programmer = new DatapathProgrammer('node-x', kernel.run);
    const steps = renderRewriteLoadBalancer({ name: 'web', vip: '20.0.10.100', ports: [80], backends: ['10.0.40.2'] });
    const applied = programmer.apply(steps, programmer.apply(steps));
    expect(kernel.log.filter((l) => l.startsWith('nft -f'))).toHaveLength(2);
    expect([...kernel.objects]).toEqual(['nft ip peerproof_dsr_web']);
    programmer.remove(applied);
    expect(kernel.objects.size).toBe(0);
    expect(kernel.sysctls.get('net.ipv4.ip_forward')).toBe('0');
  });

  it('rolls back a half-applied program and reports the failing command', () => {
    const kernel = fakeKernel();
    const failing: CommandRunner = (argv) =>
      argv.includes('rule') && argv.includes('add') ? { status: 2, stdout: '', stderr: 'RTNETLINK answers: Permission denied' } : kernel.run(argv);
    const programmer = new DatapathProgrammer(null, failing);
    expect(() => programmer.apply(renderDirectRoutingBackend(BACKEND))).toThrow('ip rule add priority 1000 from 10.0.5.100 lookup 100 failed: RTNETLINK answers: Permission denied');
    expect(kernel.objects.size).toBe(0);
    expect(kernel.sysctls.get('net.ipv4.conf.all.arp_ignore')).toBe('0');
  });
});
