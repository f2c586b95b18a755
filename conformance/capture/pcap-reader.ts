import { closeSync, openSync, readSync } from 'node:fs';

// Reads the three capture file formats in use: classic pcap with microsecond or nanosecond
// timestamps (tcpdump, libpcap) and pcapng (tshark, dumpcap, containerlab), either byte order.
// One incremental parser walks a buffer with DataView (several times faster than a stream of
// per-packet events): over a whole file in memory, or over a file read in large chunks.

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

/** The pcap file magic as read big-endian: microsecond or nanosecond stamps, in either byte order. */
export const PcapMagic = { US: 0xa1b2c3d4, NS: 0xa1b23c4d, US_SWAPPED: 0xd4c3b2a1, NS_SWAPPED: 0x4d3cb2a1 } as const;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** No link layer we read carries frames this large; a bigger length means a corrupt record. */
const MAX_SANE_PACKET = 0x40000;

export function detectFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === PcapMagic.US || magic === PcapMagic.US_SWAPPED) return 'pcap';
  if (magic === PcapMagic.NS || magic === PcapMagic.NS_SWAPPED) return 'pcap-ns';
  if (magic === PCAPNG_SHB) return 'pcapng';
  return null;
}

/** Reads every packet of a capture held in memory. Throws NotACaptureError only for a file that is not one. */
export function readCapture(bytes: Uint8Array, onPacket: PacketHandler): CaptureSummary {
  const state = newState(bytes);
  parse(state, bytes, 0, true, onPacket);
  return { format: state.format, packets: state.packets, warnings: state.warnings };
}

/**
 * Reads a capture file chunk by chunk, so a capture larger than memory (or than Node's 2 GiB
 * buffer limit) decodes too. Packet views stay valid: each chunk is a buffer of its own.
 */
export function readCaptureFile(path: string, onPacket: PacketHandler, chunkSize = 32 << 20): CaptureSummary {
  const fd = openSync(path, 'r');
  try {
    let leftover: Uint8Array = new Uint8Array(0);
    let base = 0;
    let state: ReadState | null = null;
    for (;;) {
      const buf = new Uint8Array(leftover.length + chunkSize);
      buf.set(leftover, 0);
      let filled = leftover.length;
      let eof = false;
      while (filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, null);
        if (n === 0) {
          eof = true;
          break;
        }
        filled += n;
      }
      const bytes = buf.subarray(0, filled);
      if (state === null && bytes.length < 4 && !eof) {
        leftover = bytes; // not enough to see the magic number yet
        continue;
      }
      state ??= newState(bytes);
      const consumed = parse(state, bytes, base, eof, onPacket);
      if (eof || state.stopped) break;
      leftover = bytes.subarray(consumed);
      base += consumed;
    }
    return { format: state.format, packets: state.packets, warnings: state.warnings };
  } finally {
    closeSync(fd);
  }
}

interface PcapngInterface {
  linkType: number;
  /** Seconds per timestamp unit. */
  unit: number;
  offsetSeconds: number;
}

/** What a parse carries from one chunk to the next. */
interface ReadState {
  format: CaptureFormat;
  packets: number;
  warnings: CaptureWarning[];
  /** Damage was found: nothing after it is read. */
  stopped: boolean;
  /** pcap: the file header was read. */
  started: boolean;
  littleEndian: boolean;
  fractionScale: number;
  linkType: number;
  /** pcapng: interfaces of the current section. */
  interfaces: PcapngInterface[];
}

function newState(firstBytes: Uint8Array): ReadState {
  const format = detectFormat(firstBytes);
  if (format === null) {
    throw new NotACaptureError(
      firstBytes.length < 4 ? `file too short to be a capture (${firstBytes.length} bytes)` : 'not a pcap or pcapng file (unknown magic number)',
    );
  }
  return { format, packets: 0, warnings: [], stopped: false, started: false, littleEndian: true, fractionScale: 1e-6, linkType: 0, interfaces: [] };
}

/**
 * Parses the complete records of `bytes` (which starts at file offset `base`) and returns how
 * many bytes it consumed. An incomplete record at the end waits for the next chunk, unless
 * `final`: then it is the damage, reported with its offset.
 */
function parse(state: ReadState, bytes: Uint8Array, base: number, final: boolean, onPacket: PacketHandler): number {
  return state.format === 'pcapng' ? parsePcapng(state, bytes, base, final, onPacket) : parsePcap(state, bytes, base, final, onPacket);
}

function stop(state: ReadState, offset: number, message: string): void {
  state.warnings.push({ offset, message });
  state.stopped = true;
}

function parsePcap(state: ReadState, bytes: Uint8Array, base: number, final: boolean, onPacket: PacketHandler): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  if (!state.started) {
    if (bytes.length < 24) {
      if (final) throw new NotACaptureError(`pcap file header truncated (${bytes.length} of 24 bytes)`);
      return 0;
    }
    const magic = view.getUint32(0, false);
    state.littleEndian = magic === PcapMagic.US_SWAPPED || magic === PcapMagic.NS_SWAPPED;
    state.fractionScale = magic === PcapMagic.NS || magic === PcapMagic.NS_SWAPPED ? 1e-9 : 1e-6;
    // The upper bits of the link-type field carry FCS information (pcap spec, LinkType field).
    state.linkType = view.getUint32(20, state.littleEndian) & 0x0fffffff;
    state.started = true;
    offset = 24;
  }
  const le = state.littleEndian;
  const { fractionScale, linkType } = state;
  while (offset < bytes.length) {
    if (offset + 16 > bytes.length) {
      if (final) stop(state, base + offset, `truncated record header (${bytes.length - offset} of 16 bytes)`);
      break;
    }
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const captured = view.getUint32(offset + 8, le);
    if (captured > MAX_SANE_PACKET) {
      stop(state, base + offset, `corrupt record: captured length ${captured} is not plausible`);
      break;
    }
    const start = offset + 16;
    if (start + captured > bytes.length) {
      if (final) stop(state, base + offset, `truncated packet (${bytes.length - start} of ${captured} bytes)`);
      break;
    }
    onPacket(bytes.subarray(start, start + captured), seconds + fraction * fractionScale, linkType);
    state.packets++;
    offset = start + captured;
  }
  return offset;
}

function parsePcapng(state: ReadState, bytes: Uint8Array, base: number, final: boolean, onPacket: PacketHandler): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length && !state.stopped) {
    const at = base + offset;
    if (offset + 12 > bytes.length) {
      if (final) stop(state, at, `truncated block header (${bytes.length - offset} of 12 bytes)`);
      break;
    }
    let le = state.littleEndian;
    const type = view.getUint32(offset, le);
    if (type === PCAPNG_SHB) {
      // The SHB type reads the same in both byte orders; the section's order is in its magic.
      if (view.getUint32(offset + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else if (view.getUint32(offset + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else {
        if (at === 0) throw new NotACaptureError('pcapng section header has no valid byte-order magic');
        stop(state, at, 'corrupt section header block (bad byte-order magic)');
        break;
      }
    }
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0 || length > MAX_SANE_PACKET + 64) {
      if (at === 0) throw new NotACaptureError(`pcapng section header has an invalid length ${length}`);
      stop(state, at, `corrupt block: length ${length} is not plausible`);
      break;
    }
    if (offset + length > bytes.length) {
      if (final) stop(state, at, `truncated block (${bytes.length - offset} of ${length} bytes)`);
      break;
    }
    if (view.getUint32(offset + length - 4, le) !== length) {
      stop(state, at, 'corrupt block: trailing length does not match');
      break;
    }
    if (type === PCAPNG_SHB) {
      state.littleEndian = le;
      state.interfaces = [];
    }
    readBlock(state, view, bytes, offset, length, at, onPacket);
    offset += length;
  }
  return offset;
}

function readBlock(state: ReadState, view: DataView, bytes: Uint8Array, offset: number, length: number, at: number, onPacket: PacketHandler): void {
  const le = state.littleEndian;
  const type = view.getUint32(offset, le);
  const body = offset + 8;
  const bodyEnd = offset + length - 4;
  switch (type) {
    case 1: // Interface Description Block
      state.interfaces.push(readInterfaceDescription(view, body, bodyEnd, le));
      return;
    case 6: // Enhanced Packet Block
    case 2: {
      // Obsolete Packet Block: 16-bit interface id and drop count instead of a 32-bit id
      const id = type === 6 ? view.getUint32(body, le) : view.getUint16(body, le);
      const iface = state.interfaces[id];
      if (iface === undefined) {
        state.warnings.push({ offset: at, message: `packet block names interface ${id}, which was not described` });
        return;
      }
      const units = view.getUint32(body + 4, le) * 4294967296 + view.getUint32(body + 8, le);
      const captured = view.getUint32(body + 12, le);
      const start = body + 20;
      if (start + captured > bodyEnd) {
        state.warnings.push({ offset: at, message: `corrupt packet block: captured length ${captured} exceeds the block` });
        return;
      }
      onPacket(bytes.subarray(start, start + captured), units * iface.unit + iface.offsetSeconds, iface.linkType);
      state.packets++;
      return;
    }
    case 3: {
      // Simple Packet Block: interface 0, no timestamp
      const iface = state.interfaces[0];
      if (iface === undefined) {
        state.warnings.push({ offset: at, message: 'simple packet block before any interface description' });
        return;
      }
      const original = view.getUint32(body, le);
      const captured = Math.min(original, bodyEnd - (body + 4));
      onPacket(bytes.subarray(body + 4, body + 4 + captured), 0, iface.linkType);
      state.packets++;
      return;
    }
    default: // SHB handled by the caller; name resolution, statistics, custom blocks carry no packets
      return;
  }
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
