// The sysctls a lab node gets for its kind, before its own (`node.sysctls`).
import { existsSync } from 'node:fs';
import type { LabNode } from './model.ts';

const routerSysctls: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.fib_multipath_hash_policy': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
};
// Every namespace hashes flows with the same kernel-wide key unless given a seed (Linux >= 6.11):
// stacked ECMP routers would then all pick the same branch (hash polarization), which real
// routers, each with its own seed, do not. A seed per router name keeps runs reproducible.
const HAS_MULTIPATH_SEED = existsSync('/proc/sys/net/ipv4/fib_multipath_hash_seed');
function multipathSeed(node: string): Record<string, string> {
  if (!HAS_MULTIPATH_SEED) return {};
  let h = 0x811c9dc5;
  for (const c of node) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return { 'net.ipv4.fib_multipath_hash_seed': String(h || 1) };
}
const hostSysctls: Record<string, string> = {
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
};

export function kindSysctls(node: LabNode): Record<string, string> {
  if (node.kind === 'host' || node.kind === 'speaker') return hostSysctls;
  return node.kind === 'bridge' ? {} : { ...routerSysctls, ...multipathSeed(node.name) };
}
