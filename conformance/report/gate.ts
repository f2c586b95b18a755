// The CI gate: which cases regressed between a baseline summary and the current one, and the
// exit code a run owes its caller (shared contract run-summary.md).
import { caseKey, isKnownDeviation, type CaseResult, type CaseStatus, type Regression, type RunSummary } from './summary.ts';

const REGRESSED_TO: ReadonlySet<CaseStatus> = new Set(['failed', 'broken']);

export interface Comparison {
  regressions: Regression[];
  /** Cases present in both summaries. */
  compared: number;
  /** Present now, absent in the baseline (never a regression). */
  added: number;
  /** Present in the baseline, absent now (never a regression; the run may have been narrowed). */
  removed: number;
  /** Failed or broken before, passed now. */
  fixed: number;
  /** The fixed cases themselves (was failed/broken, now passed), in case-key order. */
  fixes: Regression[];
  /** Why each regressed case failed or broke now (its current `reason`), by caseKey. */
  reasons: Record<string, string>;
}

/**
 * A regression is exactly a case (same id, fixture, speaker and peer) that passed in the
 * baseline and is failed or broken now. A flaky pass counts as a pass on both sides. A known
 * deviation (a failure listed in the speaker's deviations file) that still fails is no change;
 * one that changed is a regression too, so the deviations file is kept true: it passes now
 * (fixed: remove it from the file), or it fails without the listing or broke (another failure).
 */
export function compareSummaries(baseline: RunSummary, current: RunSummary): Comparison {
  const before = new Map<string, CaseResult>(baseline.cases.map((c) => [caseKey(c), c]));
  const regressions: Regression[] = [];
  const fixes: Regression[] = [];
  const reasons: Record<string, string> = {};
  let compared = 0;
  let added = 0;
  let fixed = 0;
  const matched = new Set<string>();
  for (const now of current.cases) {
    const key = caseKey(now);
    const was = before.get(key);
    if (!was) {
      added += 1;
      continue;
    }
    compared += 1;
    matched.add(key);
    if (isKnownDeviation(was) && !isKnownDeviation(now)) {
      regressions.push({ id: now.id, fixture: now.fixture, speaker: now.speaker, peer: now.peer, was: was.status, now: now.status });
      reasons[key] =
        now.status === 'passed'
          ? 'a known deviation passes now: remove it from the speaker\'s deviations file'
          : `a known deviation now ${now.status === 'failed' ? 'fails unlisted' : now.status}: ${now.reason}`;
    } else if (was.status === 'passed' && REGRESSED_TO.has(now.status)) {
      regressions.push({ id: now.id, fixture: now.fixture, speaker: now.speaker, peer: now.peer, was: was.status, now: now.status });
      reasons[key] = now.reason;
    } else if (REGRESSED_TO.has(was.status) && now.status === 'passed') {
      fixed += 1;
      fixes.push({ id: now.id, fixture: now.fixture, speaker: now.speaker, peer: now.peer, was: was.status, now: now.status });
    }
  }
  const byKey = (a: Regression, b: Regression) => caseKey(a).localeCompare(caseKey(b));
  regressions.sort(byKey);
  fixes.sort(byKey);
  return { regressions, compared, added, removed: before.size - matched.size, fixed, fixes, reasons };
}

export function findRegressions(baseline: RunSummary, current: RunSummary): Regression[] {
  return compareSummaries(baseline, current).regressions;
}

/** What `run --baseline` stores: the current summary with its regressions filled in. */
export function withBaseline(current: RunSummary, baseline: RunSummary): RunSummary {
  return { ...current, regressions: findRegressions(baseline, current) };
}

/**
 * With a baseline (the summary carries `regressions`): non-zero exactly on regressions.
 * Without one: non-zero exactly when a case failed (other than a known deviation) or broke.
 */
export function runExitCode(summary: RunSummary): 0 | 1 {
  if (summary.regressions !== undefined) return summary.regressions.length > 0 ? 1 : 0;
  return summary.cases.some((c) => c.status === 'broken' || (c.status === 'failed' && !isKnownDeviation(c))) ? 1 : 0;
}

/** A plain-text table with aligned columns. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatComparison(cmp: Comparison): string {
  const stats = `${cmp.compared} cases compared, ${cmp.added} new, ${cmp.removed} no longer run, ${cmp.fixed} fixed`;
  if (cmp.regressions.length === 0) return `no regressions (${stats})`;
  const table = textTable(
    ['case', 'fixture', 'speaker', 'peer', 'was', 'now'],
    cmp.regressions.map((r) => [r.id, r.fixture, r.speaker, r.peer, r.was, r.now]),
  );
  const count = cmp.regressions.length;
  return `${count} regression${count === 1 ? '' : 's'} (${stats}):\n${table}`;
}

/** A table cell: one line, pipes escaped, so a reason cannot break the Markdown table. */
function markdownCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').trim();
}

/**
 * The comparison as GitHub/GitLab-flavoured Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY)
 * or a PR/MR comment as is: a heading with the verdict, the counts, and one table row per
 * regression (with why it failed now) and per fix. Same data as formatComparison.
 */
export function formatComparisonMarkdown(cmp: Comparison): string {
  const count = cmp.regressions.length;
  const verdict = count === 0 ? 'no regressions' : `${count} regression${count === 1 ? '' : 's'}`;
  const lines = [
    `### peerproof gate: ${verdict}${cmp.fixed > 0 ? `, ${cmp.fixed} fixed` : ''}`,
    '',
    `${cmp.compared} cases compared, ${cmp.added} new, ${cmp.removed} no longer run, ${cmp.fixed} fixed.`,
  ];
  if (count + cmp.fixes.length > 0) {
    lines.push('', '| change | case | fixture | speaker | peer | was | now | why now |', '|---|---|---|---|---|---|---|---|');
    const row = (change: string, r: Regression, why: string) =>
      `| ${change} | \`${markdownCell(r.id)}\` | ${[r.fixture, r.speaker, r.peer, r.was, r.now].map(markdownCell).join(' | ')} | ${markdownCell(why)} |`;
    for (const r of cmp.regressions) lines.push(row('**regression**', r, cmp.reasons[caseKey(r)] ?? ''));
    for (const r of cmp.fixes) lines.push(row('fixed', r, ''));
  }
  return lines.join('\n');
}
