// Fuzz benchmark. Part 1, codec fuzz: messages from the wire fuzzer's seeded stream (grammar and
// byte mutations of real FRR/GoBGP/BIRD captures) decoded under four session contexts; every
// accepted clean message is re-encoded and decoded again. Counts crashes (anything but BgpError)
// and mismatches, which must be 0. Part 2: `peerproof fuzz` throughput against each SUT given
// (messages sent and judged per second). Both print a ratio to an anchor measured in the same run:
// decodeMessage over the unmutated seed messages.
//   npx tsx bench/fuzz.bench.ts [--messages N (default 10,000,000)] [--against reference,frr,...] [--sut-messages N (default 5000)]
import { isDeepStrictEqual } from 'node:util';
import { BgpError, decodeMessage, encodeMessage, familyKey, type BgpMessage, type CodecContext } from '../reference/bgp/wire/index.ts';
import { SEED_MESSAGES } from '../reference/bgp/wire/testdata/mutations.ts';
import { FuzzStream } from '../conformance/fuzz/generate.ts';
import { fuzz } from '../conformance/fuzz/fuzzer.ts';
import { startSut } from '../conformance/fuzz/against.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const MESSAGES = Number(flag('messages', '10000000'));
const AGAINST = flag('against', 'reference').split(',').filter(Boolean);
const SUT_MESSAGES = Number(flag('sut-messages', '5000'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const CONTEXTS: CodecContext[] = [{}, { as4: true }, { as4: true, addPath: new Set([familyKey(1, 1)]) }, { as4: false, addPath: new Set([familyKey(1, 1), familyKey(2, 1)]) }];

/** The decoded value without what only decoding fills in (received attribute order, RFC 7606 errors), as fuzz.test.ts compares. */
function strip(m: BgpMessage): unknown {
  if (m.type !== 'UPDATE') return m;
  const { layout: _l, errors: _e, ...rest } = m;
  const unknown = rest.attributes.unknown?.slice().sort((x, y) => x.code - y.code);
  return { ...rest, attributes: { ...rest.attributes, ...(unknown ? { unknown } : {}) } };
}

/** Anchor: decodeMessage over the real seed messages, unmutated, messages/s (best of 5). */
function anchor(): number {
  const seeds = SEED_MESSAGES.filter((s) => s.bytes[18] !== 3);
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    let n = 0;
    for (let k = 0; k < 20_000; k++)
      for (const s of seeds) {
        try {
          decodeMessage(s.bytes, s.ctx);
        } catch {
          // a seed that needs a context it lacks
        }
        n++;
      }
    best = Math.max(best, n / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return best;
}

function codecFuzz(count: number): { rate: number; accepted: number; rejected: number; crashes: number; mismatches: number; slowest: number; retimed: number } {
  const stream = new FuzzStream(1);
  const session = { asn: 65110, address: '10.0.0.1', addPath: false, bgpId: '10.0.0.1', holdTime: 9 };
  const addPathSession = { ...session, addPath: true };
  let accepted = 0;
  let rejected = 0;
  let crashes = 0;
  let mismatches = 0;
  let slowest = 0;
  let slowestCase: { bytes: Uint8Array; ctx: CodecContext } | null = null;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const c = stream.next(i % 5 === 0 ? addPathSession : session);
    const ctx = CONTEXTS[i % CONTEXTS.length]!;
    const t0 = performance.now();
    try {
      const m = decodeMessage(c.bytes, ctx);
      accepted++;
      if (m.type !== 'UPDATE' || m.errors === undefined) {
        const again = decodeMessage(encodeMessage(m, ctx), ctx);
        if (!isDeepStrictEqual(strip(again), strip(m))) {
          mismatches++;
          if (mismatches <= 3) console.log(`  mismatch #${i}: ${Buffer.from(c.bytes).toString('hex')}`);
        }
      }
    } catch (error) {
      if (error instanceof BgpError) rejected++;
      else if (error instanceof RangeError) {
        // encodeMessage refusing a decoded value counts as a mismatch (the decoder accepted what cannot be sent)
        mismatches++;
        if (mismatches <= 3) console.log(`  re-encode refused #${i}: ${(error as Error).message}`);
      } else {
        crashes++;
        if (crashes <= 3) console.log(`  crash #${i}: ${Buffer.from(c.bytes).toString('hex')} ${String(error)}`);
      }
    }
    const took = performance.now() - t0;
    if (took > slowest) {
      slowest = took;
      slowestCase = { bytes: c.bytes, ctx };
    }
    if (i > 0 && i % 1_000_000 === 0) console.log(`  ${fmt(i)} messages...`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // The slowest call timed again, alone: a pause of the process (GC, a loaded machine) or the input itself?
  let retimed = 0;
  if (slowestCase) {
    const times: number[] = [];
    for (let k = 0; k < 11; k++) {
      const t0 = performance.now();
      try {
        const m = decodeMessage(slowestCase.bytes, slowestCase.ctx);
        if (m.type !== 'UPDATE' || m.errors === undefined) decodeMessage(encodeMessage(m, slowestCase.ctx), slowestCase.ctx);
      } catch {
        // its outcome was counted above
      }
      times.push(performance.now() - t0);
    }
    retimed = times.sort((a, b) => a - b)[5]!;
  }
  return { rate: count / seconds, accepted, rejected, crashes, mismatches, slowest, retimed };
}

console.log(`node ${process.version}; codec fuzz of ${fmt(MESSAGES)} messages, then ${fmt(SUT_MESSAGES)} messages against ${AGAINST.join(', ')}`);
const anchorRate = anchor();
console.log(`anchor: decodeMessage of the unmutated seed messages  ${fmt(anchorRate)} msgs/s`);
const codec = codecFuzz(MESSAGES);
console.log(
  `codec fuzz (generate + decode + re-encode round trip): ${fmt(MESSAGES)} messages, ${fmt(codec.rate)} msgs/s (ratio to anchor ${(codec.rate / anchorRate).toFixed(3)}); ` +
    `accepted ${fmt(codec.accepted)}, rejected with BgpError ${fmt(codec.rejected)}, crashes ${codec.crashes}, round-trip mismatches ${codec.mismatches}, slowest call ${codec.slowest.toFixed(1)} ms (the same message alone: median ${codec.retimed.toFixed(3)} ms of 11)`,
);
for (const against of AGAINST) {
  const sut = await startSut(against, () => undefined);
  try {
    const result = await fuzz(sut, { seed: 1, messages: SUT_MESSAGES, shrinkTries: 30, maxShrunk: 3 });
    const rate = result.messagesJudged / (result.fuzzMs / 1000);
    console.log(
      `fuzz --against ${against}: ${fmt(result.messagesJudged)} messages sent and judged, ${result.sessions} sessions, ${result.restarts} restarts, ${result.findings.length} finding(s), ${(result.fuzzMs / 1000).toFixed(1)} s fuzzing: ${fmt(rate)} msgs/s (ratio to anchor ${(rate / anchorRate).toFixed(5)}, to codec fuzz ${(rate / codec.rate).toFixed(4)}); shrinking ${(result.shrinkMs / 1000).toFixed(1)} s`,
    );
  } finally {
    await sut.stop();
  }
}
if (codec.crashes > 0 || codec.mismatches > 0) process.exitCode = 1;
