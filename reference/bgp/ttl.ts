// TTL of our BGP packets (RFC 4271 eBGP single-hop / multihop). Node cannot set IP_TTL on a TCP
// socket, so, as root in its own network namespace, the speaker installs an nftables table of its
// own that rewrites the IP TTL (IPv6 hop limit) of the packets it sends to each peer's BGP port
// or from its listening port. The table is named after the process, deleted on stop and on exit;
// a table left by a crashed speaker (its pid gone) is deleted on the next start.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import type { PeerConfig } from './config.ts';

const TABLE_PREFIX = 'peerproof_ttl_';
const NETNS_DIR = '/run/netns';
/** Directly connected eBGP peers get TTL 1, iBGP peers 255 (what FRR and BIRD send too). */
export const EBGP_TTL = 1;
export const IBGP_TTL = 255;

export function configuredTtl(peer: PeerConfig, localAs: number): number {
  return peer.multihop ?? (peer.asn === localAs ? IBGP_TTL : EBGP_TTL);
}

export interface TtlRule {
  address: string;
  /** The peer's BGP port (connections we open). */
  peerPort: number;
  /** Our listening port (connections the peer opens), when we listen. */
  listenPort?: number;
  ttl: number;
}

/** The nft script of one table: a mangle-priority output chain with one rule per direction. */
export function nftScript(table: string, rules: TtlRule[]): string {
  const lines = [`table inet ${table} {`, '  chain output {', '    type filter hook output priority -150; policy accept;'];
  for (const rule of rules) {
    const [match, set] = isIP(rule.address) === 6 ? ['ip6 daddr', 'ip6 hoplimit set'] : ['ip daddr', 'ip ttl set'];
    lines.push(`    ${match} ${rule.address} tcp dport ${rule.peerPort} ${set} ${rule.ttl}`);
    if (rule.listenPort !== undefined) lines.push(`    ${match} ${rule.address} tcp sport ${rule.listenPort} ${set} ${rule.ttl}`);
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

/** Tables named `peerproof_ttl_<pid>_<n>` in `nft list tables` output whose process is gone. */
export function orphanTables(listing: string, alive: (pid: number) => boolean): string[] {
  const orphans: string[] = [];
  for (const match of listing.matchAll(new RegExp(`^table inet (${TABLE_PREFIX}(\\d+)_\\d+)$`, 'gm'))) {
    if (!alive(Number(match[2]))) orphans.push(match[1]!);
  }
  return orphans;
}

function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`nft ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function processAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** The `ip netns` name of the namespace we run in, or null (host namespace, a container's). */
export function namedNetworkNamespace(): string | null {
  const self = statSync('/proc/self/ns/net');
  let names: string[];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return null;
  }
  for (const name of names) {
    try {
      const bound = statSync(join(NETNS_DIR, name));
      if (bound.ino === self.ino && bound.dev === self.dev) return name;
    } catch {
      // a namespace being deleted meanwhile
    }
  }
  return null;
}

/** Why TTL control cannot run here, or null when it can. */
export function ttlControlUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (nftables needs CAP_NET_ADMIN)';
  try {
    // Never touch the host's own firewall: only a namespace made for us (ip netns) is ours to change.
    if (namedNetworkNamespace() === null) return 'not in a network namespace of its own (ip netns)';
  } catch (err) {
    return `cannot tell the network namespace: ${(err as Error).message}`;
  }
  return null;
}

export function kernelDefaultTtl(ipv6: boolean): number {
  try {
    return Number(readFileSync(ipv6 ? '/proc/sys/net/ipv6/conf/default/hop_limit' : '/proc/sys/net/ipv4/ip_default_ttl', 'utf8').trim()) || 64;
  } catch {
    return 64;
  }
}

export type TtlControlState = { active: true; table: string } | { active: false; reason: string };

/** One speaker's nftables table. `state` says whether the configured TTLs are on the wire. */
let instances = 0;

export class TtlControl {
  /** Unique per speaker, also when one process runs several (the agent replaces its speaker). */
  readonly table = `${TABLE_PREFIX}${process.pid}_${instances++}`;
  state: TtlControlState = { active: false, reason: 'not started' };
  private readonly onExit = (): void => {
    // Last resort on a normal exit without stop(): synchronous, since the loop is gone.
    try {
      execFileSync('nft', ['delete', 'table', 'inet', this.table], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // already gone
    }
  };

  constructor(private readonly log: (level: 'info' | 'warn', message: string) => void) {}

  /** Installs the rules; never throws: a failure leaves the kernel default TTL and says why. */
  async install(rules: TtlRule[]): Promise<TtlControlState> {
    const unavailable = ttlControlUnavailable();
    if (unavailable) {
      this.state = { active: false, reason: unavailable };
      this.log('info', `TTL control off (${unavailable}): BGP packets leave with the kernel default TTL ${kernelDefaultTtl(false)}`);
      return this.state;
    }
    try {
      const listing = await nft(['list', 'tables']);
      for (const orphan of orphanTables(listing, processAlive)) {
        await nft(['delete', 'table', 'inet', orphan]);
        this.log('info', `TTL control: removed ${orphan}, left by a speaker that is no longer running`);
      }
      if (listing.includes(`table inet ${this.table}\n`)) await nft(['delete', 'table', 'inet', this.table]);
      await nft(['-f', '-'], nftScript(this.table, rules));
      process.once('exit', this.onExit);
      this.state = { active: true, table: this.table };
      this.log('info', `TTL control: nftables table inet ${this.table} sets ${rules.map((r) => `${r.address} TTL ${r.ttl}`).join(', ') || 'nothing (no peers)'}`);
    } catch (err) {
      this.state = { active: false, reason: (err as Error).message };
      this.log('warn', `TTL control off: ${(err as Error).message}; BGP packets leave with the kernel default TTL`);
    }
    return this.state;
  }

  async remove(): Promise<void> {
    if (!this.state.active) return;
    process.off('exit', this.onExit);
    this.state = { active: false, reason: 'speaker stopped' };
    await nft(['delete', 'table', 'inet', this.table]).catch((err: Error) => this.log('warn', `TTL control: ${err.message}`));
  }
}
