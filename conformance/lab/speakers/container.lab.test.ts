// docker:IMAGE end to end: peerproof's own BIRD image plays "the vendor's image", configured only
// by the worked example's profile and template; `peerproof run` (runSuite) puts a container of it
// on both speaker nodes of seed-000 and the suite judges it. The engine is peerproof's private
// dockerd; the test stops it (by PID) if it started it and checks the host settings are back.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../cases/runner.ts';
import { labContainers } from '../backends/docker.ts';
import { ensureDebianPackages, ensureEngine, hostSettingsFile, readHostSettings, releaseEngine, type Engine, type HostSettings } from '../docker-engine.ts';
import { ensureImages } from '../images/build.ts';
import { loadFixture } from '../fixture/load.ts';
import { startLab } from '../lab.ts';
import { downRun } from '../teardown.ts';
import { containerRib, speakerContainerName } from './container.ts';
import { placeSpeaker } from './place.ts';
import { loadProfileFile } from './profile.ts';
import { withFabricPeer } from './under-test.ts';

const reportDir = mkdtempSync(join(tmpdir(), 'pp-docker-speaker-'));
chmodSync(reportDir, 0o755);
const profile = join(import.meta.dirname, 'examples', 'bird-vendor.yaml');
let engine: Engine;
let hostBefore: HostSettings;
let birdImage: string;

beforeAll(async () => {
  ensureDebianPackages(['docker.io']);
  hostBefore = existsSync(hostSettingsFile()) ? (JSON.parse(readFileSync(hostSettingsFile(), 'utf8')) as HostSettings) : readHostSettings();
  engine = await ensureEngine();
  birdImage = (await ensureImages(engine.docker)).images.bird;
}, 20 * 60_000);

afterAll(async () => {
  rmSync(reportDir, { recursive: true, force: true });
  // The last user stops the engine and restores the host; while another run uses it, it stays.
  if (engine && (await releaseEngine()).outcome === 'stopped') expect(readHostSettings()).toEqual(hostBefore);
});

describe('--speaker docker:IMAGE', () => {
  it('runs the vendor image on every speaker node from the user profile and template; session and encoding cases pass', async () => {
    const lines: string[] = [];
    const outcome = await runSuite({
      fixtures: ['fixtures/seed-000-cilium-two-subnets'],
      speakers: [{ kind: 'docker', image: birdImage }],
      peers: ['frr'],
      cases: ['session.establish', 'update.encoding', 'podcidr.export'],
      reportDir,
      allure: false,
      thirdParty: { profile },
      log: (l) => lines.push(l),
    });
    const cases = outcome.summary.cases;
    expect(cases.map((c) => `${c.id} ${c.status}`).sort(), lines.join('\n')).toEqual(['podcidr.export passed', 'session.establish passed', 'update.encoding passed']);
    expect(cases.every((c) => c.speaker === `docker:${birdImage}`)).toBe(true);
    const establish = cases.find((c) => c.id === 'session.establish')!;
    expect(establish.measurements).toMatchObject({ sessions: 2, established: 2, opensChecked: 2 });
    const encoding = cases.find((c) => c.id === 'update.encoding')!;
    expect(encoding.measurements).toMatchObject({ sessions: 2, prefixes: 4 });
    // The user's template, rendered per node, is what the container read.
    const config = encoding.artifacts.find((a) => a.endsWith('node2/speaker/bird.conf'));
    expect(config).toBeDefined();
    const text = readFileSync(join(reportDir, config!), 'utf8');
    expect(text).toContain('router id 10.0.2.10;');
    expect(text).toContain('route 172.31.254.64/26 blackhole;');
    // The speaker really ran in the container: its log is BIRD's own.
    const log = encoding.artifacts.find((a) => a.endsWith('node1/speaker/speaker.log'))!;
    expect(readFileSync(join(reportDir, log), 'utf8')).toMatch(/<INFO> Started/);
    const runId = config!.split('/')[1]!;
    expect((await labContainers(engine.docker)).concat(await speakerContainers(runId))).toEqual([]);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`pp-${runId}-`);
  }, 300_000);
});

describe('container speaker state', () => {
  it("reads the speaker's RIB inside its container with the profile's rib query; stopping the lab removes the container", async () => {
    const placed = await placeSpeaker({ kind: 'docker', image: birdImage }, withFabricPeer(loadFixture('fixtures/seed-000-cilium-two-subnets').topology, 'frr'), {
      thirdParty: { profile },
    });
    const lab = await startLab(placed.topology, { runsRoot: join(reportDir, 'rib'), speakers: placed.hooks, timeoutMs: 30_000 });
    try {
      const rib = await containerRib(loadProfileFile(profile), lab.runId, 'node2');
      expect(rib).toContainEqual({ prefix: '172.31.254.64/26', nexthops: ['blackhole'], table: 'rib' });
      expect(await speakerContainers(lab.runId)).toHaveLength(2);
    } finally {
      await lab.stop();
    }
    expect(await speakerContainers(lab.runId)).toEqual([]);
  }, 120_000);

  it('`lab down` after a crash removes the speaker containers of a netns run from its ledger', async () => {
    const placed = await placeSpeaker({ kind: 'docker', image: birdImage }, withFabricPeer(loadFixture('fixtures/seed-000-cilium-two-subnets').topology, 'frr'), {
      thirdParty: { profile },
    });
    const runsRoot = join(reportDir, 'crash');
    const lab = await startLab(placed.topology, { runsRoot, speakers: placed.hooks, wait: false });
    try {
      expect(await speakerContainers(lab.runId)).toHaveLength(2);
      // What `peerproof lab down RUN` does for a run whose owner died: only the ledger to go on.
      const down = await downRun(lab.runId, runsRoot);
      expect(down.removed.filter((r) => r.startsWith('container ')).sort()).toEqual([
        `container ${speakerContainerName(lab.runId, 'node1')}`,
        `container ${speakerContainerName(lab.runId, 'node2')}`,
      ]);
      expect(await speakerContainers(lab.runId)).toEqual([]);
    } finally {
      await lab.stop();
    }
  }, 120_000);
});

async function speakerContainers(runId: string): Promise<string[]> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: [`org.peerproof.run=${runId}`] } });
  return list.flatMap((c) => c.Names);
}
