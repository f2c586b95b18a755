// The docker backend on a real engine: the test starts peerproof's own dockerd (none runs on
// this machine or in CI), builds the images if the cache lacks them, runs the backend lab suite,
// and ends by stopping dockerd and checking the host's forwarding and firewall are as before.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureDebianPackages,
  ensureEngine,
  hostSettingsFile,
  readHostSettings,
  releaseEngine,
  stopEngine,
  sweepLeases,
  type Engine,
  type HostSettings,
} from '../docker-engine.ts';
import { ensureImages, imageTags, defaultRecipe } from '../images/build.ts';
import { containerName, labContainers } from './docker.ts';
import { describeBackendLab } from './lab-suite.ts';

let engine: Engine;
let hostBefore: HostSettings;

beforeAll(async () => {
  ensureDebianPackages(['docker.io', 'debootstrap']);
  // If an engine of ours already runs, its snapshot holds the settings from before it started.
  hostBefore = existsSync(hostSettingsFile())
    ? (JSON.parse(readFileSync(hostSettingsFile(), 'utf8')) as HostSettings)
    : readHostSettings();
  engine = await ensureEngine();
  // A fresh machine builds the images here (a few minutes); later runs find them by tag.
  await ensureImages(engine.docker);
}, 20 * 60_000);

afterAll(async () => {
  // Gives back this file's lease: stops the engine only if no other run (another engineer's
  // test, a `peerproof run`) still uses it. The last test stops it outright when nobody else does.
  await releaseEngine();
});

async function leftovers(runId: string): Promise<string[]> {
  const prefix = containerName(runId, '');
  return (await labContainers(engine.docker)).filter((name) => name.startsWith(prefix));
}

describe('docker engine and images', () => {
  it('runs dockerd without touching the host forwarding, firewall or bridge settings', () => {
    expect(readHostSettings()).toEqual(hostBefore);
  });

  it('finds the images of the current recipe in its cache instead of rebuilding', async () => {
    const again = await ensureImages(engine.docker);
    expect(again.built).toEqual([]);
    expect(again.images).toEqual(imageTags(defaultRecipe()));
  });

  it('reuses the running engine instead of starting a second dockerd', async () => {
    expect((await ensureEngine()).pid).toBe(engine.pid);
  });
});

describeBackendLab('docker', { leftovers });

describe('docker engine shutdown', () => {
  it('stops dockerd by its PID and leaves the host settings as they were before it started', async (ctx) => {
    // `docker stop` ends the engine whoever uses it: not under another live run on this machine.
    const others = sweepLeases();
    if (others.users.some((p) => p !== process.pid) || others.runs.length > 0 || existsSync('/run/peerproof-docker/kept'))
      return ctx.skip(`the engine is in use by others (pids ${others.users.filter((p) => p !== process.pid).join(', ')}; runs ${others.runs.join(', ')})`);
    const result = await stopEngine();
    expect(result.stopped).toBe(true);
    expect(existsSync(`/proc/${engine.pid}/cmdline`) && readFileSync(`/proc/${engine.pid}/cmdline`, 'utf8').includes('dockerd')).toBe(false);
    expect(readHostSettings()).toEqual(hostBefore);
    expect(existsSync(hostSettingsFile())).toBe(false);
  });
});
