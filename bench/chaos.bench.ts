// Long chaos runs on the seed fixtures with the reference speaker and FRR (root):
//
//   npx tsx bench/chaos.bench.ts [--duration S] [--seed N] [--fixtures a,b] [--shrink-runs K]
//   (default 1800 s, seed 1, seed-002 and seed-004, at most 16 shrink labs; 0: no shrinking)
//
// Each fixture: `peerproof chaos` planned for --duration seconds of faults (runChaos, the same
// code as the verb), report in reports/chaos-bench/<fixture>-<seed>/. Printed per fixture: faults
// applied per kind, each property held/violated, the shrink result of a violation, and how long
// routes took to be back after a fault (median, max), the probe flows judged and the longest time
// one went without a reply per fault (no-blackhole; median, max). Anchor, measured in the same run: the lab's
// own first convergence (bring-up to every expected session and route); the ratio says how much
// longer than a cold start a recovery from a fault takes.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChaos } from '../conformance/chaos/chaos.ts';
import { generateSchedule } from '../conformance/chaos/schedule.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const durationS = Number(arg('duration', '1800'));
const seed = Number(arg('seed', '1'));
const shrinkRuns = Number(arg('shrink-runs', '16'));
const fixtures = arg('fixtures', 'seed-002-spine-leaf,seed-004-anthos-floating').split(',');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const name of fixtures) {
  const fixtureDir = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const reportDir = resolve('reports', 'chaos-bench', `${name}-${seed}`);
  const t0 = performance.now();
  const summary = await runChaos({
    fixtureDir,
    speaker: 'reference',
    peer: 'frr',
    reportDir,
    plan: (targets, fixture) => generateSchedule(fixture, targets, { seed, durationS }),
    routesBoundS: 30,
    labTimeoutS: 60,
    shrink: shrinkRuns > 0,
    maxShrinkRuns: Math.max(1, shrinkRuns),
    log: () => undefined,
  });
  const wall = (performance.now() - t0) / 1000;
  const events = readFileSync(join(reportDir, 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const anchor = Number(events.find((e) => e.event === 'baseline')?.convergedS);
  const back = events.filter((e) => e.event === 'property' && e.property === 'routes-back' && e.faultId !== null && e.held).map((e) => Number(e.seconds));
  console.log(`\n${name} seed ${seed}, ${durationS} s planned, ${wall.toFixed(0)} s wall (shrinking included), report ${reportDir}`);
  console.log(`  faults applied: ${summary.faults.applied} (${Object.entries(summary.faults.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  for (const [p, c] of Object.entries(summary.properties)) console.log(`  ${p.padEnd(19)} held ${c.held}, violated ${c.violated}`);
  for (const v of summary.violations) console.log(`  violation: ${v.property} after #${v.faultId ?? 'end'}: ${v.detail.slice(0, 300)}`);
  if (summary.shrink) console.log(`  shrink: ${summary.shrink.property} -> faults [${summary.shrink.minimal.join(', ')}] in ${summary.shrink.runs} runs${summary.shrink.exhausted ? ' (budget exhausted)' : ''}: ${summary.shrink.file}`);
  const outage = events.filter((e) => e.event === 'property' && e.property === 'no-blackhole').map((e) => Number(e.seconds));
  if (outage.length > 0)
    console.log(`  probe flows: ${summary.probes.flows} judged, ${summary.probes.unanswered.length} never answered; longest time without a reply per fault: median ${median(outage).toFixed(1)} s, max ${Math.max(...outage).toFixed(1)} s`);
  console.log(`  routes back after a fault: median ${median(back).toFixed(1)} s, max ${Math.max(...back).toFixed(1)} s; anchor (first convergence) ${anchor.toFixed(1)} s; ratio max/anchor ${(Math.max(...back) / anchor).toFixed(2)}`);
}
