// Replays field fixtures against third-party peers the way `peerproof run` places them: the
// "vendor image" is peerproof's own BIRD image (docker:IMAGE, configured from the worked
// example's profile and a template), the "external device" is a BIRD in a lab of its own reached
// through a veth whose host end is handed over as --external-interface (it stays down and
// without addresses in the host namespace until the run moves it into the peer node's bridge).
// The verdicts must equal the ones field.lab.test.ts pins for the lab's BIRD.
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { namespaceName } from '../lab/backends/netns.ts';
import { ensureDebianPackages, ensureEngine, releaseEngine, type Engine } from '../lab/docker-engine.ts';
import { ensureImages } from '../lab/images/build.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { emptyNode, type LabTopology } from '../lab/model.ts';
import { run, runChecked } from '../lab/netns.ts';
import { leftovers } from '../lab/teardown.ts';
import { decodeMessage } from '../../reference/bgp/wire/index.ts';
import { findConversations } from './from-pcap.ts';
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
    writeFileSync(template, example.replaceAll('import none;', 'import all;'));
  }, 20 * 60_000);

  afterAll(async () => {
    // Stopped only if no other peerproof process uses it (the replays gave their own leases back).
    if (engine) await releaseEngine();
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

  it('one-way ADD-PATH: the template renders the peer\'s send-only offer, the image puts it in its OPEN, the verdict is the one pinned for BIRD', async () => {
    const replay = await runReplayFixture(join(fixtures, 'field-addpath-ipv4-played-both-peer-send-only'), {
      against: `docker:${birdImage}`,
      thirdParty: { profile, config: template },
      runsRoot: join(root, 'docker'),
    });
    const config = readFileSync(join(replay.runDir, 'nodes', 'peer', 'speaker', 'bird.conf'), 'utf8');
    expect(config).toContain('ipv4 { import all; export where source = RTS_STATIC; add paths tx; };');
    const open = replay.observation.events.find((e) => e.kind === 'received' && e.type === 'OPEN') as { hex: string } | undefined;
    const decoded = decodeMessage(Uint8Array.from(Buffer.from(open!.hex, 'hex')));
    expect(decoded.type === 'OPEN' && decoded.capabilities.find((c) => c.name === 'add-path')).toMatchObject({ entries: [{ afi: 1, safi: 1, mode: 'send' }] });
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe('bug-present');
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 180_000);
});

describe.skipIf(process.getuid?.() !== 0)('replay against external:ADDRESS', () => {
  let device: Lab;
  let passiveDevice: Lab;
  const hostEnds: string[] = [];

  // Configured by hand as the fixture's peer, as the device's owner would (see externalDeviceSetup);
  // it imports what it learns, so its RIB says whether the recorded route arrived.
  function deviceTopology(): LabTopology {
    const node = emptyNode('device', 'speaker');
    Object.assign(node, {
      standIn: 'bird',
      importRoutes: true,
      asn: 65002,
      routerId: '10.90.0.2',
      neighbors: [{ address: '10.90.0.1', asn: 65001 }],
      announce: ['192.0.2.0/24'],
    });
    return { name: 'replay-external-device', nodes: [node], links: [] };
  }

  /**
   * A fresh link to the device: a run takes the host end into its lab and deletes it with the
   * veth pair. Born with the device end in the device's namespace; the host end stays down and bare.
   */
  async function linkTo(lab: Lab): Promise<string> {
    const hostEnd = `ppr${randomBytes(4).toString('hex')}`;
    hostEnds.push(hostEnd);
    const ns = namespaceName(lab.runId, 'device');
    // The previous run's pair dies with that run's namespace, which the kernel tears down lazily.
    await run(['ip', '-n', ns, 'link', 'del', 'eth1']);
    await runChecked(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
    for (const cmd of [['addr', 'add', '10.90.0.2/24', 'dev', 'eth1'], ['-6', 'addr', 'add', 'fd00:90::2/64', 'dev', 'eth1', 'nodad'], ['link', 'set', 'eth1', 'up']])
      await runChecked(['ip', '-n', ns, ...cmd]);
    return hostEnd;
  }

  /** A profile whose external.rib reads the device's RIB the way an owner would script it (here: its BIRD's control socket). */
  function profileWithRib(): string {
    const file = join(root, 'device-with-rib.yaml');
    const socket = join(device.nodeDir('device'), 'bird.ctl');
    writeFileSync(file, `name: bird-device\nexternal:\n  rib: { command: [birdc, -s, ${socket}, show, route], format: bird }\ncapabilities: [ipv4, ebgp]\n`);
    return file;
  }

  beforeAll(async () => {
    device = await startLab(deviceTopology(), { runsRoot: join(root, 'device'), wait: false });
    // A BIRD its owner configured passive (`passive on`): it never opens the session itself.
    passiveDevice = await startLab({ name: 'replay-passive-device', nodes: [emptyNode('device', 'host')], links: [] }, { runsRoot: join(root, 'passive'), wait: false });
    const dir = passiveDevice.nodeDir('device');
    writeFileSync(
      join(dir, 'bird.conf'),
      [
        'router id 10.90.0.2;',
        'protocol device { scan time 1; }',
        'protocol static { ipv4; route 192.0.2.0/24 blackhole; }',
        'protocol bgp replay {',
        '  local as 65002; neighbor 10.90.0.1 as 65001; passive on;',
        '  hold time 9; keepalive time 3;',
        '  ipv4 { import all; export where source = RTS_STATIC; };',
        '}',
        '',
      ].join('\n'),
    );
    await passiveDevice.backend.spawn('device', ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')], { label: 'bird', logFile: join(dir, 'bird.log') });
  }, 60_000);

  afterAll(async () => {
    await device?.stop();
    await passiveDevice?.stop();
    for (const end of hostEnds) await run(['ip', 'link', 'del', end]);
  });

  it('the player is bridged to the device through the interface and gets the verdict pinned for BIRD', async () => {
    const hostEnd = await linkTo(device);
    const replay = await runReplayFixture(join(fixtures, 'field-extended-nexthop-one-side'), {
      against: 'external:10.90.0.2',
      thirdParty: { externalInterface: hostEnd },
      runsRoot: join(root, 'external'),
    });
    expect(replay.against).toBe('external:10.90.0.2');
    expect(replay.mode).toBe('passive');
    expect(replay.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(replay.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    // The device's OPEN is the hand-configured BIRD's.
    expect(replay.observation.events.some((e) => e.kind === 'received' && e.type === 'OPEN')).toBe(true);
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe('pass');
    // A device's RIB is not read without a rib query: the observed route check says so instead of failing.
    expect(replay.observation.ribs.peer).toBeUndefined();
    expect(replay.evaluation?.observed[0]).toMatchObject({ judged: false, detail: expect.stringContaining("the device's RIB is not read") });
    // The conversation crossed the bridge in the peer node's namespace: it is in its capture.
    expect(replay.capture !== null && existsSync(replay.capture)).toBe(true);
    expect(readFileSync(replay.capture!).length).toBeGreaterThan(200);
    // The interface went with the run's namespace.
    expect((await run(['ip', 'link', 'show', 'dev', hostEnd])).code).not.toBe(0);
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 180_000);

  it('a fixture judged by the peer\'s routes is undecided without the device\'s RIB, and decided with a rib query', async () => {
    const fixture = join(fixtures, 'field-addpath-ipv4-played-none-peer-default');
    const blind = await runReplayFixture(fixture, { against: 'external:10.90.0.2', thirdParty: { externalInterface: await linkTo(device) }, runsRoot: join(root, 'external') });
    expect(blind.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    // The session checks hold, but the route that tells healthy from the bug could not be looked at.
    expect(blind.evaluation?.verdict, JSON.stringify(blind.evaluation)).toBe('undecided');
    expect(blind.evaluation?.healthy.filter((r) => r.judged).every((r) => r.holds)).toBe(true);
    expect(blind.evaluation?.symptoms[0]).toMatchObject({ judged: false });
    expect(blind.evaluation?.reason).toMatch(/^nothing decisive: every judged healthy check holds but 1 could not be judged, no symptom check could be judged/);

    const seen = await runReplayFixture(fixture, {
      against: 'external:10.90.0.2',
      thirdParty: { externalInterface: await linkTo(device), profile: profileWithRib() },
      runsRoot: join(root, 'external'),
    });
    // With the device's RIB read through the profile's command: the verdict field.lab.test.ts pins for BIRD.
    expect(seen.observation.ribs.peer?.some((r) => r.prefix === '192.0.2.0/24')).toBe(true);
    expect(seen.evaluation?.verdict, JSON.stringify(seen.evaluation)).toBe('bug-present');
    expect(leftovers(seen.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 240_000);

  it('active: the replay opens the session to a device configured passive', async () => {
    const replay = await runReplayFixture(join(fixtures, 'field-extended-nexthop-one-side'), {
      against: 'external:10.90.0.2',
      thirdParty: { externalInterface: await linkTo(passiveDevice) },
      runsRoot: join(root, 'active'),
      connect: true,
    });
    expect(replay.mode).toBe('active');
    expect(replay.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(replay.observation.events.some((e) => (e as { kind: string }).kind === 'connecting')).toBe(true);
    expect(replay.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe('pass');
    // The capture shows who opened it: the SYN came from the replay's address.
    expect(findConversations(readFileSync(replay.capture!))[0]?.opener).toMatch(/^10\.90\.0\.1:/);
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 180_000);

  it('refuses an address that is not the fixture peer\'s, saying what to configure on the device', async () => {
    await expect(
      runReplayFixture(join(fixtures, 'field-extended-nexthop-one-side'), { against: 'external:10.9.9.9', thirdParty: { externalInterface: 'lo' }, runsRoot: join(root, 'refused') }),
    ).rejects.toThrow(/configure the device with 10\.90\.0\.2\/24, AS 65002, router id 10\.90\.0\.2, neighbour 10\.90\.0\.1 AS 65001/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('active replay against a passive FRR', () => {
  it('connects from the replay address; FRR (neighbor passive) never would', async () => {
    // A copy of the fixture whose peer runs a ready-made frr.conf with the replay as a passive neighbour.
    const fixture = join(root, 'field-extended-nexthop-passive-frr');
    cpSync(join(fixtures, 'field-extended-nexthop-one-side'), fixture, { recursive: true });
    const topologyFile = join(fixture, 'topology.clab.yml');
    const topology = parse(readFileSync(topologyFile, 'utf8')) as { topology: { nodes: { peer: { 'x-peerproof': Record<string, unknown> } } } };
    topology.topology.nodes.peer['x-peerproof'].frrConfig = 'frr.conf';
    writeFileSync(topologyFile, stringify(topology));
    writeFileSync(
      join(fixture, 'frr.conf'),
      [
        'frr defaults traditional', 'hostname peer', '!',
        'router bgp 65002', ' bgp router-id 10.90.0.2', ' no bgp ebgp-requires-policy', ' timers bgp 3 9',
        ' neighbor 10.90.0.1 remote-as 65001', ' neighbor 10.90.0.1 passive', 'exit', '',
      ].join('\n'),
    );
    const replay = await runReplayFixture(fixture, { runsRoot: join(root, 'active-frr'), connect: true });
    expect(replay.against).toBe('frr');
    expect(replay.mode).toBe('active');
    expect(replay.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(replay.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    expect(replay.evaluation?.verdict, JSON.stringify(replay.evaluation)).toBe('pass');
    expect(findConversations(readFileSync(replay.capture!))[0]?.opener).toMatch(/^10\.90\.0\.1:/);
    expect(leftovers(replay.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 180_000);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
