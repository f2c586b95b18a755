// The end of `peerproof run`: gate against the baseline when one is given, write
// summary.json, build the report, and say which exit code the run owes (contract
// run-summary.md).
import { buildReport, type BuiltReport } from './build.ts';
import { compareSummaries, formatComparison, runExitCode, withBaseline } from './gate.ts';
import { readSummary, writeSummary, type RunSummary } from './summary.ts';

export interface PublishedRun {
  summary: RunSummary;
  report: BuiltReport;
  /** The regressions table, when a baseline was given. */
  gate?: string;
  exitCode: 0 | 1;
}

export async function publishRun(args: { dir: string; summary: RunSummary; baseline?: string; allure?: boolean }): Promise<PublishedRun> {
  let summary = args.summary;
  let gate: string | undefined;
  if (args.baseline !== undefined) {
    const baseline = await readSummary(args.baseline);
    summary = withBaseline(summary, baseline);
    gate = formatComparison(compareSummaries(baseline, summary));
  }
  await writeSummary(args.dir, summary);
  const report = await buildReport([args.dir], { allure: args.allure });
  return { summary, report, gate, exitCode: runExitCode(summary) };
}
