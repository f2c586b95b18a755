// Every message a TCP stream holds appears in the decode output, in order, also when it cannot be
// parsed: a bad marker (1/1), a bad length (1/2), an undefined type (1/3, RFC 4271 6.1), a message
// the capture cut; and a ROUTE-REFRESH with ORFs is an error only when the direction did not
// negotiate them. Frames are raw IPv4 + TCP built here around messages from the codec.

import { describe, expect, it } from 'vitest';
import { decodeCapture } from './decode-capture.ts';
import { formatJsonl } from './format-jsonl.ts';
import { formatTableRow } from './format-table.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { writePcap, type Frame } from './testing/capture-writer.ts';
import { encodeMessage, type Capability, type RouteRefreshMessage } from '../../reference/bgp/wire/index.ts';

const LINKTYPE_RAW = 101;
const SYN = 0x02;
const ACK = 0x10;

/** An IPv4 + TCP packet (no options; checksums are not read by the decoder). */
function packet(from: 'client' | 'server', seq: number, flags: number, payload: Uint8Array): Uint8Array {
  const [src, dst, sport, dport] = from === 'client' ? [[10, 0, 0, 2], [10, 0, 0, 1], 40000, 179] : [[10, 0, 0, 1], [10, 0, 0, 2], 179, 40000];
  const p = new Uint8Array(40 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 6;
  p.set(src as number[], 12);
  p.set(dst as number[], 16);
  v.setUint16(20, sport as number);
  v.setUint16(22, dport as number);
  v.setUint32(24, seq >>> 0);
  p[32] = 5 << 4;
  p[33] = flags;
  v.setUint16(34, 65535);
  p.set(payload, 40);
  return p;
}

/** A capture of one connection: SYNs, then each [sender, bytes] as one segment. */
function capture(segments: Array<['client' | 'server', Uint8Array]>): Uint8Array {
  const next = { client: 1001, server: 5001 };
  const frames: Frame[] = [
    { data: packet('client', 1000, SYN, new Uint8Array(0)), ts: 1, linkType: LINKTYPE_RAW },
    { data: packet('server', 5000, SYN | ACK, new Uint8Array(0)), ts: 1, linkType: LINKTYPE_RAW },
  ];
  segments.forEach(([from, bytes], i) => {
    frames.push({ data: packet(from, next[from], ACK, bytes), ts: 2 + i / 100, linkType: LINKTYPE_RAW });
    next[from] += bytes.length;
  });
  return writePcap(frames, 'us');
}

function decode(segments: Array<['client' | 'server', Uint8Array]>): { messages: DecodedMessage[]; lines: Array<Record<string, unknown>>; warnings: string[] } {
  const messages: DecodedMessage[] = [];
  const warnings: string[] = [];
  decodeCapture(capture(segments), (m) => messages.push(m), { onWarning: (w) => warnings.push(w) });
  for (const m of messages) formatTableRow(m); // the table shows every one of them too
  return { messages, lines: messages.map((m) => JSON.parse(formatJsonl(m)) as Record<string, unknown>), warnings };
}

const caps = (extra: Capability[] = []): Capability[] => [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, ...extra];
const open = (asn: number, capabilities: Capability[]) =>
  encodeMessage({ type: 'OPEN', version: 4, myAs: asn, holdTime: 90, bgpId: `10.0.0.${asn - 65000}`, as4: asn, capabilities: [{ code: 65, name: 'as4', asn }, ...capabilities] });
const KEEPALIVE = encodeMessage({ type: 'KEEPALIVE' });
const notification = (code: number, subcode: number, data = '') => encodeMessage({ type: 'NOTIFICATION', code, subcode, data });
const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** OPEN both ways and KEEPALIVEs: the client's broken message comes after these four. */
const established = (clientCaps = caps(), serverCaps = caps()): Array<['client' | 'server', Uint8Array]> => [
  ['client', open(65002, clientCaps)],
  ['server', open(65001, serverCaps)],
  ['client', KEEPALIVE],
  ['server', KEEPALIVE],
];

describe('header errors: the message appears, with its RFC 4271 6.1 error', () => {
  it('a KEEPALIVE whose marker is not all ones -> 1/1, then the NOTIFICATION it caused', () => {
    const bad = KEEPALIVE.slice();
    bad[0] = 0xfe;
    const { messages, lines } = decode([...established(), ['client', bad], ['server', notification(1, 1)]]);
    expect(messages.map((m) => m.type)).toEqual(['OPEN', 'OPEN', 'KEEPALIVE', 'KEEPALIVE', 'KEEPALIVE', 'NOTIFICATION']);
    expect(lines[4]).toMatchObject({
      type: 'KEEPALIVE',
      length: 19,
      error: 'header: connection not synchronized (marker is not all ones)',
      errors: [{ action: 'session-reset', code: 1, subcode: 1, message: 'header: connection not synchronized (marker is not all ones)' }],
      hex: hex(bad),
    });
    expect(lines[5]).toMatchObject({ type: 'NOTIFICATION', notification: { code: 1, subcode: 1 } });
    expect(lines[5]!.errors).toBeUndefined();
  });

  it('a bad marker on a longer message takes the octets its length claims when a boundary follows', () => {
    const update = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] });
    const bad = cat(open(65002, caps())).slice();
    bad[5] = 0;
    const { messages } = decode([...established(), ['client', cat(bad, update)]]);
    expect(messages.slice(4).map((m) => [m.type, m.length, m.errors?.[0]?.subcode, m.hex?.length])).toEqual([
      ['OPEN', bad.length, 1, bad.length * 2],
      ['UPDATE', 23, undefined, undefined],
    ]);
  });

  it('a KEEPALIVE of length 20 -> 1/2 with the octets it claims; decoding goes on', () => {
    const bad = new Uint8Array([...KEEPALIVE.subarray(0, 16), 0, 20, 4, 0]);
    const { lines } = decode([...established(), ['client', cat(bad, KEEPALIVE)], ['server', notification(1, 2, '0014')]]);
    expect(lines.slice(4).map((l) => [l.type, l.length, (l.errors as Array<{ code: number; subcode: number }> | undefined)?.map((e) => `${e.code}/${e.subcode}`)])).toEqual([
      ['KEEPALIVE', 20, ['1/2']],
      ['KEEPALIVE', 19, undefined],
      ['NOTIFICATION', 23, undefined],
    ]);
    expect(lines[4]!.error).toBe('header: bad message length (length 20 for type 4)');
  });

  it('a length under 19 -> 1/2 on the 19-octet header; the next message is found again', () => {
    const bad = new Uint8Array([...KEEPALIVE.subarray(0, 16), 0, 3, 4]);
    const { messages, warnings } = decode([...established(), ['client', cat(bad, KEEPALIVE)]]);
    expect(messages.slice(4).map((m) => [m.type, m.length, m.errors?.map((e) => `${e.code}/${e.subcode} ${e.message}`)])).toEqual([
      ['KEEPALIVE', 3, ['1/2 header: bad message length (length 3)']],
      ['KEEPALIVE', 19, undefined],
    ]);
    expect(warnings).toEqual([]);
  });

  it('a length over 4096 with a broken marker: the header alone, then resynchronised', () => {
    const bad = new Uint8Array([...new Uint8Array(16), 0x20, 0x00, 2]);
    const { messages, warnings } = decode([...established(), ['client', cat(bad, new Uint8Array([1, 2, 3]), KEEPALIVE)]]);
    expect(messages.slice(4).map((m) => [m.type, m.length, m.errors?.[0]?.subcode])).toEqual([
      ['UPDATE', 0x2000, 1],
      ['KEEPALIVE', 19, undefined],
    ]);
    expect(warnings).toEqual([expect.stringMatching(/skipped 3 bytes/)]);
  });

  it('an undefined type (9) -> UNKNOWN with 1/3, its octets shown', () => {
    const bad = new Uint8Array([...KEEPALIVE.subarray(0, 18), 9]);
    const { lines } = decode([...established(), ['client', bad], ['server', notification(1, 3, '09')]]);
    expect(lines[4]).toMatchObject({
      type: 'UNKNOWN',
      length: 19,
      unknown: { typeCode: 9, hex: '' },
      errors: [{ action: 'session-reset', code: 1, subcode: 3, message: 'header: bad message type (type 9)' }],
    });
  });

  it('a message the capture cut -> 1/2 with action none, and the warning', () => {
    const update = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: { origin: 'igp', asPath: [], nextHop: '10.0.0.2' }, nlri: [{ prefix: '192.0.2.0/24' }] });
    const { lines, warnings } = decode([...established(), ['client', update.subarray(0, 30)]]);
    expect(lines[4]).toMatchObject({
      type: 'UPDATE',
      length: update.length,
      errors: [{ action: 'none', code: 1, subcode: 2, message: `header: bad message length (capture ends after 30 of the ${update.length} octets the header announces)` }],
      hex: hex(update.subarray(0, 30)),
    });
    expect(warnings).toEqual([expect.stringMatching(/capture ends inside a message \(30 bytes/)]);
  });

  it('cut before the length field: type unknown, length = octets captured', () => {
    const { lines } = decode([...established(), ['client', KEEPALIVE.subarray(0, 10)]]);
    expect(lines[4]).toMatchObject({ type: 'UNKNOWN', length: 10, errors: [{ action: 'none', code: 1, subcode: 2, message: 'header: bad message length (capture ends after 10 octets, before the length field)' }] });
  });
});

describe('ROUTE-REFRESH with ORFs against the session ORF capability', () => {
  const orfCap = (mode: 'send' | 'receive' | 'both'): Capability => ({ code: 3, name: 'orf', entries: [{ afi: 1, safi: 1, types: [{ type: 64, mode }] }] });
  const entry = { action: 'add', match: 'permit', sequence: 5, minLength: 0, maxLength: 0, prefix: '203.0.113.0/24' } as const;
  const refresh: RouteRefreshMessage = { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, whenToRefresh: 'immediate', orfs: [{ type: 64, name: 'address-prefix', entries: [entry] }] };

  it('negotiated in that direction: decoded, no error', () => {
    const { lines } = decode([...established(caps([orfCap('both')]), caps([orfCap('both')])), ['client', encodeMessage(refresh)]]);
    expect(lines[4]).toEqual({
      ts: expect.any(Number), src: '10.0.0.2:40000', dst: '10.0.0.1:179', stream: 0, type: 'ROUTE-REFRESH', length: 38,
      routeRefresh: { afi: 1, safi: 1, subtype: 0, whenToRefresh: 'immediate', orfs: refresh.orfs },
    });
  });

  it('not negotiated in that direction (server only sends): 1/2, the ORFs still shown', () => {
    const { lines } = decode([...established(caps([orfCap('send')]), caps([orfCap('send')])), ['client', encodeMessage(refresh)]]);
    expect(lines[4]).toMatchObject({
      type: 'ROUTE-REFRESH',
      routeRefresh: { orfs: refresh.orfs },
      errors: [{ action: 'session-reset', code: 1, subcode: 2, message: expect.stringMatching(/ORF type 64 for AFI 1 SAFI 1 was not negotiated/) }],
    });
  });

  it('OPENs not captured: ORFs decoded without judging', () => {
    const { lines } = decode([['client', encodeMessage(refresh)]]);
    expect(lines[0]).toMatchObject({ type: 'ROUTE-REFRESH', routeRefresh: { orfs: refresh.orfs } });
    expect(lines[0]!.errors).toBeUndefined();
  });
});
