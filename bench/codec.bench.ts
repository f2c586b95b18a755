// Codec micro benchmark: prefixes per second for decodeMessage and scanIpv4Nlri on packed
// UPDATEs, against two anchors measured in the same run over the same bytes: a loop that only
// reads every byte, and Buffer.toString('hex').
//   npx tsx bench/codec.bench.ts [prefixes]
import { decodeMessage, encodeUpdates, familyKey, scanIpv4Nlri, type CodecContext, type UpdateMessage } from '../reference/bgp/wire/index.ts';

const PREFIX_COUNT = Number(process.argv[2] ?? 500_000);
const ROUNDS = 7;
const TARGET_DECODE_PER_SECOND = 2_000_000;

interface Workload {
  name: string;
  ctx: CodecContext;
  messages: Uint8Array[];
  prefixes: number;
  /** The 2M prefixes/s target is about packed UPDATEs; single-route ones measure per-message cost. */
  packed: boolean;
}

/** One /32 per UPDATE, each with its own MED (what BIRD sends for routes that differ): per-message cost. */
function buildSingleRouteWorkload(count: number): Workload {
  const ctx: CodecContext = { as4: true };
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const address = (10 << 24) + i;
    const prefix = `${address >>> 24}.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}/32`;
    const attributes = { origin: 'igp' as const, asPath: [{ type: 'sequence' as const, asns: [65001] }], nextHop: '172.31.9.1', med: i };
    messages.push(...encodeUpdates({ withdrawn: [], attributes, nlri: [{ prefix }] }, ctx));
  }
  return { name: 'one /32 per UPDATE, own MED each', ctx, messages, prefixes: count, packed: false };
}

/** IPv6 /56s packed in MP_REACH_NLRI: what the prefixes/s figure is for the other family. */
function buildIpv6Workload(count: number): Workload {
  const ctx: CodecContext = { as4: true };
  const nlri = Array.from({ length: count }, (_, i) => ({ prefix: `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}00::/56` }));
  const reach = { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [] };
  const attributes = { origin: 'igp' as const, asPath: [{ type: 'sequence' as const, asns: [65005, 65100] }], mpReach: reach };
  return { name: 'IPv6 /56 in MP_REACH_NLRI', ctx, messages: encodeUpdates({ withdrawn: [], attributes, nlri }, ctx), prefixes: count, packed: true };
}

function buildWorkload(name: string, ctx: CodecContext, addPath: boolean): Workload {
  const nlri = Array.from({ length: PREFIX_COUNT }, (_, i) => {
    const prefix = `${10 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}.0/24`;
    return addPath ? { prefix, pathId: 1 + (i % 4) } : { prefix };
  });
  const messages = encodeUpdates(
    {
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ type: 'sequence', asns: [65005, 65100, 4200000001] }],
        nextHop: '10.1.5.10',
        med: 0,
        communities: ['65005:100', '65005:200'],
      },
      nlri,
    },
    ctx,
  );
  return { name, ctx, messages, prefixes: PREFIX_COUNT, packed: true };
}

/** Seconds for the best of ROUNDS runs (the least disturbed by the other work on the machine). */
function best(run: () => number): { seconds: number; check: number } {
  let seconds = Infinity;
  let check = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    check = run();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    seconds = Math.min(seconds, elapsed);
  }
  return { seconds, check };
}

function nlriStart(message: Uint8Array): number {
  const withdrawnLength = (message[19] << 8) | message[20];
  const attributesAt = 21 + withdrawnLength;
  return attributesAt + 2 + ((message[attributesAt] << 8) | message[attributesAt + 1]);
}

function measure(workload: Workload): void {
  const { messages, ctx, prefixes } = workload;
  const addPath = ctx.addPath?.has(familyKey(1, 1)) ?? false;
  const bytes = messages.reduce((sum, m) => sum + m.length, 0);

  for (const m of messages) decodeMessage(m, ctx); // warm-up, so the first workload is not measured cold

  const readBytes = best(() => {
    let sum = 0;
    for (const m of messages) for (let i = 0; i < m.length; i++) sum = (sum + m[i]) | 0;
    return sum;
  });
  const hex = best(() => {
    let length = 0;
    for (const m of messages) length += Buffer.from(m.buffer, m.byteOffset, m.length).toString('hex').length;
    return length;
  });
  const decode = best(() => {
    let count = 0;
    for (const m of messages) {
      const update = decodeMessage(m, ctx) as UpdateMessage;
      count += update.nlri.length + (update.attributes.mpReach?.nlri.length ?? 0);
    }
    return count;
  });
  const ipv4 = messages.every((m) => nlriStart(m) < m.length);
  const scan = best(() => {
    if (!ipv4) return prefixes;
    let count = 0;
    let xor = 0;
    for (const m of messages) {
      scanIpv4Nlri(m, nlriStart(m), m.length, addPath, (addr, len) => {
        count++;
        xor ^= addr ^ len;
      });
    }
    return count + (xor & 0);
  });
  if (decode.check !== prefixes || scan.check !== prefixes) throw new Error(`decoded ${decode.check} / scanned ${scan.check} of ${prefixes} prefixes`);

  const rate = (seconds: number) => prefixes / seconds;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`\n${workload.name}: ${prefixes.toLocaleString('en-US')} prefixes in ${messages.length} UPDATEs (${(bytes / 1e6).toFixed(1)} MB), best of ${ROUNDS}`);
  console.log(`  anchor read-every-byte loop  ${fmt(rate(readBytes.seconds)).padStart(13)} prefixes/s`);
  console.log(`  anchor Buffer.toString(hex)  ${fmt(rate(hex.seconds)).padStart(13)} prefixes/s`);
  console.log(
    `  decodeMessage (Route objects) ${fmt(rate(decode.seconds)).padStart(12)} prefixes/s   ratio to byte loop ${(readBytes.seconds / decode.seconds).toFixed(3)}, to hex ${(hex.seconds / decode.seconds).toFixed(3)}${workload.packed ? `   target ${fmt(TARGET_DECODE_PER_SECOND)}: ${rate(decode.seconds) >= TARGET_DECODE_PER_SECOND ? 'met' : 'NOT MET'}` : ''}`,
  );
  const messagesPerSecond = messages.length / decode.seconds;
  console.log(`  decodeMessage                ${fmt(messagesPerSecond).padStart(13)} UPDATEs/s`);
  if (ipv4) console.log(
    `  scanIpv4Nlri (no objects)    ${fmt(rate(scan.seconds)).padStart(13)} prefixes/s   ratio to byte loop ${(readBytes.seconds / scan.seconds).toFixed(3)}, to hex ${(hex.seconds / scan.seconds).toFixed(3)}`,
  );
}

console.log(`node ${process.version}, one core`);
measure(buildWorkload('IPv4 /24, 4-octet session', { as4: true }, false));
measure(buildWorkload('IPv4 /24, ADD-PATH', { as4: true, addPath: new Set([familyKey(1, 1)]) }, true));
measure(buildIpv6Workload(PREFIX_COUNT));
measure(buildSingleRouteWorkload(Math.min(PREFIX_COUNT, 200_000)));
