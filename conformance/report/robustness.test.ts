// Bad input gets a clear error and never a crash: arbitrary JSON for a summary, arbitrary text
// for a decoded capture, arbitrary bytes for a raw capture.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLadderJsonl, renderLadderSvg } from './ladder.ts';
import { loadCaseLadder } from './ladder-sources.ts';
import { SummaryError, validateSummary } from './summary.ts';
import { sampleCurrent } from './testdata/samples.ts';

// Classic pcap, little-endian, v2.4, snaplen 65535, Ethernet.
const PCAP_HEADER = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-robust-'));
});
afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

describe('robustness', () => {
  it('validateSummary accepts or throws a SummaryError naming fields, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          validateSummary(value, 'fuzz.json');
        } catch (err) {
          expect(err).toBeInstanceOf(SummaryError);
          expect((err as SummaryError).problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('validateSummary pinpoints a single corrupted field of a real summary', () => {
    const fields = ['id', 'fixture', 'speaker', 'peer', 'status', 'reason', 'rfc', 'seed', 'durationS', 'flaky', 'measurements', 'artifacts'] as const;
    fc.assert(
      fc.property(fc.nat(29), fc.constantFrom(...fields), fc.constantFrom(null, 42, -1, [], {}, true), (i, field, bad) => {
        const s = JSON.parse(JSON.stringify(sampleCurrent())) as { cases: Array<Record<string, unknown>> };
        s.cases[i]![field] = bad;
        try {
          validateSummary(s, 'x.json');
        } catch (err) {
          expect((err as SummaryError).problems.some((p) => p.startsWith(`cases[${i}]`))).toBe(true);
          return;
        }
        // Only values the contract allows get through.
        const allowed = (field === 'durationS' && bad === 42) || (field === 'measurements' && JSON.stringify(bad) === '{}') ||
          ((field === 'artifacts' || field === 'rfc') && JSON.stringify(bad) === '[]') || (field === 'flaky' && bad === true && s.cases[i]!.status === 'passed');
        expect(allowed, `${field} = ${JSON.stringify(bad)} accepted`).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a decoded capture of any text yields messages and named problems, and draws', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)))), (lines) => {
        const { messages, problems } = parseLadderJsonl(lines.join('\n'), 'f.jsonl');
        expect(messages.length + problems.length).toBeLessThanOrEqual(lines.join('\n').split('\n').length);
        expect(renderLadderSvg(messages)).toMatch(/^<svg[\s\S]*<\/svg>$/);
      }),
      { numRuns: 300 },
    );
  });

  it('a raw capture of any bytes becomes a problem on the case page, never a throw', async () => {
    await fc.assert(
      // Half the inputs start with a valid pcap header so the bytes reach the frame and TCP parsers.
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 400 }), async (withHeader, body) => {
        const bytes = withHeader ? Buffer.concat([PCAP_HEADER, body]) : body;
        await writeFile(join(dir, 'junk.pcap'), bytes);
        const ladder = (await loadCaseLadder(dir, ['junk.pcap']))!;
        // Either the file was read as a capture, or a problem names it.
        if (!ladder.sources.includes('junk.pcap')) expect(ladder.problems[0]).toMatch(/^junk\.pcap: /);
        for (const m of ladder.messages) expect(typeof m.type).toBe('string');
      }),
      { numRuns: 100 },
    );
    await writeFile(join(dir, 'text.pcap'), 'not a capture at all');
    const ladder = await loadCaseLadder(dir, ['text.pcap', 'absent.pcapng']);
    expect(ladder!.problems).toHaveLength(2);
    expect(ladder!.problems[0]).toMatch(/^text\.pcap: cannot read \(/);
    expect(ladder!.problems[1]).toBe('absent.pcapng: cannot read (ENOENT)');
  });
});
