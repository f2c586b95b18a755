// Reads the three capture file formats in use: classic pcap with microsecond or nanosecond
// timestamps (tcpdump, libpcap) and pcapng (tshark, dumpcap, containerlab), either byte order.
// One reader over the whole file in memory: the decoder needs the bytes anyway, and walking a
// buffer with DataView is several times faster than a stream of per-packet events.

export class NotACaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotACaptureError';
  }
}

export interface CaptureWarning {
  /** Byte offset in the file where the damage starts. */
  offset: number;
  message: string;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

/**
 * Called once per packet. `data` is a view into the file buffer (valid as long as the buffer is):
 * keep it, do not copy it. `ts` is seconds since the epoch with fraction.
 */
export type PacketHandler = (data: Uint8Array, ts: number, linkType: number) => void;

export interface CaptureSummary {
  format: CaptureFormat;
  packets: number;
  warnings: CaptureWarning[];
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** No link layer we read carries frames this large; a bigger length means a corrupt record. */
const MAX_SANE_PACKET = 0x40000;

export function detectFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_US_SWAPPED) return 'pcap';
  if (magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED) return 'pcap-ns';
  if (magic === PCAPNG_SHB) return 'pcapng';
  return null;
}

/** Reads every packet of a capture held in memory. Throws NotACaptureError only for a file that is not one. */
export function readCapture(bytes: Uint8Array, onPacket: PacketHandler): CaptureSummary {
  const format = detectFormat(bytes);
  if (format === null) {
    throw new NotACaptureError(
      bytes.length < 4 ? `file too short to be a capture (${bytes.length} bytes)` : 'not a pcap or pcapng file (unknown magic number)',
    );
  }
  const warnings: CaptureWarning[] = [];
  const packets = format === 'pcapng' ? readPcapng(bytes, onPacket, warnings) : readPcap(bytes, onPacket, warnings);
  return { format, packets, warnings };
}

function readPcap(bytes: Uint8Array, onPacket: PacketHandler, warnings: CaptureWarning[]): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) {
    throw new NotACaptureError(`pcap file header truncated (${bytes.length} of 24 bytes)`);
  }
  const magic = view.getUint32(0, false);
  const le = magic === PCAP_MAGIC_US_SWAPPED || magic === PCAP_MAGIC_NS_SWAPPED;
  const fractionScale = magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED ? 1e-9 : 1e-6;
  // The upper bits of the link-type field carry FCS information (pcap spec, LinkType field).
  const linkType = view.getUint32(20, le) & 0x0fffffff;
  let offset = 24;
  let packets = 0;
  while (offset < bytes.length) {
    if (offset + 16 > bytes.length) {
      warnings.push({ offset, message: `truncated record header (${bytes.length - offset} of 16 bytes)` });
      break;
    }
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const captured = view.getUint32(offset + 8, le);
    if (captured > MAX_SANE_PACKET) {
      warnings.push({ offset, message: `corrupt record: captured length ${captured} is not plausible` });
      break;
    }
    const start = offset + 16;
    if (start + captured > bytes.length) {
      warnings.push({ offset, message: `truncated packet (${bytes.length - start} of ${captured} bytes)` });
      break;
    }
    onPacket(bytes.subarray(start, start + captured), seconds + fraction * fractionScale, linkType);
    packets++;
    offset = start + captured;
  }
  return packets;
}

interface PcapngInterface {
  linkType: number;
  /** Seconds per timestamp unit. */
  unit: number;
  offsetSeconds: number;
}

function readPcapng(bytes: Uint8Array, onPacket: PacketHandler, warnings: CaptureWarning[]): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le = true;
  let interfaces: PcapngInterface[] = [];
  let offset = 0;
  let packets = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) {
      warnings.push({ offset, message: `truncated block header (${bytes.length - offset} of 12 bytes)` });
      break;
    }
    const type = view.getUint32(offset, le);
    if (type === PCAPNG_SHB) {
      // The SHB type reads the same in both byte orders; the section's order is in its magic.
      const order = view.getUint32(offset + 8, false);
      if (order === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else if (view.getUint32(offset + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else {
        if (offset === 0) throw new NotACaptureError('pcapng section header has no valid byte-order magic');
        warnings.push({ offset, message: 'corrupt section header block (bad byte-order magic)' });
        break;
      }
      interfaces = [];
    }
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0 || length > MAX_SANE_PACKET + 64) {
      if (offset === 0) throw new NotACaptureError(`pcapng section header has an invalid length ${length}`);
      warnings.push({ offset, message: `corrupt block: length ${length} is not plausible` });
      break;
    }
    if (offset + length > bytes.length) {
      warnings.push({ offset, message: `truncated block (${bytes.length - offset} of ${length} bytes)` });
      break;
    }
    if (view.getUint32(offset + length - 4, le) !== length) {
      warnings.push({ offset, message: 'corrupt block: trailing length does not match' });
      break;
    }
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    switch (type) {
      case 1: // Interface Description Block
        interfaces.push(readInterfaceDescription(view, body, bodyEnd, le));
        break;
      case 6: // Enhanced Packet Block
      case 2: {
        // Obsolete Packet Block: 16-bit interface id and drop count instead of a 32-bit id
        const id = type === 6 ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = interfaces[id];
        if (iface === undefined) {
          warnings.push({ offset, message: `packet block names interface ${id}, which was not described` });
          break;
        }
        const units = view.getUint32(body + 4, le) * 4294967296 + view.getUint32(body + 8, le);
        const captured = view.getUint32(body + 12, le);
        const start = body + 20;
        if (start + captured > bodyEnd) {
          warnings.push({ offset, message: `corrupt packet block: captured length ${captured} exceeds the block` });
          break;
        }
        onPacket(bytes.subarray(start, start + captured), units * iface.unit + iface.offsetSeconds, iface.linkType);
        packets++;
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp
        const iface = interfaces[0];
        if (iface === undefined) {
          warnings.push({ offset, message: 'simple packet block before any interface description' });
          break;
        }
        const original = view.getUint32(body, le);
        const captured = Math.min(original, bodyEnd - (body + 4));
        onPacket(bytes.subarray(body + 4, body + 4 + captured), 0, iface.linkType);
        packets++;
        break;
      }
      default: // SHB handled above; name resolution, statistics, custom blocks carry no packets
        break;
    }
    offset += length;
  }
  return packets;
}

function readInterfaceDescription(view: DataView, body: number, bodyEnd: number, le: boolean): PcapngInterface {
  const iface: PcapngInterface = { linkType: view.getUint16(body, le), unit: 1e-6, offsetSeconds: 0 };
  let option = body + 8;
  while (option + 4 <= bodyEnd) {
    const code = view.getUint16(option, le);
    const length = view.getUint16(option + 2, le);
    const value = option + 4;
    if (code === 0 || value + length > bodyEnd) break; // opt_endofopt
    if (code === 9 && length >= 1) {
      // if_tsresol: high bit clear = negative power of 10, set = negative power of 2
      const resolution = view.getUint8(value);
      iface.unit = resolution & 0x80 ? 2 ** -(resolution & 0x7f) : 10 ** -resolution;
    } else if (code === 14 && length >= 8) {
      iface.offsetSeconds = Number(view.getBigInt64(value, le));
    }
    option = value + ((length + 3) & ~3);
  }
  return iface;
}
