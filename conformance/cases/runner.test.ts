import { describe, expect, it } from 'vitest';
import { parseShard } from '../cli/commands/run.ts';
import { CATALOG } from './catalog.ts';
import { caseIdOfFile } from './collect.ts';
import { PENDING_CASES } from './pending.ts';
import { caseFile, declaredCases, inShard, listFixtures, parseSpeakerSpec } from './runner.ts';

describe('run options', () => {
  it('--speaker: profile names, docker:IMAGE, external:ADDRESS; anything else is a clear error', () => {
    expect(parseSpeakerSpec('frr')).toEqual({ kind: 'profile', name: 'frr' });
    expect(parseSpeakerSpec('docker:quay.io/metallb/speaker:v0.14.9')).toEqual({ kind: 'docker', image: 'quay.io/metallb/speaker:v0.14.9' });
    expect(parseSpeakerSpec('external:192.0.2.7:1179')).toEqual({ kind: 'external', address: '192.0.2.7:1179' });
    expect(() => parseSpeakerSpec('external:not-an-address')).toThrow(/is not ADDRESS\[:PORT\]/);
    expect(() => parseSpeakerSpec('ftp:x')).toThrow(/unknown scheme "ftp"/);
    expect(() => parseSpeakerSpec('FRR!')).toThrow(/expected a profile name/);
  });

  it('a result the runner makes itself (skip, broken lab) belongs to exactly one shard', () => {
    for (const key of ['l2.failover|seed-003-rack-lb|frr|frr', 'lb.withdraw|seed-003-rack-lb|gobgp|frr', 'x|y|z|w']) {
      expect([1, 2, 3].filter((index) => inShard(key, { index, count: 3 }))).toHaveLength(1);
      expect(inShard(key, undefined)).toBe(true);
    }
  });

  it('--shard i/n', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/2', '3/2', '1', 'a/b']) expect(() => parseShard(bad)).toThrow(/expected i\/n/);
  });
});

describe('case files and the catalogue', () => {
  it('every catalogue id has a case file or a precise pending reason, never both', () => {
    for (const { id } of CATALOG) {
      const file = caseFile(id);
      expect(Boolean(file) !== Boolean(PENDING_CASES[id]), id).toBe(true);
      if (file) expect(caseIdOfFile(file)).toBe(id);
    }
  });

  it('the default fixtures are those declaring cases (the seeds among them), with catalogue ids only', () => {
    const fixtures = listFixtures().map((f) => f.split('/').pop());
    expect(fixtures).toEqual(expect.arrayContaining(['seed-000-cilium-two-subnets', 'seed-004-anthos-floating']));
    expect(declaredCases('fixtures/seed-000-cilium-two-subnets')).toEqual(['session.establish', 'podcidr.export', 'ecmp.spread', 'update.encoding', 'negative.malformed-update']);
  });
});
