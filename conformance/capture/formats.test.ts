// Every capture format and link type the reader accepts, built by re-wrapping the real packets of
// the golden captures: each variant must decode to exactly the messages of the original.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture, readCaptureFile, NotACaptureError, detectFormat, type CaptureSummary } from './pcap-reader.ts';
import { decodeCapture } from './decode-capture.ts';
import { ipv6ToString } from '../../reference/bgp/wire/addr.ts';
import { parseTcpSegment } from './link.ts';
import { LinkType } from '../../reference/net/numbers.ts';
import { asCookedV1, asCookedV2, asEthernet, asRawIp, networkLayer, writePcap, writePcapng, type Frame } from './testing/capture-writer.ts';
import { formatJsonl } from './format-jsonl.ts';

const pcap = (name: string) => readFileSync(fileURLToPath(new URL(`../../pcaps/${name}`, import.meta.url)));

function framesOf(bytes: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  readCapture(bytes, (data, ts, linkType) => frames.push({ data: data.slice(), ts, linkType }));
  return frames;
}

function decodeAll(bytes: Uint8Array): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  decodeCapture(bytes, (m) => lines.push(formatJsonl(m)), { onWarning: (w) => warnings.push(w) });
  return { lines, warnings };
}

const v4Frames = framesOf(pcap('frr-gobgp-as4-addpath.pcap')); // Ethernet, IPv4 + IPv6 sessions
const v6Frames = framesOf(pcap('gobgp-bird-ipv6-addpath.pcapng')); // Ethernet, IPv6
const cookedFrames = framesOf(pcap('frr-bird-cooked-holdtimer.pcap')); // Linux cooked v2
const reference = decodeAll(writePcap(v4Frames, 'us')).lines;

describe('capture formats', () => {
  it('reads the golden files as what they are', () => {
    expect(detectFormat(pcap('frr-gobgp-as4-addpath.pcap'))).toBe('pcap');
    expect(detectFormat(pcap('gobgp-bird-ipv6-addpath.pcapng'))).toBe('pcapng');
    expect(new Set(cookedFrames.map((f) => f.linkType))).toEqual(new Set([276]));
    expect(reference.length).toBeGreaterThan(20);
    expect(decodeAll(pcap('frr-gobgp-as4-addpath.pcap')).lines).toEqual(reference);
  });

  const variants: Array<[string, () => Uint8Array]> = [
    ['pcap, nanosecond, little-endian', () => writePcap(v4Frames, 'ns')],
    ['pcap, microsecond, big-endian', () => writePcap(v4Frames, 'us', true)],
    ['pcap, nanosecond, big-endian', () => writePcap(v4Frames, 'ns', true)],
    ['pcapng, little-endian, nanoseconds', () => writePcapng(v4Frames, { tsresol: 9 })],
    ['pcapng, big-endian, microseconds', () => writePcapng(v4Frames, { bigEndian: true, tsresol: 6 })],
    ['pcapng, power-of-two resolution', () => writePcapng(v4Frames, { tsresol: 0x80 | 30 })],
    ['Linux cooked v1', () => writePcap(v4Frames.map(asCookedV1), 'us')],
    ['Linux cooked v2', () => writePcap(v4Frames.map(asCookedV2), 'us')],
    ['raw IP (101)', () => writePcap(v4Frames.map((f) => asRawIp(f)), 'us')],
    ['raw IP (BSD 12)', () => writePcap(v4Frames.map((f) => asRawIp(f, 12)), 'us')],
    ['raw IP (BSD 14)', () => writePcap(v4Frames.map((f) => asRawIp(f, 14)), 'us')],
    ['802.1Q VLAN', () => writePcap(v4Frames.map((f) => asEthernet(f, [{ tpid: 0x8100, vid: 100 }])), 'us')],
    ['802.1ad QinQ', () => writePcap(v4Frames.map((f) => asEthernet(f, [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }])), 'us')],
    ['pcapng with two interfaces of different link types', () => writePcapng(v4Frames.map((f, i) => (i % 2 ? asCookedV2(f) : f)))],
  ];
  for (const [name, make] of variants) {
    it(name, () => {
      const { lines, warnings } = decodeAll(make());
      expect(warnings).toEqual([]);
      expect(lines).toEqual(reference);
    });
  }

  it('raw IPv4/IPv6 link types (228/229) and BSD loopback', () => {
    const typed = v4Frames.map((f) => {
      const { etherType } = networkLayer(f);
      return asRawIp(f, etherType === 0x86dd ? LinkType.IPV6 : LinkType.IPV4);
    });
    expect(decodeAll(writePcapng(typed, { tsresol: 6 })).lines).toEqual(reference);
    const loopback = v4Frames.map((f): Frame => {
      const { etherType, packet } = networkLayer(f);
      const family = etherType === 0x86dd ? 30 : 2;
      return { data: new Uint8Array([family, 0, 0, 0, ...packet]), ts: f.ts, linkType: LinkType.NULL };
    });
    expect(decodeAll(writePcap(loopback, 'us')).lines).toEqual(reference);
  });

  it('pcapng simple packet blocks carry packets without timestamps', () => {
    const { lines } = decodeAll(writePcapng(v4Frames, { simple: true }));
    const strip = (l: string) => l.replace(/"ts":[0-9.]+/, '"ts":0');
    expect(lines.map(strip)).toEqual(reference.map(strip));
  });

  it('the cooked v2 golden capture decodes the same as Ethernet', () => {
    const asEth = decodeAll(writePcap(cookedFrames.map((f) => asEthernet(f)), 'us')).lines;
    expect(decodeAll(pcap('frr-bird-cooked-holdtimer.pcap')).lines).toEqual(asEth);
  });

  it('IPv6 extension headers before TCP are skipped', () => {
    const reference6 = decodeAll(writePcapng(v6Frames)).lines;
    const withHopByHop = v6Frames.map((f): Frame => {
      const { packet } = networkLayer(f);
      const out = new Uint8Array(packet.length + 8);
      out.set(packet.subarray(0, 40), 0);
      const payloadLength = (packet[4]! << 8) | packet[5]!;
      out[4] = (payloadLength + 8) >> 8;
      out[5] = (payloadLength + 8) & 0xff;
      out[6] = 0; // next header: hop-by-hop options
      out.set([packet[6]!, 0, 1, 4, 0, 0, 0, 0], 40); // next = TCP, length 0 (8 bytes), PadN option
      out.set(packet.subarray(40), 48);
      return { data: out, ts: f.ts, linkType: 101 };
    });
    expect(reference6.length).toBeGreaterThan(5);
    expect(decodeAll(writePcapng(withHopByHop)).lines).toEqual(reference6);
  });

  it('Ethernet padding after a short IP datagram is not taken as TCP payload', () => {
    const padded = v4Frames.map((f) => ({ ...f, data: new Uint8Array([...f.data, 0, 0, 0, 0, 0, 0]) }));
    expect(decodeAll(writePcap(padded, 'us')).lines).toEqual(reference);
  });

  it('formats IPv6 addresses as RFC 5952 says', () => {
    const addr = (hex: string) => ipv6ToString(Buffer.from(hex, 'hex'), 0);
    expect(addr('fd000000000000010000000000000002')).toBe('fd00:0:0:1::2');
    expect(addr('20010db8000000000001000000000001')).toBe('2001:db8::1:0:0:1');
    expect(addr('00000000000000000000000000000000')).toBe('::');
    expect(addr('20010db8000100010001000100010001')).toBe('2001:db8:1:1:1:1:1:1');
  });

  it('non-TCP and short frames are skipped without complaint', () => {
    expect(parseTcpSegment(new Uint8Array(10), 1)).toBeNull();
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(parseTcpSegment(arp, 1)).toBeNull();
    expect(parseTcpSegment(new Uint8Array([0x45, 0, 0]), 101)).toBeNull();
  });
});

describe('damaged and foreign files', () => {
  const original = writePcap(v4Frames, 'us');

  it('a truncated pcap decodes up to the damage and names its byte offset', () => {
    for (const keep of [original.length - 1, Math.floor(original.length / 2), 24 + 10]) {
      const warnings: string[] = [];
      const lines: string[] = [];
      decodeCapture(original.subarray(0, keep), (m) => lines.push(formatJsonl(m)), { onWarning: (w) => warnings.push(w) });
      expect(warnings.some((w) => /capture damaged at byte offset \d+: truncated/.test(w))).toBe(true);
      expect(reference.slice(0, lines.length)).toEqual(lines);
    }
  });

  it('a corrupt record length stops the read at that record, keeping what came before', () => {
    const corrupt = original.slice();
    // the 10th record's captured length
    let offset = 24;
    for (let i = 0; i < 9; i++) offset += 16 + new DataView(corrupt.buffer).getUint32(offset + 8, true);
    new DataView(corrupt.buffer).setUint32(offset + 8, 0x7fffffff, true);
    const summary = readCapture(corrupt, () => {});
    expect(summary.packets).toBe(9);
    expect(summary.warnings).toEqual([{ offset, message: expect.stringMatching(/corrupt record/) }]);
  });

  it('a truncated pcapng stops at the damaged block', () => {
    const ng = writePcapng(v4Frames);
    const summary = readCapture(ng.subarray(0, ng.length - 30), () => {});
    expect(summary.packets).toBe(v4Frames.length - 1);
    expect(summary.warnings[0]!.message).toMatch(/truncated block/);
  });

  it('a file that is not a capture is refused with a clear reason', () => {
    expect(() => readCapture(new TextEncoder().encode('hello, this is text'), () => {})).toThrow(NotACaptureError);
    expect(() => readCapture(new Uint8Array([0xd4, 0xc3]), () => {})).toThrow(/too short/);
    expect(() => readCapture(original.subarray(0, 10), () => {})).toThrow(/header truncated/);
  });
});

describe('reading a file in chunks', () => {
  function both(bytes: Uint8Array, chunkSize: number): [CaptureSummary & { frames: string[] }, CaptureSummary & { frames: string[] }] {
    const dir = mkdtempSync(join(tmpdir(), 'peerproof-chunks-'));
    try {
      const file = join(dir, 'c');
      writeFileSync(file, bytes);
      const whole: string[] = [];
      const chunked: string[] = [];
      const a = readCapture(bytes, (d, ts, lt) => whole.push(`${ts}/${lt}/${Buffer.from(d).toString('hex')}`));
      const b = readCaptureFile(file, (d, ts, lt) => chunked.push(`${ts}/${lt}/${Buffer.from(d).toString('hex')}`), chunkSize);
      return [
        { ...a, frames: whole },
        { ...b, frames: chunked },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const files: Array<[string, Uint8Array]> = [
    ['pcap', writePcap(v4Frames, 'us')],
    ['pcapng', pcap('gobgp-bird-ipv6-addpath.pcapng')],
    ['pcapng big-endian', writePcapng(v4Frames, { bigEndian: true })],
  ];
  for (const [name, bytes] of files) {
    it(`${name}: chunks of any size read the same packets and the same damage`, () => {
      for (const chunk of [1, 7, 100, 4096]) {
        for (const cut of [bytes.length, bytes.length - 3, Math.floor(bytes.length / 3)]) {
          const [whole, chunked] = both(bytes.subarray(0, cut), chunk);
          expect(chunked).toEqual(whole);
        }
      }
    });
  }

  it('a file that is not a capture is refused the same way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peerproof-chunks-'));
    try {
      writeFileSync(join(dir, 'x'), 'plain text, not packets');
      expect(() => readCaptureFile(join(dir, 'x'), () => {})).toThrow(NotACaptureError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
