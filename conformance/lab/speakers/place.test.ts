import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../fixture/load.ts';
import { DEFAULT_EXTERNAL_PROFILE, externalSkipReason, placeSpeaker } from './place.ts';
import { ProfileError } from './profile.ts';
import { UnsupportedCombination } from './under-test.ts';

const seed000 = () => loadFixture('fixtures/seed-000-cilium-two-subnets').topology;
const example = join(import.meta.dirname, 'examples', 'bird-vendor.yaml');

describe('placing a --speaker spec', () => {
  it('docker:IMAGE hooks every speaker node with the container speaker and judges it by the given profile', async () => {
    const placed = await placeSpeaker({ kind: 'docker', image: 'vendor/bgp:1' }, seed000(), { thirdParty: { profile: example } });
    expect(Object.keys(placed.hooks).sort()).toEqual(['node1', 'node2']);
    expect(placed.profileFile).toBe(example);
    expect(placed.caseSkip).toBeUndefined();
  });

  it('docker:IMAGE without a profile, with a profile lacking `container:`, or on the docker backend cannot run, and says why', async () => {
    const docker = { kind: 'docker', image: 'vendor/bgp:1' } as const;
    await expect(placeSpeaker(docker, seed000(), {})).rejects.toThrow(/needs --speaker-profile FILE/);
    await expect(placeSpeaker(docker, seed000(), { thirdParty: { profile: DEFAULT_EXTERNAL_PROFILE } })).rejects.toThrow(ProfileError);
    await expect(placeSpeaker(docker, seed000(), { backend: 'docker', thirdParty: { profile: example } })).rejects.toThrow(/netns backend only/);
    await expect(placeSpeaker(docker, seed000(), { thirdParty: { profile: example, config: '/nonexistent.tmpl' } })).rejects.toThrow(/config template \/nonexistent.tmpl does not exist/);
  });

  it('external:ADDRESS needs the interface, and refuses one the host uses before the lab exists', async () => {
    const external = { kind: 'external', address: '10.0.1.10' } as const;
    await expect(placeSpeaker(external, seed000(), {})).rejects.toThrow(/needs --external-interface IFNAME/);
    await expect(placeSpeaker(external, seed000(), { thirdParty: { externalInterface: 'lo' } })).rejects.toThrow(UnsupportedCombination);
  });

  it('an external device runs session, encoding, negative and ADD-PATH cases; the others need topology control', () => {
    for (const id of ['session.establish', 'update.encoding', 'negative.malformed-update', 'addpath.multi-nexthop']) expect(externalSkipReason(id), id).toBeNull();
    for (const id of ['ecmp.spread', 'fault.link-down', 'podcidr.export', 'l2.arp-leader']) expect(externalSkipReason(id), id).toMatch(/needs topology control/);
  });

  it('a profile name still places the profile (lab daemon kind)', async () => {
    const placed = await placeSpeaker({ kind: 'profile', name: 'bird' }, seed000(), {});
    expect(placed.topology.nodes.filter((n) => n.kind === 'speaker').map((n) => n.standIn)).toEqual(['bird', 'bird']);
    expect(placed.profileFile).toBeUndefined();
  });
});
