// Benchmark of the reference BGP speaker against BIRD, FRR bgpd and GoBGP, side by side in one
// run, each target alone in its own namespaces (gen --- target --- rx):
//
//   Ingest:    our generator (bgp-generator.ts) sends N distinct IPv4 /24s in packed UPDATEs;
//              time from its first UPDATE write to all N in the target's RIB; peak RSS (VmHWM)
//              and bytes per route ((RSS after - RSS before) / N).
//   Advertise: with the N routes in its RIB, the target announces them to a fresh FRR bgpd
//              (no zebra) in the rx namespace; time from that session's Established to N at FRR.
//
// Fair timing, the same for every target: the clock starts at the generator's first UPDATE write
// (sub-millisecond, same machine clock), and completion is when the first probe that saw all N
// was answered (a busy single-threaded target answers right after its work); the bracket back
// to the last probe that saw fewer is printed too. BIRD is probed over one open control-socket
// connection (no birdc process per probe) and our speaker over one kept-alive status-socket
// connection, both every PROBE_GAP_MS; FRR (vtysh) and GoBGP (gobgp) are context, probed more
// sparingly (a vtysh or gobgp process per probe). Every target answers one probe before the
// generator starts, so no first-ever query (cold code) falls inside the measured window. The CPU
// time all the target's threads spent meanwhile is printed too: on a loaded machine it varies
// far less than wall time.
//
// BIRD and peerproof are measured --reps times (default 5), alternating which goes first, and the
// medians and per-repetition ratios are printed; FRR and GoBGP once. Needs root.
//   npx tsx bench/speaker.bench.ts [--counts 100000,1000000] [--targets bird,peerproof,frr,gobgp] [--reps 5]
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pollHarness } from '../conformance/checks/captured.ts';
import { Ledger, defaultRunsRoot } from '../conformance/lab/ledger.ts';
import { ensureDir, frrOwner, writeConfig } from '../conformance/lab/kinds/files.ts';
import { renderBgpd } from '../conformance/lab/kinds/frr.ts';
import { emptyNode } from '../conformance/lab/model.ts';
import { createNamespace, createVeth, deleteNamespace, isRoot, run, runChecked, spawnInNamespace, type NamespaceProcess } from '../conformance/lab/netns.ts';
import { fetchStatus, type BgpSessionResource } from '../reference/bgp/status.ts';
import { BirdControl, cpuNanoseconds, median, procStatus, statusProbe, table } from './speaker-probes.ts';

type Target = 'bird' | 'peerproof' | 'frr' | 'gobgp';
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({ options: { counts: { type: 'string' }, targets: { type: 'string' }, reps: { type: 'string' } } });
const counts = (values.counts ?? '100000,1000000').split(',').map(Number);
const targets = (values.targets ?? 'bird,peerproof,frr,gobgp').split(',') as Target[];
const reps = Number(values.reps ?? 5);
/** The targets the goal compares (peerproof within 1.5x of BIRD) are repeated; the others are context. */
const REPEATED: Target[] = ['bird', 'peerproof'];

const GEN = { address: '10.20.0.2', asn: 65100 };
const TARGET = { address: '10.20.0.1', rxSide: '10.21.0.1', asn: 65000 };
const RX = { address: '10.21.0.2', asn: 65200 };
const PROBE_GAP_MS: Record<Target, number> = { bird: 2, peerproof: 2, frr: 50, gobgp: 2000 };
// GoBGP needs minutes for 1M routes on a loaded machine; the others need seconds.
const TIMEOUT_MS: Record<Target, number> = { bird: 120_000, peerproof: 120_000, frr: 180_000, gobgp: 420_000 };

interface Measure {
  target: Target;
  count: number;
  rep: number;
  ingestSeconds: number;
  /** Width of the completion bracket (the precision of ingestSeconds). */
  ingestBracketMs: number;
  /** CPU time of all the target's threads from the stamp being read to completion (load-independent). */
  cpuSeconds: number;
  probes: number;
  peakRssBytes: number;
  bytesPerRoute: number;
  advertiseSeconds?: number;
  advertiseBracketMs?: number;
}

/** Milliseconds since the epoch with sub-millisecond precision (the generator stamps the same way). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

interface Instant {
  /** When the probe that saw it was answered, ms since the epoch. */
  at: number;
  bracketMs: number;
  probes: number;
}

/**
 * Probes back to back (gap `gapMs`) until `reached`. The moment lies after the last probe that had
 * not reached it was sent (or `notBefore`) and before the first that had was answered. A busy
 * single-threaded target (BIRD, our speaker) answers a pending probe right after its work, so
 * the answer time is the estimate (at most one gap plus one round trip late); the bracket says
 * how far back the moment could be.
 */
async function whenReached<T>(what: string, probe: () => Promise<T>, reached: (value: T) => boolean, gapMs: number, timeoutMs: number, notBefore = () => 0): Promise<Instant> {
  const deadline = Date.now() + timeoutMs;
  let lastNotReachedSent = 0;
  let probes = 0;
  for (;;) {
    const sent = now();
    const value = await probe().catch(() => undefined);
    const answered = now();
    probes++;
    if (value !== undefined && reached(value)) {
      return { at: answered, bracketMs: answered - Math.max(lastNotReachedSent, notBefore()), probes };
    }
    lastNotReachedSent = sent;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, gapMs));
  }
}



const runId = `sb${randomBytes(3).toString('hex')}`;
const ledger = Ledger.create(defaultRunsRoot, runId, 'netns', 'speaker-bench');
let serial = 0;



async function until<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs: number, timeoutMs: number): Promise<T> {
  // Set-up of the rig, not the measured ingest: harness work, not counted as waiting.
  const { value, met } = await pollHarness(() => probe().catch(() => undefined), (v) => !!v, timeoutMs, intervalMs);
  if (!met) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

class Rig {
  readonly id = `${runId}-${serial++}`;
  readonly processes: NamespaceProcess[] = [];
  readonly dir: string;
  constructor(readonly target: Target) {
    this.dir = ledger.nodeDir(`${target}-${this.id}`);
    ensureDir(this.dir, target === 'frr' ? frrOwner() : undefined);
  }
  ns(role: 'gen' | 'tgt' | 'rx'): string {
    return `pp-${this.id}-${role}`;
  }

  async build(): Promise<void> {
    for (const role of ['gen', 'tgt', 'rx'] as const) await createNamespace(ledger, this.ns(role));
    await createVeth(ledger, { ns: this.ns('gen'), node: 'gen', ifname: 'eth0' }, { ns: this.ns('tgt'), node: 'tgt', ifname: 'eth0' });
    await createVeth(ledger, { ns: this.ns('tgt'), node: 'tgt', ifname: 'eth1' }, { ns: this.ns('rx'), node: 'rx', ifname: 'eth0' });
    await runChecked(['ip', '-n', this.ns('gen'), 'addr', 'add', `${GEN.address}/24`, 'dev', 'eth0']);
    await runChecked(['ip', '-n', this.ns('tgt'), 'addr', 'add', `${TARGET.address}/24`, 'dev', 'eth0']);
    await runChecked(['ip', '-n', this.ns('tgt'), 'addr', 'add', `${TARGET.rxSide}/24`, 'dev', 'eth1']);
    await runChecked(['ip', '-n', this.ns('rx'), 'addr', 'add', `${RX.address}/24`, 'dev', 'eth0']);
  }

  spawn(role: 'gen' | 'tgt' | 'rx', argv: string[], label: string): NamespaceProcess {
    const proc = spawnInNamespace(ledger, this.ns(role), argv, { logFile: join(this.dir, `${label}.log`), label, node: role, cwd: repo });
    this.processes.push(proc);
    return proc;
  }

  readonly closers: Array<() => void> = [];

  async teardown(): Promise<void> {
    for (const close of this.closers) close();
    for (const proc of this.processes.reverse()) await proc.stop('SIGTERM', 3000).catch(() => undefined);
    for (const role of ['gen', 'tgt', 'rx'] as const) await deleteNamespace(this.ns(role)).catch(() => undefined);
  }
}

// --- targets -----------------------------------------------------------------------------

/** bgpd.conf rendered by the lab's FRR kind, with FRR's own timers (a 3 s hold could expire under a million routes). */
function frrConf(routerId: string, asn: number, neighbors: Array<{ address: string; asn: number }>): string {
  return renderBgpd({ ...emptyNode('bgpd', 'frr'), asn, routerId, neighbors, timers: { keepalive: 60, hold: 180 } });
}

function frrArgv(dir: string): string[] {
  return ['/usr/lib/frr/bgpd', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-Z', '-n', '--vty_socket', dir, '-P', '0', '-u', 'frr', '-g', 'frr', '--log', `file:${join(dir, 'bgpd-daemon.log')}`];
}

async function frrPfxRcd(rig: Rig, role: 'tgt' | 'rx', dir: string, neighbor: string): Promise<{ state: string; count: number } | undefined> {
  const result = await run(['ip', 'netns', 'exec', rig.ns(role), 'vtysh', '--vty_socket', dir, '-c', 'show bgp ipv4 unicast summary json']);
  if (result.code !== 0) return undefined;
  const peer = JSON.parse(result.stdout || '{}').peers?.[neighbor];
  return peer ? { state: peer.state, count: peer.pfxRcd ?? 0 } : undefined;
}

interface Running {
  pid: number;
  /** Prefixes received from the generator so far. */
  received(): Promise<number>;
}

async function startTarget(rig: Rig): Promise<Running> {
  const dir = rig.dir;
  switch (rig.target) {
    case 'bird': {
      writeConfig(dir, 'bird.conf', `router id ${TARGET.address};
protocol device {}
protocol bgp from_gen { local ${TARGET.address} as ${TARGET.asn}; neighbor ${GEN.address} as ${GEN.asn}; hold time 90; ipv4 { import all; export none; }; }
protocol bgp to_rx { local ${TARGET.rxSide} as ${TARGET.asn}; neighbor ${RX.address} as ${RX.asn}; connect retry time 1; ipv4 { import none; export all; }; }
`);
      const ctl = join(dir, 'bird.ctl');
      const proc = rig.spawn('tgt', ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', ctl, '-P', join(dir, 'bird.pid')], 'bird');
      const control = await until('bird control socket', () => BirdControl.open(ctl), 50, 5000);
      rig.closers.push(() => control.close());
      return {
        pid: proc.pid,
        async received() {
          const out = await control.query('show protocols all from_gen');
          return Number(out.match(/Routes:\s+(\d+) imported/)?.[1] ?? 0);
        },
      };
    }
    case 'peerproof': {
      const socket = join(dir, 'status.sock');
      writeFileSync(join(dir, 'speaker.yaml'), `routerId: ${TARGET.address}
localAs: ${TARGET.asn}
listen: { address: 0.0.0.0, port: 179 }
status: { socket: ${socket} }
peers:
  - { name: gen, address: ${GEN.address}, asn: ${GEN.asn}, passive: true }
  - { name: rx, address: ${RX.address}, asn: ${RX.asn}, connectRetry: 1 }
`);
      const proc = rig.spawn('tgt', [process.execPath, join(repo, 'bin/peerproof.js'), 'speaker', '--config', join(dir, 'speaker.yaml')], 'speaker');
      await until('speaker status API', async () => !!(await fetchStatus({ socket }, '/healthz')), 50, 10_000);
      const status = statusProbe(socket);
      rig.closers.push(() => status.close());
      return {
        pid: proc.pid,
        async received() {
          const s = (await status.get('/sessions/gen?limit=0')) as BgpSessionResource;
          return s.status.receivedPrefixes;
        },
      };
    }
    case 'frr': {
      writeConfig(dir, 'bgpd.conf', frrConf(TARGET.address, TARGET.asn, [GEN, RX]), frrOwner());
      const proc = rig.spawn('tgt', frrArgv(dir), 'bgpd');
      await until('bgpd vty', async () => (await frrPfxRcd(rig, 'tgt', dir, GEN.address)) !== undefined, 50, 10_000);
      return { pid: proc.pid, received: async () => (await frrPfxRcd(rig, 'tgt', dir, GEN.address))?.count ?? 0 };
    }
    case 'gobgp': {
      const neighbor = (n: { address: string; asn: number }) =>
        `[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "${n.address}"\n    peer-as = ${n.asn}\n  [neighbors.timers.config]\n    connect-retry = 1\n    minimum-advertisement-interval = 0\n  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n`;
      writeConfig(dir, 'gobgpd.toml', `[global.config]\n  as = ${TARGET.asn}\n  router-id = "${TARGET.address}"\n  port = 179\n${neighbor(GEN)}${neighbor(RX)}`);
      const proc = rig.spawn('tgt', ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-l', 'warn', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], 'gobgpd');
      const gobgp = (args: string[]) => runChecked(['ip', 'netns', 'exec', rig.ns('tgt'), 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
      await until('gobgpd API', async () => !!(await gobgp(['global'])), 100, 10_000);
      return {
        pid: proc.pid,
        async received() {
          const json = JSON.parse(await gobgp(['neighbor', GEN.address, '-j']));
          const afi = json.afi_safis?.find((a: any) => a.config?.family?.afi === 1) ?? json.afi_safis?.[0];
          return Number(afi?.state?.received ?? json.state?.adj_table?.received ?? 0);
        },
      };
    }
  }
}

async function measure(target: Target, count: number, rep: number): Promise<Measure> {
  const rig = new Rig(target);
  try {
    await rig.build();
    const running = await startTarget(rig);
    await new Promise((r) => setTimeout(r, 500));
    // One probe before the clock, the same for every target: the measured window then holds the
    // ingest, not a first-ever status query (cold code in our speaker, a first CLI command in BIRD).
    await running.received();
    const rssBefore = procStatus(running.pid, 'VmRSS');
    rig.spawn(
      'gen',
      [process.execPath, '--import', 'tsx', join(repo, 'bench/bgp-generator.ts'), '--peer', TARGET.address, '--local-as', String(GEN.asn), '--peer-as', String(TARGET.asn), '--router-id', GEN.address, '--count', String(count)],
      'generator',
    );
    // The generator stamps its first UPDATE write. Probing starts once that stamp is read (within
    // a few ms), so no target answers probes while the generator starts up.
    const t0 = await until(
      'generator first UPDATE',
      async () => {
        const line = readFileSync(join(rig.dir, 'generator.log'), 'utf8').split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { t0: number }).t0 : undefined;
      },
      2,
      60_000,
    );
    const cpuBefore = cpuNanoseconds(running.pid);
    const done = await whenReached('all routes in the target', () => running.received(), (n) => n >= count, PROBE_GAP_MS[target], TIMEOUT_MS[target], () => t0);
    const cpuSeconds = (cpuNanoseconds(running.pid) - cpuBefore) / 1e9;
    const ingestSeconds = (done.at - t0) / 1000;
    await new Promise((r) => setTimeout(r, 300));
    const rssAfter = procStatus(running.pid, 'VmRSS');
    const result: Measure = {
      target,
      count,
      rep,
      ingestSeconds,
      ingestBracketMs: done.bracketMs,
      cpuSeconds,
      probes: done.probes,
      peakRssBytes: procStatus(running.pid, 'VmHWM'),
      bytesPerRoute: (rssAfter - rssBefore) / count,
    };
    if (target !== 'frr') {
      const rxDir = join(rig.dir, 'rx');
      ensureDir(rxDir, frrOwner());
      writeConfig(rxDir, 'bgpd.conf', frrConf(RX.address, RX.asn, [{ address: TARGET.rxSide, asn: TARGET.asn }]), frrOwner());
      rig.spawn('rx', frrArgv(rxDir), 'rx-bgpd');
      // FRR is the receiver for every target, probed the same way (vtysh) for each.
      const rx = () => frrPfxRcd(rig, 'rx', rxDir, TARGET.rxSide);
      const up = await whenReached('rx session Established', rx, (p) => p?.state === 'Established', 20, 60_000);
      const all = await whenReached('all routes at rx FRR', rx, (p) => (p?.count ?? 0) >= count, 20, TIMEOUT_MS[target]);
      result.advertiseSeconds = (all.at - up.at) / 1000;
      result.advertiseBracketMs = all.bracketMs + up.bracketMs;
    }
    return result;
  } finally {
    await rig.teardown();
  }
}



const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

function report(count: number, results: Measure[]): void {
  const rows = results.filter((r) => r.count === count);
  if (rows.length === 0) return;
  const title = count.toLocaleString('en-US');
  process.stdout.write(`\nIngest of ${title} IPv4 prefixes: every run (time from the first UPDATE to all in the RIB; bracket: how much earlier completion could have been)\n`);
  process.stdout.write(
    `${table([
      ['rep', 'target', 'seconds', 'bracket ms', 'probes', 'CPU s', 'prefixes/s', 'peak RSS MB', 'bytes/route', 'advertise s', 'bracket ms'],
      ...rows.map((r) => [
        String(r.rep),
        r.target,
        r.ingestSeconds.toFixed(3),
        r.ingestBracketMs.toFixed(1),
        String(r.probes),
        r.cpuSeconds.toFixed(3),
        Math.round(r.count / r.ingestSeconds).toLocaleString('en-US'),
        (r.peakRssBytes / 1048576).toFixed(1),
        r.bytesPerRoute.toFixed(0),
        r.advertiseSeconds?.toFixed(3) ?? '-',
        r.advertiseBracketMs !== undefined ? r.advertiseBracketMs.toFixed(0) : '-',
      ]),
    ])}\n`,
  );
  const byTarget = new Map<Target, Measure[]>();
  for (const r of rows) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const med = (t: Target, f: (r: Measure) => number | undefined) => {
    const vs = (byTarget.get(t) ?? []).map(f).filter((v): v is number => v !== undefined);
    return vs.length ? median(vs) : undefined;
  };
  const birdIngest = med('bird', (r) => r.ingestSeconds);
  const birdBytes = med('bird', (r) => r.bytesPerRoute);
  const birdCpu = med('bird', (r) => r.cpuSeconds);
  const birdAdvertise = med('bird', (r) => r.advertiseSeconds);
  process.stdout.write(`\nIngest of ${title}: medians (runs) and ratios against BIRD's median\n`);
  process.stdout.write(
    `${table([
      ['target', 'runs', 'seconds', 'prefixes/s', 'bytes/route', 'time vs BIRD', 'CPU s', 'CPU vs BIRD', 'bytes vs BIRD', 'advertise s', 'advertise vs BIRD'],
      ...[...byTarget.keys()].map((t) => {
        const ingest = med(t, (r) => r.ingestSeconds)!;
        const bytes = med(t, (r) => r.bytesPerRoute)!;
        const cpu = med(t, (r) => r.cpuSeconds)!;
        const advertise = med(t, (r) => r.advertiseSeconds);
        return [
          t,
          String(byTarget.get(t)!.length),
          ingest.toFixed(3),
          Math.round(count / ingest).toLocaleString('en-US'),
          bytes.toFixed(0),
          birdIngest ? ratio(ingest, birdIngest) : '-',
          cpu.toFixed(3),
          birdCpu ? ratio(cpu, birdCpu) : '-',
          birdBytes ? ratio(bytes, birdBytes) : '-',
          advertise?.toFixed(3) ?? '-',
          advertise !== undefined && birdAdvertise ? ratio(advertise, birdAdvertise) : '-',
        ];
      }),
    ])}\n`,
  );
  // Pairs measured back to back in the same repetition see the same machine load.
  const pairs = [...new Set(rows.map((r) => r.rep))].flatMap((rep) => {
    const bird = rows.find((r) => r.rep === rep && r.target === 'bird');
    const ours = rows.find((r) => r.rep === rep && r.target === 'peerproof');
    return bird && ours ? [{ rep, ingest: ours.ingestSeconds / bird.ingestSeconds, cpu: ours.cpuSeconds / bird.cpuSeconds, advertise: ours.advertiseSeconds && bird.advertiseSeconds ? ours.advertiseSeconds / bird.advertiseSeconds : undefined }] : [];
  });
  if (pairs.length > 0) {
    const list = (f: (p: (typeof pairs)[number]) => number | undefined) => {
      const vs = pairs.map(f).filter((v): v is number => v !== undefined);
      return vs.length ? `${vs.map((v) => `${v.toFixed(2)}x`).join(', ')} (median ${median(vs).toFixed(2)}x)` : '-';
    };
    process.stdout.write(`peerproof / BIRD per repetition, ingest: ${list((p) => p.ingest)}\n`);
    process.stdout.write(`peerproof / BIRD per repetition, ingest CPU: ${list((p) => p.cpu)}\n`);
    process.stdout.write(`peerproof / BIRD per repetition, advertise: ${list((p) => p.advertise)}\n`);
  }
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('speaker.bench.ts needs root (namespaces)');
  const results: Measure[] = [];
  const failures: string[] = [];
  for (const count of counts) {
    for (let rep = 1; rep <= reps; rep++) {
      // Alternate who goes first, so a drift in machine load does not always favour one target.
      const order = rep % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        if (rep > 1 && !REPEATED.includes(target)) continue;
        process.stderr.write(`measuring ${target} with ${count} prefixes (repetition ${rep})...\n`);
        try {
          const result = await measure(target, count, rep);
          results.push(result);
          process.stderr.write(`  ${JSON.stringify(result)}\n`);
        } catch (err) {
          // One target failing (or timing out) must not lose the others' numbers.
          process.stderr.write(`  ${target} failed: ${(err as Error).message}\n`);
          failures.push(`${target} N=${count} rep ${rep}: ${(err as Error).message}`);
        }
      }
    }
  }
  for (const count of counts) report(count, results);
  for (const failure of failures) process.stdout.write(`\nnot measured: ${failure}\n`);
  process.stdout.write(`\nrun folder: ${ledger.runDir}\n`);
}

try {
  await main();
} finally {
  ledger.collectState();
  ledger.record({ t: 'down', at: new Date().toISOString() });
}
