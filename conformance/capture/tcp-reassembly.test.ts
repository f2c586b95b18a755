// TCP reassembly on synthetic segment orders cut from a real BGP byte stream (FRR -> GoBGP in the
// golden ADD-PATH capture): whatever order, duplication or overlap the segments arrive in, the
// messages that come out are the ones FRR sent; gaps and mid-stream starts are reported.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCapture } from './pcap-reader.ts';
import { parseTcpSegment, type TcpSegment } from './link.ts';
import { TcpFlag } from '../../reference/net/numbers.ts';
import { TcpReassembler, findPlausibleHeader, type StreamNotice } from './tcp-reassembly.ts';

const golden = fileURLToPath(new URL('../../pcaps/frr-gobgp-as4-addpath.pcap', import.meta.url));

/** The bytes FRR sent on the IPv4 session, and the messages they hold (split on header lengths). */
function realStream(): { stream: Uint8Array; messages: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  readCapture(readFileSync(golden), (frame, _ts, linkType) => {
    const s = parseTcpSegment(frame, linkType);
    if (s && s.srcIp === '10.0.0.1' && s.dstPort === 179 && s.payload.length > 0) chunks.push(s.payload);
  });
  const stream = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    stream.set(c, offset);
    offset += c.length;
  }
  const messages: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const length = (stream[at + 16]! << 8) | stream[at + 17]!;
    messages.push(stream.slice(at, at + length));
    at += length;
  }
  return { stream, messages };
}

const { stream, messages } = realStream();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const expected = messages.map(hex);

function segment(seq: number, payload: Uint8Array, flags: number = TcpFlag.ACK): TcpSegment {
  return { srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 40000, dstPort: 179, seq: seq >>> 0, ack: 1, flags, payload };
}

/** Cuts the stream at `cuts` (sorted offsets) into [offset, bytes] pieces. */
function cut(cuts: number[]): Array<[number, Uint8Array]> {
  const points = [0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length];
  const pieces: Array<[number, Uint8Array]> = [];
  for (let i = 0; i + 1 < points.length; i++) if (points[i]! < points[i + 1]!) pieces.push([points[i]!, stream.subarray(points[i], points[i + 1])]);
  return pieces;
}

function run(pieces: Array<[number, Uint8Array]>, opts: { isn?: number; syn?: boolean; maxOutOfOrder?: number } = {}) {
  const isn = opts.isn ?? 1_000_000;
  const out: string[] = [];
  const notices: StreamNotice[] = [];
  const r = new TcpReassembler(
    {
      onMessage: (_d, m, _ts, truncated) => out.push(truncated ? `cut:${hex(m)}` : hex(m)),
      onNotice: (_d, n) => notices.push(n),
    },
    opts.maxOutOfOrder,
  );
  if (opts.syn !== false) r.push(segment(isn, new Uint8Array(0), TcpFlag.SYN), 0);
  for (const [offset, bytes] of pieces) r.push(segment(isn + 1 + offset, bytes), 1);
  r.finish();
  return { out, notices };
}

describe('TCP reassembly', () => {
  it('has a real multi-message stream to work on', () => {
    expect(messages.length).toBeGreaterThanOrEqual(8);
    expect(stream.length).toBeGreaterThan(300);
  });

  it('in order, one segment per message boundary or not', () => {
    expect(run(cut([50, 51, 200, 333])).out).toEqual(expected);
    expect(run(cut([...Array(stream.length).keys()])).out).toEqual(expected); // one byte per segment
  });

  it('out-of-order segments wait for the hole to fill', () => {
    const pieces = cut([40, 95, 180, 260, 300]);
    const { out, notices } = run([pieces[2]!, pieces[0]!, pieces[4]!, pieces[1]!, pieces[3]!, ...pieces.slice(5)]);
    expect(out).toEqual(expected);
    expect(notices).toEqual([]);
  });

  it('retransmissions are dropped, also while held out of order', () => {
    const pieces = cut([64, 128, 256]);
    const { out, notices } = run([pieces[0]!, pieces[2]!, pieces[2]!, pieces[0]!, pieces[1]!, pieces[1]!, ...pieces.slice(3)]);
    expect(out).toEqual(expected);
    expect(notices).toEqual([]);
  });

  it('overlapping segments contribute only their new bytes', () => {
    const overlapping: Array<[number, Uint8Array]> = [
      [0, stream.subarray(0, 100)],
      [60, stream.subarray(60, 180)],
      [150, stream.subarray(150, 170)], // wholly inside what was seen
      [170, stream.subarray(170)],
    ];
    expect(run(overlapping).out).toEqual(expected);
  });

  it('a gap is reported with its sequence number and decoding resumes at the next marker', () => {
    // Drop bytes 100..130: the message spanning them is lost, every message after it decodes.
    const lostFrom = 100;
    const lostTo = 130;
    const { out, notices } = run([
      [0, stream.subarray(0, lostFrom)],
      [lostTo, stream.subarray(lostTo)],
    ]);
    expect(notices[0]).toEqual({ kind: 'gap', seq: lostFrom, bytes: lostTo - lostFrom });
    let at = 0;
    const survivors = messages.filter((m) => {
      const start = at;
      at += m.length;
      return at <= lostFrom || start >= lostTo;
    });
    expect(out).toEqual(survivors.map(hex));
    expect(notices.some((n) => n.kind === 'resync')).toBe(true);
  });

  it('a gap held beyond the out-of-order budget is declared without waiting for the end', () => {
    const pieces = cut([...Array(Math.floor(stream.length / 16)).keys()].map((i) => i * 16));
    const events: string[] = [];
    const r = new TcpReassembler(
      { onMessage: () => events.push('message'), onNotice: (_d, n) => events.push(n.kind) },
      64,
    );
    r.push(segment(0, new Uint8Array(0), TcpFlag.SYN), 0);
    for (const [offset, bytes] of pieces.slice(1)) r.push(segment(1 + offset, bytes), 1);
    expect(events[0]).toBe('gap'); // before finish()
    expect(events).toContain('message');
  });

  it('a capture that starts mid-connection resynchronises on the BGP marker', () => {
    const start = messages[0]!.length + 7; // inside the second message
    const { out, notices } = run([[start, stream.subarray(start)]], { syn: false });
    expect(out).toEqual(expected.slice(2));
    expect(notices).toEqual([{ kind: 'resync', seq: 0, skipped: messages[1]!.length - 7 }]);
  });

  it('sequence numbers wrap around 2^32', () => {
    expect(run(cut([10, 100, 200]), { isn: 0xffffff80 }).out).toEqual(expected);
  });

  it('a stream that ends inside a message says so, and delivers what it holds of it as cut', () => {
    const { out, notices } = run([[0, stream.subarray(0, stream.length - 5)]]);
    expect(out).toEqual([...expected.slice(0, -1), `cut:${hex(messages.at(-1)!.subarray(0, -5))}`]);
    expect(notices).toEqual([{ kind: 'incomplete', seq: stream.length - messages.at(-1)!.length, bytes: messages.at(-1)!.length - 5 }]);
  });

  it('any segmentation, order, duplication and overlap yields the same messages', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }),
        (cuts, order, stretch) => {
          const pieces = cut([...cuts].sort((a, b) => a - b));
          // Stretch some pieces backwards into bytes already covered (overlap), shuffle, duplicate.
          const sent = pieces.map(([offset, bytes], i): [number, Uint8Array] => {
            const back = Math.min(offset, stretch[i] ?? 0);
            return [offset - back, stream.subarray(offset - back, offset + bytes.length)];
          });
          for (let i = 0; i < order.length && sent.length > 1; i++) {
            const j = order[i]! % sent.length;
            if (i % 3 === 2) sent.push(sent[j]!);
            else [sent[0], sent[j]] = [sent[j]!, sent[0]!];
          }
          const { out, notices } = run(sent);
          expect(notices).toEqual([]);
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('connections', () => {
  it('a new SYN on a used 4-tuple starts a new connection index; the reverse direction shares it', () => {
    const seen: Array<[number, string]> = [];
    const r = new TcpReassembler({ onMessage: (d, m) => seen.push([d.connection, hex(m)]), onNotice: () => {} });
    const reverse = (seq: number, payload: Uint8Array, flags: number = TcpFlag.ACK): TcpSegment => ({
      srcIp: '10.0.0.2', dstIp: '10.0.0.1', srcPort: 179, dstPort: 40000, seq, ack: 1, flags, payload,
    });
    r.push(segment(100, new Uint8Array(0), TcpFlag.SYN), 0);
    r.push(reverse(900, new Uint8Array(0), TcpFlag.SYN | TcpFlag.ACK), 0);
    r.push(segment(101, messages[0]!), 1);
    r.push(reverse(901, messages[1]!), 1);
    r.push(segment(5000, new Uint8Array(0), TcpFlag.SYN), 2); // the session restarts on the same ports
    r.push(segment(5001, messages[2]!), 3);
    expect(seen).toEqual([
      [0, expected[0]],
      [0, expected[1]],
      [1, expected[2]],
    ]);
    expect(r.connectionCount).toBe(2);
  });

  it('a connection first seen mid-stream is also replaced by a new SYN on its 4-tuple', () => {
    const seen: Array<[number, string]> = [];
    const notices: StreamNotice[] = [];
    const r2 = new TcpReassembler({ onMessage: (d, m) => seen.push([d.connection, hex(m)]), onNotice: (_d, n) => notices.push(n) });
    r2.push(segment(777, messages[0]!), 0); // no SYN seen for this one
    r2.push(segment(777 + messages[0]!.length, messages[1]!.subarray(0, 10)), 0); // cut short by the restart
    r2.push(segment(90_000, new Uint8Array(0), TcpFlag.SYN), 1);
    r2.push(segment(90_001, messages[1]!), 2);
    expect(seen).toEqual([
      [0, expected[0]],
      [0, hex(messages[1]!.subarray(0, 10))], // the cut message, delivered as truncated
      [1, expected[1]],
    ]);
    expect(notices).toEqual([{ kind: 'incomplete', seq: messages[0]!.length, bytes: 10 }]);
  });
});

describe('findPlausibleHeader', () => {
  it('skips 0xFF runs that are not followed by a consistent header', () => {
    const junk = new Uint8Array(40).fill(0xff); // 40 x 0xFF: the length field would read 0xFFFF
    const buf = new Uint8Array([...junk, ...messages[1]!, ...messages[2]!]);
    expect(findPlausibleHeader(buf, 0)).toBe(40);
  });

  it('needs the next message to start with a marker when its bytes are present', () => {
    const fake = new Uint8Array([...new Uint8Array(16).fill(0xff), 0, 19, 4, 1, 2, 3, ...messages[1]!]);
    expect(findPlausibleHeader(fake, 0)).toBe(22);
  });
});
