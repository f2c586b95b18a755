// Where the announcer's frames go in and out: the Ethernet interfaces of the network namespace
// this process runs in, chosen by the policy's name patterns, opened with libpcap (`cap`).
// libpcap binds to the current namespace, so the announcer runs inside the node's namespace.
import { execFileSync } from 'node:child_process';
import capModule from 'cap';
import { parseMac } from './addresses.ts';

export interface InterfaceInfo {
  name: string;
  mac: Uint8Array;
  /** Administratively up; libpcap cannot open an interface that is down. */
  up?: boolean;
}

/** A frame sink and source on one interface. */
export interface FrameLink {
  readonly interfaceName: string;
  readonly mac: Uint8Array;
  send(frame: Uint8Array): void;
  close(): void;
}

interface IpLink {
  ifname: string;
  link_type: string;
  address?: string;
  flags: string[];
}

/** Ethernet interfaces of the current namespace whose names match any of `patterns` (all when empty). */
export function matchingInterfaces(patterns: RegExp[]): InterfaceInfo[] {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as IpLink[];
  return links
    .filter((link) => link.link_type === 'ether' && link.address)
    .filter((link) => patterns.length === 0 || patterns.some((pattern) => pattern.test(link.ifname)))
    .map((link) => ({ name: link.ifname, mac: parseMac(link.address!), up: link.flags.includes('UP') }));
}

interface IpAddressLink {
  ifname: string;
  addr_info: Array<{ local: string }>;
}

/** Which of `addresses` are configured on which of `interfaceNames` (the kernel answers for those itself). */
export function addressesConfiguredOn(interfaceNames: string[], addresses: string[]): Array<{ address: string; interfaceName: string }> {
  const links = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as IpAddressLink[];
  const wanted = new Set(addresses);
  return links
    .filter((link) => interfaceNames.includes(link.ifname))
    .flatMap((link) => link.addr_info.filter((a) => wanted.has(a.local)).map((a) => ({ address: a.local, interfaceName: link.ifname })));
}

// ARP, and neighbour solicitations without extension headers (the form every stack sends).
const CAPTURE_FILTER = 'arp or (icmp6 and ip6[40] == 135)';
const CAPTURE_BUFFER_BYTES = 1 << 20;

/**
 * Opens `iface` with libpcap; `onFrame` gets each received frame as a view valid only during the
 * call. A frame that cannot be sent (the link went down) goes to `onSendError`: one lost answer
 * must not stop the announcer.
 */
export function openCapLink(
  iface: InterfaceInfo,
  onFrame: (frame: Uint8Array, link: FrameLink) => void,
  onSendError: (error: Error, interfaceName: string) => void = () => {},
): FrameLink {
  const capture = new capModule.Cap();
  const buffer = Buffer.alloc(65535);
  const linkType = capture.open(iface.name, CAPTURE_FILTER, CAPTURE_BUFFER_BYTES, buffer);
  if (linkType !== 'ETHERNET') {
    capture.close();
    throw new Error(`interface ${iface.name} has link type ${linkType}; the announcer needs Ethernet`);
  }
  let open = true;
  const link: FrameLink = {
    interfaceName: iface.name,
    mac: iface.mac,
    send(frame) {
      if (!open) return;
      try {
        capture.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), frame.byteLength);
      } catch (err) {
        onSendError(err as Error, iface.name);
      }
    },
    close() {
      if (!open) return;
      open = false;
      capture.close();
    },
  };
  capture.on('packet', (length: number) => onFrame(buffer.subarray(0, length), link));
  return link;
}
