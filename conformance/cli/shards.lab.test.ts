// Issue 18: shards side by side. Three `peerproof run --shard i/3` processes of the real CLI start
// at once on this machine, each with its own report folder (so its own run folders, labs and
// namespaces); `peerproof report` merges them, and the merged summary must hold exactly the case
// ids and verdicts of one unsharded run of the same fixtures. Then three shards again, one of them
// SIGKILLed (by the PID this test started) while its lab is up: once the others are done and
// `peerproof lab down --all` ran, nothing of the killed shard is left (namespaces, processes,
// mounts, state folders, run index entries). And the clause suite under --shard: each shard plays
// only its share of the clause tests.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger, RUN_INDEX, STATE_ROOT } from '../lab/ledger.ts';
import { pollHarness } from '../lab/poll.ts';
import { downAll, leftovers } from '../lab/teardown.ts';
import { isRoot, pidAlive, signal } from '../lab/netns.ts';
import { processTree } from '../lab/proc.ts';
import { CLAUSE_FIXTURE, selectClauses } from '../clauses/suite.ts';

const cli = fileURLToPath(new URL('../../bin/peerproof.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'pp-shards-'));
chmodSync(work, 0o755); // FRR drops to user frr and must reach its folders
// Two of the five seed fixtures: every shard brings every fixture's lab up for its share of the
// case files, so 3 shards + 1 unsharded run of three fixtures already took 117 s here (two shared
// cores, load 20); all five would take ~3 min for this comparison alone.
const FIXTURES = ['seed-000-cilium-two-subnets', 'seed-001-calico-rr'];
const started: number[] = [];

afterAll(async () => {
  for (const pid of started) signal(pid, 'SIGKILL');
  for (const dir of readdirSync(work)) if (existsSync(join(work, dir, 'runs'))) await downAll(join(work, dir, 'runs'), { includeLive: true });
  rmSync(work, { recursive: true, force: true });
}, 120_000);

interface Child {
  pid: number;
  exited: Promise<number | null>;
  output: () => string;
}

function peerproof(args: string[]): Child {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '' } });
  started.push(child.pid!);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { pid: child.pid!, exited: new Promise((r) => child.once('exit', (code) => r(code))), output: () => output };
}

const fixtureArgs = (fixtures: string[]) => fixtures.flatMap((f) => ['--fixture', f]);
const shardRun = (name: string, i: number, fixtures = FIXTURES) => peerproof(['run', ...fixtureArgs(fixtures), '--shard', `${i}/3`, '--report', join(work, name), '--no-allure']);

type Summary = { cases: Array<{ id: string; fixture: string; speaker: string; peer: string; status: string }> };
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
const verdicts = (s: Summary) => s.cases.map((c) => `${c.id} ${c.fixture} ${c.speaker}/${c.peer}: ${c.status}`).sort();

describe.skipIf(!isRoot())('shards side by side', () => {
  it('3 shards at once, merged by `peerproof report`, give the case ids and verdicts of one unsharded run', async () => {
    const shards = [1, 2, 3].map((i) => shardRun(`shard-${i}`, i));
    const codes = await Promise.all(shards.map((s) => s.exited));
    for (const s of shards) console.log(/^\d+ cases in .*$/m.exec(s.output())?.[0]);
    shards.forEach((s, i) => expect(existsSync(join(work, `shard-${i + 1}`, 'summary.json')), `shard ${i + 1} (exit ${codes[i]}):\n${s.output().slice(-3000)}`).toBe(true));
    const merge = spawnSync(process.execPath, [cli, 'report', ...[1, 2, 3].map((i) => join(work, `shard-${i}`)), '--out', join(work, 'merged'), '--no-allure'], { encoding: 'utf8' });
    expect(merge.status, merge.stderr).toBe(0);
    // Each shard ran only its share: none holds everything.
    const perShard = [1, 2, 3].map((i) => readSummary(join(work, `shard-${i}`)).cases.length);

    const whole = peerproof(['run', ...fixtureArgs(FIXTURES), '--report', join(work, 'unsharded'), '--no-allure']);
    await whole.exited;
    console.log('unsharded:', /^\d+ cases in .*$/m.exec(whole.output())?.[0]);
    const unsharded = readSummary(join(work, 'unsharded'));
    expect(unsharded.cases.length, whole.output().slice(-3000)).toBeGreaterThan(0);
    const merged = readSummary(join(work, 'merged'));
    expect(verdicts(merged)).toEqual(verdicts(unsharded));
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(unsharded.cases.length);
    for (const n of perShard) expect(n).toBeLessThan(unsharded.cases.length);
    // Shards ran at once, each in its own run folders: no lab of theirs is left.
    for (const dir of ['shard-1', 'shard-2', 'shard-3', 'unsharded']) {
      for (const runId of readdirSync(join(work, dir, 'runs'))) expect(leftovers(join(work, dir, 'runs', runId))).toEqual({ namespaces: [], pids: [] });
    }
  }, 600_000);

  it('clause tests are sharded too: two `--suite clauses --shard i/2` runs play disjoint halves that add up to the selection', async () => {
    const pattern = 'bgp.header.*';
    const shards = [1, 2].map((i) => peerproof(['run', '--suite', 'clauses', '--clause', pattern, '--shard', `${i}/2`, '--report', join(work, `clauses-${i}`), '--no-allure']));
    await Promise.all(shards.map((s) => s.exited));
    const ids = [1, 2].map((i) => {
      const cases = readSummary(join(work, `clauses-${i}`)).cases;
      expect(cases.every((c) => c.fixture === CLAUSE_FIXTURE && c.status !== 'broken'), shards[i - 1]!.output().slice(-2000)).toBe(true);
      return cases.map((c) => c.id);
    });
    const selected = selectClauses([pattern]).map((t) => t.id);
    for (const half of ids) expect(half.length).toBeLessThan(selected.length);
    expect(ids[0]!.filter((id) => ids[1]!.includes(id))).toEqual([]);
    expect([...ids[0]!, ...ids[1]!].sort()).toEqual([...selected].sort());
    // Each shard played (not only reported) its own share.
    shards.forEach((s, i) => expect(Number(/^clauses against reference: (\d+) tests in /m.exec(s.output())?.[1])).toBe(ids[i]!.length));
  }, 300_000);

  it('a shard SIGKILLed while its lab is up leaves nothing once the others finished and `peerproof lab down --all` ran', async () => {
    const shards = [1, 2, 3].map((i) => shardRun(`kill-${i}`, i, ['seed-001-calico-rr']));
    const victim = shards[1]!;
    const victimRuns = join(work, 'kill-2', 'runs');
    // Its lab is up once its ledger names namespaces and daemons that exist and run.
    const labUp = () => {
      const runId = existsSync(victimRuns) ? readdirSync(victimRuns).find((id) => !new Ledger(join(victimRuns, id)).summary().down) : undefined;
      const left = runId ? leftovers(join(victimRuns, runId)) : { namespaces: [], pids: [] };
      return { runId, ...left };
    };
    const up = await pollHarness(labUp, (l) => l.namespaces.length > 0 && l.pids.length >= 2, 180_000);
    expect(up.met, `the second shard's lab did not come up:\n${victim.output().slice(-2000)}`).toBe(true);
    const runId = up.value.runId!;
    const runDir = join(victimRuns, runId);
    // A second run given the same report dir refuses it instead of deleting the live lab's folder.
    const intruder = spawnSync(process.execPath, [cli, 'run', '--fixture', 'seed-001-calico-rr', '--report', join(work, 'kill-2'), '--no-allure'], { encoding: 'utf8', timeout: 120_000 });
    expect(intruder.status).not.toBe(0);
    expect(intruder.stderr).toContain(`report dir ${join(work, 'kill-2')} is in use by another run (pid ${victim.pid}`);
    expect(existsSync(join(runDir, 'ledger.jsonl'))).toBe(true);
    const tree = processTree(victim.pid);
    process.kill(victim.pid, 'SIGKILL');
    expect(await victim.exited).toBeNull();
    await Promise.all([shards[0]!.exited, shards[2]!.exited]);
    for (const i of [1, 3]) expect(existsSync(join(work, `kill-${i}`, 'summary.json')), shards[i - 1]!.output().slice(-2000)).toBe(true);

    // The killed shard's run folder is under its own report dir, not the default runs folder: the
    // run index is how `lab down --all` finds it.
    const down = spawnSync(process.execPath, [cli, 'lab', 'down', '--all'], { encoding: 'utf8', timeout: 120_000 });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toContain(`${runId}: down`);
    expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(namespaces).not.toContain(`pp-${runId}-`);
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    expect(mounts).not.toContain(`pp-${runId}-`);
    expect(mounts).not.toContain(join(STATE_ROOT, runId));
    expect(existsSync(join(STATE_ROOT, runId))).toBe(false);
    expect(existsSync(join(RUN_INDEX, runId))).toBe(false);
    // Every process the shard had (its vitest worker, daemons, captures, agents) is gone.
    await pollHarness(() => tree.filter((pid) => pidAlive(pid)), (alive) => alive.length === 0, 15_000);
    expect(tree.filter((pid) => pidAlive(pid))).toEqual([]);
  }, 600_000);
});
