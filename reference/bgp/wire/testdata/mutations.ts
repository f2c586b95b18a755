// Byte mutations of real messages, shared by the codec fuzz test (fuzz.test.ts), the wire fuzzer
// (conformance/fuzz) and the fuzz benchmark, so the three exercise the same mutations and a seed
// means the same thing everywhere.
import { encodeMessage } from '../message.ts';
import type { BgpMessage, CodecContext } from '../types.ts';
import { CAPTURED } from './captured.ts';

/** mulberry32: a small seeded PRNG, so a failure replays from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export const pick = (random: () => number, n: number): number => Math.floor(random() * n);

export interface SeedMessage {
  name: string;
  bytes: Uint8Array;
  ctx: CodecContext;
}

/** Real messages (FRR/GoBGP/BIRD captures) and one codec-built UPDATE carrying every attribute the codec knows. */
export const SEED_MESSAGES: SeedMessage[] = [
  ...CAPTURED.map((c) => ({ name: c.name, bytes: new Uint8Array(Buffer.from(c.hex, 'hex')), ctx: c.ctx })),
  ...[
    { type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 },
    {
      type: 'UPDATE',
      withdrawn: [{ prefix: '10.0.0.0/8' }],
      attributes: {
        origin: 'egp',
        asPath: [
          { type: 'confed-sequence', asns: [64512] },
          { type: 'sequence', asns: [4200000000, 65001] },
          { type: 'set', asns: [1, 2] },
        ],
        nextHop: '10.0.0.1',
        localPref: 100,
        atomicAggregate: true,
        aggregator: { asn: 4200000001, address: '10.0.0.2' },
        originatorId: '10.0.0.9',
        clusterList: ['10.0.0.1'],
        extendedCommunities: ['0002fde800000064'],
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48' }] },
        mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
        unknown: [{ code: 99, flags: 0xd0, hex: 'abcdef' }],
      },
      nlri: [{ prefix: '192.0.2.0/24' }, { prefix: '0.0.0.0/0' }],
    },
  ].map((m, i) => ({ name: `codec-built ${i}`, bytes: encodeMessage(m as BgpMessage, { as4: false }), ctx: { as4: false } as CodecContext })),
];

/** Writes the header's length field from the byte count. */
export function setHeaderLength(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 18) {
    bytes[16] = bytes.length >>> 8;
    bytes[17] = bytes.length & 255;
  }
  return bytes;
}

export type ByteMutation = (bytes: Uint8Array, random: () => number) => Uint8Array;

/** Each returns a new array; the input is never changed. */
export const BYTE_MUTATIONS: Record<string, ByteMutation> = {
  bitFlips: (b, random) => {
    const out = b.slice();
    for (let i = 0, n = 1 + pick(random, 4); i < n; i++) out[19 + pick(random, Math.max(1, out.length - 19))] ^= 1 << pick(random, 8);
    return out;
  },
  byteValues: (b, random) => {
    const out = b.slice();
    const at = 19 + pick(random, Math.max(1, out.length - 19));
    out[at] = [0, 1, 0x7f, 0x80, 0xff, pick(random, 256)][pick(random, 6)]!;
    return out;
  },
  truncate: (b, random) => setHeaderLength(b.slice(0, 19 + pick(random, Math.max(1, b.length - 19)))),
  truncateKeepHeader: (b, random) => b.slice(0, pick(random, b.length)),
  lengthField: (b, random) => {
    const out = b.slice();
    const at = 19 + pick(random, Math.max(1, out.length - 20));
    const value = [0, 1, 0xff, 0xffff, pick(random, 65536), ((out[at]! << 8) | out[at + 1]!) + (random() < 0.5 ? 1 : -1)][pick(random, 6)]!;
    out[at] = (value >>> 8) & 255;
    out[at + 1] = value & 255;
    return out;
  },
  headerLength: (b, random) => {
    const out = b.slice();
    const value = [0, 18, 19, 4096, 4097, 65535, b.length + 1, b.length - 1][pick(random, 8)]!;
    out[16] = (value >>> 8) & 255;
    out[17] = value & 255;
    return out;
  },
  splice: (b, random) => {
    const other = SEED_MESSAGES[pick(random, SEED_MESSAGES.length)]!.bytes;
    const cut = 19 + pick(random, Math.max(1, b.length - 19));
    const from = 19 + pick(random, Math.max(1, other.length - 19));
    const out = new Uint8Array([...b.subarray(0, cut), ...other.subarray(from)]);
    return setHeaderLength(out.length > 4096 ? out.slice(0, 4096) : out);
  },
  insertBytes: (b, random) => {
    const at = 19 + pick(random, Math.max(1, b.length - 19));
    const extra = Array.from({ length: 1 + pick(random, 8) }, () => pick(random, 256));
    return setHeaderLength(new Uint8Array([...b.subarray(0, at), ...extra, ...b.subarray(at)]));
  },
  deleteBytes: (b, random) => {
    const at = 19 + pick(random, Math.max(1, b.length - 19));
    return setHeaderLength(new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1 + pick(random, 8))]));
  },
  typeCode: (b, random) => {
    const out = b.slice();
    out[18] = pick(random, 8);
    return out;
  },
};
