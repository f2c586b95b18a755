// The fuzz stream is a function of its seed: the same seed gives the same bytes, another seed
// others, and every message frames alone (one message to a peer, or a header it refuses at once).
import { describe, expect, it } from 'vitest';
import { messageLengthAt } from '../../reference/bgp/wire/index.ts';
import { framesAlone, FuzzStream, type FuzzCase } from './generate.ts';

const session = { asn: 65110, address: '127.0.0.10', addPath: false, bgpId: '127.0.0.10', holdTime: 9 };
const take = (seed: number, n: number, s = session): FuzzCase[] => {
  const stream = new FuzzStream(seed);
  return Array.from({ length: n }, () => stream.next(s));
};
const hexes = (cases: FuzzCase[]) => cases.map((c) => Buffer.from(c.bytes).toString('hex'));

describe('fuzz stream', () => {
  it('the same seed gives the same messages and labels', () => {
    const a = take(1, 3000);
    const b = take(1, 3000);
    expect(hexes(a)).toEqual(hexes(b));
    expect(a.map((c) => c.label)).toEqual(b.map((c) => c.label));
  });

  it('another seed gives other messages', () => {
    const a = hexes(take(1, 500));
    const b = hexes(take(2, 500));
    expect(a.filter((h, i) => h !== b[i]).length).toBeGreaterThan(400);
  });

  it('mixes grammar, byte, valid and OPEN cases, and every in-session message frames alone', () => {
    const cases = take(5, 3000);
    const sources = new Set(cases.map((c) => c.source));
    expect([...sources].sort()).toEqual(['bytes', 'grammar', 'open', 'valid']);
    for (const c of cases.filter((x) => x.source !== 'open')) {
      const length = messageLengthAt(c.bytes, 0);
      expect(length === null || length === c.bytes.length, c.label).toBe(true);
      expect(c.bytes.length).toBeGreaterThanOrEqual(19);
      expect([1, 3]).not.toContain(c.bytes[18]);
    }
    for (const c of cases.filter((x) => x.source === 'open')) expect(c.bytes[18]).toBe(1);
  });

  it('covers the grammar: NLRI lengths 32/33, path ids, MP_REACH next-hop lengths, duplicates, AS4 mixes', () => {
    const labels = take(9, 4000).map((c) => c.label).join('\n');
    for (const want of ['NLRI length 32 ', 'NLRI length 33 ', 'NLRI with a path id', 'MP_REACH IPv6 next hop length 32', 'twice', 'AS4 mix', 'attribute 8 length 12', 'OPEN: '])
      expect(labels, want).toContain(want);
  });

  it('framesAlone refuses bytes that would swallow or split the next message', () => {
    const keepalive = Uint8Array.from([...new Array<number>(16).fill(0xff), 0, 19, 4]);
    expect(framesAlone(keepalive)).toBe(true);
    expect(framesAlone(Uint8Array.from([...keepalive.subarray(0, 17), 30, 2, 0, 0]))).toBe(false); // says 30, is 21
    expect(framesAlone(Uint8Array.from([...keepalive.subarray(0, 17), 19, 9]))).toBe(true); // bad type: refused at once
    expect(framesAlone(keepalive.subarray(0, 18))).toBe(false);
  });
});
