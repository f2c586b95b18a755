// `peerproof chaos` end to end (root): the real CLI on seed-002 with the reference speaker and
// FRR, its console lines, event log, summary and schedule, and no namespace of any of its labs
// left; then a schedule that leaves a non-redundant link down for good, shrunk to that one fault;
// then seed-004's lb2 cut off, which black-holes the probe flows ECMP sends to lb2.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSchedule } from './schedule.ts';

const bin = fileURLToPath(new URL('../../bin/peerproof.js', import.meta.url));
const fixturePath = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const fixture = fixturePath('seed-002-spine-leaf');
const out = mkdtempSync(join(tmpdir(), 'peerproof-chaos-'));
chmodSync(out, 0o755); // FRR runs as user frr: every ancestor of the runs folder needs o+x
afterAll(() => rmSync(out, { recursive: true, force: true }));

const chaos = (args: string[], timeoutMs: number, on = fixture) => spawnSync(process.execPath, [bin, 'chaos', on, ...args], { encoding: 'utf8', timeout: timeoutMs });
const jsonl = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every lab the run brought up (main and shrink re-runs) is gone from `ip netns list`. */
function assertNoNamespacesLeft(report: string): string[] {
  const runIds = readdirSync(join(report, 'runs'));
  const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const id of runIds) expect(namespaces).not.toContain(`pp-${id}-`);
  return runIds;
}

describe('peerproof chaos', () => {
  it('applies the seeded schedule, prints one line per fault and per verdict, writes the report, and leaves nothing', () => {
    const report = join(out, 'seeded');
    const r = chaos(['--seed', '1', '--duration', '40', '--report', report], 280_000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8'));
    const schedule = parseSchedule(readFileSync(join(report, 'schedule.json'), 'utf8'));
    expect(schedule).toMatchObject({ seed: 1, durationS: 40, fixture: 'seed-002-spine-leaf' });
    expect(schedule.faults.length).toBeGreaterThan(0);
    expect(summary.faults.applied).toBe(schedule.faults.length);
    expect(summary.violations).toEqual([]);

    const lines = r.stdout.trimEnd().split('\n');
    const faultLines = lines.filter((l) => l.startsWith('fault #'));
    expect(faultLines).toHaveLength(schedule.faults.length);
    schedule.faults.forEach((f, i) => expect(faultLines[i]).toContain(`#${f.id} `));
    const verdictLines = lines.filter((l) => /^ {2}(held|VIOLATED) /.test(l));

    const events = jsonl(join(report, 'events.jsonl'));
    expect(events[0]).toMatchObject({ event: 'start', runId: summary.runId, seed: 1 });
    expect(events.filter((e) => e.event === 'apply').map((e) => (e.fault as { id: number }).id)).toEqual(schedule.faults.map((f) => f.id));
    expect(events.filter((e) => e.event === 'undo')).toHaveLength(schedule.faults.length);
    const verdicts = events.filter((e) => e.event === 'property');
    expect(verdicts).toHaveLength(verdictLines.length);
    // after each fault: routes back, no flow black-holed, no duplicate paths, nothing left of it; at the end: routes and teardown
    for (const f of schedule.faults)
      for (const p of ['routes-back', 'no-blackhole', 'no-duplicate-paths', 'nothing-leaked']) expect(verdicts.some((v) => v.faultId === f.id && v.property === p && v.held === true)).toBe(true);
    // pod-to-pod flows between the four servers' pods: 4 sources x 3 targets x 6 source ports, all answering
    expect(summary.probes).toEqual({ flows: 72, unanswered: [] });
    expect(events.find((e) => e.event === 'probes')?.flows).toHaveLength(72);
    expect(verdicts.at(-1)).toMatchObject({ property: 'nothing-leaked', faultId: null, held: true });
    expect(summary.properties['routes-back'].violated).toBe(0);
    expect(assertNoNamespacesLeft(report)).toEqual([summary.runId]);
  });

  it('shrinks a schedule whose one never-undone fault cuts a node off to that fault, in a replayable file', () => {
    const report = join(out, 'broken');
    const file = join(out, 'cut-server3.json');
    // #2 leaves server3's only link down: its PodCIDR can never come back. #0 and #1 are undone.
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        fixture: 'seed-002-spine-leaf',
        faults: [
          { id: 0, kind: 'loss', node: 'leaf1', ifname: 'eth2', percent: 30, holdS: 2 },
          { id: 1, kind: 'link-down', node: 'leaf0', ifname: 'eth1', holdS: 3 },
          { id: 2, kind: 'link-down', node: 'server3', ifname: 'net0', holdS: 2, permanent: true },
        ],
      }),
    );
    const r = chaos(['--schedule', file, '--report', report, '--bound', '10'], 600_000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8'));
    expect(summary.violations[0]).toMatchObject({ property: 'routes-back', faultId: 2, held: false });
    expect(summary.violations[0].detail).toContain('10.98.2.0/24');
    expect(summary.shrink).toMatchObject({ property: 'routes-back', minimal: [2], exhausted: false });
    // server3 cut off for good: its pod's flows are not judged, the others' held
    const blackhole = jsonl(join(report, 'events.jsonl')).find((e) => e.event === 'property' && e.property === 'no-blackhole' && e.faultId === 2);
    expect(blackhole).toMatchObject({ held: true });
    const [, cut] = /over 36 flows \(bound 8s\); 36 cut off by the fault, not judged \((.*)\)$/.exec(String(blackhole?.detail)) ?? [];
    expect(cut?.split(', ').every((id) => id.includes('10.98.2.200'))).toBe(true);
    for (const t of summary.shrink.tries) expect(t.broke).toBe(t.faults.includes(2));
    const minimal = parseSchedule(readFileSync(join(report, 'minimal-routes-back.schedule.json'), 'utf8'));
    expect(minimal.faults).toEqual([{ id: 2, kind: 'link-down', node: 'server3', ifname: 'net0', holdS: 2, permanent: true }]);
    expect(r.stdout).toMatch(/shrunk: routes-back breaks with #2 link-down server3:net0 for 2s, never undone/);
    expect(r.stdout).toContain(`--schedule ${join(report, 'minimal-routes-back.schedule.json')}`);
    expect(assertNoNamespacesLeft(report)).toHaveLength(1 + summary.shrink.runs);
  }, 600_000);

  it('no-blackhole: with lb2 cut off from seed-004, the flows ECMP hashes to lb2 get no reply for the whole fault', () => {
    const report = join(out, 'lb2');
    const file = join(out, 'cut-lb2.json');
    writeFileSync(file, JSON.stringify({ version: 1, fixture: 'seed-004-anthos-floating', faults: [{ id: 0, kind: 'link-down', node: 'lb2', ifname: 'eth1', holdS: 12 }] }));
    const r = chaos(['--schedule', file, '--report', report, '--no-shrink'], 280_000, fixturePath('seed-004-anthos-floating'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8'));
    expect(summary.bounds.blackholeS).toBe(8);
    // peer1 and peer2, from each of their two addresses, to VIP 10.0.0.1 (on lo of lb1 and lb2)
    expect(summary.probes.flows + summary.probes.unanswered.length).toBe(24);
    const v = summary.violations.find((x: { property: string }) => x.property === 'no-blackhole');
    expect(v).toMatchObject({ faultId: 0, held: false });
    expect(v.seconds).toBeGreaterThan(8);
    expect(v.detail).toMatch(/^black-holed past 8s: peer[12] 10\.\d+\.\d+\.\d+:\d+ -> 10\.0\.0\.1 /);
    expect(r.stdout).toMatch(/VIOLATED no-blackhole {7}#0 {3}black-holed past 8s/);
    expect(assertNoNamespacesLeft(report)).toEqual([summary.runId]);
  }, 300_000);

  it('says what is wrong with bad input, before building anything', () => {
    const noSeed = chaos(['--duration', '10'], 30_000);
    expect(noSeed.status).toBe(1);
    expect(noSeed.stderr).toMatch(/give --seed N and --duration S \(or --schedule FILE\)/);
    const bad = join(out, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, fixture: 'x', faults: [{ id: 0, kind: 'link-down', node: 'leaf0', holdS: 1 }] }));
    const r = chaos(['--schedule', bad], 30_000);
    expect(r.stderr).toMatch(/faults\[0\]\.ifname: a link-down needs the interface/);
    expect(chaos(['--seed', 'x', '--duration', '5'], 30_000).stderr).toMatch(/--seed "x": expected a whole number/);
  });
});
