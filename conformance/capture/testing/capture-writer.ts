// Test support: writes captures in every format and link type the reader accepts, from the real
// packets of a golden capture (re-wrapped, never invented), so each reader path is exercised with
// bytes a real router sent.

import { EtherType, LinkType } from '../../../reference/net/numbers.ts';
import { PcapMagic } from '../pcap-reader.ts';

export interface Frame {
  data: Uint8Array;
  ts: number;
  linkType: number;
}

/** The IP packet inside a frame and its ethertype. */
export function networkLayer(frame: Frame): { etherType: number; packet: Uint8Array } {
  const d = frame.data;
  switch (frame.linkType) {
    case LinkType.ETHERNET:
      return { etherType: (d[12]! << 8) | d[13]!, packet: d.subarray(14) };
    case LinkType.LINUX_SLL2:
      return { etherType: (d[0]! << 8) | d[1]!, packet: d.subarray(20) };
    case LinkType.LINUX_SLL:
      return { etherType: (d[14]! << 8) | d[15]!, packet: d.subarray(16) };
    case LinkType.RAW:
      return { etherType: d[0]! >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4, packet: d };
    default:
      throw new Error(`cannot re-wrap link type ${frame.linkType}`);
  }
}

const MAC_A = [0x02, 0, 0, 0, 0, 0xa];
const MAC_B = [0x02, 0, 0, 0, 0, 0xb];

export function asEthernet(frame: Frame, vlanTags: Array<{ tpid: number; vid: number }> = []): Frame {
  const { etherType, packet } = networkLayer(frame);
  const header = [...MAC_B, ...MAC_A];
  for (const tag of vlanTags) header.push(tag.tpid >> 8, tag.tpid & 0xff, (tag.vid >> 8) & 0x0f, tag.vid & 0xff);
  header.push(etherType >> 8, etherType & 0xff);
  return { data: Buffer.concat([Uint8Array.from(header), packet]), ts: frame.ts, linkType: LinkType.ETHERNET };
}

/** Linux cooked v1: packet type, ARPHRD, address length, 8-byte address, protocol. */
export function asCookedV1(frame: Frame): Frame {
  const { etherType, packet } = networkLayer(frame);
  const header = [0, 4, 0, 1, 0, 6, ...MAC_A, 0, 0, etherType >> 8, etherType & 0xff];
  return { data: Buffer.concat([Uint8Array.from(header), packet]), ts: frame.ts, linkType: LinkType.LINUX_SLL };
}

/** Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
export function asCookedV2(frame: Frame): Frame {
  const { etherType, packet } = networkLayer(frame);
  const header = [etherType >> 8, etherType & 0xff, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, ...MAC_A, 0, 0];
  return { data: Buffer.concat([Uint8Array.from(header), packet]), ts: frame.ts, linkType: LinkType.LINUX_SLL2 };
}

export function asRawIp(frame: Frame, linkType: number = LinkType.RAW): Frame {
  return { data: networkLayer(frame).packet.slice(), ts: frame.ts, linkType };
}

export function writePcap(frames: Frame[], resolution: 'us' | 'ns', bigEndian = false): Uint8Array {
  const le = !bigEndian;
  const linkType = frames[0]?.linkType ?? LinkType.ETHERNET;
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, resolution === 'ns' ? PcapMagic.NS : PcapMagic.US, le);
  header.setUint16(4, 2, le);
  header.setUint16(6, 4, le);
  header.setUint32(16, 262144, le);
  header.setUint32(20, linkType, le);
  parts.push(new Uint8Array(header.buffer));
  const scale = resolution === 'ns' ? 1e9 : 1e6;
  for (const frame of frames) {
    const record = new DataView(new ArrayBuffer(16));
    const seconds = Math.floor(frame.ts);
    record.setUint32(0, seconds, le);
    record.setUint32(4, Math.min(scale - 1, Math.round((frame.ts - seconds) * scale)), le);
    record.setUint32(8, frame.data.length, le);
    record.setUint32(12, frame.data.length, le);
    parts.push(new Uint8Array(record.buffer), frame.data);
  }
  return Buffer.concat(parts);
}

/**
 * pcapng with one section; one interface per distinct link type. `tsresol` is the if_tsresol
 * option byte (6 = microseconds, 9 = nanoseconds, 0x80|n = 2^-n).
 */
export function writePcapng(frames: Frame[], opts: { bigEndian?: boolean; tsresol?: number; simple?: boolean } = {}): Uint8Array {
  const le = !opts.bigEndian;
  const tsresol = opts.tsresol ?? 9;
  const unitsPerSecond = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
  const parts: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array) => {
    const padded = (body.length + 3) & ~3;
    const total = 12 + padded;
    const view = new DataView(new ArrayBuffer(total));
    view.setUint32(0, type, le);
    view.setUint32(4, total, le);
    new Uint8Array(view.buffer).set(body, 8);
    view.setUint32(total - 4, total, le);
    parts.push(new Uint8Array(view.buffer));
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, le);
  shb.setUint16(4, 1, le);
  shb.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, new Uint8Array(shb.buffer));
  const interfaces = [...new Set(frames.map((fr) => fr.linkType))];
  for (const linkType of interfaces) {
    const idb = new DataView(new ArrayBuffer(8 + 8 + 4));
    idb.setUint16(0, linkType, le);
    idb.setUint32(4, 262144, le);
    idb.setUint16(8, 9, le); // if_tsresol
    idb.setUint16(10, 1, le);
    idb.setUint8(12, tsresol);
    // 16..19: opt_endofopt
    block(1, new Uint8Array(idb.buffer));
  }
  for (const frame of frames) {
    if (opts.simple) {
      const spb = new DataView(new ArrayBuffer(4 + frame.data.length));
      spb.setUint32(0, frame.data.length, le);
      new Uint8Array(spb.buffer).set(frame.data, 4);
      block(3, new Uint8Array(spb.buffer));
      continue;
    }
    const epb = new DataView(new ArrayBuffer(20 + frame.data.length));
    const units = BigInt(Math.round(frame.ts * unitsPerSecond));
    epb.setUint32(0, interfaces.indexOf(frame.linkType), le);
    epb.setUint32(4, Number(units >> 32n), le);
    epb.setUint32(8, Number(units & 0xffffffffn), le);
    epb.setUint32(12, frame.data.length, le);
    epb.setUint32(16, frame.data.length, le);
    new Uint8Array(epb.buffer).set(frame.data, 20);
    block(6, new Uint8Array(epb.buffer));
  }
  return Buffer.concat(parts);
}

