// ecmp.spread: counts the distinct UDP flows (source port) towards a VIP seen in each next-hop
// link's capture, and how evenly they spread.
import { existsSync, readFileSync } from 'node:fs';
import { readCapture } from '../capture/pcap-reader.ts';
import { EtherType, IpProtocol, LinkType } from '../../reference/net/numbers.ts';

/** Source ports of IPv4 UDP datagrams to `dst`:`dstPort` in an Ethernet capture. */
export function udpSourcePorts(bytes: Uint8Array, dst: string, dstPort: number): Set<number> {
  const ports = new Set<number>();
  const want = dst.split('.').map(Number);
  readCapture(bytes, (frame, _ts, linkType) => {
    if (linkType !== LinkType.ETHERNET || frame.length < 14 + 20 + 8) return;
    if (((frame[12]! << 8) | frame[13]!) !== EtherType.IPV4) return;
    const ip = 14;
    if (frame[ip]! >> 4 !== 4 || frame[ip + 9] !== IpProtocol.UDP) return;
    for (let i = 0; i < 4; i++) if (frame[ip + 16 + i] !== want[i]) return;
    const udp = ip + (frame[ip]! & 0x0f) * 4;
    if (udp + 8 > frame.length) return;
    if (((frame[udp + 2]! << 8) | frame[udp + 3]!) !== dstPort) return;
    ports.add((frame[udp]! << 8) | frame[udp + 1]!);
  });
  return ports;
}

export function udpSourcePortsInFile(file: string, dst: string, dstPort: number): Set<number> {
  return existsSync(file) ? udpSourcePorts(readFileSync(file), dst, dstPort) : new Set();
}

export interface Spread {
  perLink: number[];
  total: number;
  /** Largest |share - 1/links| over the links, as a fraction of all flows. */
  maxDeviation: number;
  /** Flows seen on more than one link (a flow must stick to one next hop). */
  split: number;
}

export function spreadOf(perLinkPorts: ReadonlyArray<ReadonlySet<number>>): Spread {
  const perLink = perLinkPorts.map((s) => s.size);
  const seen = new Map<number, number>();
  for (const s of perLinkPorts) for (const p of s) seen.set(p, (seen.get(p) ?? 0) + 1);
  const total = seen.size;
  const fair = 1 / Math.max(1, perLink.length);
  const maxDeviation = total === 0 ? 1 : Math.max(...perLink.map((n) => Math.abs(n / total - fair)));
  const split = [...seen.values()].filter((n) => n > 1).length;
  return { perLink, total, maxDeviation, split };
}
