import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyNode, type LabTopology } from '../model.ts';
import { loadProfile, loadProfileFile, loadProfiles, missingCapability, parseProfile, ProfileError } from './profile.ts';
import { UnsupportedCombination, withFabricPeer, withSpeaker } from './under-test.ts';

const dir = mkdtempSync(join(tmpdir(), 'pp-profiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('speaker profiles', () => {
  it('the shipped profiles load: frr, gobgp, bird, openbgpd run as lab daemons, reference through its hook', () => {
    const profiles = loadProfiles();
    expect([...profiles.keys()].sort()).toEqual(['bird', 'frr', 'gobgp', 'openbgpd', 'reference']);
    expect(profiles.get('openbgpd')!.runs).toBe('openbgpd');
    expect(profiles.get('gobgp')!.runs).toBe('gobgp');
    expect(profiles.get('reference')!.hook).toEqual({ module: '../reference.ts', export: 'referenceSpeakerHook' });
  });

  it('a new third-party speaker is a YAML file; a missing capability skips with its reason', () => {
    writeFileSync(join(dir, 'acme.yaml'), 'name: acme\nruns: bird\ncapabilities: [ipv4, ebgp]\nlacks: { l2: "acme speaks BGP only" }\n');
    const acme = loadProfile('acme', dir);
    expect(missingCapability(acme, ['ipv4'])).toBeNull();
    expect(missingCapability(acme, ['ipv4', 'l2'])).toBe('speaker acme lacks l2: acme speaks BGP only');
    expect(missingCapability(acme, ['addpath-send'])).toMatch(/lacks addpath-send: not among the capabilities/);
  });

  it('a container profile (docker:IMAGE) names where the config goes, how to start and query it; the template path is relative to the file', () => {
    const example = loadProfileFile(join(import.meta.dirname, 'examples', 'bird-vendor.yaml'));
    expect(example.container).toEqual({
      config: '/etc/bird/bird.conf',
      template: join(import.meta.dirname, 'examples', 'bird-vendor.conf.tmpl'),
      start: ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird.ctl'],
      rib: { command: ['birdc', '-s', '/run/bird.ctl', 'show', 'route'], format: 'bird' },
    });
    expect(example.runs).toBeUndefined();
    expect(() => loadProfileFile(join(dir, 'missing.yaml'))).toThrow(/missing.yaml does not exist/);
  });

  it('the default external-device profile claims BGP only and says why not the rest', () => {
    const external = loadProfileFile(join(import.meta.dirname, 'external-device.yaml'));
    expect(external.external).toBe(true);
    expect(missingCapability(external, ['ebgp', 'multihop'])).toBeNull();
    expect(missingCapability(external, ['l2'])).toMatch(/does not judge an external device's ARP/);
  });

  it('an external device may say how its RIB is read: a host command whose output one lab kind parses', () => {
    const p = parseProfile('name: tor\nexternal: { rib: { command: [ssh, admin@tor, birdc, show, route], format: bird } }\ncapabilities: [ipv4]\n', 'tor.yaml');
    expect(p.external).toBe(true);
    expect(p.externalRib).toEqual({ command: ['ssh', 'admin@tor', 'birdc', 'show', 'route'], format: 'bird' });
    expect(loadProfileFile(join(import.meta.dirname, 'external-device.yaml')).externalRib).toBeUndefined();
  });

  it('bad profiles name the file and the field', () => {
    expect(() => parseProfile('name: x\ncapabilities: []\n', 'x.yaml')).toThrow(/x.yaml: runs: expected exactly one of `runs`, `hook`, `container` or `external: true`/);
    expect(() => parseProfile('name: x\ncontainer: { config: etc/x.conf, start: [x] }\ncapabilities: []\n', 'x.yaml')).toThrow(/container.config: expected an absolute path/);
    expect(() => parseProfile('name: x\ncontainer: { config: /etc/x.conf, start: x }\ncapabilities: []\n', 'x.yaml')).toThrow(/container.start: expected a command as a list/);
    expect(() => parseProfile('name: x\ncontainer: { config: /etc/x.conf, start: [x], rib: { command: [x], format: junos } }\ncapabilities: []\n', 'x.yaml')).toThrow(/container.rib.format: expected one of frr, gobgp, bird/);
    expect(() => parseProfile('name: x\nexternal: yes please\ncapabilities: []\n', 'x.yaml')).toThrow(/external: expected true or \{ rib/);
    expect(() => parseProfile('name: x\nexternal: { rib: { command: show } }\ncapabilities: []\n', 'x.yaml')).toThrow(/external.rib.command: expected a command as a list/);
    expect(() => parseProfile('name: x\nruns: quagga\ncapabilities: []\n', 'x.yaml')).toThrow(/runs: expected one of frr, gobgp, bird/);
    expect(() => parseProfile('name: [\n', 'x.yaml')).toThrow(ProfileError);
    expect(() => parseProfile('- a\n', 'x.yaml')).toThrow(/expected a mapping/);
    expect(() => loadProfile('nope', dir)).toThrow(/no speaker profile "nope"/);
  });
});

function topology(): LabTopology {
  const router = emptyNode('router', 'frr');
  const node1 = emptyNode('node1', 'speaker');
  node1.standIn = 'bird';
  return { name: 't', nodes: [router, node1, emptyNode('client', 'host')], links: [] };
}

describe('placing the speaker under test and the fabric peer', () => {
  it('re-renders router nodes as the peer kind and speaker nodes as the profile daemon', async () => {
    const placed = await withSpeaker(withFabricPeer(topology(), 'gobgp'), loadProfile('frr'));
    expect(placed.topology.nodes.map((n) => [n.name, n.kind, n.standIn])).toEqual([
      ['router', 'gobgp', undefined],
      ['node1', 'speaker', 'frr'],
      ['client', 'host', undefined],
    ]);
    expect(placed.hooks).toEqual({});
  });

  it('a ready-made FRR config cannot become another daemon: the combination is unsupported', () => {
    const t = topology();
    t.nodes[0]!.frrConfig = '/x/frr.conf';
    expect(() => withFabricPeer(t, 'gobgp')).toThrow(UnsupportedCombination);
    expect(withFabricPeer(t, 'frr').nodes[0]!.kind).toBe('frr');
  });

  it('a fixture without speaker nodes cannot test a speaker', async () => {
    const t = topology();
    t.nodes = t.nodes.filter((n) => n.kind !== 'speaker');
    await expect(withSpeaker(t, loadProfile('bird'))).rejects.toThrow(/has no speaker nodes/);
  });
});
