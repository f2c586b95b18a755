// Merges the summaries of a sharded run (`peerproof run --shard i/n`, one report dir per
// shard) into one summary whose artifact paths are relative to the merged report dir.
//
// Duplicates: vitest sharding gives every test file to exactly one shard, so the same case
// (id + fixture + speaker + peer) in two shards means the shards overlap (a shard run twice, or
// two runs mixed up). By default that is an error naming the case and both files; with
// `keepWorst` the worse result wins (broken > failed > flaky pass > pass > skipped), for CI
// setups that deliberately re-run a shard.
import { posix, relative, resolve, sep } from 'node:path';
import {
  caseKey,
  computeTotals,
  STATUS_SEVERITY,
  validateSummary,
  type CaseResult,
  type HostVersions,
  type Regression,
  type RunSummary,
} from './summary.ts';

export interface Shard {
  /** The summary.json the shard came from (for messages). */
  file: string;
  /** The shard's report dir: its artifact paths are relative to it. */
  dir: string;
  summary: RunSummary;
}

export interface MergeOptions {
  /** The merged report dir; artifact paths are rewritten relative to it. */
  outDir: string;
  keepWorst?: boolean;
}

export interface MergeResult {
  summary: RunSummary;
  /** Things a reader should know (differing host versions, replaced duplicates). */
  warnings: string[];
}

export class MergeError extends Error {
  override name = 'MergeError';
}

function badness(c: CaseResult): number {
  // A flaky pass sits between a clean pass and a failure.
  return STATUS_SEVERITY[c.status] * 2 + (c.flaky ? 1 : 0);
}

function rebase(artifact: string, fromDir: string, toDir: string): string {
  return relative(resolve(toDir), resolve(fromDir, artifact)).split(sep).join(posix.sep);
}

export function mergeSummaries(shards: readonly Shard[], options: MergeOptions): MergeResult {
  if (shards.length === 0) throw new MergeError('nothing to merge: no shard summaries given');
  const warnings: string[] = [];
  const first = shards[0]!;

  const byKey = new Map<string, { result: CaseResult; file: string }>();
  for (const shard of shards) {
    for (const c of shard.summary.cases) {
      const result = { ...c, artifacts: c.artifacts.map((a) => rebase(a, shard.dir, options.outDir)) };
      const key = caseKey(c);
      const held = byKey.get(key);
      if (!held) {
        byKey.set(key, { result, file: shard.file });
        continue;
      }
      if (!options.keepWorst) {
        throw new MergeError(
          `case ${key} is in two shards: ${held.file} (${held.result.status}) and ${shard.file} (${c.status}); ` +
            'shards must not overlap (use --keep-worst to keep the worse result)',
        );
      }
      const winner = badness(result) > badness(held.result) ? { result, file: shard.file } : held;
      warnings.push(`duplicate case ${key}: kept ${winner.result.status} from ${winner.file}`);
      byKey.set(key, winner);
    }
  }

  for (const field of Object.keys(first.summary.host) as Array<keyof HostVersions>) {
    const values = new Set(shards.map((s) => s.summary.host[field]));
    if (values.size > 1) warnings.push(`host.${field} differs between shards (${[...values].join(', ')}); the merged summary shows ${first.summary.host[field]}`);
  }
  const versions = new Set(shards.map((s) => s.summary.version));
  if (versions.size > 1) warnings.push(`shards ran different peerproof versions (${[...versions].join(', ')})`);

  const starts = shards.map((s) => Date.parse(s.summary.startedAt));
  const ends = shards.map((s, i) => starts[i]! + s.summary.durationS * 1000);
  const startMs = Math.min(...starts);

  const cases = [...byKey.values()].map((h) => h.result);
  const summary: RunSummary = {
    tool: 'peerproof',
    version: first.summary.version,
    startedAt: new Date(startMs).toISOString(),
    durationS: Math.round(Math.max(...ends) - startMs) / 1000,
    host: { ...first.summary.host },
    cases,
    totals: computeTotals(cases),
  };

  const gated = shards.filter((s) => s.summary.regressions !== undefined);
  if (gated.length > 0) {
    if (gated.length < shards.length) warnings.push(`only ${gated.length} of ${shards.length} shards were compared with a baseline`);
    const regressions = new Map<string, Regression>();
    for (const s of gated) for (const r of s.summary.regressions!) if (byKey.has(caseKey(r))) regressions.set(caseKey(r), r);
    summary.regressions = [...regressions.values()];
  }

  return { summary: validateSummary(summary, `${options.outDir}/summary.json (merged)`), warnings };
}
