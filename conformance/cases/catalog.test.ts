import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry, rfcRefs, SEED_FIXTURES, SEEDS } from './catalog.ts';
import { renderFullCoverage } from '../clauses/coverage.ts';
import { CLAUSES } from '../clauses/index.ts';

const ISSUE_6_IDS = [
  'session.establish', 'podcidr.export', 'lb.advertise-selector', 'lb.withdraw', 'update.encoding', 'ecmp.spread',
  'addpath.multi-nexthop', 'dsr.return-path', 'l2.arp-leader', 'l2.failover', 'calico.block-aggregation',
  'calico.borrowed-ip', 'negative.malformed-update', 'fault.link-down', 'fault.peer-kill',
];

describe('case catalogue', () => {
  it('holds exactly the case ids of issue 6, once each', () => {
    expect(CATALOG.map((e) => e.id)).toEqual(ISSUE_6_IDS);
  });

  it('gives every case a seed, its fixture, a description and well-formed clauses', () => {
    for (const e of CATALOG) {
      expect(Object.values(SEEDS)).toContain(e.seed);
      expect(Object.values(SEED_FIXTURES)).toContain(e.fixture);
      expect(e.fixture.slice(5, 8)).toBe(e.seed.slice(0, 3));
      expect(e.description).not.toMatch(/\n/);
      expect(e.clauses.length, e.id).toBeGreaterThan(0);
      for (const c of e.clauses) expect(c.ref, e.id).toMatch(/^RFC \d+( \S.*)?$/);
    }
  });

  it('tags the bad-input case NEGATIVE and nothing else', () => {
    const negative = CATALOG.filter((e) => e.clauses.some((c) => c.negative)).map((e) => e.id);
    expect(negative).toEqual(['negative.malformed-update']);
  });

  it('gives summary.json its clause list and names unknown ids', () => {
    expect(rfcRefs('update.encoding')).toEqual(['RFC 4271 4.3', 'RFC 4271 5', 'RFC 4271 5.1.1', 'RFC 4271 5.1.2', 'RFC 4271 5.1.5', 'RFC 6793 4.1', 'RFC 4271 4.1', 'RFC 4724 2']);
    expect(() => catalogEntry('bfd.fast-detect')).toThrow(/unknown case id "bfd.fast-detect" \(known: session.establish,/);
  });

  it('docs/coverage.md is the generator output (run `peerproof coverage` after editing the catalogue)', async () => {
    const doc = await readFile(new URL('../../docs/coverage.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderFullCoverage());
    for (const id of [...ISSUE_6_IDS, ...CLAUSES.map((c) => c.id)]) expect(doc).toContain(`| \`${id}\` |`);
  });
});
