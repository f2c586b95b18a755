// Bring-up and teardown of growing leaf-spine fabrics (conformance/lab/fabric.ts: FRR spines and
// leaves, GoBGP stand-ins for the Kubernetes nodes announcing a /24 each, eBGP on /31s with
// 4-octet ASNs) on the netns backend, with the docker backend on the same (smaller) fabric as the
// anchor, in the same run.
//
//   npx tsx bench/lab-scale.bench.ts [--sizes 52,164,340,500] [--docker-sizes 52] [--node-kind gobgp|bird] [--keep-neigh-limits]   (root)
//   npm run bench -- lab-scale
//
// Up: startLab until every session is Established and every node /24 is in every spine's FIB.
// Down: lab.stop() until no namespace (container), link or daemon of the run is left (checked).
// Prints per fabric: nodes (every namespace), seconds up and down, nodes/s, memory per node by
// daemon kind (RSS and PSS summed over each kind's processes, from /proc), MemAvailable spent per
// node (daemons plus kernel: namespaces, veths, sockets), and the machine resources the fabric
// holds against their limits. A fabric that does not come up stops the growth and the bench says
// which resource ran out (memory, pids, file descriptors, inotify, neighbour table) or, when none
// did, that the limit is time. Goal (issue 21): 500 nodes up in under 60 s, down in under 10 s.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { ensureEngine, releaseEngine } from '../conformance/lab/docker-engine.ts';
import { labContainers } from '../conformance/lab/backends/docker.ts';
import { fabricNodeCount, fabricTopology, type FabricOptions } from '../conformance/lab/fabric.ts';
import { ensureImages } from '../conformance/lab/images/build.ts';
import { Ledger } from '../conformance/lab/ledger.ts';
import { neighboursNeeded, neighbourTables, raiseNeighbourLimits } from '../conformance/lab/neighbours.ts';
import { startLab } from '../conformance/lab/lab.ts';
import type { DaemonKindName } from '../conformance/lab/model.ts';
import { leftovers } from '../conformance/lab/teardown.ts';
import { procStatFields } from '../conformance/lab/proc.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const shapes: Record<number, Pick<FabricOptions, 'spines' | 'leaves' | 'nodesPerLeaf'>> = {
  52: { spines: 4, leaves: 16, nodesPerLeaf: 2 },
  100: { spines: 4, leaves: 16, nodesPerLeaf: 5 },
  164: { spines: 4, leaves: 32, nodesPerLeaf: 4 },
  340: { spines: 4, leaves: 48, nodesPerLeaf: 6 },
  500: { spines: 4, leaves: 62, nodesPerLeaf: 7 },
};
const sizes = arg('--sizes', '52,164,340,500').split(',').map(Number);
const dockerSizes = arg('--docker-sizes', '52').split(',').filter(Boolean).map(Number);
const nodeKind = arg('--node-kind', 'gobgp') as DaemonKindName;
const goal = { nodes: 500, up: 60, down: 10 };
for (const s of [...sizes, ...dockerSizes]) if (!shapes[s]) throw new Error(`no fabric shape for ${s} nodes (have ${Object.keys(shapes).join(', ')})`);

// ---- machine resources ---------------------------------------------------------------------

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const num = (file: string) => Number(read(file).trim().split(/\s+/)[0]);
const meminfo = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(read('/proc/meminfo'))?.[1] ?? 0) * 1024;

interface Resource {
  name: string;
  used: number;
  limit: number;
  /** What to raise when it runs out. */
  knob: string;
}

/** Machine-wide usage against limits; the inotify and fd counts are of root's processes (the lab's daemons run as root or frr). */
function resources(): Resource[] {
  const pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  let threads = 0;
  let inotify = 0;
  for (const p of pids) {
    threads += Number(/^Threads:\s+(\d+)/m.exec(read(`/proc/${p}/status`))?.[1] ?? 0);
  }
  for (const p of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${p}/fd/${fd}`) === 'anon_inode:inotify') inotify++;
      } catch {
        // closed meanwhile
      }
    }
  }
  const [files] = read('/proc/sys/fs/file-nr').trim().split(/\s+/).map(Number);
  const ourFds = readdirSync('/proc/self/fd').length;
  const total = meminfo('MemTotal');
  return [
    { name: 'memory (MemAvailable)', used: total - meminfo('MemAvailable'), limit: total, knob: 'RAM, or lighter stand-ins (--node-kind bird)' },
    { name: 'pids+threads (kernel.pid_max)', used: threads, limit: num('/proc/sys/kernel/pid_max'), knob: 'sysctl kernel.pid_max' },
    { name: 'threads (kernel.threads-max)', used: threads, limit: num('/proc/sys/kernel/threads-max'), knob: 'sysctl kernel.threads-max' },
    { name: 'open files (fs.file-max)', used: files ?? 0, limit: num('/proc/sys/fs/file-max'), knob: 'sysctl fs.file-max' },
    { name: 'this process fds (ulimit -n)', used: ourFds, limit: Number(read('/proc/self/limits').match(/Max open files\s+(\d+)/)?.[1] ?? 0), knob: 'ulimit -n' },
    { name: 'inotify instances (fs.inotify.max_user_instances, per user)', used: inotify, limit: num('/proc/sys/fs/inotify/max_user_instances'), knob: 'sysctl fs.inotify.max_user_instances' },
    ...neighbourTables().map((t) => ({
      name: `${t.family} neighbour table, all namespaces (${t.sysctl})`,
      used: t.entries,
      limit: t.limit,
      knob: `sysctl ${t.sysctl} (and gc_thresh2)`,
    })),
    { name: 'network namespaces (user.max_net_namespaces)', used: readdirSync('/run/netns').length, limit: num('/proc/sys/user/max_net_namespaces'), knob: 'sysctl user.max_net_namespaces' },
  ];
}

const errnoResource: Array<[RegExp, string]> = [
  [/ENOMEM|Cannot allocate memory|out of memory/i, 'memory'],
  [/EAGAIN|Resource temporarily unavailable|fork/i, 'pids (fork failed: kernel.pid_max / threads-max)'],
  [/EMFILE|Too many open files/i, 'file descriptors of this process (ulimit -n)'],
  [/ENFILE/i, 'file descriptors of the machine (fs.file-max)'],
  [/inotify|ENOSPC.*watch/i, 'inotify instances or watches'],
  [/neighbou?r table overflow|gc_thresh/i, 'neighbour table (net.ipv4.neigh.default.gc_thresh3)'],
  [/ENOSPC|No space left/i, 'disk space (run folder or /run)'],
];

/** Which resource ran out: from the error text, else the fullest resource, else time. */
function exhausted(err: Error, before: Resource[], at: Resource[]): string {
  const byErrno = errnoResource.find(([re]) => re.test(err.message));
  const fullest = at.map((r) => ({ ...r, share: r.limit > 0 ? r.used / r.limit : 0 })).sort((a, b) => b.share - a.share)[0]!;
  const neigh = /neighbou?r table overflow/.test(kernelLog());
  if (byErrno) return `${byErrno[1]} (error: ${err.message.split('\n')[0]})`;
  if (neigh) return 'neighbour table (kernel log: "neighbor table overflow"; raise net.ipv4.neigh.default.gc_thresh3, or run without --keep-neigh-limits)';
  if (fullest.share > 0.9) return `${fullest.name}: ${fmt(fullest)} (raise ${fullest.knob})`;
  void before;
  return `no resource near its limit (fullest: ${fullest.name} ${fmt(fullest)}): the limit is time (CPU), error: ${err.message.split('\n').slice(0, 3).join(' | ')}`;
}

function kernelLog(): string {
  try {
    return execFileSync('dmesg', ['--notime'], { encoding: 'utf8', timeout: 5000 }).split('\n').slice(-200).join('\n');
  } catch {
    return '';
  }
}

const fmt = (r: Resource) =>
  r.name.startsWith('memory') ? `${(r.used / 2 ** 30).toFixed(1)} of ${(r.limit / 2 ** 30).toFixed(1)} GiB` : `${r.used} of ${r.limit}`;

// ---- memory per daemon kind ----------------------------------------------------------------

const kindOfLabel: Record<string, string> = { zebra: 'frr', bgpd: 'frr', staticd: 'frr', gobgpd: 'gobgp', bird: 'bird' };

/** Per daemon kind: processes, nodes, summed RSS and PSS (bytes) of the run's live daemons. */
function memoryByKind(runDir: string): Map<string, { procs: number; nodes: Set<string>; rss: number; pss: number; cpu: number }> {
  const out = new Map<string, { procs: number; nodes: Set<string>; rss: number; pss: number; cpu: number }>();
  const tick = 100; // USER_HZ
  for (const e of new Ledger(runDir).entries()) {
    if (e.t !== 'proc' || e.pid === undefined) continue;
    const kind = kindOfLabel[e.label];
    if (!kind) continue;
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(read(`/proc/${e.pid}/status`))?.[1] ?? 0) * 1024;
    const pss = Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${e.pid}/smaps_rollup`))?.[1] ?? 0) * 1024;
    const fields = procStatFields(e.pid) ?? [];
    const cpu = (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / tick;
    const k = out.get(kind) ?? { procs: 0, nodes: new Set<string>(), rss: 0, pss: 0, cpu: 0 };
    k.cpu += cpu;
    k.procs++;
    k.nodes.add(e.node);
    k.rss += rss;
    k.pss += pss;
    out.set(kind, k);
  }
  return out;
}

/** CPU seconds of this process's reaped children (cutime + cstime). */
function childCpu(): number {
  const f = procStatFields('self') ?? [];
  return (Number(f[13] ?? 0) + Number(f[14] ?? 0)) / 100;
}

// ---- one fabric ----------------------------------------------------------------------------

interface Result {
  backend: string;
  nodes: number;
  sessions: number;
  up: number;
  down: number;
  memPerNode: number;
  byKind: string;
  held: Resource[];
  phases: string;
  cpu: string;
}

const secs = (ms: number) => (ms / 1000).toFixed(1);
const mb = (b: number) => (b / 2 ** 20).toFixed(1);

async function fabric(backend: string, size: number, runsRoot: string): Promise<Result> {
  const topology = fabricTopology({ ...shapes[size]!, nodeKind });
  const nodes = topology.nodes.length;
  const before = resources();
  const availBefore = meminfo('MemAvailable');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const children0 = childCpu();
  let lab;
  try {
    lab = await startLab(topology, { backend, runsRoot, timeoutMs: 240_000 });
  } catch (err) {
    const at = resources();
    throw Object.assign(new Error(`${backend} ${nodes} nodes did not come up after ${secs(performance.now() - t0)} s; ran out of: ${exhausted(err as Error, before, at)}`), { cause: err });
  }
  const up = performance.now() - t0;
  const sessions = (await lab.sessions()).filter((s) => s.state === 'Established').length;
  const held = resources();
  const memPerNode = (availBefore - meminfo('MemAvailable')) / nodes;
  const byKind = [...memoryByKind(lab.runDir)]
    .map(([kind, k]) => `${kind} ${mb(k.rss / k.nodes.size)} MB RSS / ${mb(k.pss / k.nodes.size)} MB PSS per node (${k.nodes.size} nodes, ${k.procs} processes)`)
    .join('; ');
  const cpuByKind = [...memoryByKind(lab.runDir)].map(([kind, k]) => `${kind} ${k.cpu.toFixed(1)}`).join(', ');
  const harnessCpu = process.cpuUsage(cpu0);
  const children = childCpu() - children0;
  const cpu = `CPU s until up: daemons ${cpuByKind}; harness (this process) ${((harnessCpu.user + harnessCpu.system) / 1e6).toFixed(1)}, its finished children (ip, CLIs) ${children.toFixed(1)}`;
  const t1 = performance.now();
  await lab.stop();
  const down = performance.now() - t1;
  const left = leftovers(lab.runDir);
  if (left.namespaces.length || left.pids.length) throw new Error(`${backend} ${nodes}: teardown left ${JSON.stringify(left)}`);
  if (backend === 'docker') {
    const engine = await ensureEngine(undefined, { holder: 'lab-scale-check' });
    const containers = (await labContainers(engine.docker)).filter((c) => c.startsWith(`pp-${lab.runId}-`));
    await releaseEngine(undefined, 'lab-scale-check');
    if (containers.length) throw new Error(`docker ${nodes}: teardown left containers ${containers.join(', ')}`);
  }
  const phases = Object.entries(lab.phases).map(([k, ms]) => `${k} ${secs(ms!)}`).join(', ');
  return { backend, nodes, sessions, up, down, memPerNode, byKind, held, phases, cpu };
}

function report(r: Result): void {
  console.log(
    `${r.backend.padEnd(6)} ${String(r.nodes).padStart(4)} nodes  ${String(r.sessions).padStart(5)} sessions Established  up ${secs(r.up).padStart(6)} s  down ${secs(r.down).padStart(5)} s  ${(r.nodes / (r.up / 1000)).toFixed(1).padStart(5)} nodes/s up`,
  );
  console.log(`         up by step (s): ${r.phases}`);
  console.log(`         ${r.cpu}`);
  console.log(`         memory: ${mb(r.memPerNode)} MB MemAvailable per node (machine-wide, noisy: others' labs count); ${r.byKind}`);
  console.log(`         held: ${r.held.filter((x) => !x.name.startsWith('this')).map((x) => `${x.name.split(' (')[0]} ${fmt(x)}`).join(', ')}`);
}

// ---- main ------------------------------------------------------------------------------------

const runsRoot = mkdtempSync('/tmp/pp-bench-scale-');
chmodSync(runsRoot, 0o755); // FRR drops to user frr and must reach its node folders
console.log(`lab-scale: ${cpus().length} cores, ${(meminfo('MemTotal') / 2 ** 30).toFixed(1)} GiB, ${(meminfo('MemAvailable') / 2 ** 30).toFixed(1)} GiB available, load ${read('/proc/loadavg').split(' ').slice(0, 3).join(' ')}; node stand-ins: ${nodeKind}; run folders in ${runsRoot}`);
// The ARP/NDP tables are one per machine, capped at 1024 entries by default: a 500-node fabric
// needs ~1400. The bench raises the caps (never lowers them) and puts them back at the end.
const largest = Math.max(...sizes, ...dockerSizes);
const limits = process.argv.includes('--keep-neigh-limits') ? { raised: [], restore: () => undefined } : raiseNeighbourLimits(neighboursNeeded(fabricTopology(shapes[largest]!)));
if (limits.raised.length) console.log(`raised for this run (restored at the end): ${limits.raised.join(', ')}`);
const results: Result[] = [];
let stopped = '';
let dockerNote = '';
try {
  // The anchor first: docker on the small fabric(s), each followed by netns on the same fabric.
  let engineHeld = false;
  if (dockerSizes.length > 0) {
    try {
      const engine = await ensureEngine(undefined, { holder: 'lab-scale' });
      engineHeld = true;
      const build = await ensureImages(engine.docker);
      if (build.built.length) console.log(`docker images built: ${build.built.join(', ')}`);
    } catch (err) {
      dockerNote = `docker anchor skipped: engine or images not available (${(err as Error).message.split('\n')[0]})`;
    }
  }
  try {
    for (const size of dockerNote ? [] : dockerSizes) {
      const d = await fabric('docker', size, runsRoot).catch((err: Error) => {
        dockerNote = `docker ${size}: ${err.message}`;
        return null;
      });
      if (d) {
        results.push(d);
        report(d);
      }
    }
  } finally {
    if (engineHeld) await releaseEngine(undefined, 'lab-scale'); // stops it only if nobody else uses it
  }
  if (dockerNote) console.log(dockerNote);
  for (const size of sizes) {
    try {
      const r = await fabric('netns', size, runsRoot);
      results.push(r);
      report(r);
    } catch (err) {
      stopped = (err as Error).message;
      console.log(`STOPPED SCALING at ${fabricNodeCount(shapes[size]!)} nodes: ${stopped}`);
      break;
    }
  }
} finally {
  limits.restore();
  // A fabric that did not come up keeps its run folder (not-ready.txt, daemon logs, configs).
  if (stopped || dockerNote) console.log(`run folders kept in ${runsRoot}`);
  else rmSync(runsRoot, { recursive: true, force: true });
}

console.log('');
console.log(`summary (${nodeKind} stand-ins):`);
console.log('backend  nodes   up s  down s  nodes/s  MB/node');
for (const r of results)
  console.log(`${r.backend.padEnd(7)} ${String(r.nodes).padStart(6)} ${secs(r.up).padStart(6)} ${secs(r.down).padStart(7)} ${(r.nodes / (r.up / 1000)).toFixed(1).padStart(8)} ${mb(r.memPerNode).padStart(8)}`);
for (const d of results.filter((r) => r.backend === 'docker')) {
  const n = results.find((r) => r.backend === 'netns' && r.nodes === d.nodes);
  if (n) console.log(`anchor ${d.nodes} nodes: docker/netns up ${(d.up / n.up).toFixed(2)}x, down ${(d.down / n.down).toFixed(2)}x`);
}
const biggest = results.filter((r) => r.backend === 'netns').at(-1);
if (biggest) {
  const met = biggest.nodes >= goal.nodes && biggest.up / 1000 < goal.up && biggest.down / 1000 < goal.down;
  const verdict = met ? 'MET' : biggest.nodes < goal.nodes && !stopped && Math.max(...sizes) < goal.nodes ? `not measured (no ${goal.nodes}-node size asked for)` : 'NOT MET';
  console.log(`goal ${goal.nodes} nodes up < ${goal.up} s, down < ${goal.down} s: ${verdict} (largest: ${biggest.nodes} nodes, up ${secs(biggest.up)} s, down ${secs(biggest.down)} s)`);
}
if (stopped) console.log(`largest fabric this machine held: ${biggest?.nodes ?? 0} nodes; next one failed: ${stopped}`);
