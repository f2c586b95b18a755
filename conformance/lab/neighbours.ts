import { readFileSync, writeFileSync } from 'node:fs';
import type { LabTopology } from './model.ts';

// The kernel's neighbour tables (ARP for IPv4, NDP for IPv6) are ONE table each for the whole
// machine, every network namespace's entries in it, capped by the initial namespace's
// net.ipv4.neigh.default.gc_thresh3 (1024 by default). Every link end of a lab resolves its
// peer, so a fabric holds about two entries per link: at 682 links (a 500-node fabric) the
// table overflows ("neighbor table overflow!" in the kernel log), sends fail with ENOBUFS and
// sessions sit in Connect forever. The lab checks the headroom before it builds anything.

export interface NeighbourTable {
  family: 'ipv4' | 'ipv6';
  /** Entries in the table now, all namespaces together (/proc/net/stat). */
  entries: number;
  /** gc_thresh3: the hard cap. */
  limit: number;
  sysctl: string;
}

function entriesOf(file: string): number {
  try {
    // First data row, first column: entries (hex), the same in every per-CPU row.
    const row = readFileSync(file, 'utf8').split('\n')[1] ?? '';
    return parseInt(row.trim().split(/\s+/)[0] ?? '0', 16) || 0;
  } catch {
    return 0;
  }
}

function numberAt(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return 0;
  }
}

export function neighbourTables(): NeighbourTable[] {
  return [
    { family: 'ipv4', entries: entriesOf('/proc/net/stat/arp_cache'), limit: numberAt('/proc/sys/net/ipv4/neigh/default/gc_thresh3'), sysctl: 'net.ipv4.neigh.default.gc_thresh3' },
    { family: 'ipv6', entries: entriesOf('/proc/net/stat/ndisc_cache'), limit: numberAt('/proc/sys/net/ipv6/neigh/default/gc_thresh3'), sysctl: 'net.ipv6.neigh.default.gc_thresh3' },
  ];
}

/** IPv4 neighbour entries a topology holds once up: both ends of every link resolve the other. */
export function neighboursNeeded(topology: LabTopology): number {
  return 2 * topology.links.length;
}

/**
 * Null when the IPv4 table can hold the topology, else a message naming the sysctl to raise (the
 * lab would otherwise time out with sessions stuck in Connect). Only the topology's own need is
 * held against the cap: what other labs hold now is partly stale and reclaimed by forced GC, so
 * counting it would refuse labs that come up.
 */
export function neighbourShortage(topology: LabTopology, tables: NeighbourTable[] = neighbourTables()): string | null {
  const v4 = tables.find((t) => t.family === 'ipv4');
  if (!v4 || v4.limit <= 0) return null;
  const needed = neighboursNeeded(topology);
  if (needed <= v4.limit) return null;
  return (
    `${topology.name} needs about ${needed} IPv4 neighbour entries (2 per link, ${topology.links.length} links) and the machine's ARP table ` +
    `holds ${v4.entries} of at most ${v4.limit} (one table for all namespaces): raise it first, e.g. ` +
    `sysctl -w net.ipv4.neigh.default.gc_thresh3=${Math.max(4096, 2 * (v4.entries + needed))} net.ipv4.neigh.default.gc_thresh2=${Math.max(2048, v4.entries + needed)}`
  );
}

/**
 * Raises gc_thresh2/3 of both families so `needed` more entries fit (never lowers them);
 * returns a function that puts the old values back. For benches that own the machine's setup.
 */
export function raiseNeighbourLimits(needed: number): { raised: string[]; restore: () => void } {
  const raised: string[] = [];
  const old: Array<[string, string]> = [];
  for (const family of ['ipv4', 'ipv6']) {
    for (const [key, want] of [['gc_thresh3', 4 * needed + 1024], ['gc_thresh2', 2 * needed + 512]] as const) {
      const path = `/proc/sys/net/${family}/neigh/default/${key}`;
      const now = numberAt(path);
      if (now >= want) continue;
      old.push([path, String(now)]);
      writeFileSync(path, String(want));
      raised.push(`net.${family}.neigh.default.${key} ${now} -> ${want}`);
    }
  }
  return {
    raised,
    restore: () => {
      for (const [path, value] of old.reverse()) writeFileSync(path, value);
    },
  };
}
