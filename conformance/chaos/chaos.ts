// `peerproof chaos`: bring a fixture up (speaker under test x fabric peer, as `run` does), apply a
// seeded schedule of faults one at a time, judge the properties after each and at the end, and,
// when one breaks, shrink the schedule by re-running subsets on fresh labs (shrink.ts) to the
// fewest faults that still break it. Writes events.jsonl, summary.json and replayable schedules.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadFixture } from '../lab/fixture/load.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import type { DaemonKindName, LabTopology } from '../lab/model.ts';
import { run } from '../lab/netns.ts';
import { placeSpeaker } from '../lab/speakers/place.ts';
import { speakerNodes, withFabricPeer } from '../lab/speakers/under-test.ts';
import type { SpeakerHook } from '../lab/lab.ts';
import { leftovers } from '../lab/teardown.ts';
import { startProbes, type Probes } from './blackhole.ts';
import { applyFault, deadNextHops, faultTargets, type AppliedFault } from './faults.ts';
import { deadNextHopsGone, duplicates, expectations, pathCounts, PROPERTIES, routesBack, thirdPartyPrefixes, type PropertyName, type Verdict } from './properties.ts';
import { describeFault, scheduleProblems, serializeSchedule, type Fault, type FaultTargets, type Schedule } from './schedule.ts';
import { shrink } from './shrink.ts';

/** BGP hold time the lab renders (3 s) plus a margin: a dead peer's paths must be gone by then. */
export const DEAD_NEXTHOP_BOUND_S = 6;
export const DEFAULT_ROUTES_BOUND_S = 30;
/** The dead-next-hop bound plus 2 s for the kernel FIB and the new next hop's ARP to follow the RIB. */
export const BLACKHOLE_BOUND_S = DEAD_NEXTHOP_BOUND_S + 2;
/** How long the probe flows may take to answer once, after the baseline converged. */
const PROBES_ANSWER_S = 10;

export interface ChaosSetup {
  fixture: string;
  topology: LabTopology;
  hooks: Record<string, SpeakerHook>;
  /** Speaker nodes running the reference agent (the speaker-restart targets). */
  agents: string[];
  speaker: string;
  peer: DaemonKindName;
}

/** The fixture with its speaker under test (a profile name) and fabric peer put in, as `peerproof run` does. */
export async function prepare(fixtureDir: string, speaker: string, peer: DaemonKindName): Promise<ChaosSetup> {
  const fixture = loadFixture(fixtureDir);
  const placement = await placeSpeaker({ kind: 'profile', name: speaker }, withFabricPeer(fixture.topology, peer), {});
  const hooked = Object.keys(placement.hooks).filter((n) => speakerNodes(placement.topology).includes(n));
  return { fixture: basename(fixture.dir), topology: placement.topology, hooks: placement.hooks, agents: speaker === 'reference' ? hooked : [], speaker, peer };
}

class EventLog {
  private readonly t0 = Date.now();
  constructor(readonly file: string) {
    writeFileSync(file, '');
  }
  write(event: string, fields: Record<string, unknown> = {}): void {
    appendFileSync(this.file, JSON.stringify({ t: Number(((Date.now() - this.t0) / 1000).toFixed(2)), event, ...fields }) + '\n');
  }
  get elapsedS(): number {
    return (Date.now() - this.t0) / 1000;
  }
}

export interface RunOnceOptions {
  runsRoot: string;
  eventsFile: string;
  routesBoundS: number;
  labTimeoutS: number;
  /** Wait for each fault's planned `atS` (the main run); shrink re-runs go back to back. */
  honourAt: boolean;
  log: (line: string) => void;
}

export interface RunOnceResult {
  runId: string;
  schedule: Schedule;
  targets: FaultTargets;
  verdicts: Verdict[];
  applied: number;
  /** Expectations missing before the first fault (not judged afterwards). */
  baselineMissing: string[];
  /** Probe flows judged by no-blackhole, and those that never answered before the first fault. */
  probes: { flows: number; unanswered: string[] };
  elapsedS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const grBound = (lab: Lab, node: string) => (lab.spec(node).gracefulRestart ? lab.spec(node).gracefulRestart!.restartTime + 3 : DEAD_NEXTHOP_BOUND_S);

function verdictLine(v: Verdict): string {
  return `  ${v.held ? 'held    ' : 'VIOLATED'} ${v.property.padEnd(18)} ${v.faultId === null ? 'end ' : `#${v.faultId}`.padEnd(4)} ${v.detail.length > 400 ? `${v.detail.slice(0, 400)}...` : v.detail}`;
}

/**
 * One lab, one schedule: `plan` gets the fixture's fault targets (known once the lab runs) and
 * returns the schedule to apply. The lab is always stopped, stopped processes continued first.
 */
export async function runOnce(setup: ChaosSetup, plan: (targets: FaultTargets) => Schedule, opts: RunOnceOptions): Promise<RunOnceResult> {
  const events = new EventLog(opts.eventsFile);
  const verdicts: Verdict[] = [];
  const judge = (v: Verdict) => {
    verdicts.push(v);
    events.write('property', { ...v });
    opts.log(verdictLine(v));
  };
  const lab = await startLab(setup.topology, { runsRoot: opts.runsRoot, speakers: setup.hooks, wait: false, timeoutMs: opts.labTimeoutS * 1000 });
  const active = new Set<AppliedFault>();
  let schedule: Schedule | null = null;
  let targets: FaultTargets = { links: [], routers: [], speakers: [] };
  let applied = 0;
  let baselineMissing: string[] = [];
  let probes: Probes | null = null;
  try {
    targets = faultTargets(lab, setup.agents);
    schedule = plan(targets);
    const problems = scheduleProblems(schedule, targets);
    if (problems.length > 0) throw new Error(`the schedule does not fit fixture ${setup.fixture}:\n  ${problems.join('\n  ')}`);
    events.write('start', { runId: lab.runId, fixture: setup.fixture, speaker: setup.speaker, peer: setup.peer, seed: schedule.seed, faults: schedule.faults.length });
    // Baseline: the lab converged once before anything is broken; what never came up is not judged.
    let wanted = expectations(lab, setup.agents);
    const ready = await routesBack(lab, wanted, opts.labTimeoutS, null);
    baselineMissing = ready.verdict.held ? [] : ready.verdict.detail.replace(/^after \d+s still missing: /, '').split('; ');
    wanted = wanted.filter((e) => !baselineMissing.includes(e.key));
    const baselinePaths = pathCounts(ready.state.rib);
    events.write('baseline', { expectations: wanted.length, missing: baselineMissing, convergedS: ready.verdict.seconds });
    opts.log(`lab ${lab.runId} up: ${wanted.length} expected sessions and routes${baselineMissing.length ? `; never came up, not judged: ${baselineMissing.join('; ')}` : ''}`);
    probes = await startProbes(lab, setup.agents, PROBES_ANSWER_S);
    events.write('probes', { flows: probes.flows.map((f) => f.id), unanswered: probes.unanswered });
    opts.log(`${probes.flows.length} probe flows answering${probes.unanswered.length ? `; never answered, not judged: ${probes.unanswered.join('; ')}` : ''}`);
    const t0 = Date.now();
    for (const f of schedule.faults) {
      if (opts.honourAt && f.atS !== undefined) await sleep(t0 + f.atS * 1000 - Date.now());
      const appliedAt = Date.now();
      events.write('apply', { fault: f });
      const a = await applyFault(lab, f);
      active.add(a);
      applied++;
      const deadFor = (observer: string) => deadNextHops(lab.topology, f, observer);
      const bound = f.kind === 'speaker-restart' && f.graceful ? DEAD_NEXTHOP_BOUND_S + 120 : f.kind === 'link-down' || f.kind === 'loss' ? DEAD_NEXTHOP_BOUND_S : grBound(lab, f.node);
      const anyDead = lab.topology.nodes.some((n) => deadFor(n.name).size > 0);
      let deadVerdict: Verdict | null = null;
      // Judged only when the fault lasts past the bound (a shorter one may end before the hold timer).
      const down = new Set(f.kind === 'daemon-kill' || f.kind === 'daemon-stop' ? [f.node] : []);
      const ignore = f.kind === 'speaker-restart' ? thirdPartyPrefixes(lab, setup.agents, f.node) : new Set<string>();
      if (anyDead && f.holdS >= bound) deadVerdict = await deadNextHopsGone(lab, deadFor, bound, f.id, down, ignore);
      await sleep(appliedAt + f.holdS * 1000 - Date.now());
      const undoneAt = Date.now();
      if (!f.permanent) {
        await a.undo();
        active.delete(a);
        events.write('undo', { id: f.id });
      }
      opts.log(`fault ${describeFault(f)}: applied at ${((appliedAt - t0) / 1000).toFixed(1)}s${f.permanent ? ', left in force' : `, undone at ${((Date.now() - t0) / 1000).toFixed(1)}s`}`);
      if (deadVerdict) judge(deadVerdict);
      // Settled: undone, and at least the dead-next-hop bound after it began, so a fault shorter
      // than the hold time (or one left in force) has had its effect before "back" is judged.
      await sleep(appliedAt + DEAD_NEXTHOP_BOUND_S * 1000 - Date.now());
      const back = await routesBack(lab, wanted, opts.routesBoundS, f.id);
      judge(back.verdict);
      // Loss drops probes by design: what counts there is that nothing stays black-holed after it.
      if (probes.flows.length > 0) judge(probes.verdict(f, { from: (f.kind === 'loss' ? undoneAt : appliedAt) / 1000, to: Date.now() / 1000 }, BLACKHOLE_BOUND_S));
      const dups = duplicates(pathCounts(back.state.rib), baselinePaths);
      judge({ property: 'no-duplicate-paths', faultId: f.id, held: dups.length === 0, detail: dups.length === 0 ? 'no router holds a path more often than before the first fault' : dups.join('; ') });
      if (!f.permanent) {
        const residue = await a.residue();
        judge({ property: 'nothing-leaked', faultId: f.id, held: residue.length === 0, detail: residue.length === 0 ? 'the fault left nothing behind (links up, tables gone, processes running)' : residue.join('; ') });
      }
    }
    const end = await routesBack(lab, wanted, opts.routesBoundS, null);
    judge(end.verdict);
  } finally {
    for (const a of active) a.release();
    await probes?.stop();
    await lab.stop();
  }
  const left = leftovers(lab.runDir);
  const netns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`pp-${lab.runId}-`));
  const leaked = [...left.namespaces.map((n) => `namespace ${n}`), ...left.pids.map((p) => `pid ${p}`), ...netns.filter((n) => !left.namespaces.includes(n.split(' ')[0]!)).map((n) => `namespace ${n}`)];
  judge({ property: 'nothing-leaked', faultId: null, held: leaked.length === 0, detail: leaked.length === 0 ? `lab ${lab.runId} stopped: no namespace or process of it left` : `left after stop: ${leaked.join(', ')}` });
  events.write('end', { applied, violated: verdicts.filter((v) => !v.held).length });
  const probed = { flows: probes?.flows.length ?? 0, unanswered: probes?.unanswered ?? [] };
  return { runId: lab.runId, schedule: schedule!, targets, verdicts, applied, baselineMissing, probes: probed, elapsedS: Number(events.elapsedS.toFixed(1)) };
}

export interface ChaosOptions {
  fixtureDir: string;
  speaker: string;
  peer: DaemonKindName;
  reportDir: string;
  /** Generate from the seed, or replay a schedule file's faults exactly. */
  plan: (targets: FaultTargets, fixture: string) => Schedule;
  routesBoundS: number;
  labTimeoutS: number;
  shrink: boolean;
  maxShrinkRuns: number;
  log?: (line: string) => void;
}

export interface ChaosSummary {
  fixture: string;
  speaker: string;
  peer: string;
  seed: number | null;
  durationS: number | null;
  runId: string;
  elapsedS: number;
  bounds: { routesBackS: number; deadNextHopS: number; blackholeS: number };
  faults: { planned: number; applied: number; byKind: Record<string, number> };
  properties: Record<PropertyName, { held: number; violated: number }>;
  violations: Verdict[];
  baselineMissing: string[];
  probes: RunOnceResult['probes'];
  shrink: null | { property: PropertyName; runs: number; exhausted: boolean; minimal: number[]; file: string; tries: Array<{ faults: number[]; broke: boolean }> };
  files: { events: string; schedule: string; summary: string };
}

/** The run's own outputs in the report folder (nothing else there is touched). */
function clearOutputs(dir: string): void {
  for (const f of ['runs', 'shrink', 'events.jsonl', 'summary.json', 'schedule.json']) rmSync(join(dir, f), { recursive: true, force: true });
  for (const p of PROPERTIES) rmSync(join(dir, `minimal-${p}.schedule.json`), { force: true });
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = opts.reportDir;
  mkdirSync(dir, { recursive: true });
  clearOutputs(dir);
  const setup = await prepare(opts.fixtureDir, opts.speaker, opts.peer);
  const runsRoot = join(dir, 'runs');
  const common = { runsRoot, routesBoundS: opts.routesBoundS, labTimeoutS: opts.labTimeoutS, log };
  const main = await runOnce(setup, (t) => opts.plan(t, setup.fixture), { ...common, eventsFile: join(dir, 'events.jsonl'), honourAt: true });
  writeFileSync(join(dir, 'schedule.json'), serializeSchedule(main.schedule));
  const violations = main.verdicts.filter((v) => !v.held);
  let shrunk: ChaosSummary['shrink'] = null;
  if (violations.length > 0 && opts.shrink) {
    const property = violations[0]!.property;
    const faults = main.schedule.faults.slice(0, main.applied);
    log(`shrinking: ${faults.length} faults break ${property}; re-running subsets on fresh labs (at most ${opts.maxShrinkRuns} runs)`);
    mkdirSync(join(dir, 'shrink'), { recursive: true });
    let k = 0;
    const asSchedule = (subset: Fault[]): Schedule => ({ ...main.schedule, faults: subset.map(({ atS: _at, ...f }) => f as Fault) });
    const result = await shrink(
      faults,
      async (subset) => {
        k++;
        log(`shrink run ${k}: faults ${subset.map((f) => `#${f.id}`).join(' ')}`);
        let broke = false;
        try {
          const r = await runOnce(setup, () => asSchedule(subset), { ...common, eventsFile: join(dir, 'shrink', `run-${k}.jsonl`), honourAt: false, log: (l) => log(`  | ${l}`) });
          broke = r.verdicts.some((v) => !v.held && v.property === property);
        } catch (err) {
          // A re-run that could not run (lab not up, a fault that would not apply) did not reproduce it.
          log(`shrink run ${k}: could not run: ${(err as Error).message.split('\n')[0]}`);
        }
        log(`shrink run ${k}: ${property} ${broke ? 'broke' : 'held'}`);
        return broke;
      },
      { maxTries: opts.maxShrinkRuns, key: (f) => String(f.id) },
    );
    const file = join(dir, `minimal-${property}.schedule.json`);
    writeFileSync(file, serializeSchedule(asSchedule(result.minimal)));
    shrunk = {
      property,
      runs: result.tries.length,
      exhausted: result.exhausted,
      minimal: result.minimal.map((f) => f.id),
      file,
      tries: result.tries.map((t) => ({ faults: t.subset.map((f) => f.id), broke: t.failed })),
    };
    log(`shrunk: ${property} breaks with ${result.minimal.map(describeFault).join(', ')} (${result.tries.length} runs${result.exhausted ? ', budget exhausted: may not be minimal' : ''}); replay: peerproof chaos ${opts.fixtureDir} --schedule ${file}`);
  }
  const byKind: Record<string, number> = {};
  for (const f of main.schedule.faults.slice(0, main.applied)) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const properties = Object.fromEntries(PROPERTIES.map((p) => [p, { held: main.verdicts.filter((v) => v.property === p && v.held).length, violated: main.verdicts.filter((v) => v.property === p && !v.held).length }])) as ChaosSummary['properties'];
  const summary: ChaosSummary = {
    fixture: setup.fixture,
    speaker: setup.speaker,
    peer: setup.peer,
    seed: main.schedule.seed,
    durationS: main.schedule.durationS,
    runId: main.runId,
    elapsedS: main.elapsedS,
    bounds: { routesBackS: opts.routesBoundS, deadNextHopS: DEAD_NEXTHOP_BOUND_S, blackholeS: BLACKHOLE_BOUND_S },
    faults: { planned: main.schedule.faults.length, applied: main.applied, byKind },
    properties,
    violations,
    baselineMissing: main.baselineMissing,
    probes: main.probes,
    shrink: shrunk,
    files: { events: join(dir, 'events.jsonl'), schedule: join(dir, 'schedule.json'), summary: join(dir, 'summary.json') },
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  log(
    `chaos ${setup.fixture} ${setup.speaker}/${setup.peer}: ${main.applied} faults, ` +
      PROPERTIES.map((p) => `${p} ${properties[p].held} held/${properties[p].violated} violated`).join(', ') +
      `; report ${dir}`,
  );
  return summary;
}
