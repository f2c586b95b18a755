// `peerproof run`: for each fixture x speaker under test x fabric peer, bring one lab up (owned
// here), run the case files its expect.yaml declares through vitest's Node API against it, tear
// it down, and publish summary.json + report (conformance/report). A lab that will not come up
// makes its cases `broken`; combinations that cannot run are `skipped` with the reason.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createVitest, type Vitest } from 'vitest/node';
import { loadFixture, type Fixture } from '../lab/fixture/load.ts';
import { LabNotReadyError, startLab, type Lab } from '../lab/lab.ts';
import { listRuns } from '../lab/ledger.ts';
import type { DaemonKindName } from '../lab/model.ts';
import { placeSpeaker, type SpeakerPlacement, type SpeakerSpec, type ThirdPartyOptions } from '../lab/speakers/place.ts';
import { ProfileError } from '../lab/speakers/profile.ts';
import { speakerNodes, UnsupportedCombination, withFabricPeer } from '../lab/speakers/under-test.ts';
import { publishRun, type PublishedRun } from '../report/publish.ts';
import { buildSummary, readHostVersions, type CaseResult } from '../report/summary.ts';
import { ALLURE_RESULTS_DIR } from '../report/allure.ts';
import { catalogEntry } from './catalog.ts';
import { CaseCollector, type CaseOutcome } from './collect.ts';
import type { SuiteParams } from './harness.ts';
import { PENDING_CASES } from './pending.ts';
import { speakerLinkCaptures } from './captures.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CASES_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_FIXTURES_DIR = join(PROJECT_ROOT, 'fixtures');
export const DEFAULT_REPORT_DIR = join(PROJECT_ROOT, 'reports', 'latest');

export type { SpeakerSpec };

export function parseSpeakerSpec(text: string): SpeakerSpec {
  const [scheme, ...rest] = text.split(':');
  const value = rest.join(':');
  if (rest.length === 0) {
    if (!/^[a-z][a-z0-9-]*$/.test(text)) throw new Error(`--speaker "${text}": expected a profile name (reference, frr, gobgp, bird, openbgpd), docker:IMAGE or external:ADDRESS`);
    return { kind: 'profile', name: text };
  }
  if (scheme === 'docker') {
    if (!/^[\w./-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/.test(value)) throw new Error(`--speaker "${text}": "${value}" is not a container image reference`);
    return { kind: 'docker', image: value };
  }
  if (scheme === 'external') {
    if (!/^(\d{1,3}\.){3}\d{1,3}(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(value)) throw new Error(`--speaker "${text}": "${value}" is not ADDRESS[:PORT]`);
    return { kind: 'external', address: value };
  }
  throw new Error(`--speaker "${text}": unknown scheme "${scheme}" (use docker:IMAGE or external:ADDRESS)`);
}

export function speakerLabel(spec: SpeakerSpec): string {
  return spec.kind === 'profile' ? spec.name : spec.kind === 'docker' ? `docker:${spec.image}` : `external:${spec.address}`;
}

export interface RunOptions {
  /** Fixture folders. */
  fixtures: string[];
  speakers: SpeakerSpec[];
  peers: DaemonKindName[];
  reportDir: string;
  baseline?: string;
  /** vitest sharding, 1-based. */
  shard?: { index: number; count: number };
  /** Only these case ids. */
  cases?: string[];
  backend?: string;
  allure?: boolean;
  labTimeoutMs?: number;
  thirdParty?: ThirdPartyOptions;
  log?: (line: string) => void;
  /** scenarios: the fixture cases (default); clauses: the clause suite, one clause lab per speaker; all: both. */
  suite?: SuiteName;
  /** Clause id patterns (`*` wildcards) of the clause suite to run; all without. */
  clauses?: string[];
}

export const SUITES = ['scenarios', 'clauses', 'all'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface RunTimings {
  /** Seconds building labs (namespaces, links, daemons) and tearing them down. */
  labS: number;
  /** Of labS: seconds tearing labs down. */
  labStopS: number;
  /** Seconds waiting for sessions Established and routes installed (protocol timers). */
  readyWaitS: number;
  /** Seconds of the readiness checks' last reads (the ones that saw the lab ready): harness work. */
  readyReadS: number;
  /** Seconds inside vitest (case bodies, vitest's own start-up). */
  casesS: number;
  /** Of casesS: seconds cases waited on the wire or router state. */
  caseWaitS: number;
  /** Of casesS: seconds cases spent decoding captures. */
  caseDecodeS: number;
  /** Of casesS: seconds outside any case body (vitest start-up, module loading, collection, close). */
  vitestS: number;
  combos: number;
  /** Per case: id, fixture, speaker, peer, seconds, of which waiting and decoding. */
  perCase: Array<{ key: string; seconds: number; waitS: number; decodeS: number }>;
}

export interface RunOutcome extends PublishedRun {
  timings: RunTimings;
  /** Per speaker of the clause suite: "clauses against frr: N tests in X s: ...". */
  clauseLines: string[];
}

/** Fixture folders whose expect.yaml declares at least one case (field reproductions declare none). */
export function listFixtures(dir: string = DEFAULT_FIXTURES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'expect.yaml')))
    .map((d) => join(dir, d.name))
    .filter((f) => declaredCases(f).length > 0)
    .sort();
}

export function declaredCases(fixtureDir: string): string[] {
  const doc = parse(readFileSync(join(fixtureDir, 'expect.yaml'), 'utf8')) as { cases?: Array<{ id?: unknown }> } | null;
  const ids = (doc?.cases ?? []).map((c) => c.id).filter((id): id is string => typeof id === 'string');
  for (const id of ids) catalogEntry(id); // throws on an id the catalogue does not know
  return ids;
}

export function caseFile(id: string): string | null {
  const file = join(CASES_DIR, `${id.replace(/\./g, '-')}.case.ts`);
  return existsSync(file) ? file : null;
}

/** Which shard reports a result the runner makes itself (vitest shards only case files). */
export function inShard(key: string, shard: RunOptions['shard']): boolean {
  if (!shard) return true;
  return createHash('sha1').update(key).digest().readUInt32BE(0) % shard.count === shard.index - 1;
}

function formatProgress(r: CaseResult): string {
  const fixture = r.fixture.replace(/^(seed-\d+)-.*/, '$1');
  return `${r.status.padEnd(7)} ${r.id.padEnd(26)} ${fixture.padEnd(9)} ${`${r.speaker}/${r.peer}`.padEnd(16)} ${r.durationS.toFixed(1).padStart(6)}s${r.flaky ? ' FLAKY' : ''}${r.reason && r.status !== 'passed' ? `  ${r.reason.slice(0, 120)}` : ''}`;
}

/**
 * Waits for the fixture's sessions and routes. Missing ones while every process runs may be the
 * speaker under test's fault, so its cases still run and judge it; a dead process, or anything
 * but a readiness timeout, is the harness's fault (`broken`).
 */
async function waitUntilReady(lab: Lab): Promise<{ error: Error; harnessFault: boolean } | null> {
  try {
    await lab.waitForSessions();
    await lab.waitForRoutes();
    return null;
  } catch (err) {
    const harnessFault = !(err instanceof LabNotReadyError) || err.missing.some((m) => m.startsWith('process '));
    return { error: err as Error, harnessFault };
  }
}

function labFailure(err: unknown): string {
  return `lab would not come up: ${(err as Error).message.split('\n').slice(0, 4).join(' ')}`;
}

/** Files of a lab run worth keeping with every case: captures, daemon logs, rendered configs. */
function runArtifacts(runDir: string, reportDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      // The agents' IPAM state and lease versions are run state, not captures, logs or configs.
      if (e.isDirectory()) {
        if (!/^agent\/(state|leases)$/.test(relative(runDir, path))) walk(path);
      } else if (/\.(pcap|log|conf|toml|json|txt)$/.test(e.name) && e.name !== 'ledger.jsonl') out.push(relative(reportDir, path));
    }
  };
  walk(runDir);
  return out.sort();
}

export async function runSuite(opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const reportDir = resolve(opts.reportDir);
  const runsRoot = join(reportDir, 'runs');
  // Shards side by side each need their own report dir: rewriting one in use would delete the
  // run folders (ledgers) of another process's live labs.
  const busy = listRuns(runsRoot).find((r) => r.ownerAlive && !r.down && r.ownerPid !== process.pid);
  if (busy) throw new Error(`report dir ${reportDir} is in use by another run (pid ${busy.ownerPid}, lab ${busy.runId}): give each run or shard its own --report`);
  // This run's own outputs only; a report dir is rewritten by each run.
  rmSync(runsRoot, { recursive: true, force: true });
  rmSync(join(reportDir, ALLURE_RESULTS_DIR), { recursive: true, force: true });
  mkdirSync(runsRoot, { recursive: true });
  const startedAt = new Date();
  const started = performance.now();
  const timings: RunTimings = { labS: 0, labStopS: 0, readyWaitS: 0, readyReadS: 0, casesS: 0, caseWaitS: 0, caseDecodeS: 0, vitestS: 0, combos: 0, perCase: [] };
  const results: CaseResult[] = [];
  const emit = (r: CaseResult, printed = false) => {
    results.push(r);
    if (!printed) log(formatProgress(r));
  };
  const base = (id: string, fixture: string, speaker: string, peer: string) => {
    const entry = catalogEntry(id);
    return { id, fixture, speaker, peer, rfc: entry.clauses.map((c) => c.ref), seed: entry.seed };
  };
  const runnerResult = (id: string, fixture: string, speaker: string, peer: string, status: 'skipped' | 'broken', reason: string, artifacts: string[] = []) => {
    const key = `${id}|${fixture}|${speaker}|${peer}`;
    if (!inShard(key, opts.shard)) return;
    emit({ ...base(id, fixture, speaker, peer), status, reason, durationS: 0, flaky: false, measurements: {}, artifacts });
  };

  const caseRunner = new CaseRunner(reportDir, opts);
  const suite = opts.suite ?? 'scenarios';
  const clauseLines: string[] = [];
  try {
    for (const fixtureDir of suite === 'clauses' ? [] : opts.fixtures) {
      const ids = declaredCases(fixtureDir).filter((id) => !opts.cases || opts.cases.includes(id));
      let fixture: Fixture;
      try {
        fixture = loadFixture(fixtureDir);
      } catch (err) {
        const reason = `fixture does not load: ${(err as Error).message.split('\n').slice(0, 2).join(' ')}`;
        for (const spec of opts.speakers) for (const peer of opts.peers) ids.forEach((id) => runnerResult(id, basename(fixtureDir), speakerLabel(spec), peer, 'broken', reason));
        continue;
      }
      // The folder name identifies a fixture in results (a topology's own `name` may differ).
      const fixtureName = basename(fixture.dir);
      for (const spec of opts.speakers) {
        const speaker = speakerLabel(spec);
        for (const peer of opts.peers) {
          const runnable = ids.filter((id) => {
            if (caseFile(id)) return true;
            runnerResult(id, fixtureName, speaker, peer, 'skipped', PENDING_CASES[id] ?? 'no case file for this id yet');
            return false;
          });
          if (runnable.length === 0) continue;
          let placement: SpeakerPlacement;
          try {
            placement = await placeSpeaker(spec, withFabricPeer(fixture.topology, peer), opts);
          } catch (err) {
            if (!(err instanceof UnsupportedCombination || err instanceof ProfileError)) throw err;
            runnable.forEach((id) => runnerResult(id, fixtureName, speaker, peer, err instanceof ProfileError ? 'broken' : 'skipped', err.message));
            continue;
          }
          const caseSkip = placement.caseSkip;
          if (caseSkip) {
            for (const id of runnable.filter((x) => caseSkip(x))) runnerResult(id, fixtureName, speaker, peer, 'skipped', caseSkip(id)!);
            runnable.splice(0, runnable.length, ...runnable.filter((x) => !caseSkip(x)));
            if (runnable.length === 0) continue;
          }
          timings.combos++;
          const labStart = performance.now();
          let lab: Lab;
          try {
            lab = await startLab(placement.topology, {
              runsRoot,
              backend: opts.backend,
              speakers: placement.hooks,
              captures: speakerLinkCaptures(placement.topology),
              timeoutMs: opts.labTimeoutMs ?? 30_000,
              wait: false,
            });
          } catch (err) {
            timings.labS += (performance.now() - labStart) / 1000;
            runnable.forEach((id) => runnerResult(id, fixtureName, speaker, peer, 'broken', labFailure(err)));
            continue;
          }
          timings.labS += (performance.now() - labStart) / 1000;
          const waitStart = performance.now();
          const notReady = await waitUntilReady(lab);
          const readyS = (performance.now() - waitStart) / 1000;
          timings.readyWaitS += lab.waitedMs / 1000;
          timings.readyReadS += Math.max(0, readyS - lab.waitedMs / 1000);
          if (notReady?.harnessFault) {
            await lab.stop();
            // Its run folder (not-ready.txt, daemon logs, configs, pcaps) explains why.
            const artifacts = runArtifacts(lab.runDir, reportDir);
            runnable.forEach((id) => runnerResult(id, fixtureName, speaker, peer, 'broken', labFailure(notReady.error), artifacts));
            continue;
          }
          if (notReady) log(`note: ${fixtureName} ${speaker}/${peer}: ${notReady.error.message.split('\n')[0]}; its cases judge what is missing`);
          const suite: SuiteParams = {
            fixture: fixtureName,
            fixtureDir: fixture.dir,
            speaker,
            peer,
            runDir: lab.runDir,
            hookedNodes: Object.keys(placement.hooks).filter((n) => speakerNodes(placement.topology).includes(n)),
            profileFile: placement.profileFile,
          };
          const casesStart = performance.now();
          const outcomes: CaseOutcome[] = [];
          try {
            // Progress is printed as each case finishes; its artifacts are listed once the lab is down.
            const progress = (o: CaseOutcome) => log(formatProgress({ ...base(o.id, fixtureName, speaker, peer), ...o }));
            outcomes.push(...(await caseRunner.run(runnable.map((id) => caseFile(id)!), suite, progress)));
          } catch (err) {
            log(`vitest failed for ${fixtureName} ${speaker}/${peer}: ${(err as Error).message}`);
          } finally {
            const casesS = (performance.now() - casesStart) / 1000;
            timings.casesS += casesS;
            timings.vitestS += Math.max(0, casesS - outcomes.reduce((sum, o) => sum + o.durationS, 0));
            const stopStart = performance.now();
            await lab.stop();
            const stopS = (performance.now() - stopStart) / 1000;
            timings.labS += stopS;
            timings.labStopS += stopS;
          }
          const shared = runArtifacts(lab.runDir, reportDir);
          // Without sharding every runnable case owes a result; a missing one means vitest itself failed.
          if (!opts.shard) {
            for (const id of runnable.filter((x) => !outcomes.some((o) => o.id === x)))
              runnerResult(id, fixtureName, speaker, peer, 'broken', 'vitest reported no result for this case (see the log above)', shared);
          }
          for (const o of outcomes) {
            timings.caseWaitS += o.waitS;
            timings.caseDecodeS += o.decodeS;
            timings.perCase.push({ key: `${o.id} ${fixtureName} ${speaker}/${peer}`, seconds: o.durationS, waitS: o.waitS, decodeS: o.decodeS });
            const own = o.artifacts.map((a) => relative(reportDir, join(lab.runDir, a)));
            const pcaps = own.some((a) => a.endsWith('.pcap')) ? [] : shared.filter((a) => a.endsWith('.pcap'));
            emit({
              ...base(o.id, fixtureName, speaker, peer),
              status: o.status,
              reason: o.reason,
              durationS: o.durationS,
              flaky: o.flaky,
              measurements: o.measurements,
              artifacts: [...new Set([...own, ...pcaps, ...shared.filter((a) => !a.endsWith('.pcap'))])],
            }, true);
          }
        }
      }
    }
    if (suite !== 'scenarios') {
      const { CLAUSE_FIXTURE, CLAUSE_PEER, runClauseSuite } = await import('../clauses/suite.ts');
      for (const spec of opts.speakers) {
        const label = speakerLabel(spec);
        const outcome = await runClauseSuite({
          spec,
          label,
          reportDir,
          runsRoot,
          allureDir: opts.allure === false ? null : join(reportDir, ALLURE_RESULTS_DIR),
          clauses: opts.clauses,
          // Each shard plays only its own clause tests (the lab is still one per speaker and shard).
          inShard: (id) => inShard(`${id}|${CLAUSE_FIXTURE}|${label}|${CLAUSE_PEER}`, opts.shard),
          thirdParty: opts.thirdParty,
          log,
        });
        results.push(...outcome.results);
        clauseLines.push(outcome.line);
      }
    }
  } finally {
    await caseRunner.close();
    // Gives back this run's lease: the engine stops only if no other peerproof process uses it.
    if (opts.speakers.some((s) => s.kind === 'docker')) await (await import('../lab/speakers/container.ts')).releaseEngineUsedHere();
  }
  const summary = buildSummary({
    version: (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    startedAt,
    durationS: (performance.now() - started) / 1000,
    host: await readHostVersions(),
    cases: results,
  });
  const published = await publishRun({ dir: reportDir, summary, baseline: opts.baseline, allure: opts.allure });
  return { ...published, timings, clauseLines };
}

/**
 * One vitest for the whole run: its start-up (config, vite server, reporters) is paid once, and
 * the modules it has transformed stay cached for every lab's worker. Each lab's cases run with
 * that lab's SuiteParams provided.
 */
class CaseRunner {
  private vitest: Promise<Vitest> | null = null;
  private readonly collector = new CaseCollector();

  constructor(
    private readonly reportDir: string,
    private readonly opts: RunOptions,
  ) {}

  async run(files: string[], suite: SuiteParams, progress: (o: CaseOutcome) => void): Promise<CaseOutcome[]> {
    const exitCodeBefore = process.exitCode;
    try {
      const vitest = await (this.vitest ??= this.start(suite));
      vitest.provide('peerproofSuite', suite);
      this.collector.begin(progress);
      await vitest.runTestFiles(files);
      return this.collector.collected();
    } finally {
      // vitest marks the process failed when a case fails; the run's exit code is publishRun's.
      process.exitCode = exitCodeBefore;
    }
  }

  async close(): Promise<void> {
    const vitest = await this.vitest?.catch(() => null);
    this.vitest = null;
    await vitest?.close();
  }

  private async start(suite: SuiteParams): Promise<Vitest> {
    const allure = this.opts.allure !== false;
    const shard = this.opts.shard;
    const vitest = await createVitest('test', {
      root: PROJECT_ROOT,
      config: false,
      watch: false,
      include: ['conformance/cases/*.case.ts'],
      retry: 1,
      provide: { peerproofSuite: suite },
      reporters: [
        this.collector,
        ...(allure ? [['allure-vitest/reporter', { resultsDir: join(this.reportDir, ALLURE_RESULTS_DIR) }] as [string, Record<string, unknown>]] : []),
      ],
      pool: 'forks',
      // One worker keeps its module cache across the case files of a lab: importing the lab, checks
      // and codec once instead of once per case file saves most of the harness time.
      isolate: false,
      fileParallelism: false,
      maxWorkers: 1,
      testTimeout: 120_000,
      hookTimeout: 60_000,
      shard: shard ? `${shard.index}/${shard.count}` : undefined,
      passWithNoTests: true,
    });
    // runTestFiles alone never calls the reporters' onInit, where allure-vitest creates its runtime
    // and registers its setup file: without this every case ends in "reading 'startTest'".
    await vitest.standalone();
    return vitest;
  }
}
