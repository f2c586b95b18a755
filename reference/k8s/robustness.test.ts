import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClusterFiles } from './load.ts';
import { ClusterInputError } from './manifests.ts';

// Damaged cluster files must give a model or a ClusterInputError, never a crash.

const testdata = fileURLToPath(new URL('./testdata', import.meta.url));
const corpus: Array<Record<string, string>> = readdirSync(testdata, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => {
    const dir = join(testdata, e.name, 'cluster');
    return Object.fromEntries(readdirSync(dir).map((f) => [`cluster/${f}`, readFileSync(join(dir, f), 'utf8')]));
  });

const REPLACEMENTS = ['', '-', ': ', '{}', '[]', 'null', '"x"', '65000', '-1', 'true', '1.2.3.4/99', '{a: 1}', '[1, 2]', '\t', '---', '*anchor', '&a', '"', "'", '10.0.0.1-10.0.0.0', ' # c'];

const mutation = fc.record({
  fileIndex: fc.nat(),
  position: fc.double({ min: 0, max: 1, noNaN: true }),
  deleteLength: fc.nat(12),
  insert: fc.oneof(fc.constantFrom(...REPLACEMENTS), fc.string({ maxLength: 6 })),
});

function mutate(files: Record<string, string>, mutations: Array<{ fileIndex: number; position: number; deleteLength: number; insert: string }>): Record<string, string> {
  const out = { ...files };
  const names = Object.keys(out).sort();
  for (const m of mutations) {
    const name = names[m.fileIndex % names.length]!;
    const text = out[name]!;
    const at = Math.floor(m.position * text.length);
    out[name] = text.slice(0, at) + m.insert + text.slice(at + m.deleteLength);
  }
  return out;
}

describe('damaged cluster files', () => {
  it('load or fail with ClusterInputError, never crash', () => {
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const files = mutate(corpus[which]!, mutations);
        try {
          loadClusterFiles(files);
        } catch (error) {
          if (!(error instanceof ClusterInputError)) throw error;
          expect(error.issues.length).toBeGreaterThan(0);
          for (const issue of error.issues) expect(issue.line).toBeGreaterThan(0);
        }
      }),
      { numRuns: 100 },
    );
  });
});
