// Known deviations of a speaker profile from clause tests (conformance/clauses/deviations/
// <profile>.yaml), as OpenConfig featureprofiles keeps them: each a test id the speaker is known
// to fail, why (what it does instead) and a public reference. A failed test listed there stays
// `failed` in summary.json and carries `deviation: { reason, reference }`; the gate passes it
// while it keeps failing and fails when it changes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const DEVIATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'deviations');

export interface Deviation {
  reason: string;
  reference: string;
}

export interface DeviationFile {
  speaker: string;
  version: string;
  deviations: Map<string, Deviation>;
  file: string;
}

export class DeviationsError extends Error {
  override name = 'DeviationsError';
}

/** Parses a deviations file; `knownIds` (the clause catalogue) catches ids that name no test. */
export function parseDeviations(text: string, file: string, knownIds?: ReadonlySet<string>): DeviationFile {
  const fail = (field: string, expected: string, got?: unknown): never => {
    throw new DeviationsError(`${file}: ${field}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`);
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new DeviationsError(`${file}: not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('(top level)', 'a mapping with speaker, version, deviations');
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['speaker', 'version', 'deviations'].includes(key)) fail(key, 'no such field (speaker, version, deviations)');
  const nonEmpty = (v: unknown, field: string) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : fail(field, 'a non-empty string', v));
  const speaker = nonEmpty(o.speaker, 'speaker');
  const version = nonEmpty(o.version, 'version');
  const list = o.deviations ?? [];
  if (!Array.isArray(list)) return fail('deviations', 'a list of { id, reason, reference }', list);
  const deviations = new Map<string, Deviation>();
  list.forEach((entry: unknown, i: number) => {
    const at = `deviations[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(at, 'a mapping { id, reason, reference }', entry);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!['id', 'reason', 'reference'].includes(key)) fail(`${at}.${key}`, 'no such field (id, reason, reference)');
    const id = nonEmpty(e.id, `${at}.id`);
    if (knownIds && !knownIds.has(id)) fail(`${at}.id`, 'the id of a clause test (conformance/clauses)', id);
    if (deviations.has(id)) fail(`${at}.id`, 'each id once', id);
    const reason = nonEmpty(e.reason, `${at}.reason`);
    if (/[\r\n]/.test(reason)) fail(`${at}.reason`, 'one line', reason);
    const reference = nonEmpty(e.reference, `${at}.reference`);
    if (!/^https?:\/\/\S+$/.test(reference)) fail(`${at}.reference`, 'a public http(s) URL (RFC errata, upstream issue/commit, docs page)', reference);
    deviations.set(id, { reason, reference });
  });
  return { speaker, version, deviations, file };
}

/** The profile's deviations, or none when it has no file. */
export function loadDeviations(profile: string, knownIds?: ReadonlySet<string>, dir: string = DEVIATIONS_DIR): DeviationFile | null {
  const file = join(dir, `${profile}.yaml`);
  if (!existsSync(file)) return null;
  const parsed = parseDeviations(readFileSync(file, 'utf8'), file, knownIds);
  if (parsed.speaker !== profile) throw new DeviationsError(`${file}: speaker: expected "${profile}" (the file's name), got ${JSON.stringify(parsed.speaker)}`);
  return parsed;
}
