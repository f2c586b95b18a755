import type { Command } from 'commander';
import { compareSummaries, formatComparison } from '../../report/gate.ts';
import { readSummary } from '../../report/summary.ts';

export function register(program: Command): void {
  program
    .command('gate')
    .description('compare two run summaries; exit 1 exactly when a case that passed in BASELINE is failed or broken in CURRENT')
    .argument('<baseline>', 'summary.json (or report dir) of the earlier run')
    .argument('<current>', 'summary.json (or report dir) of the run to judge')
    .action(async (baselinePath: string, currentPath: string) => {
      const [baseline, current] = await Promise.all([readSummary(baselinePath), readSummary(currentPath)]);
      const comparison = compareSummaries(baseline, current);
      process.stdout.write(`${formatComparison(comparison)}\n`);
      process.exitCode = comparison.regressions.length > 0 ? 1 : 0;
    });
}
