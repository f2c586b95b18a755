// LB-IPAM allocation cost, and proof that it does not grow with pool size.
//
//   npx tsx bench/ipam.bench.ts [--rounds N]
//
// Each workload is 100,000 service allocations and 100,000 releases through LbIpam.ensure /
// release (selector check, allocation, address formatting, status): 50,000 allocations, then
// 50,000 churn steps (release a random holder, allocate a new service), then 50,000 releases.
// It runs on a /16, a /8 and an IPv6 /64 pool, and on an anchor doing the same pattern with a
// bare Map set/delete, interleaved round by round so machine load hits all alike.
// Two clocks: wall time, and the process's CPU time (process.cpuUsage), which leaves out the
// time this process waited for a core on a shared, loaded machine. Ratios and the target use
// the fastest round of each workload by CPU time; wall time and medians are printed beside.

import { LbIpam } from '../reference/ipam/lb-ipam.ts';
import { EVERYTHING, labelSelector } from '../reference/k8s/selectors.ts';
import type { LbPool } from '../reference/k8s/model.ts';
import type { LbServiceRequest } from '../reference/ipam/lb-ipam.ts';

const FILL = 50_000;
const CHURN = 50_000;
const ALLOCATIONS = FILL + CHURN;

interface Phases {
  allocateNs: number; // per allocation, fill phase
  releaseNs: number; // per release, drain phase
  overallNs: number; // per operation over all 200,000
}

interface Timing {
  cpu: Phases;
  wall: Phases;
}

interface Stamp {
  wallNs: bigint;
  cpuUs: number;
}

function now(): Stamp {
  const usage = process.cpuUsage();
  return { wallNs: process.hrtime.bigint(), cpuUs: usage.user + usage.system };
}

function pool(name: string, block: string): LbPool {
  return {
    name,
    flavour: 'cilium',
    blocks: [block],
    serviceSelector: labelSelector({ 'advertise-bgp': 'true' }),
    namespaces: [],
    disabled: false,
    autoAssign: true,
    reserveFirstLast: true,
    avoidBuggyIPs: false,
    source: { file: 'bench', line: 0, object: name },
  };
}

// Services are built once: the benchmark measures IPAM, not object construction.
function services(family: 4 | 6): LbServiceRequest[] {
  return Array.from({ length: ALLOCATIONS }, (_, i) => ({
    key: `bench/svc-${i}`,
    namespace: 'bench',
    labels: { 'advertise-bgp': 'true', app: `app-${i}` },
    ipFamilies: [family],
    requestedIPs: [],
    requestedPools: [],
  }));
}

/** The same random victims for every workload. */
function victims(): number[] {
  let seed = 12345;
  const next = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: CHURN }, () => next());
}
const VICTIMS = victims();

function runIpam(block: string, family: 4 | 6, svcs: LbServiceRequest[]): Timing {
  const ipam = new LbIpam([pool('bench', block), { ...pool('other', family === 4 ? '198.18.0.0/24' : 'fd00::/120'), serviceSelector: EVERYTHING }]);
  const live: string[] = [];
  const t0 = now();
  for (let i = 0; i < FILL; i++) {
    const status = ipam.ensure(svcs[i]!);
    if (status.addresses.length !== 1) throw new Error(`allocation ${i} failed: ${JSON.stringify(status.conditions)}`);
    live.push(svcs[i]!.key);
  }
  const t1 = now();
  for (let i = 0; i < CHURN; i++) {
    const at = Math.floor(VICTIMS[i]! * live.length);
    ipam.release(live[at]!);
    live[at] = live[live.length - 1]!;
    live.pop();
    const service = svcs[FILL + i]!;
    if (ipam.ensure(service).addresses.length !== 1) throw new Error('churn allocation failed');
    live.push(service.key);
  }
  const t2 = now();
  for (const key of live) ipam.release(key);
  const t3 = now();
  if (ipam.snapshot().allocations.length !== 0) throw new Error('release left allocations behind');
  return timing(t0, t1, t2, t3);
}

function runAnchor(svcs: LbServiceRequest[]): Timing {
  const map = new Map<string, number>();
  const live: string[] = [];
  const t0 = now();
  for (let i = 0; i < FILL; i++) {
    map.set(svcs[i]!.key, i);
    live.push(svcs[i]!.key);
  }
  const t1 = now();
  for (let i = 0; i < CHURN; i++) {
    const at = Math.floor(VICTIMS[i]! * live.length);
    map.delete(live[at]!);
    live[at] = live[live.length - 1]!;
    live.pop();
    map.set(svcs[FILL + i]!.key, i);
    live.push(svcs[FILL + i]!.key);
  }
  const t2 = now();
  for (const key of live) map.delete(key);
  const t3 = now();
  if (map.size !== 0) throw new Error('anchor left entries behind');
  return timing(t0, t1, t2, t3);
}

function timing(t0: Stamp, t1: Stamp, t2: Stamp, t3: Stamp): Timing {
  const phases = (ns: (a: Stamp, b: Stamp) => number): Phases => ({
    allocateNs: ns(t0, t1) / FILL,
    releaseNs: ns(t2, t3) / (ALLOCATIONS - CHURN),
    overallNs: ns(t0, t3) / (2 * ALLOCATIONS),
  });
  return { wall: phases((a, b) => Number(b.wallNs - a.wallNs)), cpu: phases((a, b) => (b.cpuUs - a.cpuUs) * 1000) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 7;
  const v4 = services(4);
  const v6 = services(6);
  const workloads: Array<{ name: string; run: () => Timing }> = [
    { name: 'anchor Map set/delete', run: () => runAnchor(v4) },
    { name: 'LbIpam IPv4 /16', run: () => runIpam('10.20.0.0/16', 4, v4) },
    { name: 'LbIpam IPv4 /8', run: () => runIpam('10.0.0.0/8', 4, v4) },
    { name: 'LbIpam IPv6 /64', run: () => runIpam('2001:db8:0:1::/64', 6, v6) },
  ];
  for (const w of workloads) w.run(); // warm-up: JIT and memory
  const samples = new Map(workloads.map((w) => [w.name, [] as Timing[]]));
  for (let r = 0; r < rounds; r++) for (const w of workloads) samples.get(w.name)!.push(w.run());

  const summarise = (clock: 'cpu' | 'wall', pick: (values: number[]) => number): Map<string, Phases> =>
    new Map(
      [...samples].map(([name, list]) => [
        name,
        {
          allocateNs: pick(list.map((t) => t[clock].allocateNs)),
          releaseNs: pick(list.map((t) => t[clock].releaseNs)),
          overallNs: pick(list.map((t) => t[clock].overallNs)),
        },
      ]),
    );
  const fastest = (values: number[]): number => Math.min(...values);
  const result = summarise('cpu', fastest);
  const us = (ns: number): string => (ns / 1000).toFixed(3);
  console.log(`LB-IPAM: ${ALLOCATIONS.toLocaleString('en')} allocations + ${ALLOCATIONS.toLocaleString('en')} releases per workload, ${rounds} rounds (Node ${process.version})`);
  for (const [clock, pick, label] of [
    ['cpu', fastest, 'CPU time, fastest round'],
    ['cpu', median, 'CPU time, median round'],
    ['wall', fastest, 'wall time, fastest round'],
    ['wall', median, 'wall time, median round'],
  ] as const) {
    console.log(`\n${label}:\nworkload                 alloc µs/op  release µs/op  overall µs/op`);
    for (const [name, t] of summarise(clock, pick)) {
      console.log(`${name.padEnd(24)} ${us(t.allocateNs).padStart(11)}  ${us(t.releaseNs).padStart(13)}  ${us(t.overallNs).padStart(13)}`);
    }
  }
  console.log('\nratios (CPU time, fastest round):');
  const anchor = result.get('anchor Map set/delete')!;
  const v16 = result.get('LbIpam IPv4 /16')!;
  const v8 = result.get('LbIpam IPv4 /8')!;
  const v64 = result.get('LbIpam IPv6 /64')!;
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  console.log(`ratio /8 vs /16 (overall):        ${ratio(v8.overallNs, v16.overallNs)}  (1.00 = no growth with pool size; 2^8 more addresses)`);
  console.log(`ratio IPv6 /64 vs /16 (overall):  ${ratio(v64.overallNs, v16.overallNs)}  (2^48 more addresses)`);
  console.log(`ratio /16 vs anchor (overall):    ${ratio(v16.overallNs, anchor.overallNs)}`);
  const worstAlloc = Math.max(v16.allocateNs, v8.allocateNs, v64.allocateNs) / 1000;
  console.log(`target: allocation < 5 µs (CPU time) -> worst ${worstAlloc.toFixed(3)} µs: ${worstAlloc < 5 ? 'MET' : 'NOT MET'}`);
}

main();
