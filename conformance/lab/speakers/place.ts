// Puts the speaker a `--speaker` spec names into a fixture's topology (already given its fabric
// peer): a profile of profiles/ (lab daemon kind or hook), a container of the user's image
// (docker:IMAGE), or a device outside the lab (external:ADDRESS), with the profile the cases
// judge it by and the cases it cannot be judged on.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpeakerHook } from '../lab.ts';
import type { LabTopology } from '../model.ts';
import { checkExternalInterface, externalDeviceHook, withExternalDevice } from './external.ts';
import { loadProfile, loadProfileFile, ProfileError } from './profile.ts';
import { speakerNodes, UnsupportedCombination, withSpeaker } from './under-test.ts';

export type SpeakerSpec = { kind: 'profile'; name: string } | { kind: 'docker'; image: string } | { kind: 'external'; address: string };

/** The profile an external device gets without --speaker-profile: BGP only, no L2, no cluster. */
export const DEFAULT_EXTERNAL_PROFILE = join(dirname(fileURLToPath(import.meta.url)), 'external-device.yaml');

/** Cases an external device can be judged on: they need no control of links, traffic or the cluster. */
const EXTERNAL_CASE_FAMILIES = ['session.', 'update.', 'negative.', 'addpath.'];

export function externalSkipReason(id: string): string | null {
  if (EXTERNAL_CASE_FAMILIES.some((f) => id.startsWith(f))) return null;
  return `${id} needs topology control (links, traffic or the cluster), which a device outside the lab does not give; external speakers run ${EXTERNAL_CASE_FAMILIES.map((f) => `${f}*`).join(', ')}`;
}

/** How docker:IMAGE and external:ADDRESS speakers are described and reached. */
export interface ThirdPartyOptions {
  /** --speaker-profile FILE: capabilities, and for docker: the `container:` section. */
  profile?: string;
  /** --speaker-config FILE: config template for docker:IMAGE (overrides the profile's). */
  config?: string;
  /** --external-interface IFNAME: the host interface that reaches the external device. */
  externalInterface?: string;
}

export interface SpeakerPlacement {
  topology: LabTopology;
  hooks: Record<string, SpeakerHook>;
  /** The profile file when it is not one of profiles/ (docker and external speakers). */
  profileFile?: string;
  /** Why a case cannot run on this speaker at all, or null. */
  caseSkip?: (id: string) => string | null;
}

/** The fixture (already given its fabric peer) with the speaker under test put in place. */
export async function placeSpeaker(spec: SpeakerSpec, topology: LabTopology, opts: { backend?: string; thirdParty?: ThirdPartyOptions }): Promise<SpeakerPlacement> {
  const third = opts.thirdParty ?? {};
  if (spec.kind === 'profile') return withSpeaker(topology, loadProfile(spec.name));
  if ((opts.backend ?? 'netns') !== 'netns') throw new UnsupportedCombination(`--speaker ${spec.kind}: joins labs of the netns backend only (not ${opts.backend})`);
  if (spec.kind === 'docker') {
    if (!third.profile)
      throw new UnsupportedCombination(`--speaker docker:${spec.image} needs --speaker-profile FILE (config path, start command, capabilities; see conformance/lab/speakers/README.md)`);
    const profile = loadProfileFile(third.profile);
    if (!profile.container) throw new ProfileError(`${profile.file}: docker:IMAGE speakers need a \`container:\` section (config, start)`);
    const nodes = speakerNodes(topology);
    if (nodes.length === 0) throw new UnsupportedCombination(`fixture ${topology.name} has no speaker nodes`);
    const { containerSpeakerHook } = await import('./container.ts');
    let hook: SpeakerHook;
    try {
      hook = containerSpeakerHook({ image: spec.image, profile, template: third.config && resolve(third.config) });
    } catch (err) {
      throw new ProfileError((err as Error).message);
    }
    return { topology, hooks: Object.fromEntries(nodes.map((n) => [n, hook])), profileFile: profile.file };
  }
  if (!third.externalInterface) throw new UnsupportedCombination(`--speaker external:${spec.address} needs --external-interface IFNAME (the host interface that reaches the device)`);
  const profile = loadProfileFile(third.profile ?? DEFAULT_EXTERNAL_PROFILE);
  const placed = withExternalDevice(topology, spec.address);
  await checkExternalInterface(third.externalInterface);
  return {
    topology: placed.topology,
    hooks: { [placed.node]: externalDeviceHook(third.externalInterface) },
    profileFile: profile.file,
    caseSkip: externalSkipReason,
  };
}

