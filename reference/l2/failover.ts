import { bytesEqual } from './addresses.ts';
import { ARP_REQUEST, decodeArp } from './frames.ts';

// L2 failover as a client's link sees it, measured from captured frames (the lab test and the
// L2 bench read them from tcpdump on the client's link).

export interface TimedFrame {
  /** Seconds since the epoch. */
  ts: number;
  frame: Uint8Array;
}

export interface FailoverMeasurement {
  /** Capture time of the last frame the old holder sent (ARP reply, echo reply, anything). */
  lastOldFrame: number;
  /** Capture time of the new holder's first gratuitous ARP for the VIP after that. */
  firstAnnouncement: number;
  milliseconds: number;
}

/**
 * Last frame from the old holder's MAC to the first gratuitous ARP for `vip` from the new
 * holder's MAC. Null while the frames do not show both.
 */
export function failoverFromCapture(frames: TimedFrame[], oldMac: Uint8Array, newMac: Uint8Array, vip: Uint8Array): FailoverMeasurement | null {
  const sentBy = (f: TimedFrame, mac: Uint8Array) => bytesEqual(f.frame.subarray(6, 12), mac);
  const lastOld = frames.filter((f) => sentBy(f, oldMac)).at(-1);
  if (!lastOld) return null;
  const announcement = frames.find((f) => {
    if (f.ts <= lastOld.ts || !sentBy(f, newMac)) return false;
    const arp = decodeArp(f.frame);
    return arp !== null && arp.op === ARP_REQUEST && bytesEqual(arp.senderIp, vip) && bytesEqual(arp.targetIp, vip);
  });
  if (!announcement) return null;
  return { lastOldFrame: lastOld.ts, firstAnnouncement: announcement.ts, milliseconds: (announcement.ts - lastOld.ts) * 1000 };
}
