// Mutated real messages: the decoder only ever throws BgpError, every call returns, and what it
// accepts re-encodes to something that decodes the same.
import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, encodeMessage, familyKey, type BgpMessage, type CodecContext } from './index.ts';
import { BYTE_MUTATIONS, pick, prng, SEED_MESSAGES, setHeaderLength } from './testdata/mutations.ts';

const seedMessages = SEED_MESSAGES;

// Deeper runs: CODEC_FUZZ_ITERATIONS=200000 npx vitest run reference/bgp/wire/fuzz.test.ts
const ITERATIONS = Number(process.env.CODEC_FUZZ_ITERATIONS ?? 1500);

const contexts: CodecContext[] = [
  {},
  { as4: true },
  { as4: true, addPath: new Set([familyKey(1, 1)]) },
  { as4: false, addPath: new Set([familyKey(1, 1), familyKey(2, 1)]) },
];

const mutations = BYTE_MUTATIONS;

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
