import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatapathProgrammer, type CommandRunner } from '../datapath/programmer.ts';
import { KernelObjects, kernelSteps } from './kernel.ts';
import { learnedRouteSteps } from './learned-routes.ts';

// KernelObjects against a recording command runner (no root): only differences are applied,
// stale objects are removed by their full specification, clear() restores the sysctls found.

function recorder(): { run: CommandRunner; commands: string[] } {
  const commands: string[] = [];
  const sysctls: Record<string, string> = { 'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.all.arp_announce': '0' };
  const run: CommandRunner = (argv) => {
    const line = argv.join(' ');
    if (argv[0] === 'sysctl' && argv[1] === '-n') return { status: 0, stdout: `${sysctls[argv[2]!]}\n`, stderr: '' };
    if (argv[0] === 'sysctl') {
      const [key, value] = argv[3]!.split('=');
      sysctls[key!] = value!;
    }
    commands.push(line);
    return { status: 0, stdout: '', stderr: '' };
  };
  return { run, commands };
}

describe('KernelObjects', () => {
  it('applies what is missing, removes what is no longer wanted, restores sysctls on clear', () => {
    const { run, commands } = recorder();
    const kernel = new KernelObjects(new DatapathProgrammer(null, run));
    kernel.sync(kernelSteps({ localVips: ['192.0.2.1'], blackholes: ['10.1.0.0/29'] }));
    expect(commands).toEqual([
      'sysctl -q -w net.ipv4.conf.all.arp_ignore=1',
      'sysctl -q -w net.ipv4.conf.all.arp_announce=2',
      'ip addr replace 192.0.2.1/32 dev lo',
      'ip route replace blackhole 10.1.0.0/29 proto static',
    ]);
    commands.length = 0;
    kernel.sync(kernelSteps({ localVips: ['192.0.2.1', '192.0.2.2'], blackholes: [] }));
    expect(commands).toEqual(['ip route del blackhole 10.1.0.0/29', 'ip addr replace 192.0.2.2/32 dev lo']);
    commands.length = 0;
    kernel.clear();
    expect(commands).toEqual([
      'ip addr del 192.0.2.2/32 dev lo',
      'ip addr del 192.0.2.1/32 dev lo',
      'sysctl -q -w net.ipv4.conf.all.arp_announce=0',
      'sysctl -q -w net.ipv4.conf.all.arp_ignore=0',
    ]);
    expect(kernel.inPlace).toEqual([]);
  });

  it('IPv6 VIPs go on lo as /128 without touching the IPv4 ARP sysctls', () => {
    const steps = kernelSteps({ localVips: ['2001:db8::1'], blackholes: [] });
    expect(steps).toEqual([
      { kind: 'command', description: '2001:db8::1/128 on lo', apply: ['ip', 'addr', 'replace', '2001:db8::1/128', 'dev', 'lo'], remove: ['ip', 'addr', 'del', '2001:db8::1/128', 'dev', 'lo'] },
    ]);
  });

  it('syncEach: a step that fails (next hop not reachable yet) is skipped and reported, the others applied', () => {
    const commands: string[] = [];
    const run: CommandRunner = (argv) => {
      commands.push(argv.join(' '));
      return argv.includes('10.9.9.9') ? { status: 2, stdout: '', stderr: 'Error: Nexthop has invalid gateway.' } : { status: 0, stdout: '', stderr: '' };
    };
    const kernel = new KernelObjects(new DatapathProgrammer(null, run));
    const failures = kernel.syncEach(
      learnedRouteSteps(new Map([['1.1.1.2/32', ['192.168.1.5']], ['1.1.1.8/29', ['10.9.9.9']], ['1.1.1.16/29', ['192.168.1.3', '192.168.1.4']]])),
    );
    expect(failures).toEqual([expect.stringContaining('Nexthop has invalid gateway')]);
    expect(kernel.inPlace).toEqual(['learned 1.1.1.16/29 via 192.168.1.3,192.168.1.4', 'learned 1.1.1.2/32 via 192.168.1.5']);
    expect(commands).toContain('ip route replace 1.1.1.16/29 nexthop via 192.168.1.3 nexthop via 192.168.1.4 proto bgp');
    commands.length = 0;
    expect(kernel.syncEach(learnedRouteSteps(new Map([['1.1.1.2/32', ['192.168.1.5']]])))).toEqual([]);
    expect(commands).toEqual(['ip route del 1.1.1.16/29 proto bgp']);
  });

  describe('sysctl values found, across an agent restart', () => {
    const dirs: string[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
    const foundFile = () => {
      const dir = mkdtempSync(join(tmpdir(), 'pp-kernel-'));
      dirs.push(dir);
      return join(dir, 'node1.sysctls.json');
    };
    const vip = kernelSteps({ localVips: ['192.0.2.1'], blackholes: [] });

    it('a restarted agent keeps the first-found value, so stop restores the real original', () => {
      const { run, commands } = recorder(); // one host: its sysctls outlive the crashed agent
      const file = foundFile();
      new KernelObjects(new DatapathProgrammer(null, run), file).sync(vip); // then SIGKILL: no clear()
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.all.arp_announce': '0' });
      const restarted = new KernelObjects(new DatapathProgrammer(null, run), file);
      restarted.sync(vip);
      commands.length = 0;
      restarted.clear();
      expect(commands).toContain('sysctl -q -w net.ipv4.conf.all.arp_ignore=0');
      expect(commands).toContain('sysctl -q -w net.ipv4.conf.all.arp_announce=0');
      expect(existsSync(file)).toBe(false);
    });

    it('a restarted agent that no longer wants the sysctl restores the found value at once', () => {
      const { run, commands } = recorder();
      const file = foundFile();
      new KernelObjects(new DatapathProgrammer(null, run), file).sync(vip);
      commands.length = 0;
      new KernelObjects(new DatapathProgrammer(null, run), file).sync([]);
      expect(commands.sort()).toEqual(['sysctl -q -w net.ipv4.conf.all.arp_announce=0', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0']);
      expect(existsSync(file)).toBe(false);
    });

    it('an unreadable record is a clear error naming the file, not a guess', () => {
      const file = foundFile();
      writeFileSync(file, '{"net.ipv4.conf.all.arp_ignore": 0');
      expect(() => new KernelObjects(new DatapathProgrammer(null, recorder().run), file)).toThrow(/node1\.sysctls\.json: not the sysctl values found/);
      writeFileSync(file, '{"net.ipv4.conf.all.arp_ignore": 0}');
      expect(() => new KernelObjects(new DatapathProgrammer(null, recorder().run), file)).toThrow(/expected an object of sysctl name -> value/);
    });
  });
});
