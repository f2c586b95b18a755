import type { Backend } from '../backend.ts';
import type { LabNode } from '../model.ts';
import { pollHarness } from '../poll.ts';

/** Whether a node's daemon talks BGP over IPv6 (a neighbour address, or an unnumbered interface). */
export function hasIpv6Sessions(node: LabNode): boolean {
  return node.neighbors.some((n) => n.address.includes(':') || n.interface);
}

/**
 * Waits until no IPv6 address of the node is tentative (duplicate address detection runs for a
 * second or two after a link comes up). A daemon started earlier does not know its link-local
 * address: bgpd refuses the IPv6 session ("nexthop_set failed"), and BIRD picks the link-local next
 * hop it sends once, when the session starts, so without one it sends the global address alone.
 * Past the timeout the daemon starts anyway (its own connect retry is the fallback).
 */
export async function waitForLinkLocalAddresses(backend: Backend, node: string, timeoutMs = 5000): Promise<void> {
  await pollHarness(
    async () => {
      const result = await backend.exec(node, ['ip', '-6', '-j', 'addr', 'show', 'tentative']);
      const rows = result.code === 0 ? (JSON.parse(result.stdout || '[]') as Array<{ addr_info?: unknown[] }>) : [];
      return result.code === 0 && rows.every((r) => (r.addr_info ?? []).length === 0);
    },
    (settled) => settled,
    timeoutMs,
    100,
  );
}
