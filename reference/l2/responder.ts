// Decides what to say on the wire: answers ARP requests and neighbour solicitations for the
// VIPs currently announced, and builds the takeover announcements. It owns no sockets; frames
// come in and go out through FrameLinks.
import { isIP } from 'node:net';
import { bytesEqual, formatIpv6, formatMac, parseIpv4, parseIpv6 } from './addresses.ts';
import {
  ARP_REQUEST,
  arpReplyTo,
  decodeArp,
  decodeNeighborSolicitation,
  gratuitousArp,
  neighborAdvertisementFor,
  unsolicitedNeighborAdvertisement,
} from './frames.ts';
import type { FrameLink } from './links.ts';

export interface Vip {
  text: string;
  family: 4 | 6;
  bytes: Uint8Array;
}

export function parseVip(text: string): Vip {
  const trimmed = text.trim();
  const family = isIP(trimmed);
  if (family === 0) throw new Error(`not an IPv4 or IPv6 address: "${trimmed}"`);
  if (family === 4) return { text: trimmed, family: 4, bytes: parseIpv4(trimmed) };
  const bytes = parseIpv6(trimmed);
  return { text: formatIpv6(bytes), family: 6, bytes }; // the form `ip` prints, so addresses compare as text
}

export type Answer = { kind: 'arp-reply' | 'neighbor-advertisement'; vip: string; to: string; interfaceName: string };

const key = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export class Responder {
  private readonly announced = new Map<string, Vip>();

  start(vips: Vip[]): void {
    for (const vip of vips) this.announced.set(key(vip.bytes), vip);
  }

  stop(vips: Vip[]): void {
    for (const vip of vips) this.announced.delete(key(vip.bytes));
  }

  isAnswering(vip: Vip): boolean {
    return this.announced.has(key(vip.bytes));
  }

  /** Answers `frame` on `link` if it asks for an announced VIP; returns what was sent. */
  handleFrame(frame: Uint8Array, link: FrameLink): Answer | null {
    if (frame.length >= 12 && bytesEqual(frame.subarray(6, 12), link.mac)) return null; // our own frame, seen on the way out
    const arp = decodeArp(frame);
    if (arp) {
      // A request whose sender is the target is someone's announcement, not a question.
      if (arp.op !== ARP_REQUEST || bytesEqual(arp.senderIp, arp.targetIp)) return null;
      const vip = this.announced.get(key(arp.targetIp));
      if (!vip) return null;
      link.send(arpReplyTo(arp, link.mac));
      return { kind: 'arp-reply', vip: vip.text, to: formatMac(arp.senderMac), interfaceName: link.interfaceName };
    }
    const solicitation = decodeNeighborSolicitation(frame);
    if (solicitation) {
      const vip = this.announced.get(key(solicitation.target));
      if (!vip) return null;
      link.send(neighborAdvertisementFor(solicitation, link.mac));
      return { kind: 'neighbor-advertisement', vip: vip.text, to: formatMac(solicitation.ethSrc), interfaceName: link.interfaceName };
    }
    return null;
  }

  /** Gratuitous ARP / unsolicited NA for each VIP on each link, so neighbours switch to our MAC now. */
  announce(vips: Vip[], links: FrameLink[]): void {
    for (const link of links) {
      for (const vip of vips) {
        link.send(vip.family === 4 ? gratuitousArp(link.mac, vip.bytes) : unsolicitedNeighborAdvertisement(link.mac, vip.bytes));
      }
    }
  }
}
