// Mutated real messages: the decoder only ever throws BgpError, every call returns, and what it
// accepts re-encodes to something that decodes the same.
import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, encodeMessage, familyKey, type BgpMessage, type CodecContext } from './index.ts';
import { CAPTURED } from './testdata/captured.ts';

/** mulberry32: a small seeded PRNG, so a failure replays from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seedMessages: Array<{ bytes: Uint8Array; ctx: CodecContext }> = [
  ...CAPTURED.map((c) => ({ bytes: new Uint8Array(Buffer.from(c.hex, 'hex')), ctx: c.ctx })),
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
  ].map((m) => ({ bytes: encodeMessage(m as BgpMessage, { as4: false }), ctx: { as4: false } as CodecContext })),
];

// Deeper runs: CODEC_FUZZ_ITERATIONS=200000 npx vitest run reference/bgp/wire/fuzz.test.ts
const ITERATIONS = Number(process.env.CODEC_FUZZ_ITERATIONS ?? 1500);

const contexts: CodecContext[] = [
  {},
  { as4: true },
  { as4: true, addPath: new Set([familyKey(1, 1)]) },
  { as4: false, addPath: new Set([familyKey(1, 1), familyKey(2, 1)]) },
];

function setHeaderLength(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 18) {
    bytes[16] = bytes.length >>> 8;
    bytes[17] = bytes.length & 255;
  }
  return bytes;
}

type Mutation = (bytes: Uint8Array, random: () => number) => Uint8Array;
const pick = (random: () => number, n: number) => Math.floor(random() * n);

const mutations: Record<string, Mutation> = {
  bitFlips: (b, random) => {
    const out = b.slice();
    for (let i = 0, n = 1 + pick(random, 4); i < n; i++) out[19 + pick(random, Math.max(1, out.length - 19))] ^= 1 << pick(random, 8);
    return out;
  },
  byteValues: (b, random) => {
    const out = b.slice();
    const at = 19 + pick(random, Math.max(1, out.length - 19));
    out[at] = [0, 1, 0x7f, 0x80, 0xff, pick(random, 256)][pick(random, 6)];
    return out;
  },
  truncate: (b, random) => setHeaderLength(b.slice(0, 19 + pick(random, Math.max(1, b.length - 19)))),
  truncateKeepHeader: (b, random) => b.slice(0, pick(random, b.length)),
  lengthField: (b, random) => {
    const out = b.slice();
    const at = 19 + pick(random, Math.max(1, out.length - 20));
    const value = [0, 1, 0xff, 0xffff, pick(random, 65536), ((out[at] << 8) | out[at + 1]) + (random() < 0.5 ? 1 : -1)][pick(random, 6)];
    out[at] = (value >>> 8) & 255;
    out[at + 1] = value & 255;
    return out;
  },
  headerLength: (b, random) => {
    const out = b.slice();
    const value = [0, 18, 19, 4096, 4097, 65535, b.length + 1, b.length - 1][pick(random, 8)];
    out[16] = (value >>> 8) & 255;
    out[17] = value & 255;
    return out;
  },
  splice: (b, random) => {
    const other = seedMessages[pick(random, seedMessages.length)].bytes;
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

function stripDecodeOnly(message: BgpMessage): BgpMessage {
  if (message.type !== 'UPDATE') return message;
  const { layout: _layout, errors: _errors, ...rest } = message;
  // The encoder writes attributes in type-code order; received order is only in `layout`.
  const unknown = rest.attributes.unknown?.slice().sort((x, y) => x.code - y.code);
  return { ...rest, attributes: { ...rest.attributes, ...(unknown ? { unknown } : {}) } };
}

describe('fuzz: mutated real messages', () => {
  it.each(Object.keys(mutations))('%s: only BgpError, and accepted messages re-encode stably', (name) => {
    const mutate = mutations[name];
    const random = prng(0x5eed + name.length * 7919);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seedMessages[pick(random, seedMessages.length)];
      const ctx = random() < 0.5 ? seed.ctx : contexts[pick(random, contexts.length)];
      const bytes = mutate(seed.bytes, random);
      let decoded: BgpMessage;
      try {
        decoded = decodeMessage(bytes, ctx);
      } catch (error) {
        if (!(error instanceof BgpError)) throw new Error(`${name} #${i}: ${Buffer.from(bytes).toString('hex')} threw ${String(error)}`);
        expect(error.code).toBeGreaterThan(0);
        expect(error.message.length).toBeGreaterThan(0);
        rejected++;
        continue;
      }
      accepted++;
      JSON.stringify(decoded);
      const clean = decoded.type !== 'UPDATE' || decoded.errors === undefined;
      if (clean) {
        const again = decodeMessage(encodeMessage(decoded, ctx), ctx);
        expect(stripDecodeOnly(again), `${name} #${i}: ${Buffer.from(bytes).toString('hex')}`).toEqual(stripDecodeOnly(decoded));
      }
    }
    expect(accepted + rejected).toBe(ITERATIONS);
    expect(rejected).toBeGreaterThan(0);
  });

  it('random bytes behind a valid header', () => {
    const random = prng(42);
    for (let i = 0; i < ITERATIONS; i++) {
      const type = 1 + pick(random, 5);
      const body = Array.from({ length: pick(random, 80) }, () => pick(random, 256));
      const bytes = setHeaderLength(new Uint8Array([...new Array(16).fill(0xff), 0, 0, type, ...body]));
      try {
        decodeMessage(bytes, contexts[pick(random, contexts.length)]);
      } catch (error) {
        if (!(error instanceof BgpError)) throw new Error(`${Buffer.from(bytes).toString('hex')} threw ${String(error)}`);
      }
    }
  });
});
