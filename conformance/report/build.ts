// Everything a report dir gets from its summary (or from several shard summaries): the merged
// summary.json, junit.xml, the interop matrix and, when possible, the Allure HTML. Used by
// `peerproof report` and at the end of `peerproof run`.
import { dirname, join, resolve } from 'node:path';
import { buildAllureReport, findAllureResults, type AllureOutcome } from './allure.ts';
import { writeJunit } from './junit.ts';
import { writeMatrix } from './matrix.ts';
import { mergeSummaries } from './merge.ts';
import { readSummary, SUMMARY_FILE, writeSummary, type RunSummary } from './summary.ts';

export interface BuildOptions {
  /** Where the report goes; required with several inputs, else the input's own dir. */
  outDir?: string;
  keepWorst?: boolean;
  allure?: boolean;
}

export interface BuiltReport {
  summary: RunSummary;
  outDir: string;
  summaryFile: string;
  junitFile: string;
  matrixFile: string;
  allure: AllureOutcome;
  warnings: string[];
}

/** A report dir, or a summary.json path, -> [report dir, summary file]. */
function locate(input: string): { dir: string; file: string } {
  return input.endsWith('.json') ? { dir: dirname(input), file: input } : { dir: input, file: join(input, SUMMARY_FILE) };
}

export async function buildReport(inputs: readonly string[], options: BuildOptions = {}): Promise<BuiltReport> {
  if (inputs.length === 0) throw new Error('no report dir given');
  const located = inputs.map(locate);
  if (located.length > 1 && !options.outDir) throw new Error('several report dirs given: say where the merged report goes with --out DIR');
  const outDir = options.outDir ?? located[0]!.dir;

  const shards = [];
  for (const l of located) shards.push({ ...l, summary: await readSummary(l.file) });

  let summary: RunSummary;
  let warnings: string[] = [];
  let summaryFile: string;
  if (shards.length === 1 && resolve(shards[0]!.dir) === resolve(outDir)) {
    summary = shards[0]!.summary;
    summaryFile = shards[0]!.file;
  } else {
    const merged = mergeSummaries(
      shards.map((s) => ({ file: s.file, dir: s.dir, summary: s.summary })),
      { outDir, keepWorst: options.keepWorst },
    );
    summary = merged.summary;
    warnings = merged.warnings;
    summaryFile = await writeSummary(outDir, summary);
  }

  const junitFile = await writeJunit(outDir, summary);
  const matrixFile = await writeMatrix(outDir, summary);
  const allure: AllureOutcome =
    options.allure === false
      ? { built: false, note: 'Allure report not requested (--no-allure)' }
      : await buildAllureReport(findAllureResults(located.map((l) => l.dir)), outDir, {
          'Linux kernel': summary.host.kernel,
          FRR: summary.host.frr,
          GoBGP: summary.host.gobgp,
          BIRD: summary.host.bird,
          peerproof: summary.version,
        });
  return { summary, outDir, summaryFile, junitFile, matrixFile, allure, warnings };
}
