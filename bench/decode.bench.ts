// Decode throughput of `peerproof decode --format jsonl` against tshark, measured side by side on
// the same capture of a real session: BIRD exports 200,000 static routes, each with its own MED
// (so no two share an UPDATE), to GoBGP; tcpdump captures the link. The capture is made once
// (needs root) and cached in reports/bench/ (git-ignored).
//
//   npx tsx bench/decode.bench.ts [--routes N] [--rebuild]
//
// Prints UPDATE messages per second for peerproof (in-process pipeline, and the CLI as a user
// runs it), `tshark -T json -Y bgp` and `tshark -T fields`, the ratios, and the codec alone
// (decodeMessage over the reassembled messages, no output) in prefixes per second.

import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeeringLab } from '../conformance/capture/peering-lab.ts';
import { decodeCapture } from '../conformance/capture/decode-capture.ts';
import { formatJsonl } from '../conformance/capture/format-jsonl.ts';
import { readCapture } from '../conformance/capture/pcap-reader.ts';
import { parseTcpSegment } from '../conformance/capture/link.ts';
import { TcpReassembler } from '../conformance/capture/tcp-reassembly.ts';
import { decodeMessage, encodeUpdates, type Route, type UpdateMessage } from '../reference/bgp/wire/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const routes = Number(args[args.indexOf('--routes') + 1] || 0) || 200_000;
const capture = join(root, 'reports', 'bench', `bird-gobgp-${routes}-updates.pcap`);

async function makeCapture(): Promise<void> {
  mkdirSync(dirname(capture), { recursive: true });
  const statics: string[] = [];
  for (let i = 0; i < routes; i++) {
    // 10.0.0.0/32 upwards, skipping nothing: 200k /32s fit in 10.0.0.0/14.
    const n = (10 << 24) + i;
    statics.push(`  route ${n >>> 24}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32 unreachable { bgp_med = ${i}; };`);
  }
  const lab = await PeeringLab.create(
    {
      kind: 'bird',
      name: 'bird',
      addresses: ['172.31.9.1/30'],
      config: `router id 172.31.9.1;
protocol device {}
protocol static many { ipv4; ${'\n'}${statics.join('\n')}
}
protocol bgp gobgp_peer {
  local 172.31.9.1 as 65001;
  neighbor 172.31.9.2 as 65002;
  ipv4 { import none; export all; };
}
`,
    },
    {
      kind: 'gobgp',
      name: 'gobgp',
      addresses: ['172.31.9.2/30'],
      config: `[global.config]
  as = 65002
  router-id = "172.31.9.2"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "172.31.9.1"
    peer-as = 65001
`,
    },
  );
  try {
    await lab.startCapture({ node: 'gobgp', interface: 'link', tool: 'tcpdump', file: capture });
    await lab.start('gobgp');
    await lab.start('bird');
    const started = Date.now();
    await lab.waitForCli(
      'gobgp',
      ['global', 'rib', 'summary', '-a', 'ipv4'],
      (out) => Number(/Destination:\s*(\d+)/.exec(out)?.[1] ?? 0) >= routes,
      600_000,
    );
    process.stderr.write(`capture: GoBGP has all ${routes} routes after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await lab.down();
  }
  lab.removeRunDir();
}

function time<T>(fn: () => T): { seconds: number; value: T } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

function runTimed(argv: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr?.toString()}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

if (args.includes('--rebuild') || !existsSync(capture)) {
  if (process.getuid?.() !== 0) throw new Error(`the capture ${capture} does not exist yet; making it needs root`);
  await makeCapture();
}
const bytes = readFileSync(capture);

// peerproof, in process: read, reassemble, decode, format every message as a JSONL line.
let updates = 0;
let prefixes = 0;
let outputBytes = 0;
const pipeline = time(() =>
  decodeCapture(bytes, (m) => {
    outputBytes += formatJsonl(m).length + 1;
    if (m.message?.type === 'UPDATE') {
      updates++;
      prefixes += m.message.nlri.length + m.message.withdrawn.length;
    }
  }),
);
if (updates < 100_000) {
  // Allowed for a quick look with a small --routes; the proof needs the full capture.
  process.stderr.write(`warning: the capture holds only ${updates} UPDATEs; the benchmark's claim needs at least 100,000\n`);
}

// The codec alone, over the messages as reassembled (no output, no per-message JSON).
const reassembled: Uint8Array[] = [];
const reassembler = new TcpReassembler({ onMessage: (_d, m) => reassembled.push(m), onNotice: () => {} });
readCapture(bytes, (frame, ts, linkType) => {
  const s = parseTcpSegment(frame, linkType);
  if (s !== null && (s.srcPort === 179 || s.dstPort === 179)) reassembler.push(s, ts);
});
reassembler.finish();
const ctx = { as4: true };
decodeMessage(reassembled[0]!, ctx); // warm-up of the shapes
let codecPrefixes = 0;
const codec = time(() => {
  for (const m of reassembled) {
    const msg = decodeMessage(m, ctx);
    if (msg.type === 'UPDATE') codecPrefixes += msg.nlri.length + msg.withdrawn.length;
  }
});

// The same routes packed as a speaker sends them when they share attributes (<= 4096 B per
// UPDATE, by the codec's own encoder): the codec's cost per prefix rather than per message.
const firstUpdate = reassembled.map((m) => decodeMessage(m, ctx)).find((m): m is UpdateMessage => m.type === 'UPDATE' && m.nlri.length > 0)!;
const allRoutes: Route[] = [];
for (const m of reassembled) {
  const msg = decodeMessage(m, ctx);
  if (msg.type === 'UPDATE') allRoutes.push(...msg.nlri);
}
const { med: _med, ...sharedAttributes } = firstUpdate.attributes;
const packed = encodeUpdates({ withdrawn: [], attributes: sharedAttributes, nlri: allRoutes }, ctx);
let packedPrefixes = 0;
for (const m of packed) decodeMessage(m, ctx); // warm-up
const packedCodec = time(() => {
  for (const m of packed) {
    const msg = decodeMessage(m, ctx);
    if (msg.type === 'UPDATE') packedPrefixes += msg.nlri.length;
  }
});

const cli = runTimed(['sh', '-c', `node ${join(root, 'bin', 'peerproof.js')} decode ${capture} --format jsonl > /dev/null`]);
// What the CLI costs before it reads a byte (tsx, every subcommand's imports): shown apart.
const startup = runTimed(['node', join(root, 'bin', 'peerproof.js'), '--version']);
const tsharkJson = runTimed(['sh', '-c', `tshark -r ${capture} -T json -Y bgp > /dev/null`]);
const tsharkFields = runTimed([
  'sh',
  '-c',
  `tshark -r ${capture} -Y bgp -T fields -e frame.number -e bgp.type -e bgp.nlri_prefix -e bgp.prefix_length ` +
    `-e bgp.update.path_attribute.next_hop -e bgp.update.path_attribute.as_path_segment.as4 ` +
    `-e bgp.update.path_attribute.multi_exit_disc > /dev/null`,
]);

const rate = (seconds: number) => updates / seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const lines = [
  `capture: ${capture} (${(statSync(capture).size / 1e6).toFixed(1)} MB, ${fmt(updates)} UPDATEs, ${fmt(prefixes)} prefixes; JSONL ${(outputBytes / 1e6).toFixed(1)} MB)`,
  `peerproof JSONL, in process     ${pipeline.seconds.toFixed(2).padStart(7)} s  ${fmt(rate(pipeline.seconds)).padStart(10)} UPDATE/s`,
  `peerproof decode CLI (to null)  ${cli.toFixed(2).padStart(7)} s  ${fmt(rate(cli)).padStart(10)} UPDATE/s  (includes process start-up)`,
  `peerproof --version (start-up)  ${startup.toFixed(2).padStart(7)} s`,
  `tshark -T json -Y bgp           ${tsharkJson.toFixed(2).padStart(7)} s  ${fmt(rate(tsharkJson)).padStart(10)} UPDATE/s`,
  `tshark -T fields                ${tsharkFields.toFixed(2).padStart(7)} s  ${fmt(rate(tsharkFields)).padStart(10)} UPDATE/s`,
  `ratio CLI vs tshark -T json:    ${(tsharkJson / cli).toFixed(1)}x  (target >= 20x)`,
  `ratio CLI vs tshark -T fields:  ${(tsharkFields / cli).toFixed(1)}x  (target >= 2x)`,
  `ratio CLI minus start-up:       ${(tsharkJson / (cli - startup)).toFixed(1)}x vs -T json, ${(tsharkFields / (cli - startup)).toFixed(1)}x vs -T fields`,
  `ratio in-process vs -T json:    ${(tsharkJson / pipeline.seconds).toFixed(1)}x, vs -T fields: ${(tsharkFields / pipeline.seconds).toFixed(1)}x`,
  `codec alone: ${fmt(reassembled.length)} messages, ${fmt(codecPrefixes)} prefixes in ${codec.seconds.toFixed(2)} s = ${fmt(codecPrefixes / codec.seconds)} prefixes/s (target >= 2,000,000)`,
  `codec alone, same routes packed (${fmt(packed.length)} UPDATEs of <= 4096 B): ${fmt(packedPrefixes / packedCodec.seconds)} prefixes/s`,
];
process.stdout.write(lines.join('\n') + '\n');
