import { describe, expect, it } from 'vitest';
import { fabricTopology } from './fabric.ts';
import { neighbourShortage, neighboursNeeded, type NeighbourTable } from './neighbours.ts';

const table = (entries: number, limit: number): NeighbourTable[] => [{ family: 'ipv4', entries, limit, sysctl: 'net.ipv4.neigh.default.gc_thresh3' }];

describe('neighbour table headroom', () => {
  it('counts two entries per link and refuses a fabric the ARP table cannot hold, naming the sysctl', () => {
    const big = fabricTopology({ spines: 4, leaves: 62, nodesPerLeaf: 7 });
    expect(neighboursNeeded(big)).toBe(2 * (4 * 62 + 62 * 7));
    const message = neighbourShortage(big, table(10, 1024));
    expect(message).toMatch(/1364 IPv4 neighbour entries/);
    expect(message).toMatch(/sysctl -w net\.ipv4\.neigh\.default\.gc_thresh3=\d+/);
    expect(neighbourShortage(big, table(10, 8192))).toBeNull();
    expect(neighbourShortage(fabricTopology({ spines: 4, leaves: 20, nodesPerLeaf: 4 }), table(900, 1024))).toBeNull();
  });
});
