// docs/coverage.md in full: the scenario catalogue's tables (cases/catalog.ts) and a second
// section generated from the clause tests (CLAUSES), each id with its clause, level and title.
import { renderCoverageMarkdown } from '../cases/catalog.ts';
import type { ClauseTest } from './clause.ts';
import { CLAUSES } from './index.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderClauseCoverage(clauses: readonly ClauseTest[] = CLAUSES): string {
  const rfcs = new Map<string, number>();
  for (const c of clauses) {
    const rfc = c.rfc.split(' ').slice(0, 2).join(' ');
    rfcs.set(rfc, (rfcs.get(rfc) ?? 0) + 1);
  }
  const order = [...rfcs.keys()].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
  const lines = [
    '## Clause tests',
    '',
    'Generated from conformance/clauses (CLAUSES): each test checks one RFC clause against any speaker',
    'with a scripted tester peer (`peerproof run --suite clauses --speaker NAME`). Needs: what the',
    'speaker under test must be configurable for, or the test is skipped with the reason.',
    '',
    '| test | clause | level | negative | needs | what the speaker must do |',
    '|---|---|---|---|---|---|',
    ...clauses.map((c) => `| \`${c.id}\` | ${c.rfc} | ${c.level} | ${c.negative ? 'NEGATIVE' : ''} | ${(c.needs ?? []).join(', ')} | ${cell(c.title)} |`),
    '',
    '| RFC | clause tests |',
    '|---|---|',
    ...order.map((r) => `| ${r} | ${rfcs.get(r)} |`),
    '',
    `${clauses.length} clause tests (${clauses.filter((c) => c.level === 'MUST').length} MUST, ${clauses.filter((c) => c.negative).length} NEGATIVE) over ${rfcs.size} RFCs.`,
    '',
  ];
  return lines.join('\n');
}

/** What `peerproof coverage` writes. */
export function renderFullCoverage(): string {
  return `${renderCoverageMarkdown()}\n${renderClauseCoverage()}`;
}
