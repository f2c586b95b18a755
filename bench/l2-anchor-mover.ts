// The anchor of bench/l2.bench.ts: a keepalived-style VIP mover. It wins the same lease as the
// announcer (same timing, so both detect a dead leader identically), but takes over the way
// keepalived and kube-vip's ARP mode do: the VIP is added to the interface, the kernel answers
// ARP for it, and `arping -U` announces it. Runs inside a node namespace:
//   node --import tsx bench/l2-anchor-mover.ts IDENTITY LEASE_DIR INTERFACE VIP
import { execFileSync, spawn } from 'node:child_process';
import { FAST_FAILOVER_TIMING, LeaderElector } from '../reference/l2/election.ts';
import { FileLeaseStore } from '../reference/l2/lease-store.ts';

const [identity, leaseDirectory, ifname, vip] = process.argv.slice(2);
if (!vip) {
  process.stderr.write('usage: l2-anchor-mover.ts IDENTITY LEASE_DIR INTERFACE VIP\n');
  process.exit(2);
}
const print = (record: object) => process.stdout.write(`${JSON.stringify({ ts: Date.now(), ...record })}\n`);
const elector = new LeaderElector(new FileLeaseStore(leaseDirectory), 'bench-anchor', identity, FAST_FAILOVER_TIMING);

let lastHolder: string | null | undefined;

function tick(): void {
  const state = elector.step();
  if (state.acquired) {
    execFileSync('ip', ['addr', 'replace', `${vip}/32`, 'dev', ifname]);
    spawn('arping', ['-q', '-U', '-c', '1', '-I', ifname, vip], { stdio: 'ignore' });
    print({ event: 'leader' });
  }
  if (state.lost) {
    execFileSync('ip', ['addr', 'del', `${vip}/32`, 'dev', ifname]);
    print({ event: 'lost' });
  }
  if (!state.leader && state.holder !== lastHolder) print({ event: 'follower', holder: state.holder });
  lastHolder = state.holder;
  setTimeout(tick, elector.isLeader() ? elector.timing.renewIntervalMs : elector.timing.retryIntervalMs);
}
tick();
