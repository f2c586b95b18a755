// The host settings dockerd is known to change (forwarding sysctls, iptables chains and
// policies, br_netfilter): read before peerproof's engine first starts, put back when it stops.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Host state dockerd is known to change, as found before peerproof's dockerd first started. */
export interface HostSettings {
  sysctls: Record<string, string>;
  /** per table: the chain names that exist, plus built-in chain policies */
  iptables: Record<string, { chains: string[]; policies: Record<string, string> }> | null;
  brNetfilterLoaded: boolean;
}

const watchedSysctls = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  'net/ipv6/conf/default/forwarding',
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
];
const iptablesTables = ['filter', 'nat'];

function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(join('/proc/sys', name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readIptables(): HostSettings['iptables'] {
  if (run('sh', ['-c', 'command -v iptables-save']).status !== 0) return null;
  const state: NonNullable<HostSettings['iptables']> = {};
  for (const table of iptablesTables) {
    const r = run('iptables-save', ['-t', table]);
    if (r.status !== 0) continue;
    const chains: string[] = [];
    const policies: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^:(\S+) (\S+)/.exec(line);
      if (!m) continue;
      chains.push(m[1]!);
      if (m[2] !== '-') policies[m[1]!] = m[2]!;
    }
    state[table] = { chains, policies };
  }
  return state;
}

export function readHostSettings(): HostSettings {
  const sysctls: Record<string, string> = {};
  for (const name of watchedSysctls) {
    const value = readSysctl(name);
    if (value !== undefined) sysctls[name] = value;
  }
  const brNetfilterLoaded = existsSync('/sys/module/br_netfilter');
  return { sysctls, iptables: readIptables(), brNetfilterLoaded };
}

/** Puts back what differs from `saved`; returns a line per change made. */
export function restoreHostSettings(saved: HostSettings): string[] {
  const changes: string[] = [];
  const now = readHostSettings();
  for (const [name, value] of Object.entries(saved.sysctls)) {
    if (now.sysctls[name] !== undefined && now.sysctls[name] !== value) {
      writeFileSync(join('/proc/sys', name), value);
      changes.push(`sysctl ${name}: ${now.sysctls[name]} -> ${value}`);
    }
  }
  if (saved.iptables && now.iptables) {
    for (const [table, before] of Object.entries(saved.iptables)) {
      const after = now.iptables[table];
      if (!after) continue;
      for (const [chain, policy] of Object.entries(before.policies)) {
        if (after.policies[chain] !== undefined && after.policies[chain] !== policy) {
          must('iptables', ['-t', table, '-P', chain, policy]);
          changes.push(`iptables -t ${table} policy ${chain}: ${after.policies[chain]} -> ${policy}`);
        }
      }
      const added = after.chains.filter((c) => !before.chains.includes(c));
      if (added.length > 0) {
        removeChains(table, added);
        changes.push(`iptables -t ${table}: removed chains ${added.join(', ')}`);
      }
    }
  }
  if (!saved.brNetfilterLoaded && existsSync('/sys/module/br_netfilter')) {
    if (run('modprobe', ['-r', 'br_netfilter']).status === 0) changes.push('unloaded br_netfilter');
  }
  return changes;
}

/** Drops the rules that jump to `chains`, then the chains themselves. */
function removeChains(table: string, chains: string[]): void {
  const rules = must('iptables-save', ['-t', table]).split('\n');
  for (const line of rules) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m || chains.includes(m[1]!)) continue;
    if (chains.some((c) => new RegExp(`-[jg] ${c}(\\s|$)`).test(m[2]!))) {
      run('sh', ['-c', `iptables -t ${table} -D ${m[1]} ${m[2]}`]);
    }
  }
  for (const chain of chains) run('iptables', ['-t', table, '-F', chain]);
  for (const chain of chains) run('iptables', ['-t', table, '-X', chain]);
}
