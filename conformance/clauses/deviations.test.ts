import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAUSES } from './index.ts';
import { DEVIATIONS_DIR, loadDeviations, parseDeviations } from './deviations.ts';
import { readdirSync } from 'node:fs';

const ids = new Set(['bgp.open.unsupported-version', 'bgp.header.bad-type']);
const good = `speaker: bird
version: BIRD 2.0.12
deviations:
  - id: bgp.open.unsupported-version
    reason: the NOTIFICATION data is the version in host byte order (0400)
    reference: https://gitlab.nic.cz/labs/bird/-/blob/v2.0.12/proto/bgp/packets.c
`;
const dir = mkdtempSync(join(tmpdir(), 'pp-deviations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deviations files', () => {
  it('parse into id -> reason and reference', () => {
    const d = parseDeviations(good, 'bird.yaml', ids);
    expect(d.speaker).toBe('bird');
    expect(d.version).toBe('BIRD 2.0.12');
    expect(d.deviations.get('bgp.open.unsupported-version')).toEqual({
      reason: 'the NOTIFICATION data is the version in host byte order (0400)',
      reference: 'https://gitlab.nic.cz/labs/bird/-/blob/v2.0.12/proto/bgp/packets.c',
    });
  });

  it.each([
    ['a missing reason', good.replace(/    reason: .*\n/, ''), /bird\.yaml: deviations\[0\]\.reason: expected a non-empty string/],
    ['a reference that is not a URL', good.replace(/reference: .*/, 'reference: see the source'), /bird\.yaml: deviations\[0\]\.reference: expected a public http\(s\) URL/],
    ['an id of no clause test', good.replace('bgp.open.unsupported-version', 'bgp.open.nope'), /bird\.yaml: deviations\[0\]\.id: expected the id of a clause test .*got "bgp\.open\.nope"/],
    ['an unknown field', good.replace('deviations:', 'notes: x\ndeviations:'), /bird\.yaml: notes: expected no such field/],
    ['no version', good.replace(/version: .*\n/, ''), /bird\.yaml: version: expected a non-empty string/],
    ['a list that is not one', good.replace(/deviations:[\s\S]*/, 'deviations: bgp.x\n'), /bird\.yaml: deviations: expected a list/],
    ['an id twice', good + good.split('deviations:\n')[1], /bird\.yaml: deviations\[1\]\.id: expected each id once/],
  ])('reject %s naming the file and the field', (_what, text, error) => {
    expect(() => parseDeviations(text, 'bird.yaml', ids)).toThrow(error);
  });

  it('load by profile name; a file whose speaker is another profile is an error; no file is no deviations', () => {
    writeFileSync(join(dir, 'bird.yaml'), good);
    expect(loadDeviations('bird', ids, dir)?.deviations.size).toBe(1);
    writeFileSync(join(dir, 'frr.yaml'), good);
    expect(() => loadDeviations('frr', ids, dir)).toThrow(/frr\.yaml: speaker: expected "frr"/);
    expect(loadDeviations('gobgp', ids, dir)).toBeNull();
  });

  it('the shipped files load against the clause catalogue', () => {
    const known = new Set(CLAUSES.map((c) => c.id));
    for (const f of readdirSync(DEVIATIONS_DIR).filter((x) => x.endsWith('.yaml'))) expect(loadDeviations(f.replace(/\.yaml$/, ''), known)).not.toBeNull();
  });
});
