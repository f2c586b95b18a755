// Issue 22: `peerproof run --backend docker` runs everything the harness puts in a node (the
// reference agent, the flow generator, the TCP relay) and gives the verdicts the netns backend
// gives; a helper of ours that dies is `broken`, not `failed`; and a clone anywhere (a mode-700
// folder, a path with a space) works, because node containers see the project at its own path.
// Real dockerd, real FRR/GoBGP in containers, real vitest runs of the case files.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSummary, type CaseResult } from '../report/summary.ts';
import { runSuite, type SpeakerSpec } from './runner.ts';
import { caseStatus } from './collect.ts';
import { isHarnessError, type HarnessError } from '../lab/harness-error.ts';
import { startLab } from '../lab/lab.ts';
import { emptyNode } from '../lab/model.ts';
import { startRelay } from '../lab/relay-in-node.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'fixtures/seed-000-cilium-two-subnets';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function reportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-docker-run-'));
  chmodSync(dir, 0o755); // FRR runs as user frr and must reach its node folders
  dirs.push(dir);
  return dir;
}

async function run(backend: string, speakers: SpeakerSpec[], cases?: string[]): Promise<{ dir: string; cases: CaseResult[] }> {
  const dir = reportDir();
  await runSuite({ fixtures: [join(root, FIXTURE)], speakers, peers: ['frr'], cases, reportDir: dir, allure: false, backend, log: () => undefined });
  return { dir, cases: validateSummary(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).cases };
}

const verdicts = (cases: CaseResult[]) => Object.fromEntries(cases.map((c) => [`${c.speaker} ${c.id}`, c.status]));
const reasons = (cases: CaseResult[]) => cases.filter((c) => c.status !== 'passed').map((c) => `${c.speaker} ${c.id} ${c.status}: ${c.reason}`);

describe.skipIf(process.getuid?.() !== 0)('peerproof run on the docker backend', () => {
  it('seed-000 with the reference, frr and gobgp speakers: the verdicts of the netns backend, none broken', async () => {
    const speakers: SpeakerSpec[] = ['reference', 'frr', 'gobgp'].map((name) => ({ kind: 'profile', name }));
    const docker = await run('docker', speakers);
    const netns = await run('netns', speakers);
    expect(docker.cases).toHaveLength(15);
    expect(docker.cases.filter((c) => c.status === 'broken'), reasons(docker.cases).join('\n')).toEqual([]);
    expect(verdicts(docker.cases), `docker:\n${reasons(docker.cases).join('\n')}\nnetns:\n${reasons(netns.cases).join('\n')}`).toEqual(verdicts(netns.cases));
    // The reference agent and the flow generator ran inside the node containers.
    expect(docker.cases.find((c) => c.speaker === 'reference' && c.id === 'ecmp.spread')?.measurements).toMatchObject({ flows: 1000 });
  }, 600_000);

  it('a helper of ours that exits at once (the real TCP relay, given a bad argument) is a HarnessError naming its log, which the suite reports broken', async () => {
    const lab = await startLab({ name: 'relay-failure', nodes: [emptyNode('h1', 'host')], links: [] }, { runsRoot: reportDir(), backend: 'docker', wait: false });
    try {
      const log = join(lab.nodeDir('h1'), 'tcp-relay.log');
      const failure = await startRelay(lab, 'h1', ['--no-such-flag'], join(lab.nodeDir('h1'), 'inject.sock'), log).then(
        () => null,
        (err: unknown) => err,
      );
      expect(isHarnessError(failure), String(failure)).toBe(true);
      expect((failure as HarnessError).message).toMatch(/TCP relay in h1 exited before listening/);
      expect((failure as HarnessError).artifactsIn(lab.runDir)).toEqual(['nodes/h1/tcp-relay.log']);
      expect(readFileSync(log, 'utf8')).toMatch(/no-such-flag|usage/i);
    } finally {
      await lab.stop();
    }
    // And the reporter turns a case's HarnessError into `broken`, never `failed`.
    expect(caseStatus('failed', { name: 'HarnessError' })).toBe('broken');
    expect(caseStatus('failed', { name: 'AssertionError' })).toBe('failed');
  }, 300_000);

  it('runs from a clone under a mode-700 folder whose path has a space (node_modules linked from elsewhere)', async () => {
    const outer = mkdtempSync(join(tmpdir(), 'pp-private-')); // 0700
    dirs.push(outer);
    expect(statSync(outer).mode & 0o777).toBe(0o700);
    const clone = join(outer, 'my clone');
    const files = (await promisify(execFile)('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 16 << 20 })).stdout
      .split('\0')
      .filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      try {
        cpSync(join(root, f), join(clone, f));
      } catch {
        // listed but deleted in the working tree
      }
    }
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    const dir = reportDir();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      // A clone's first agent start transforms every module afresh (no tsx cache in a new
      // container): on a loaded machine that can take longer than the default 30 s.
      [join(clone, 'bin/peerproof.js'), 'run', '--backend', 'docker', '--fixture', join(clone, FIXTURE), '--case', 'session.establish', '--case', 'ecmp.spread', '--no-allure', '--lab-timeout', '120', '--report', dir],
      { cwd: clone, timeout: 400_000, maxBuffer: 16 << 20 },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      const agentLogs = (() => {
        try {
          return readdirSync(join(dir, 'runs')).flatMap((run) =>
            ['node1', 'node2'].map((n) => `--- ${n}/agent.log\n${readFileSync(join(dir, 'runs', run, 'nodes', n, 'agent.log'), 'utf8').split('\n').slice(-15).join('\n')}`),
          );
        } catch (e) {
          return [`(no agent log: ${(e as Error).message})`];
        }
      })();
      throw new Error(`peerproof run from the clone failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}\n${agentLogs.join('\n')}`);
    });
    const cases = validateSummary(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).cases;
    expect(cases.map((c) => `${c.id} ${c.status} ${c.reason}`).sort(), stdout).toEqual(['ecmp.spread passed ', 'session.establish passed ']);
  }, 450_000);
});
