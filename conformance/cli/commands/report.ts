import type { Command } from 'commander';
import { buildReport } from '../../report/build.ts';

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'build the interop matrix, junit.xml and (with Java and allure-results) the single-file Allure HTML of a run; ' +
        'with several dirs, merge the shard summaries into --out first',
    )
    .argument('[dirs...]', 'report dirs (or summary.json files) of a run or of its shards', ['reports/latest'])
    .option('-o, --out <dir>', 'where the merged report goes (required with several dirs)')
    .option('--keep-worst', 'when two shards hold the same case, keep the worse result instead of failing')
    .option('--no-allure', 'do not build the Allure HTML')
    .action(async (dirs: string[], opts: { out?: string; keepWorst?: boolean; allure: boolean }) => {
      const built = await buildReport(dirs, { outDir: opts.out, keepWorst: opts.keepWorst, allure: opts.allure });
      for (const w of built.warnings) process.stderr.write(`warning: ${w}\n`);
      const t = built.summary.totals;
      const lines = [
        `${built.summary.cases.length} results: ${t.passed} passed (${built.summary.cases.filter((c) => c.flaky).length} flaky), ${t.failed} failed, ${t.broken} broken, ${t.skipped} skipped`,
        `summary: ${built.summaryFile}`,
        `junit:   ${built.junitFile}`,
        `matrix:  ${built.matrixFile}`,
        built.allure.built ? `allure:  ${built.allure.index}` : `allure:  ${built.allure.note}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
