import { Option, type Command } from 'commander';
import { compareSummaries, formatComparison, formatComparisonMarkdown } from '../../report/gate.ts';
import { readSummary } from '../../report/summary.ts';

export function register(program: Command): void {
  program
    .command('gate')
    .description('compare two run summaries; exit 1 exactly when a case that passed in BASELINE is failed or broken in CURRENT')
    .argument('<baseline>', 'summary.json (or report dir) of the earlier run')
    .argument('<current>', 'summary.json (or report dir) of the run to judge')
    .addOption(
      new Option('--format <format>', 'text: aligned table for a terminal; markdown: a table of regressions and fixes for a CI job summary or PR comment')
        .choices(['text', 'markdown'])
        .default('text'),
    )
    .action(async (baselinePath: string, currentPath: string, opts: { format: 'text' | 'markdown' }) => {
      const [baseline, current] = await Promise.all([readSummary(baselinePath), readSummary(currentPath)]);
      const comparison = compareSummaries(baseline, current);
      const text = opts.format === 'markdown' ? formatComparisonMarkdown(comparison) : formatComparison(comparison);
      process.stdout.write(`${text}\n`);
      process.exitCode = comparison.regressions.length > 0 ? 1 : 0;
    });
}
