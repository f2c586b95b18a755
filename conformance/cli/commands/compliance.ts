import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLAUSES } from '../../clauses/index.ts';
import { readComplianceInputs, renderCompliance } from '../../report/compliance.ts';
import { readSummary } from '../../report/summary.ts';

export const COMPLIANCE_DOC = fileURLToPath(new URL('../../../docs/compliance.md', import.meta.url));

// `peerproof compliance REPORT...`: the published compliance table from clause-suite runs (one
// report folder or summary.json per speaker, e.g. from `peerproof run --suite clauses --speaker frr`).
export function register(program: Command): void {
  program
    .command('compliance')
    .description('write the clause-level compliance table (a row per clause test, a column per speaker) from clause-suite runs')
    .argument('<reports...>', 'report folders (or their summary.json) of `peerproof run --suite clauses` runs, one per speaker')
    .option('-o, --out <file>', 'where to write it', COMPLIANCE_DOC)
    .action(async (reports: string[], opts: { out: string }) => {
      const inputs = await readComplianceInputs(reports, readSummary);
      const ids = new Set(CLAUSES.map((c) => c.id));
      const results = inputs.flatMap((i) => i.summary.cases.filter((c) => ids.has(c.id)));
      if (results.length === 0) throw new Error(`compliance: none of ${reports.join(', ')} holds a clause-suite result (run \`peerproof run --suite clauses\` first)`);
      await writeFile(opts.out, await renderCompliance(inputs, CLAUSES));
      const speakers = [...new Set(results.map((c) => c.speaker))];
      process.stdout.write(`wrote ${opts.out}: ${CLAUSES.length} clause tests x ${speakers.length} speaker(s) (${speakers.join(', ')}), ${results.length} results\n`);
    });
}
