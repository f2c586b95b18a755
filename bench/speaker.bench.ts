// Benchmark of the reference BGP speaker against BIRD, FRR bgpd and GoBGP, side by side in one
// run, each target alone in its own namespaces (gen --- target --- rx):
//
//   Ingest:    our generator (bgp-generator.ts) sends N distinct IPv4 /24s in packed UPDATEs;
//              time from its first UPDATE write to all N in the target's RIB; peak RSS (VmHWM)
//              and bytes per route ((RSS after - RSS before) / N).
//   Advertise: with the N routes in its RIB, the target announces them to a fresh FRR bgpd
//              (no zebra) in the rx namespace; time from that session's Established to N at FRR.
//
// Ratios are against BIRD measured in the same run. Needs root.
//   npx tsx bench/speaker.bench.ts [--counts 100000,1000000] [--targets bird,peerproof,frr,gobgp]
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Ledger, defaultRunsRoot } from '../conformance/lab/ledger.ts';
import { ensureDir, frrOwner, writeConfig } from '../conformance/lab/kinds/files.ts';
import { createNamespace, createVeth, deleteNamespace, isRoot, run, runChecked, spawnInNamespace, type NamespaceProcess } from '../conformance/lab/netns.ts';
import { fetchStatus, type BgpSessionResource } from '../reference/bgp/status.ts';

type Target = 'bird' | 'peerproof' | 'frr' | 'gobgp';
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({ options: { counts: { type: 'string' }, targets: { type: 'string' } } });
const counts = (values.counts ?? '100000,1000000').split(',').map(Number);
const targets = (values.targets ?? 'bird,peerproof,frr,gobgp').split(',') as Target[];

const GEN = { address: '10.20.0.2', asn: 65100 };
const TARGET = { address: '10.20.0.1', rxSide: '10.21.0.1', asn: 65000 };
const RX = { address: '10.21.0.2', asn: 65200 };
const POLL_MS: Record<Target, number> = { bird: 20, peerproof: 20, frr: 50, gobgp: 2000 };
// GoBGP needs minutes for 1M routes on a loaded machine; the others need seconds.
const TIMEOUT_MS: Record<Target, number> = { bird: 120_000, peerproof: 120_000, frr: 180_000, gobgp: 420_000 };

interface Measure {
  target: Target;
  count: number;
  ingestSeconds: number;
  peakRssBytes: number;
  bytesPerRoute: number;
  advertiseSeconds?: number;
}

const runId = `sb${randomBytes(3).toString('hex')}`;
const ledger = Ledger.create(defaultRunsRoot, runId, 'netns', 'speaker-bench');
let serial = 0;

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? Number(match[1]) * 1024 : 0;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs: number, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

class Rig {
  readonly id = `${runId}-${serial++}`;
  readonly processes: NamespaceProcess[] = [];
  readonly dir: string;
  constructor(readonly target: Target) {
    this.dir = join(ledger.runDir, `${target}-${this.id}`);
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

  async teardown(): Promise<void> {
    for (const proc of this.processes.reverse()) await proc.stop('SIGTERM', 3000).catch(() => undefined);
    for (const role of ['gen', 'tgt', 'rx'] as const) await deleteNamespace(this.ns(role)).catch(() => undefined);
  }
}

// --- targets -----------------------------------------------------------------------------

function frrConf(routerId: string, asn: number, neighbors: Array<{ address: string; asn: number }>): string {
  return [
    'frr defaults traditional',
    `router bgp ${asn}`,
    ` bgp router-id ${routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ...neighbors.flatMap((n) => [` neighbor ${n.address} remote-as ${n.asn}`, ` neighbor ${n.address} timers connect 1`, ` neighbor ${n.address} advertisement-interval 0`]),
    'exit',
    '',
  ].join('\n');
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
      await until('bird control socket', async () => (await run(['birdc', '-s', ctl, 'show', 'status'])).code === 0, 50, 5000);
      return {
        pid: proc.pid,
        async received() {
          const out = await runChecked(['birdc', '-s', ctl, 'show', 'protocols', 'all', 'from_gen']);
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
      return {
        pid: proc.pid,
        async received() {
          const s = (await fetchStatus({ socket }, '/sessions/gen?limit=0')) as BgpSessionResource;
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

async function measure(target: Target, count: number): Promise<Measure> {
  const rig = new Rig(target);
  try {
    await rig.build();
    const running = await startTarget(rig);
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = procStatus(running.pid, 'VmRSS');
    const generator = rig.spawn(
      'gen',
      [process.execPath, '--import', 'tsx', join(repo, 'bench/bgp-generator.ts'), '--peer', TARGET.address, '--local-as', String(GEN.asn), '--peer-as', String(TARGET.asn), '--router-id', GEN.address, '--count', String(count)],
      'generator',
    );
    const sent = await until(
      'generator first UPDATE',
      async () => {
        const line = readFileSync(join(rig.dir, 'generator.log'), 'utf8').split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { t0: number }) : undefined;
      },
      10,
      60_000,
    );
    void generator;
    const done = await until('all routes in the target', async () => ((await running.received()) >= count ? Date.now() : undefined), POLL_MS[target], TIMEOUT_MS[target]);
    const ingestSeconds = (done - sent.t0) / 1000;
    await new Promise((r) => setTimeout(r, 300));
    const rssAfter = procStatus(running.pid, 'VmRSS');
    const result: Measure = { target, count, ingestSeconds, peakRssBytes: procStatus(running.pid, 'VmHWM'), bytesPerRoute: (rssAfter - rssBefore) / count };
    if (target !== 'frr') {
      const rxDir = join(rig.dir, 'rx');
      ensureDir(rxDir, frrOwner());
      writeConfig(rxDir, 'bgpd.conf', frrConf(RX.address, RX.asn, [{ address: TARGET.rxSide, asn: TARGET.asn }]), frrOwner());
      rig.spawn('rx', frrArgv(rxDir), 'rx-bgpd');
      const up = await until('rx session Established', async () => ((await frrPfxRcd(rig, 'rx', rxDir, TARGET.rxSide))?.state === 'Established' ? Date.now() : undefined), 50, 60_000);
      const all = await until('all routes at rx FRR', async () => (((await frrPfxRcd(rig, 'rx', rxDir, TARGET.rxSide))?.count ?? 0) >= count ? Date.now() : undefined), 50, TIMEOUT_MS[target]);
      result.advertiseSeconds = (all - up) / 1000;
    }
    return result;
  } finally {
    await rig.teardown();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('speaker.bench.ts needs root (namespaces)');
  const results: Measure[] = [];
  const failures: string[] = [];
  for (const count of counts) {
    for (const target of targets) {
      process.stderr.write(`measuring ${target} with ${count} prefixes...\n`);
      try {
        const result = await measure(target, count);
        results.push(result);
        process.stderr.write(`  ${JSON.stringify(result)}\n`);
      } catch (err) {
        // One target failing (or timing out) must not lose the others' numbers.
        process.stderr.write(`  ${target} failed: ${(err as Error).message}\n`);
        failures.push(`${target} N=${count}: ${(err as Error).message}`);
      }
    }
  }
  for (const count of counts) {
    const rows = results.filter((r) => r.count === count);
    const anchor = rows.find((r) => r.target === 'bird');
    process.stdout.write(`\nIngest of ${count.toLocaleString('en-US')} IPv4 prefixes (time from first UPDATE to all in the RIB)\n`);
    process.stdout.write(
      `${table([
        ['target', 'seconds', 'prefixes/s', 'peak RSS MB', 'bytes/route', 'time vs BIRD', 'bytes vs BIRD'],
        ...rows.map((r) => [
          r.target,
          r.ingestSeconds.toFixed(3),
          Math.round(r.count / r.ingestSeconds).toLocaleString('en-US'),
          (r.peakRssBytes / 1048576).toFixed(1),
          r.bytesPerRoute.toFixed(0),
          anchor ? `${(r.ingestSeconds / anchor.ingestSeconds).toFixed(2)}x` : '-',
          anchor ? `${(r.bytesPerRoute / anchor.bytesPerRoute).toFixed(2)}x` : '-',
        ]),
      ])}\n`,
    );
    const advertisers = rows.filter((r) => r.advertiseSeconds !== undefined);
    if (advertisers.length > 0) {
      process.stdout.write(`\nAdvertise of ${count.toLocaleString('en-US')} prefixes to FRR (from Established to all at FRR)\n`);
      process.stdout.write(
        `${table([
          ['target', 'seconds', 'prefixes/s', 'time vs BIRD'],
          ...advertisers.map((r) => [
            r.target,
            r.advertiseSeconds!.toFixed(3),
            Math.round(r.count / r.advertiseSeconds!).toLocaleString('en-US'),
            anchor?.advertiseSeconds ? `${(r.advertiseSeconds! / anchor.advertiseSeconds).toFixed(2)}x` : '-',
          ]),
        ])}\n`,
      );
    }
  }
  for (const failure of failures) process.stdout.write(`\nnot measured: ${failure}\n`);
  process.stdout.write(`\nrun folder: ${ledger.runDir}\n`);
}

try {
  await main();
} finally {
  ledger.record({ t: 'down', at: new Date().toISOString() });
}
