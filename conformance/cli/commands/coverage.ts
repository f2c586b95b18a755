import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderFullCoverage } from '../../clauses/coverage.ts';

export const COVERAGE_DOC = fileURLToPath(new URL('../../../docs/coverage.md', import.meta.url));

export function register(program: Command): void {
  program
    .command('coverage')
    .description('write the RFC coverage tables of the case catalogue and the clause tests to docs/coverage.md')
    .option('-o, --out <file>', 'where to write it (default: docs/coverage.md of the project)', COVERAGE_DOC)
    .option('--check', 'write nothing; exit 1 when the file differs from the catalogue (for CI)')
    .action(async (opts: { out: string; check?: boolean }) => {
      const wanted = renderFullCoverage();
      if (opts.check) {
        const have = await readFile(opts.out, 'utf8').catch(() => '');
        if (have !== wanted) {
          process.stderr.write(`${opts.out} is out of date with conformance/cases/catalog.ts and conformance/clauses: run \`peerproof coverage\`\n`);
          process.exitCode = 1;
        } else process.stdout.write(`${opts.out} is up to date\n`);
        return;
      }
      await writeFile(opts.out, wanted);
      process.stdout.write(`wrote ${opts.out}\n`);
    });
}
