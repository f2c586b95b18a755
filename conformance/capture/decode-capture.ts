// The decode pipeline: capture file -> frames -> TCP segments of BGP connections -> reassembled
// messages -> decoded messages, in capture order, with every problem reported as a warning.

import { readCapture, readCaptureFile, type CaptureFormat, type CaptureSummary, type PacketHandler } from './pcap-reader.ts';
import { isSupportedLinkType, parseTcpSegment } from './link.ts';
import { TcpReassembler, type StreamNotice, type TcpDirection } from './tcp-reassembly.ts';
import { BgpSessionTracker, type AddPathOverride, type DecodedMessage } from './bgp-stream.ts';

export const BGP_PORT = 179;

export interface DecodeOptions {
  /** Connections to decode with ADD-PATH path ids when their OPENs were not captured. */
  addPath?: AddPathOverride;
  /** Only report messages of this TCP connection index. */
  stream?: number;
  /** TCP ports that mark a connection as BGP (either end). Default: 179. */
  ports?: ReadonlySet<number>;
  onWarning?: (text: string) => void;
}

export interface DecodeSummary {
  format: CaptureFormat;
  packets: number;
  messages: number;
  connections: number;
  warnings: number;
}

/** Decodes a capture held in memory. */
export function decodeCapture(bytes: Uint8Array, onMessage: (m: DecodedMessage) => void, opts: DecodeOptions = {}): DecodeSummary {
  return decodePackets((onPacket) => readCapture(bytes, onPacket), onMessage, opts);
}

/** Decodes a capture file read in chunks: its size is not limited by memory. */
export function decodeCaptureFile(path: string, onMessage: (m: DecodedMessage) => void, opts: DecodeOptions = {}): DecodeSummary {
  return decodePackets((onPacket) => readCaptureFile(path, onPacket), onMessage, opts);
}

function decodePackets(
  read: (onPacket: PacketHandler) => CaptureSummary,
  onMessage: (m: DecodedMessage) => void,
  opts: DecodeOptions,
): DecodeSummary {
  let warnings = 0;
  const warn = (text: string) => {
    warnings++;
    opts.onWarning?.(text);
  };
  const ports = opts.ports ?? new Set([BGP_PORT]);
  const only = opts.stream;
  const tracker = new BgpSessionTracker(warn, opts.addPath);
  let messages = 0;
  const reassembler = new TcpReassembler({
    onMessage(dir, message, ts, truncated) {
      // Other connections need no decoding: negotiated state never crosses connections.
      if (only !== undefined && dir.connection !== only) return;
      messages++;
      onMessage(tracker.decode(dir, message, ts, truncated));
    },
    onNotice(dir, notice) {
      if (only === undefined || dir.connection === only) warn(describeNotice(dir, notice));
    },
  });
  const unsupported = new Set<number>();
  const summary = read((frame, ts, linkType) => {
    const segment = parseTcpSegment(frame, linkType);
    if (segment === null) {
      if (!unsupported.has(linkType) && !isSupportedLinkType(linkType)) {
        unsupported.add(linkType);
        warn(`link type ${linkType} is not supported; its packets are skipped`);
      }
      return;
    }
    if (!ports.has(segment.srcPort) && !ports.has(segment.dstPort)) return;
    reassembler.push(segment, ts);
  });
  reassembler.finish();
  for (const w of summary.warnings) warn(`capture damaged at byte offset ${w.offset}: ${w.message}; decoded everything before it`);
  return { format: summary.format, packets: summary.packets, messages, connections: reassembler.connectionCount, warnings };
}

function describeNotice(dir: TcpDirection, notice: StreamNotice): string {
  const where = `stream ${dir.connection} (${dir.src} -> ${dir.dst})`;
  switch (notice.kind) {
    case 'gap':
      return `${where}: ${notice.bytes} bytes missing from the capture at seq ${notice.seq}; decoding resumes at the next BGP marker`;
    case 'resync':
      return `${where}: skipped ${notice.skipped} bytes at seq ${notice.seq} to reach a BGP message boundary` +
        (dir.sawSyn ? '' : ' (capture started mid-connection)');
    case 'incomplete':
      return `${where}: capture ends inside a message (${notice.bytes} bytes at seq ${notice.seq}; its line has the error)`;
  }
}
