// The live peer a replay runs against: a lab daemon (frr | gobgp | bird | openbgpd), the user's image
// (docker:IMAGE, run the way `peerproof run --speaker docker:IMAGE` runs it) or a real device
// (external:ADDRESS, reached through --external-interface the way `peerproof run` reaches it).
// The speaker machinery of conformance/lab/speakers does the work; this module only points it
// at the fixture's `peer` node.
import type { RouteEntry } from '../lab/kinds/index.ts';
import type { SpeakerHook } from '../lab/lab.ts';
import { DAEMON_KINDS as DAEMONS, type DaemonKindName, type LabNode } from '../lab/model.ts';
import type { ThirdPartyOptions } from '../lab/speakers/place.ts';
import { PEER_NODE } from './fixture.ts';

export type LivePeer = { kind: 'daemon'; daemon: DaemonKindName } | { kind: 'docker'; image: string } | { kind: 'external'; address: string };

/** `frr`, `docker:IMAGE` or `external:ADDRESS` -> the peer; throws with the accepted forms. */
export function parseLivePeer(value: string): LivePeer {
  if ((DAEMONS as readonly string[]).includes(value)) return { kind: 'daemon', daemon: value as DaemonKindName };
  const third = /^(docker|external):(.+)$/.exec(value);
  if (third?.[1] === 'docker') return { kind: 'docker', image: third[2]! };
  if (third?.[1] === 'external') return { kind: 'external', address: third[2]! };
  throw new Error(`"${value}": expected ${DAEMONS.join(', ')}, docker:IMAGE or external:ADDRESS`);
}

export function livePeerLabel(peer: LivePeer): string {
  return peer.kind === 'daemon' ? peer.daemon : peer.kind === 'docker' ? `docker:${peer.image}` : `external:${peer.address}`;
}

/** A docker or external peer placed on the fixture's `peer` node. */
export interface ThirdPartyPeer {
  hook: SpeakerHook;
  /** Reads the peer's RIB after the replay, or says why it cannot be read (route checks on it are then not judged). */
  readRib: ((runId: string) => Promise<RouteEntry[]>) | string;
  /** The device owns the peer's addresses: the replay must not add the recorded IPv6 ones to the node. */
  ownsAddresses: boolean;
  /** Called once the lab is down (gives back the docker engine lease; the last user stops the engine). */
  release: () => Promise<void>;
}

/**
 * Turns the fixture's `peer` node (a daemon node) into a speaker node run by the user's image or
 * bridged to the user's device, and returns its hook. The node keeps its addresses, neighbour
 * and announcements: they are what the image's template is rendered from, and what a device
 * must be configured with.
 */
export async function placeThirdPartyPeer(peer: Exclude<LivePeer, { kind: 'daemon' }>, peerNode: LabNode, third: ThirdPartyOptions, replayConnects = false): Promise<ThirdPartyPeer> {
  peerNode.kind = 'speaker';
  delete peerNode.frrConfig;
  delete peerNode.standIn;
  const { placeSpeaker } = await import('../lab/speakers/place.ts');
  if (peer.kind === 'docker') {
    // Only the peer node is offered: the replay node is a speaker node too, but it runs the player.
    const placed = await placeSpeaker({ kind: 'docker', image: peer.image }, { name: 'replay-peer', nodes: [peerNode], links: [] }, { thirdParty: third });
    const [{ containerRib, releaseEngineUsedHere }, { loadProfileFile }] = await Promise.all([import('../lab/speakers/container.ts'), import('../lab/speakers/profile.ts')]);
    const profile = loadProfileFile(third.profile!);
    return {
      hook: placed.hooks[PEER_NODE]!,
      readRib: profile.container?.rib
        ? async (runId) => (await containerRib(profile, runId, PEER_NODE)) ?? []
        : `the image's RIB is not read: ${profile.file} has no container.rib query`,
      ownsAddresses: false,
      release: releaseEngineUsedHere,
    };
  }
  const [{ checkExternalInterface, externalDeviceHook, externalHost }, { DEFAULT_EXTERNAL_PROFILE }, { loadProfileFile }, { readRibQuery }] = await Promise.all([
    import('../lab/speakers/external.ts'),
    import('../lab/speakers/place.ts'),
    import('../lab/speakers/profile.ts'),
    import('../lab/speakers/rib-query.ts'),
  ]);
  const profile = loadProfileFile(third.profile ?? DEFAULT_EXTERNAL_PROFILE);
  if (!third.externalInterface) throw new Error(`external:${peer.address} needs --external-interface IFNAME (the host interface that reaches the device)`);
  const host = externalHost(peer.address);
  const addresses = Object.values(peerNode.interfaces).flat().map((c) => c.split('/')[0]!);
  if (!addresses.includes(host)) throw new Error(`external:${peer.address}: the fixture's peer is ${addresses.join(', ')}; ${externalDeviceSetup(peerNode, replayConnects)}`);
  await checkExternalInterface(third.externalInterface);
  const query = profile.externalRib;
  return {
    hook: externalDeviceHook(third.externalInterface),
    readRib: query ? () => readRibQuery(query, `the RIB of external:${peer.address}`) : `the device's RIB is not read: ${profile.file} has no external.rib query`,
    ownsAddresses: true,
    release: async () => undefined,
  };
}

/** What the user configures on a device before `--against external:ADDRESS`, from the fixture. */
export function externalDeviceSetup(peerNode: LabNode, replayConnects = false): string {
  const addresses = Object.values(peerNode.interfaces).flat().join(', ');
  const sessions = peerNode.neighbors.map((n) => `neighbour ${n.address} AS ${n.asn}`).join(', ');
  const who = replayConnects ? 'the replay opens the session (the device must accept it on port 179)' : 'the device opens the session (the replay only listens; --connect makes the replay open it)';
  return `configure the device with ${addresses}, AS ${peerNode.asn ?? '?'}, router id ${peerNode.routerId ?? '(any)'}, ${sessions || 'no neighbour'}; ${who}`;
}
