// Decode throughput of `peerproof decode --format jsonl` against tshark, measured side by side on
// the same capture of a real session: BIRD exports 200,000 static routes, each with its own MED
// (so no two share an UPDATE), to GoBGP; tcpdump captures the link. The capture is made once
// (needs root) and cached in reports/bench/ (git-ignored).
//
//   npx tsx bench/decode.bench.ts [--routes N] [--rebuild]
//
// Prints UPDATE messages per second for peerproof (in-process pipeline, and the CLI as a user
// runs it: `node bin/peerproof.js decode FILE --format jsonl`), `tshark -T json -Y bgp` and
// `tshark -T fields -e bgp.type -Y bgp` (interleaved rounds, medians), the ratios, and the codec alone
// (decodeMessage over the reassembled messages, no output) in prefixes per second. Each figure
// is given in wall-clock and in CPU time: on a machine shared with other jobs the wall clock
// mostly measures the others, while CPU seconds stay comparable between the contenders.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeeringLab } from '../conformance/capture/peering-lab.ts';
import { decodeCapture } from '../conformance/capture/decode-capture.ts';
import { writeJsonl } from '../conformance/capture/jsonl-writer.ts';
import { OutputBuffer } from '../conformance/capture/output-buffer.ts';
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

/** Wall-clock and CPU seconds: on a shared machine the CPU figure is the steadier of the two. */
interface Timing {
  wall: number;
  cpu: number;
}

function time<T>(fn: () => T): Timing & { value: T } {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const value = fn();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: (cpu.user + cpu.system) / 1e6, value };
}

/** Runs a shell command with stdout to /dev/null; CPU from the shell's `times` (its children's line). */
function runTimed(command: string): Timing {
  const start = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `${command} > /dev/null && times`], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr?.toString()}`);
  const children = r.stdout.toString().trim().split('\n').at(-1) ?? '';
  const [user, system] = children.split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  });
  return { wall, cpu: (user ?? NaN) + (system ?? NaN) };
}

if (args.includes('--rebuild') || !existsSync(capture)) {
  if (process.getuid?.() !== 0) throw new Error(`the capture ${capture} does not exist yet; making it needs root`);
  await makeCapture();
}
const bytes = readFileSync(capture);

// peerproof, in process: read, reassemble, decode, write every message as a JSONL line (to
// /dev/null through the CLI's output buffer).
let updates = 0;
let prefixes = 0;
const devNull = openSync('/dev/null', 'w');
const out = new OutputBuffer(devNull);
const pipeline = time(() => {
  decodeCapture(bytes, (m) => {
    writeJsonl(m, out);
    if (m.message?.type === 'UPDATE') {
      updates++;
      prefixes += m.message.nlri.length + m.message.withdrawn.length;
    }
  });
  out.flush();
});
closeSync(devNull);
const outputBytes = out.written;
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
// Under tsx every call of an imported function goes through a getter of the module wrapper (the
// built CLI has none): a local binding measures the codec, not that wrapper.
const decode = decodeMessage;
function codecPass(messages: readonly Uint8Array[]): number {
  let prefixes = 0;
  for (const m of messages) {
    const msg = decode(m, ctx);
    if (msg.type === 'UPDATE') prefixes += msg.nlri.length + msg.withdrawn.length;
  }
  return prefixes;
}
/**
 * The first pass apart (it may include JIT compilation), then five warm passes: their best (as
 * bench/codec.bench.ts reports; other jobs on the machine only ever add time) and their median.
 */
function measureCodec(messages: readonly Uint8Array[]): { cold: Timing; best: Timing; median: Timing; prefixes: number } {
  const cold = time(() => codecPass(messages));
  const warm = [0, 1, 2, 3, 4].map(() => time(() => codecPass(messages))).sort((a, b) => a.cpu - b.cpu);
  return { cold, best: warm[0]!, median: warm[2]!, prefixes: warm[0]!.value };
}
const codec = measureCodec(reassembled);

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
const packedCodec = measureCodec(packed);

const peerproof = `node ${join(root, 'bin', 'peerproof.js')}`;
// `peerproof decode` runs from a bundle that bin/prebuilt.js builds once per source change (an
// install step's work) and keeps V8's code cache beside it: a decode of a tiny capture makes sure
// both exist before anything is timed, as they would after the first use.
const tinyCapture = join(root, 'pcaps', 'frr-gobgp-as4-addpath.pcap');
runTimed(`${peerproof} decode ${tinyCapture} --format jsonl`);

// Side by side: the same commands in interleaved rounds (the machine's load moves between runs),
// each contender reported by its median (and best). `peerproof decode` is the command a user
// types, with default flags; the tshark commands are the ones the targets name.
const ROUNDS = 3;
const JSON_ROUNDS = 2; // tshark -T json takes 10-40 s a run
const runs = { cli: [] as Timing[], startup: [] as Timing[], fields: [] as Timing[], json: [] as Timing[] };
for (let round = 0; round < ROUNDS; round++) {
  runs.cli.push(runTimed(`${peerproof} decode ${capture} --format jsonl 2>/dev/null`));
  runs.fields.push(runTimed(`tshark -r ${capture} -T fields -e bgp.type -Y bgp 2>/dev/null`));
  // What the CLI costs before it decodes much: the same command on a 24-message capture.
  runs.startup.push(runTimed(`${peerproof} decode ${tinyCapture} --format jsonl`));
  if (round < JSON_ROUNDS) runs.json.push(runTimed(`tshark -r ${capture} -T json -Y bgp 2>/dev/null`));
}
/** Median per measure (wall and CPU apart); with an even count, the mean of the middle two. */
function median(list: Timing[]): Timing {
  const mid = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const h = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
  };
  return { wall: mid(list.map((t) => t.wall)), cpu: mid(list.map((t) => t.cpu)) };
}
const best = (list: Timing[]): Timing => ({ wall: Math.min(...list.map((t) => t.wall)), cpu: Math.min(...list.map((t) => t.cpu)) });
const cli = median(runs.cli);
const startup = median(runs.startup);
const tsharkFields = median(runs.fields);
const tsharkJson = median(runs.json);
// The CLI without the bundle (as before bin/prebuilt.js, or when the bundle cannot be built).
const cliThroughTsx = runTimed(`PEERPROOF_PREBUILT=0 ${peerproof} decode ${capture} --format jsonl 2>/dev/null`);
const withoutStartup: Timing = { wall: cli.wall - startup.wall, cpu: cli.cpu - startup.cpu };

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const row = (name: string, t: Timing, note = '') =>
  `${name.padEnd(32)} ${t.wall.toFixed(2).padStart(7)} s ${fmt(updates / t.wall).padStart(10)} UPDATE/s | ${t.cpu.toFixed(2).padStart(6)} s cpu ${fmt(updates / t.cpu).padStart(10)} UPDATE/s${note}`;
const each = (list: Timing[]) => `  (runs: ${list.map((t) => `${t.wall.toFixed(2)}/${t.cpu.toFixed(2)}`).join(', ')} s wall/cpu)`;
const ratioOf = (json: Timing, fields: Timing, ours: Timing) =>
  `${(json.wall / ours.wall).toFixed(1).padStart(5)}x / ${(fields.wall / ours.wall).toFixed(1).padStart(5)}x wall` +
  `   ${(json.cpu / ours.cpu).toFixed(1).padStart(5)}x / ${(fields.cpu / ours.cpu).toFixed(1).padStart(5)}x cpu`;
const ratio = (name: string, ours: Timing, target: string) => `${name.padEnd(44)} ${ratioOf(tsharkJson, tsharkFields, ours)}${target}`;
const met = (ours: Timing, by: 'wall' | 'cpu') => tsharkJson[by] / ours[by] >= 20 && tsharkFields[by] / ours[by] >= 2;
const lines = [
  `capture: ${capture} (${(statSync(capture).size / 1e6).toFixed(1)} MB, ${fmt(updates)} UPDATEs, ${fmt(prefixes)} prefixes; JSONL ${(outputBytes / 1e6).toFixed(1)} MB)`,
  row('peerproof JSONL, in process', pipeline),
  row('peerproof decode --format jsonl', cli, `  median, includes start-up${each(runs.cli)}`),
  `${'peerproof decode, tiny capture'.padEnd(32)} ${startup.wall.toFixed(2).padStart(7)} s ${''.padStart(19)} | ${startup.cpu.toFixed(2).padStart(6)} s cpu  (start-up, median)${each(runs.startup)}`,
  row('peerproof decode through tsx', cliThroughTsx, '  (PEERPROOF_PREBUILT=0, one run)'),
  row('tshark -T json -Y bgp', tsharkJson, `  median${each(runs.json)}`),
  row('tshark -T fields -e bgp.type', tsharkFields, `  median${each(runs.fields)}`),
  'ratios vs tshark -T json / -T fields -e bgp.type (targets >= 20x / >= 2x):',
  ratio('  peerproof decode CLI, medians', cli, `   wall ${met(cli, 'wall') ? 'MET' : 'NOT MET'}, cpu ${met(cli, 'cpu') ? 'MET' : 'NOT MET'}`),
  `${'  peerproof decode CLI, best of each'.padEnd(44)} ${ratioOf(best(runs.json), best(runs.fields), best(runs.cli))}`,
  ratio('  peerproof decode CLI minus start-up', withoutStartup, ''),
  ratio('  peerproof decode CLI through tsx', cliThroughTsx, ''),
  ratio('  peerproof JSONL, in process', pipeline, ''),
  `codec alone: ${fmt(reassembled.length)} messages, ${fmt(codec.prefixes)} prefixes: ${fmt(codec.prefixes / codec.best.cpu)} prefixes/s on one core ` +
    `(best of 5 warm passes, ${codec.best.cpu.toFixed(3)} s cpu; target >= 2,000,000); median ${fmt(codec.prefixes / codec.median.cpu)}/s, ` +
    `first pass ${fmt(codec.prefixes / codec.cold.cpu)}/s`,
  `codec alone, same routes packed (${fmt(packed.length)} UPDATEs of <= 4096 B): ${fmt(packedCodec.prefixes / packedCodec.best.cpu)} prefixes/s on one core (best of 5)`,
];
process.stdout.write(lines.join('\n') + '\n');
