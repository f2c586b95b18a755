// The model of a run's `summary.json` (shared contract run-summary.md): types, totals, host
// versions, a validator that names the file and the field, and the reader/writer.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

export const CASE_STATUSES = ['passed', 'failed', 'skipped', 'broken'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const SUMMARY_FILE = 'summary.json';

export type Measurement = number | string | boolean;

export interface CaseResult {
  id: string;
  fixture: string;
  speaker: string;
  peer: string;
  status: CaseStatus;
  /** Why it failed, broke or was skipped; one line (empty for a clean pass). */
  reason: string;
  rfc: string[];
  seed: string;
  durationS: number;
  /** True when the case needed its one automatic retry to pass; its status stays `passed`. */
  flaky: boolean;
  measurements: Record<string, Measurement>;
  /** Paths relative to the report dir. */
  artifacts: string[];
  /**
   * A failure the speaker's profile lists as a known deviation (clause suite,
   * conformance/clauses/deviations/<profile>.yaml): the status stays `failed`.
   */
  deviation?: { reason: string; reference: string };
}

/** A failure listed in the speaker's deviations file (the gate and the exit code pass it). */
export function isKnownDeviation(c: CaseResult): boolean {
  return c.status === 'failed' && c.deviation !== undefined;
}

export interface HostVersions {
  kernel: string;
  frr: string;
  gobgp: string;
  bird: string;
  /** Absent in summaries written before OpenBGPD joined the lab. */
  openbgpd?: string;
}

export type Totals = Record<CaseStatus, number>;

export interface Regression {
  id: string;
  fixture: string;
  speaker: string;
  peer: string;
  was: CaseStatus;
  now: CaseStatus;
}

export interface RunSummary {
  tool: 'peerproof';
  version: string;
  startedAt: string;
  durationS: number;
  host: HostVersions;
  cases: CaseResult[];
  totals: Totals;
  /** Present exactly when the run was compared with a baseline. */
  regressions?: Regression[];
}

/** The identity of a case result across runs and shards. */
export type CaseKey = Pick<CaseResult, 'id' | 'fixture' | 'speaker' | 'peer'>;

export function caseKey(c: CaseKey): string {
  return `${c.id} | ${c.fixture} | ${c.speaker} | ${c.peer}`;
}

export function computeTotals(cases: readonly CaseResult[]): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0, broken: 0 };
  for (const c of cases) totals[c.status] += 1;
  return totals;
}

/** Worst first: used to order tables and to pick a cell's status. */
export const STATUS_SEVERITY: Record<CaseStatus, number> = { broken: 3, failed: 2, passed: 1, skipped: 0 };

export class SummaryError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: not a valid run summary:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SummaryError';
  }
}

type Json = unknown;

function describe(value: Json): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks `value` against the run-summary contract and returns it typed; throws a SummaryError
 * listing every problem as `field: expected ..., got ...` under the file's name.
 */
export function validateSummary(value: Json, file = SUMMARY_FILE): RunSummary {
  const problems: string[] = [];
  const fail = (field: string, expected: string, got: Json) =>
    problems.push(`${field}: expected ${expected}, got ${describe(got)}`);
  const str = (obj: Record<string, Json>, key: string, at: string, nonEmpty = true) => {
    const v = obj[key];
    if (typeof v !== 'string' || (nonEmpty && v.trim() === '')) fail(at, nonEmpty ? 'a non-empty string' : 'a string', v);
  };
  const nonNegative = (obj: Record<string, Json>, key: string, at: string) => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(at, 'a number >= 0', v);
  };
  const status = (v: Json, at: string) => {
    if (!CASE_STATUSES.includes(v as CaseStatus)) fail(at, `one of ${CASE_STATUSES.join('|')}`, v);
  };

  if (!isRecord(value)) {
    fail('(top level)', 'a JSON object', value);
    throw new SummaryError(file, problems);
  }
  if (value.tool !== 'peerproof') fail('tool', '"peerproof"', value.tool);
  str(value, 'version', 'version');
  if (typeof value.startedAt !== 'string' || Number.isNaN(Date.parse(value.startedAt))) {
    fail('startedAt', 'an ISO-8601 date-time string', value.startedAt);
  }
  nonNegative(value, 'durationS', 'durationS');

  if (!isRecord(value.host)) fail('host', 'an object {kernel, frr, gobgp, bird}', value.host);
  else for (const k of ['kernel', 'frr', 'gobgp', 'bird']) str(value.host, k, `host.${k}`);

  const seen = new Map<string, number>();
  if (!Array.isArray(value.cases)) fail('cases', 'an array', value.cases);
  else {
    value.cases.forEach((c: Json, i: number) => {
      const at = `cases[${i}]`;
      if (!isRecord(c)) return fail(at, 'an object', c);
      for (const k of ['id', 'fixture', 'speaker', 'peer', 'seed']) str(c, k, `${at}.${k}`);
      status(c.status, `${at}.status`);
      if (typeof c.reason !== 'string') fail(`${at}.reason`, 'a string', c.reason);
      else if (/[\r\n]/.test(c.reason)) fail(`${at}.reason`, 'one line', c.reason);
      else if (c.status !== 'passed' && c.reason.trim() === '') fail(`${at}.reason`, `why the case is ${String(c.status)}`, c.reason);
      if (!Array.isArray(c.rfc) || c.rfc.some((r) => typeof r !== 'string' || r.trim() === '')) {
        fail(`${at}.rfc`, 'an array of clause strings like "RFC 4271 9.1"', c.rfc);
      }
      nonNegative(c, 'durationS', `${at}.durationS`);
      if (typeof c.flaky !== 'boolean') fail(`${at}.flaky`, 'true or false', c.flaky);
      else if (c.flaky && c.status !== 'passed') fail(`${at}.flaky`, 'false unless the status is passed (flaky = passed on retry)', c.flaky);
      if (!isRecord(c.measurements)) fail(`${at}.measurements`, 'an object of figures', c.measurements);
      else {
        for (const [k, m] of Object.entries(c.measurements)) {
          const ok = typeof m === 'string' || typeof m === 'boolean' || (typeof m === 'number' && Number.isFinite(m));
          if (!ok) fail(`${at}.measurements.${k}`, 'a finite number, string or boolean', m);
        }
      }
      if (!Array.isArray(c.artifacts)) fail(`${at}.artifacts`, 'an array of paths', c.artifacts);
      else {
        c.artifacts.forEach((a: Json, j: number) => {
          const ok = typeof a === 'string' && a !== '' && !isAbsolute(a);
          if (!ok) fail(`${at}.artifacts[${j}]`, 'a path relative to the report dir', a);
        });
      }
      if (c.deviation !== undefined) {
        if (!isRecord(c.deviation)) fail(`${at}.deviation`, 'an object {reason, reference}', c.deviation);
        else {
          str(c.deviation, 'reason', `${at}.deviation.reason`);
          str(c.deviation, 'reference', `${at}.deviation.reference`);
          if (c.status !== 'failed') fail(`${at}.deviation`, 'only on a failed case (a known deviation still fails)', c.deviation);
        }
      }
      if (typeof c.id === 'string' && typeof c.fixture === 'string' && typeof c.speaker === 'string' && typeof c.peer === 'string') {
        const key = caseKey(c as unknown as CaseKey);
        const first = seen.get(key);
        if (first !== undefined) problems.push(`${at}: duplicate of cases[${first}] (${key})`);
        else seen.set(key, i);
      }
    });
  }

  if (!isRecord(value.totals)) fail('totals', 'an object {passed, failed, skipped, broken}', value.totals);
  else if (Array.isArray(value.cases) && value.cases.every((c) => isRecord(c) && CASE_STATUSES.includes(c.status as CaseStatus))) {
    const expected = computeTotals(value.cases as CaseResult[]);
    for (const s of CASE_STATUSES) {
      if (value.totals[s] !== expected[s]) fail(`totals.${s}`, `${expected[s]} (counted from cases)`, value.totals[s]);
    }
  }

  if (value.regressions !== undefined) {
    if (!Array.isArray(value.regressions)) fail('regressions', 'an array', value.regressions);
    else {
      value.regressions.forEach((r: Json, i: number) => {
        const at = `regressions[${i}]`;
        if (!isRecord(r)) return fail(at, 'an object', r);
        for (const k of ['id', 'fixture', 'speaker', 'peer']) str(r, k, `${at}.${k}`);
        status(r.was, `${at}.was`);
        status(r.now, `${at}.now`);
      });
    }
  }

  if (problems.length > 0) throw new SummaryError(file, problems);
  return value as unknown as RunSummary;
}

/** Reads and validates a summary; `path` may be the file or the report dir holding it. */
export async function readSummary(path: string): Promise<RunSummary> {
  const file = path.endsWith('.json') ? path : join(path, SUMMARY_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot read run summary (${code ?? String(err)})`);
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SummaryError(file, [`not JSON: ${(err as Error).message}`]);
  }
  return validateSummary(parsed, file);
}

/** Validates, then writes `dir/summary.json` atomically (a reader never sees half a file). */
export async function writeSummary(dir: string, summary: RunSummary): Promise<string> {
  const file = join(dir, SUMMARY_FILE);
  validateSummary(summary, file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(summary, null, 2)}\n`);
  await rename(tmp, file);
  return file;
}

const execFileAsync = promisify(execFile);

export const NOT_INSTALLED = 'not installed';

async function commandOutput(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { timeout: 10_000 });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    // Some daemons print their version and still exit non-zero; keep what they said.
    const e = err as { stdout?: string; stderr?: string };
    const said = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim();
    return said === '' ? null : said;
  }
}

/** Pulls the first dotted version out of a `--version` banner such as "bgpd version 8.4.4". */
export function parseVersionBanner(banner: string | null, program: RegExp): string {
  if (banner === null) return NOT_INSTALLED;
  const m = banner.match(new RegExp(`${program.source}\\s+version\\s+v?(\\d+(?:\\.\\d+)+\\S*)`, 'i'));
  return m ? m[1]! : NOT_INSTALLED;
}

/** The versions recorded in every summary, read from the installed binaries. */
export async function readHostVersions(): Promise<HostVersions> {
  const [kernel, frr, gobgp, bird, openbgpd] = await Promise.all([
    commandOutput('uname', ['-r']),
    commandOutput('/usr/lib/frr/bgpd', ['--version']),
    commandOutput('gobgpd', ['--version']),
    commandOutput('bird', ['--version']),
    commandOutput('/usr/sbin/bgpd', ['-V']),
  ]);
  return {
    kernel: kernel?.trim().split('\n')[0] || 'unknown',
    frr: parseVersionBanner(frr, /bgpd/),
    gobgp: parseVersionBanner(gobgp, /gobgpd/),
    bird: parseVersionBanner(bird, /BIRD/),
    // `bgpd -V` prints "OpenBGPD 7.7" (no "version" word).
    openbgpd: /OpenBGPD\s+(\d+(?:\.\d+)+\S*)/.exec(openbgpd ?? '')?.[1] ?? NOT_INSTALLED,
  };
}

/** Builds a complete summary from case results (totals computed here, never by the caller). */
export function buildSummary(args: {
  version: string;
  startedAt: Date;
  durationS: number;
  host: HostVersions;
  cases: CaseResult[];
}): RunSummary {
  return {
    tool: 'peerproof',
    version: args.version,
    startedAt: args.startedAt.toISOString(),
    durationS: Math.round(args.durationS * 1000) / 1000,
    host: args.host,
    cases: args.cases,
    totals: computeTotals(args.cases),
  };
}
