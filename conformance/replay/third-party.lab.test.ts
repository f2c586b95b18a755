// Replays field fixtures against third-party peers the way `peerproof run` places them: the
// "vendor image" is peerproof's own BIRD image (docker:IMAGE, configured from the worked
// example's profile and a template), the "external device" is a BIRD in a lab of its own reached
// through a veth whose host end is handed over as --external-interface (it stays down and
// without addresses in the host namespace until the run moves it into the peer node's bridge).
// The verdicts must equal the ones field.lab.test.ts pins for the lab's BIRD.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceName } from '../lab/backends/netns.ts';
import { ensureDebianPackages, ensureEngine, stopEngine, type Engine } from '../lab/docker-engine.ts';
import { ensureImages } from '../lab/images/build.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { emptyNode, type LabTopology } from '../lab/model.ts';
import { run, runChecked } from '../lab/netns.ts';
import { leftovers } from '../lab/teardown.ts';
import { runReplayFixture } from './run.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures');
const root = mkdtempSync(join(tmpdir(), 'pp-replay-3p-'));
chmodSync(root, 0o755);
const profile = resolve(import.meta.dirname, '../lab/speakers/examples/bird-vendor.yaml');

describe.skipIf(process.getuid?.() !== 0)('replay against docker:IMAGE', () => {
  let engine: Engine;
  let birdImage: string;
  // The worked example's template exports its statics and imports nothing; a replay wants the
  // peer to accept the recorded routes, so this user template imports them.
  const template = join(root, 'bird-replay.conf.tmpl');

  beforeAll(async () => {
    ensureDebianPackages(['docker.io']);
    engine = await ensureEngine();
    birdImage = (await ensureImages(engine.docker)).images.bird;
    const example = readFileSync(resolve(import.meta.dirname, '../lab/speakers/examples/bird-vendor.conf.tmpl'), 'utf8');
    expect(example).toContain('ipv4 { import none;');
    writeFileSync(template, example.replace('ipv4 { import none;', 'ipv4 { import all;'));
  }, 20 * 60_000);

  afterAll(async () => {
    if (engine?.started) await stopEngine();
  });

  it.each([
    ['field-extended-nexthop-one-side', 'pass'],
    ['field-addpath-ipv4-played-none-peer-default', 'bug-present'],
  ])('%s: the image on the peer node gives the verdict pinned for BIRD (%s)', async (name, verdict) => {
    const replay = await runReplayFixture(join(fixtures, name), {
      against: `docker:${birdImage}`,
      thirdParty: { profile, config: template },
      runsRoot: join(root, 'docker'),
    });
    expect(replay.against).toBe(`docker:${birdImage}`);
    expect(replay.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(replay.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe(verdict);
    // The RIB was read inside the container with the profile's query: it holds the template's static.
    expect(replay.observation.ribs.peer?.some((r) => r.prefix === '192.0.2.0/24')).toBe(true);
    // The config the container read was rendered from the fixture's peer node.
    const config = readFileSync(join(replay.runDir, 'nodes', 'peer', 'speaker', 'bird.conf'), 'utf8');
    expect(config).toContain('router id 10.90.0.2;');
    expect(config).toMatch(/local as 65002;\s+neighbor 10\.90\.0\.1 as 65001;/);
    expect(replay.capture !== null && existsSync(replay.capture)).toBe(true);
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
    // Stopping the lab removed the container.
    expect(await engine.docker.listContainers({ all: true, filters: { label: [`org.peerproof.run=${basename(replay.runDir)}`] } })).toEqual([]);
  }, 180_000);
});

describe.skipIf(process.getuid?.() !== 0)('replay against external:ADDRESS', () => {
  const hostEnd = `ppr${randomBytes(4).toString('hex')}`;
  let device: Lab;

  // Configured by hand as the fixture's peer, as the device's owner would (see externalDeviceSetup).
  function deviceTopology(): LabTopology {
    const node = emptyNode('device', 'speaker');
    Object.assign(node, {
      standIn: 'bird',
      asn: 65002,
      routerId: '10.90.0.2',
      neighbors: [{ address: '10.90.0.1', asn: 65001 }],
      announce: ['192.0.2.0/24'],
    });
    return { name: 'replay-external-device', nodes: [node], links: [] };
  }

  beforeAll(async () => {
    device = await startLab(deviceTopology(), { runsRoot: join(root, 'device'), wait: false });
    const ns = namespaceName(device.runId, 'device');
    // Born with the device end in the device's namespace; the host end stays down and bare.
    await runChecked(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
    for (const cmd of [['addr', 'add', '10.90.0.2/24', 'dev', 'eth1'], ['-6', 'addr', 'add', 'fd00:90::2/64', 'dev', 'eth1', 'nodad'], ['link', 'set', 'eth1', 'up']])
      await runChecked(['ip', '-n', ns, ...cmd]);
  }, 60_000);

  afterAll(async () => {
    await device?.stop();
    await run(['ip', 'link', 'del', hostEnd]);
  });

  it('the player is bridged to the device through the interface and gets the verdict pinned for BIRD', async () => {
    const replay = await runReplayFixture(join(fixtures, 'field-extended-nexthop-one-side'), {
      against: 'external:10.90.0.2',
      thirdParty: { externalInterface: hostEnd },
      runsRoot: join(root, 'external'),
    });
    expect(replay.against).toBe('external:10.90.0.2');
    expect(replay.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(replay.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    // The device's OPEN is the hand-configured BIRD's.
    expect(replay.observation.events.some((e) => e.kind === 'received' && e.type === 'OPEN')).toBe(true);
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe('pass');
    // A device's RIB is not ours to read.
    expect(replay.observation.ribs.peer).toBeUndefined();
    // The conversation crossed the bridge in the peer node's namespace: it is in its capture.
    expect(replay.capture !== null && existsSync(replay.capture)).toBe(true);
    expect(readFileSync(replay.capture!).length).toBeGreaterThan(200);
    // The interface went with the run's namespace.
    expect((await run(['ip', 'link', 'show', 'dev', hostEnd])).code).not.toBe(0);
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 180_000);

  it('refuses an address that is not the fixture peer\'s, saying what to configure on the device', async () => {
    await expect(
      runReplayFixture(join(fixtures, 'field-extended-nexthop-one-side'), { against: 'external:10.9.9.9', thirdParty: { externalInterface: hostEnd }, runsRoot: join(root, 'refused') }),
    ).rejects.toThrow(/configure the device with 10\.90\.0\.2\/24, AS 65002, router id 10\.90\.0\.2, neighbour 10\.90\.0\.1 AS 65001/);
  });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
