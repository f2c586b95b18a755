// Issue 18: the peerproof image. The real CLI builds it (`peerproof docker image`, twice: the
// second finds this checkout's image and builds nothing), then the real docker CLI runs it on
// the lab's private engine as docs/container-image.md says, on one seed fixture, with the report
// written to a mounted folder. Afterwards the engine is given back through its lease: stopped by
// its PID when nobody else uses it, host settings as before.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  engineProcesses,
  engineSocketPath,
  ensureDebianPackages,
  ensureEngine,
  hostSettingsFile,
  readHostSettings,
  releaseEngine,
  type HostSettings,
} from '../docker-engine.ts';
import { eventually } from '../process-output.ts';
import { containerRunFlags } from './peerproof-image.ts';

const cli = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'pp-image-report-'));
const container = `pp-image-test-${process.pid}`;
const HOLDER = 'peerproof-image-test';
let hostBefore: HostSettings;

const docker = (...args: string[]) => spawnSync('docker', ['-H', `unix://${engineSocketPath()}`, ...args], { encoding: 'utf8', timeout: 600_000 });
const peerproof = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20 * 60_000 });

beforeAll(() => {
  ensureDebianPackages(['docker.io', 'debootstrap']);
  // The snapshot an engine already running took holds the true originals.
  hostBefore = existsSync(hostSettingsFile()) ? (JSON.parse(readFileSync(hostSettingsFile(), 'utf8')) as HostSettings) : readHostSettings();
});

afterAll(async () => {
  if (existsSync(engineSocketPath())) docker('rm', '-f', container);
  rmSync(out, { recursive: true, force: true });
  const released = await releaseEngine(undefined, HOLDER);
  if (released.outcome === 'stopped') {
    // Stopped by its pidfile's PID (releaseEngine -> stopEngine): nothing of it runs, host as before.
    await eventually(async () => (engineProcesses().length === 0 ? true : null), 'no dockerd/containerd of peerproof left', 15_000);
    expect(engineProcesses()).toEqual([]);
    expect(readHostSettings()).toEqual(hostBefore);
  } else {
    // Another engineer's run (or `peerproof docker start`) still holds it: ours is given back.
    expect(released.users).not.toContain(process.pid);
  }
}, 120_000);

describe.skipIf(process.getuid?.() !== 0)('the peerproof image', () => {
  let tag = '';

  it('`peerproof docker image` builds it once; a second call finds it built for this checkout', () => {
    const first = peerproof('docker', 'image');
    expect(first.status, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/^(built|peerproof\/peerproof:\w+: already built)/m);
    const second = peerproof('docker', 'image');
    expect(second.status, second.stderr + second.stdout).toBe(0);
    const reused = /^(peerproof\/peerproof:\w+): already built for this checkout$/m.exec(second.stdout);
    expect(reused, second.stdout).not.toBeNull();
    expect(second.stdout).not.toMatch(/^built /m);
    expect(second.stdout).toContain(`peerproof/peerproof:latest = ${reused![1]}`);
    tag = reused![1]!;
    for (const o of [first, second]) console.log(o.stdout.trim());
  }, 25 * 60_000);

  it('`docker run IMAGE run --fixture seed-000 --report /report` passes the main job and writes the report to the mounted folder', async () => {
    expect(tag).not.toBe('');
    await ensureEngine(undefined, { holder: HOLDER });
    chmodSync(out, 0o755);
    const r = docker('run', '--rm', '--name', container, ...containerRunFlags(), '-v', `${out}:/report`, tag, 'run', '--fixture', 'seed-000-cilium-two-subnets', '--report', '/report', '--no-allure');
    expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { totals: Record<string, number>; cases: Array<{ fixture: string; status: string }> };
    expect(summary.totals.failed).toBe(0);
    expect(summary.totals.broken).toBe(0);
    expect(summary.totals.passed).toBeGreaterThan(0);
    expect(new Set(summary.cases.map((c) => c.fixture))).toEqual(new Set(['seed-000-cilium-two-subnets']));
    for (const file of ['junit.xml', 'matrix.html']) expect(existsSync(join(out, file)), file).toBe(true);
    // The labs were inside the container's own namespaces: none of them is on the host.
    expect(docker('ps', '-a', '--filter', `name=${container}`, '--format', '{{.Names}}').stdout.trim()).toBe('');
  }, 10 * 60_000);
});
