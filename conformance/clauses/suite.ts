// `peerproof run --suite clauses`: for each speaker, one clause lab (tester/lab/sut-lab.ts), every
// clause test run against it concurrently (each on its own tester slots), each verdict turned into
// a summary.json case (fixture "clause-lab", peer "tester") with its transcript and its slice of
// the SUT link's capture, known deviations of the speaker's profile marked. The caller publishes
// them with the scenario cases (runner.ts -> publishRun).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ProfileError, loadProfileFile } from '../lab/speakers/profile.ts';
import type { SpeakerSpec, ThirdPartyOptions } from '../lab/speakers/place.ts';
import { UnsupportedCombination } from '../lab/speakers/under-test.ts';
import { isKnownDeviation, type CaseResult } from '../report/summary.ts';
import { startLabSut, type LabSut } from '../tester/lab/sut-lab.ts';
import type { ClauseTest } from './clause.ts';
import { loadDeviations, type DeviationFile } from './deviations.ts';
import { writeAllureResult, writeEvidence, type TimedResult } from './evidence.ts';
import { CLAUSES } from './index.ts';
import { runClauses, type ClauseResult } from './run.ts';

export const CLAUSE_FIXTURE = 'clause-lab';
export const CLAUSE_PEER = 'tester';

/** Clause tests whose id matches one of `patterns` (`*` matches any run of characters); all without patterns. */
export function selectClauses(patterns: readonly string[] | undefined, tests: readonly ClauseTest[] = CLAUSES): ClauseTest[] {
  if (!patterns || patterns.length === 0) return [...tests];
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  const picked = tests.filter((t) => res.some((re) => re.test(t.id)));
  if (picked.length === 0) throw new Error(`--clause ${patterns.join(',')}: matches no clause test id (e.g. ${tests.slice(0, 3).map((t) => t.id).join(', ')}; wildcards: bgp.open.*)`);
  return picked;
}

/** The profile name a speaker spec's deviations file is named after. */
export function deviationProfile(spec: SpeakerSpec, thirdParty: ThirdPartyOptions = {}): string | null {
  if (spec.kind === 'profile') return spec.name;
  return thirdParty.profile ? loadProfileFile(thirdParty.profile).name : null;
}

export interface ClauseSuiteOptions {
  spec: SpeakerSpec;
  label: string;
  reportDir: string;
  runsRoot: string;
  allureDir: string | null;
  clauses?: string[];
  /** Of the selected tests, only those this returns true for (this shard's); all without. */
  inShard?: (id: string) => boolean;
  thirdParty?: ThirdPartyOptions;
  concurrency?: number;
  log: (line: string) => void;
}

export interface ClauseSuiteOutcome {
  results: CaseResult[];
  seconds: number;
  /** "clauses against frr: N tests in X s: ..." */
  line: string;
}

function progressLine(c: Pick<CaseResult, 'id' | 'status' | 'speaker' | 'durationS' | 'reason'>, known = false): string {
  const status = known ? 'known' : c.status;
  return `${status.padEnd(7)} ${c.id.padEnd(40)} ${`${c.speaker}/clauses`.padEnd(16)} ${c.durationS.toFixed(1).padStart(6)}s${c.reason && c.status !== 'passed' ? `  ${c.reason.split('\n')[0]!.slice(0, 120)}` : ''}`;
}

export async function runClauseSuite(opts: ClauseSuiteOptions): Promise<ClauseSuiteOutcome> {
  const started = performance.now();
  const tests = selectClauses(opts.clauses).filter((t) => opts.inShard?.(t.id) ?? true);
  const profileName = deviationProfile(opts.spec, opts.thirdParty);
  const deviations: DeviationFile | null = profileName ? loadDeviations(profileName, new Set(CLAUSES.map((t) => t.id))) : null;
  const base = (t: ClauseTest) => ({ id: t.id, fixture: CLAUSE_FIXTURE, speaker: opts.label, peer: CLAUSE_PEER, rfc: [t.rfc], seed: 'none', flaky: false });
  const all = (status: 'skipped' | 'broken', reason: string): CaseResult[] =>
    tests.map((t) => ({ ...base(t), status, reason, durationS: 0, measurements: { level: t.level }, artifacts: [] }));
  const finish = (results: CaseResult[]): ClauseSuiteOutcome => {
    const seconds = (performance.now() - started) / 1000;
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const known = results.filter(isKnownDeviation).length;
    const line = `clauses against ${opts.label}: ${results.length} tests in ${seconds.toFixed(1)} s: ${count('passed')} passed, ${count('failed') - known} failed, ${known} known deviations, ${count('skipped')} skipped, ${count('broken')} broken`;
    return { results, seconds, line };
  };

  if (tests.length === 0) return finish([]);
  let sut: LabSut;
  try {
    sut = await startLabSut(opts.spec, { runsRoot: opts.runsRoot, thirdParty: opts.thirdParty, log: opts.log });
  } catch (err) {
    const results = err instanceof UnsupportedCombination ? all('skipped', err.message) : all('broken', `clause lab would not come up: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
    if (err instanceof ProfileError) throw err;
    results.forEach((r) => opts.log(progressLine(r)));
    return finish(results);
  }

  const timed = new Map<string, TimedResult>();
  // A SUT process that dies is restarted at once, and tests wait for it before they start; the
  // tests that were running when it died are rerun one at a time to tell which one killed it.
  let crashes = 0;
  let recovering: Promise<void> | null = null;
  const watch = () => {
    if (recovering || sut.alive()) return;
    crashes++;
    opts.log(`note: the SUT (${opts.label}) exited during the run (${sut.logTail() || 'no log'}); restarting it; the tests running then are rerun one at a time`);
    recovering = sut.recover().finally(() => (recovering = null));
  };
  const upAgain = async () => {
    watch();
    await (recovering as Promise<void> | null)?.catch(() => undefined);
  };
  const startedIn = new Map<string, number>();
  const guard = (t: ClauseTest): ClauseTest => ({
    ...t,
    run: async (ctx) => {
      await upAgain();
      startedIn.set(t.id, crashes);
      await t.run(ctx);
    },
  });
  const watcher = setInterval(watch, 300);
  try {
    const heard = (r: ClauseResult) => {
      timed.set(r.id, { ...r, endedAt: Date.now() });
      const known = r.status === 'failed' && deviations?.deviations.has(r.id) === true;
      opts.log(progressLine({ id: r.id, status: r.status, speaker: opts.label, durationS: r.durationMs / 1000, reason: r.reason ?? '' }, known));
    };
    const inCrash = new Set<string>();
    await runClauses(tests.map(guard), sut, {
      concurrency: opts.concurrency ?? 8,
      onResult: (r) => {
        watch();
        if (r.status !== 'passed' && r.status !== 'skipped' && crashes !== (startedIn.get(r.id) ?? crashes)) inCrash.add(r.id);
        heard(r);
      },
    });
    clearInterval(watcher);
    await upAgain();
    if (inCrash.size > 0) {
      await runClauses(tests.filter((t) => inCrash.has(t.id)).map(guard), sut, {
        concurrency: 1,
        onResult: (r) => heard(sut.alive() ? r : { ...r, status: 'failed', reason: `the SUT's BGP process crashed on this test: ${sut.logTail() || 'see its log'}` }),
      });
      await upAgain();
    }
  } finally {
    clearInterval(watcher);
    await sut.stop();
  }

  const runDir = sut.lab.runDir;
  const pcap = existsSync(sut.pcap) ? readFileSync(sut.pcap) : null;
  const evidenceDir = join(runDir, 'clauses');
  const relDir = relative(opts.reportDir, evidenceDir);
  const shared = ['nodes/sut', 'nodes/tester']
    .flatMap((d) => {
      const dir = join(runDir, d);
      return existsSync(dir) ? readdirFiles(dir) : [];
    })
    .filter((f) => /\.(log|out|conf|toml|yaml)$/.test(f))
    .map((f) => relative(opts.reportDir, f));
  const results: CaseResult[] = [];
  for (const test of tests) {
    const r = timed.get(test.id) ?? { id: test.id, status: 'broken' as const, reason: 'the runner reported no result', durationMs: 0, sessions: [], endedAt: Date.now() };
    const own = r.sessions.length > 0 ? writeEvidence(r, test.title, pcap, evidenceDir, relDir) : [];
    const deviation = r.status === 'failed' ? deviations?.deviations.get(test.id) : undefined;
    const c: CaseResult = {
      ...base(test),
      status: r.status,
      reason: (r.reason ?? '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 400) || (r.status === 'passed' ? '' : r.status),
      durationS: Math.round(r.durationMs) / 1000,
      measurements: { level: test.level, ...(test.negative ? { negative: true } : {}) },
      artifacts: [...own, ...(r.sessions.length > 0 ? shared : [])],
      ...(deviation ? { deviation } : {}),
    };
    if (r.status === 'passed' && deviations?.deviations.has(test.id)) opts.log(`note: ${test.id} passed against ${opts.label} but ${deviations.file} lists it as a deviation: remove it there`);
    results.push(c);
    if (opts.allureDir) writeAllureResult(opts.allureDir, c, own[0] ? join(opts.reportDir, own[0]) : null, r.endedAt, test.level);
  }
  return finish(results);
}

function readdirFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(dir, e.name));
}
