// Issue 23: after any sequence of docker runs (completed, failed, SIGKILLed) no dockerd or
// containerd of peerproof is left, and the host settings are as before, unless the user ran
// `peerproof docker start`. Real dockerd, real runs in child processes (one killed with SIGKILL),
// the real CLI for `lab down --all` and `docker start|stop`.
import { spawn, execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { frrGobgpTopology } from './backends/lab-suite.ts';
import {
  engineProcesses,
  engineRunning,
  ensureDebianPackages,
  hostSettingsFile,
  readHostSettings,
  stopEngine,
  sweepLeases,
  type HostSettings,
} from './docker-engine.ts';
import { ensureEngine, releaseEngine } from './docker-engine.ts';
import { ensureImages } from './images/build.ts';
import { eventually, typescriptCommand } from './process-output.ts';
import { downAll } from './teardown.ts';

const holdLab = fileURLToPath(new URL('./backends/testing/hold-lab.ts', import.meta.url));
const cli = fileURLToPath(new URL('../../bin/peerproof.js', import.meta.url));
const runsRoot = mkdtempSync(join(tmpdir(), 'pp-engine-life-'));
chmodSync(runsRoot, 0o755); // FRR drops to user frr and must reach its node folder
const children: number[] = [];
let hostBefore: HostSettings;

beforeAll(async () => {
  ensureDebianPackages(['docker.io', 'debootstrap']);
  hostBefore = existsSync(hostSettingsFile()) ? (JSON.parse(readFileSync(hostSettingsFile(), 'utf8')) as HostSettings) : readHostSettings();
  // Images are built once (minutes on a fresh machine), under a lease given back at once.
  const engine = await ensureEngine(undefined, { holder: 'lifecycle-test' });
  await ensureImages(engine.docker);
  await releaseEngine(undefined, 'lifecycle-test');
}, 20 * 60_000);

afterAll(async () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await downAll(runsRoot, { includeLive: true });
  rmSync(runsRoot, { recursive: true, force: true });
}, 120_000);

let topologies = 0;
/** A docker run in a child process; resolves with its run id once its lab is up. */
function startRun(mode: 'hold' | 'once'): { runId: Promise<string>; exited: Promise<number | null>; pid: number } {
  const file = join(runsRoot, `topology-${topologies++}.json`);
  writeFileSync(file, JSON.stringify(frrGobgpTopology(Math.random().toString(16).slice(2, 8))));
  const [cmd, ...args] = typescriptCommand(holdLab, ['docker', runsRoot, file, ...(mode === 'once' ? ['once'] : [])]);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child.pid!);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const runId = new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    void exited.then((code) => reject(new Error(`run exited (${code}) before its lab was up:\n${stderr}`)));
  });
  return { runId, exited, pid: child.pid! };
}

const peerproof = async (...args: string[]) => (await promisify(execFile)(process.execPath, [cli, ...args], { timeout: 180_000 })).stdout;

/** Nothing of our engine runs and the host is as before. */
async function expectEngineGone(): Promise<void> {
  await eventually(async () => (engineProcesses().length === 0 ? true : null), 'no dockerd/containerd of peerproof left', 15_000);
  expect(engineProcesses()).toEqual([]);
  expect(engineRunning()).toBe(false);
  expect(existsSync('/run/peerproof-docker/leases') ? readdirSync('/run/peerproof-docker/leases') : []).toEqual([]);
  expect(readHostSettings()).toEqual(hostBefore);
}

/** Another engineer's run, or an engine they started on purpose, would make the assertions wrong. */
function skipIfEngineInUse(ctx: TestContext): void {
  const { users, runs } = sweepLeases();
  if (users.length > 0 || runs.length > 0 || existsSync('/run/peerproof-docker/kept'))
    ctx.skip(`the engine is in use by others (pids ${users.join(', ')}; runs ${runs.join(', ')}; kept: ${existsSync('/run/peerproof-docker/kept')})`);
}

describe.skipIf(process.getuid?.() !== 0)('peerproof dockerd lifecycle', () => {
  it('a run SIGKILLed mid-way, then one that completes: the completing run stops the engine; lab down --all removes the rest and stops it again', async (ctx) => {
    skipIfEngineInUse(ctx);
    const killed = startRun('hold');
    const killedRun = await killed.runId;
    expect(engineRunning()).toBe(true);
    process.kill(killed.pid, 'SIGKILL');
    await killed.exited;

    const done = startRun('once');
    await done.runId;
    expect(await done.exited).toBe(0);
    // The killed run's lease was stale: the completing run was the last live user.
    await expectEngineGone();

    // The killed run's containers are still listed in its ledger: lab down --all starts the
    // engine to remove them and stops it again.
    const out = await peerproof('lab', 'down', '--all', '--runs-dir', runsRoot);
    expect(out).toContain(`${killedRun}: down (removed container pp-${killedRun}-r1, container pp-${killedRun}-r2)`);
    await expectEngineGone();
  }, 300_000);

  it('the last user SIGKILLed while another completed first: the watchdog stops the engine; lab down --all then finds nothing to stop', async (ctx) => {
    skipIfEngineInUse(ctx);
    const last = startRun('hold');
    await last.runId;
    const done = startRun('once');
    await done.runId;
    expect(await done.exited).toBe(0);
    expect(engineRunning()).toBe(true); // still in use by the holding run
    process.kill(last.pid, 'SIGKILL');
    await last.exited;
    await eventually(async () => (engineRunning() ? null : true), 'the watchdog stops the engine of a SIGKILLed last user', 30_000);
    await expectEngineGone();
    const out = await peerproof('lab', 'down', '--all', '--runs-dir', runsRoot);
    expect(out).not.toContain('docker engine: left running');
    await expectEngineGone();
  }, 300_000);

  it('lab down --all releases stale leases and stops an engine nobody uses, and says so', async (ctx) => {
    skipIfEngineInUse(ctx);
    const killed = startRun('hold');
    await killed.runId;
    process.kill(killed.pid, 'SIGKILL');
    await killed.exited;
    const out = await peerproof('lab', 'down', '--all', '--runs-dir', runsRoot);
    // The watchdog may have stopped it first (every 2 s): then down --all only removes the run.
    if (out.includes('docker engine:')) {
      expect(out).toMatch(/docker engine: released \d+ stale lease|docker engine: stopped/);
    }
    await expectEngineGone();
  }, 300_000);

  it('an engine started with `peerproof docker start` outlives every run until `peerproof docker stop`', async (ctx) => {
    skipIfEngineInUse(ctx);
    expect(await peerproof('docker', 'start')).toMatch(/dockerd (started|already running)/);
    try {
      const done = startRun('once');
      await done.runId;
      expect(await done.exited).toBe(0);
      const killed = startRun('hold');
      await killed.runId;
      process.kill(killed.pid, 'SIGKILL');
      await killed.exited;
      await new Promise((r) => setTimeout(r, 5000)); // two watchdog rounds
      expect(engineRunning()).toBe(true);
      const out = await peerproof('lab', 'down', '--all', '--runs-dir', runsRoot);
      expect(out).toContain('docker engine: left running (started with `peerproof docker start`');
      expect(engineRunning()).toBe(true);
    } finally {
      expect(await peerproof('docker', 'stop')).toContain('dockerd stopped');
    }
    await expectEngineGone();
  }, 300_000);

  afterAll(async () => {
    // Whatever failed above: never leave an engine this file started running.
    if (engineRunning() && sweepLeases().users.length === 0 && sweepLeases().runs.length === 0 && !existsSync('/run/peerproof-docker/kept')) await stopEngine();
  });
});
