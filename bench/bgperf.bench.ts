// The bgperf2 shape (github.com/jopietsch/bgperf2): P peers each announcing N IPv4 /24s into one
// target, the reference speaker, BIRD, FRR bgpd and GoBGP side by side in one run, each target
// alone in its own namespaces (gen --- tgt). P generator processes (bgp-generator.ts, one
// session each, bound to its own address) open their sessions; once every session is up they
// are all signalled at once to write their pre-encoded UPDATEs. Time to converge: from the first
// UPDATE write (the earliest generator stamp) to all P x N paths received by the target; peak
// memory: the target's VmHWM (and the growth of its RSS per path); CPU: all the target's threads
// from the signal to convergence. By default every peer announces the same N prefixes (a route server's
// shape: N prefixes with P paths each; `--distinct` gives each peer its own N).
//
// BIRD and peerproof are probed every 20 ms over one open connection each (no process per
// probe); FRR (vtysh) every 200 ms and GoBGP (gobgp CLI) every second, as context. A target that
// has not converged within its timeout is reported with how many paths it had.
//
//   npx tsx bench/bgperf.bench.ts [--peers 50] [--prefixes 100000] [--targets bird,peerproof,frr,gobgp] [--distinct] [--timeout S] [--profile DIR]   (root)
// --profile DIR: our speaker runs with --cpu-prof, its CPU profile written to DIR when it stops.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pollHarness } from '../conformance/lab/poll.ts';
import { Ledger, defaultRunsRoot } from '../conformance/lab/ledger.ts';
import { ensureDir, frrOwner, writeConfig } from '../conformance/lab/kinds/files.ts';
import { renderBgpd } from '../conformance/lab/kinds/frr.ts';
import { emptyNode } from '../conformance/lab/model.ts';
import { createNamespace, createVeth, deleteNamespace, isRoot, run, runChecked, signal, spawnInNamespace, type NamespaceProcess } from '../conformance/lab/netns.ts';
import { fetchStatus, type BgpSessionResource } from '../reference/bgp/status.ts';
import { BirdControl, cpuNanoseconds, procStatus, statusProbe, table } from './speaker-probes.ts';

type Target = 'bird' | 'peerproof' | 'frr' | 'gobgp';
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({
  options: { peers: { type: 'string' }, prefixes: { type: 'string' }, targets: { type: 'string' }, distinct: { type: 'boolean' }, timeout: { type: 'string' }, profile: { type: 'string' } },
});
const PEERS = Number(values.peers ?? 50);
const PREFIXES = Number(values.prefixes ?? 100_000);
const targets = (values.targets ?? 'bird,peerproof,frr,gobgp').split(',') as Target[];
const DISTINCT = values.distinct === true;
const TIMEOUT_MS = Number(values.timeout ?? 300) * 1000;
if (PEERS < 1 || PEERS > 200) throw new Error('--peers: 1..200');
const PROBE_GAP_MS: Record<Target, number> = { bird: 20, peerproof: 20, frr: 200, gobgp: 1000 };

const TARGET = { address: '10.30.0.1', asn: 65000 };
const peers = Array.from({ length: PEERS }, (_, i) => ({ name: `p${i}`, address: `10.30.${1 + (i >> 8)}.${(i & 255) + 1}`, asn: 65101 + i }));
// Each peer its own address in gen's 10.30.0.0/16 (10.30.1.1 onwards); the target is 10.30.0.1.

interface Measure {
  target: Target;
  converged: boolean;
  seconds: number;
  paths: number;
  cpuSeconds: number;
  peakRssBytes: number;
  bytesPerPath: number;
}

const runId = `bp${process.pid.toString(36)}`;
const ledger = Ledger.create(defaultRunsRoot, runId, 'netns', 'bgperf-bench');

class Rig {
  readonly processes: NamespaceProcess[] = [];
  readonly closers: Array<() => void> = [];
  readonly dir: string;
  constructor(readonly target: Target) {
    this.dir = ledger.nodeDir(target);
    ensureDir(this.dir, target === 'frr' ? frrOwner() : undefined);
  }
  ns(role: 'gen' | 'tgt'): string {
    return `pp-${runId}-${this.target}-${role}`;
  }
  async build(): Promise<void> {
    for (const role of ['gen', 'tgt'] as const) await createNamespace(ledger, this.ns(role));
    await createVeth(ledger, { ns: this.ns('gen'), node: 'gen', ifname: 'eth0' }, { ns: this.ns('tgt'), node: 'tgt', ifname: 'eth0' });
    await runChecked(['ip', '-n', this.ns('tgt'), 'addr', 'add', `${TARGET.address}/16`, 'dev', 'eth0']);
    const lines = peers.map((p) => `addr add ${p.address}/16 dev eth0`).join('\n') + '\n';
    await runChecked(['ip', '-n', this.ns('gen'), '-batch', '-'], { input: lines });
  }
  spawn(role: 'gen' | 'tgt', argv: string[], label: string): NamespaceProcess {
    const proc = spawnInNamespace(ledger, this.ns(role), argv, { logFile: join(this.dir, `${label}.log`), label, node: role, cwd: repo });
    this.processes.push(proc);
    return proc;
  }
  async teardown(): Promise<void> {
    for (const close of this.closers) close();
    await Promise.all(this.processes.reverse().map((p) => p.stop('SIGTERM', 3000).catch(() => undefined)));
    for (const role of ['gen', 'tgt'] as const) await deleteNamespace(this.ns(role)).catch(() => undefined);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs: number, timeoutMs: number): Promise<T> {
  const { value, met } = await pollHarness(() => probe().catch(() => undefined), (v) => !!v, timeoutMs, intervalMs);
  if (!met) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

interface Running {
  pid: number;
  /** Paths received from all generators so far (sum over sessions). */
  received(): Promise<number>;
}

async function startTarget(rig: Rig): Promise<Running> {
  const dir = rig.dir;
  switch (rig.target) {
    case 'bird': {
      const protocols = peers.map((p) => `protocol bgp ${p.name} { local ${TARGET.address} as ${TARGET.asn}; neighbor ${p.address} as ${p.asn}; hold time 90; ipv4 { import all; export none; }; }`);
      writeConfig(dir, 'bird.conf', `router id ${TARGET.address};\nprotocol device {}\n${protocols.join('\n')}\n`);
      const ctl = join(dir, 'bird.ctl');
      const proc = rig.spawn('tgt', ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', ctl, '-P', join(dir, 'bird.pid')], 'bird');
      const control = await until('bird control socket', () => BirdControl.open(ctl), 50, 5000);
      rig.closers.push(() => control.close());
      return {
        pid: proc.pid,
        async received() {
          const out = await control.query('show protocols all');
          return [...out.matchAll(/Routes:\s+(\d+) imported/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        },
      };
    }
    case 'peerproof': {
      const socket = join(dir, 'status.sock');
      writeFileSync(
        join(dir, 'speaker.yaml'),
        `routerId: ${TARGET.address}\nlocalAs: ${TARGET.asn}\nlisten: { address: 0.0.0.0, port: 179 }\nstatus: { socket: ${socket} }\npolicies:\n  none: { default: reject }\npeers:\n${peers.map((p) => `  - { name: ${p.name}, address: ${p.address}, asn: ${p.asn}, passive: true, export: none }`).join('\n')}\n`,
      );
      // The speaker has no SIGTERM handler; one that exits lets --cpu-prof write its profile.
      const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))'] : [];
      const proc = rig.spawn('tgt', [process.execPath, ...profile, join(repo, 'bin/peerproof.js'), 'speaker', '--config', join(dir, 'speaker.yaml')], 'speaker');
      await until('speaker status API', async () => !!(await fetchStatus({ socket }, '/healthz')), 50, 10_000);
      const status = statusProbe(socket);
      rig.closers.push(() => status.close());
      return {
        pid: proc.pid,
        async received() {
          const list = (await status.get('/sessions?limit=0')) as { items: BgpSessionResource[] };
          return list.items.reduce((sum, s) => sum + s.status.receivedPrefixes, 0);
        },
      };
    }
    case 'frr': {
      // bgpd alone (-Z, no zebra), FRR's own long timers: a 3 s hold could expire under load.
      const conf = renderBgpd({ ...emptyNode('bgpd', 'frr'), asn: TARGET.asn, routerId: TARGET.address, neighbors: peers.map((p) => ({ address: p.address, asn: p.asn })), timers: { keepalive: 60, hold: 180 } });
      const denyOut = peers.map((p) => `  neighbor ${p.address} route-map NONE out`).join('\n');
      writeConfig(dir, 'bgpd.conf', `${conf.replace(' exit-address-family', `${denyOut}\n exit-address-family`)}route-map NONE deny 10\n`, frrOwner());
      const argv = ['/usr/lib/frr/bgpd', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-Z', '-n', '--vty_socket', dir, '-P', '0', '-u', 'frr', '-g', 'frr', '--log', `file:${join(dir, 'bgpd-daemon.log')}`];
      const proc = rig.spawn('tgt', argv, 'bgpd');
      const summary = async () => {
        const result = await run(['ip', 'netns', 'exec', rig.ns('tgt'), 'vtysh', '--vty_socket', dir, '-c', 'show bgp ipv4 unicast summary json']);
        if (result.code !== 0) return undefined;
        return (JSON.parse(result.stdout || '{}') as { peers?: Record<string, { pfxRcd?: number }> }).peers;
      };
      await until('bgpd vty', async () => (await summary()) !== undefined, 50, 10_000);
      return { pid: proc.pid, received: async () => Object.values((await summary()) ?? {}).reduce((sum, p) => sum + (p.pfxRcd ?? 0), 0) };
    }
    case 'gobgp': {
      const neighbor = (p: { address: string; asn: number }) =>
        `[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "${p.address}"\n    peer-as = ${p.asn}\n  [neighbors.timers.config]\n    hold-time = 90\n  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n`;
      writeConfig(dir, 'gobgpd.toml', `[global.config]\n  as = ${TARGET.asn}\n  router-id = "${TARGET.address}"\n  port = 179\n[global.apply-policy.config]\n  default-export-policy = "reject-route"\n${peers.map(neighbor).join('')}`);
      const proc = rig.spawn('tgt', ['gobgpd', '-f', join(dir, 'gobgpd.toml'), '-t', 'toml', '-l', 'warn', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], 'gobgpd');
      const gobgp = (args: string[]) => runChecked(['ip', 'netns', 'exec', rig.ns('tgt'), 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
      await until('gobgpd API', async () => !!(await gobgp(['global'])), 100, 10_000);
      // The Loc-RIB's path count: every path of every prefix, one CLI call.
      return { pid: proc.pid, received: async () => Number(/Path:\s*(\d+)/.exec(await gobgp(['global', 'rib', 'summary', '-a', 'ipv4']))?.[1] ?? 0) };
    }
  }
}

const now = () => performance.timeOrigin + performance.now();

function logEvents(file: string): Array<{ event: string; t0?: number }> {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; t0?: number });
  } catch {
    return [];
  }
}

async function measure(target: Target): Promise<Measure> {
  const rig = new Rig(target);
  try {
    await rig.build();
    const running = await startTarget(rig);
    const rssBefore = procStatus(running.pid, 'VmRSS');
    const gens = peers.map((p, i) =>
      rig.spawn(
        'gen',
        [
          process.execPath, '--import', 'tsx', join(repo, 'bench/bgp-generator.ts'),
          '--peer', TARGET.address, '--local-address', p.address, '--local-as', String(p.asn), '--peer-as', String(TARGET.asn), '--router-id', p.address,
          '--count', String(PREFIXES), '--offset', String(DISTINCT ? i * PREFIXES : 0), '--wait-signal',
        ],
        `gen-${p.name}`,
      ),
    );
    const logs = peers.map((p) => join(rig.dir, `gen-${p.name}.log`));
    // Every session up (and every generator's UPDATEs encoded) before any burst starts.
    await until('every generator session Established', async () => logs.every((l) => logEvents(l).some((e) => e.event === 'established')), 50, 120_000);
    await running.received(); // a first query outside the window (cold code, a first CLI run)
    const cpuBefore = cpuNanoseconds(running.pid);
    for (const g of gens) signal(g.pid, 'SIGUSR2');
    const t0 = await until('every generator started its burst', async () => {
      const stamps = logs.map((l) => logEvents(l).find((e) => e.event === 'sent')?.t0);
      return stamps.every((s) => s !== undefined) ? Math.min(...(stamps as number[])) : undefined;
    }, 2, 60_000);
    const want = PEERS * PREFIXES;
    let paths = 0;
    let at = now();
    const deadline = Date.now() + TIMEOUT_MS;
    while (paths < want && Date.now() < deadline) {
      paths = await running.received().catch(() => paths);
      at = now();
      if (paths < want) await new Promise((r) => setTimeout(r, PROBE_GAP_MS[target]));
    }
    const cpuSeconds = (cpuNanoseconds(running.pid) - cpuBefore) / 1e9;
    const rssAfter = procStatus(running.pid, 'VmRSS');
    return { target, converged: paths >= want, seconds: (at - t0) / 1000, paths, cpuSeconds, peakRssBytes: procStatus(running.pid, 'VmHWM'), bytesPerPath: (rssAfter - rssBefore) / Math.max(paths, 1) };
  } finally {
    await rig.teardown();
  }
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('bgperf.bench.ts needs root (namespaces)');
  console.log(`bgperf shape: ${PEERS} peers x ${PREFIXES.toLocaleString('en-US')} prefixes (${DISTINCT ? 'distinct per peer' : 'the same prefixes from every peer'}), ${(PEERS * PREFIXES).toLocaleString('en-US')} paths; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const results: Measure[] = [];
  for (const target of targets) {
    process.stderr.write(`measuring ${target}...\n`);
    try {
      const m = await measure(target);
      results.push(m);
      process.stderr.write(`  ${JSON.stringify(m)}\n`);
    } catch (err) {
      console.log(`not measured: ${target}: ${(err as Error).message}`);
    }
  }
  const bird = results.find((r) => r.target === 'bird' && r.converged);
  const x = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}x` : '-');
  console.log(
    table([
      ['target', 'converged', 'seconds', 'paths/s', 'CPU s', 'peak RSS MB', 'bytes/path', 'time vs BIRD', 'CPU vs BIRD', 'peak RSS vs BIRD'],
      ...results.map((r) => [
        r.target,
        r.converged ? 'yes' : `NO (${r.paths.toLocaleString('en-US')} paths at ${TIMEOUT_MS / 1000} s)`,
        r.seconds.toFixed(2),
        Math.round(r.paths / r.seconds).toLocaleString('en-US'),
        r.cpuSeconds.toFixed(2),
        (r.peakRssBytes / 2 ** 20).toFixed(1),
        r.bytesPerPath.toFixed(0),
        r.converged ? x(r.seconds, bird?.seconds) : '-',
        x(r.cpuSeconds, bird?.cpuSeconds),
        x(r.peakRssBytes, bird?.peakRssBytes),
      ]),
    ]),
  );
  const ours = results.find((r) => r.target === 'peerproof');
  if (ours && bird) {
    const faster = ours.converged && ours.seconds < bird.seconds;
    const half = ours.peakRssBytes <= bird.peakRssBytes / 2;
    console.log(`goal (faster than BIRD at half its memory): time ${faster ? 'met' : 'NOT met'}, memory ${half ? 'met' : 'NOT met'}`);
  }
  console.log(`run folder: ${ledger.runDir}`);
}

try {
  await main();
} finally {
  ledger.collectState();
  ledger.record({ t: 'down', at: new Date().toISOString() });
}
