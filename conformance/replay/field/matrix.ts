// Replays every fixtures/field-* against each daemon it applies to (expect.yaml `replay.against`,
// default all three) and reduces each run to one row: verdict, what the peer did, version.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_KINDS, type DaemonKindName } from '../../lab/model.ts';
import { notificationName } from '../../capture/format-table.ts';
import { readExpect } from '../symptoms.ts';
import { runReplayFixture, type ReplayRun } from '../run.ts';

export interface FieldResult {
  fixture: string;
  against: string;
  version: string;
  verdict: string;
  /** One line: session outcome, NOTIFICATIONs, checks that held. */
  observed: string;
  checks: Array<{ check: string; holds: boolean; detail: string }>;
}

export const ALL_DAEMONS: DaemonKindName[] = [...DAEMON_KINDS];

export function fieldFixtures(root: string): string[] {
  return readdirSync(root)
    .filter((name) => name.startsWith('field-') && existsSync(join(root, name, 'recording.json')))
    .sort()
    .map((name) => join(root, name));
}

export function daemonsFor(fixtureDir: string, wanted: DaemonKindName[] = ALL_DAEMONS): DaemonKindName[] {
  const against = readExpect(join(fixtureDir, 'expect.yaml')).replay?.against;
  return against ? wanted.filter((d) => against.includes(d)) : wanted;
}

export function summarise(run: ReplayRun): FieldResult {
  const events = run.observation.events;
  const established = events.some((e) => e.kind === 'state' && e.state === 'Established');
  const notes = events
    .filter((e): e is Extract<typeof e, { kind: 'received' }> => e.kind === 'received' && e.type === 'NOTIFICATION')
    .map((e) => {
      const code = parseInt(e.hex.slice(38, 40), 16);
      const subcode = parseInt(e.hex.slice(40, 42), 16);
      return `NOTIFICATION ${code}/${subcode} (${notificationName(code, subcode)})`;
    });
  const errors = events.filter((e): e is Extract<typeof e, { kind: 'error' }> => e.kind === 'error').map((e) => e.message);
  const ev = run.evaluation;
  const checks = ev ? [...ev.healthy, ...ev.symptoms, ...ev.observed].map((r) => ({ check: r.symptom, holds: r.holds, detail: r.detail })) : [];
  const routeFacts = [...new Set(checks.filter((c) => /^route-/.test(c.check)).map((c) => c.detail))];
  // Routes the peer learned that no check names: where misparsed NLRI ended up.
  const named = new Set(checks.map((c) => /"prefix":"([^"]+)"/.exec(c.check)?.[1]));
  const learned = (run.observation.ribs.peer ?? []).filter((r) => !named.has(r.prefix) && r.nexthops.some((n) => /^[\d.]+$|:/.test(n) && n !== '0.0.0.0'));
  const others = learned.length ? [`other routes learned: ${learned.slice(0, 6).map((r) => `${r.prefix} via ${r.nexthops.join(',')}`).join(', ')}${learned.length > 6 ? ` (+${learned.length - 6})` : ''}`] : [];
  const parts = [established ? 'Established' : 'not Established', ...notes, ...routeFacts, ...others, ...errors];
  return { fixture: run.fixture.replace(/^replay-/, ''), against: run.against, version: run.version, verdict: ev?.verdict ?? 'no expect.yaml', observed: parts.join('; '), checks };
}

export async function runFieldMatrix(root: string, opts: { daemons?: DaemonKindName[]; runsRoot?: string; only?: RegExp; out?: string } = {}): Promise<FieldResult[]> {
  const results: FieldResult[] = [];
  for (const dir of fieldFixtures(root)) {
    if (opts.only && !opts.only.test(dir)) continue;
    for (const against of daemonsFor(dir, opts.daemons)) {
      const run = await runReplayFixture(dir, { against, runsRoot: opts.runsRoot });
      results.push(summarise(run));
      if (opts.out) writeFileSync(opts.out, JSON.stringify(results, null, 1) + '\n');
    }
  }
  return results;
}
