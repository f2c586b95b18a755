// The clause suite against the reference speaker on loopback (no root, no namespace): every
// clause test that applies to it passes. The same tests run against lab daemons with
// `peerproof run --suite clauses`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackSut } from '../tester/sut-loopback.ts';
import type { Sut } from '../tester/sut.ts';
import { CLAUSES } from './index.ts';
import { runClauses, type ClauseResult } from './run.ts';

let sut: Sut;
let results: Map<string, ClauseResult>;
const logs: string[] = [];

beforeAll(async () => {
  sut = await startLoopbackSut((l) => logs.push(l));
  results = new Map((await runClauses(CLAUSES, sut, { concurrency: 16 })).map((r) => [r.id, r]));
}, 120_000);
afterAll(() => sut?.stop());

describe('clause suite against the reference speaker on loopback', () => {
  it('has unique ids, each with an RFC clause and a title', () => {
    expect(new Set(CLAUSES.map((c) => c.id)).size).toBe(CLAUSES.length);
    for (const c of CLAUSES) {
      expect(c.rfc).toMatch(/^RFC \d+( [\d.]+)?/);
      expect(c.title.length).toBeGreaterThan(10);
    }
  });
  for (const clause of CLAUSES) {
    it(`${clause.id} (${clause.rfc} ${clause.level})`, () => {
      const r = results.get(clause.id)!;
      const evidence = r.sessions.map((s) => `${s.label}\n${s.transcript.map((e) => `  ${(e.at / 1000).toFixed(3)} ${e.dir} ${e.what}`).join('\n')}`).join('\n');
      if (r.status === 'skipped') return expect(r.reason).toBeTruthy();
      expect(r.status, `${r.reason ?? ''}\n${evidence}`).toBe('passed');
    });
  }
});
