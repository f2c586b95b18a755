// How to read the prefixes a speaker under test holds from one of its peers, whoever it is: the
// reference agent/speaker (its status API), a docker:IMAGE or external:ADDRESS speaker (its
// profile's rib query), or a lab daemon (the kind's RIB read). Shared by negative.malformed-update
// and the clause suite's lab SUT.
import { agentStatus } from './reference.ts';
import type { Lab } from '../lab.ts';
import { loadProfileFile } from './profile.ts';
import { readRibQuery } from './rib-query.ts';

export type RibReader = () => Promise<Set<string>>;

export interface RibReaderTarget {
  /** The speaker's lab node. */
  node: string;
  /** The peer whose routes are wanted (the agent's session name, the next hop of a daemon's path). */
  peerAddress: string;
  /** The node runs the reference agent or speaker by hook (status API on its agent socket). */
  hooked: boolean;
  /** Profile file of a docker:/external: speaker. */
  profileFile?: string;
  /**
   * A daemon's RIB is one table of every peer's routes: keep only paths whose next hop is the
   * peer's address (default: every prefix, for callers that use prefixes of their own).
   */
  byNextHop?: boolean;
}

/** A reader of the prefixes the speaker holds from the peer, or why they cannot be read. */
export function speakerRibReader(lab: Lab, t: RibReaderTarget): RibReader | string {
  const profile = t.profileFile ? loadProfileFile(t.profileFile) : null;
  const query = profile?.container ? profile.container.rib : profile?.external ? profile.externalRib : undefined;
  if (profile && (profile.container || profile.external)) {
    if (!query) return `the speaker's profile ${profile.file} has no ${profile.external ? 'external' : 'container'}.rib query, so its RIB is not read`;
    const read = profile.container
      ? async () => (await (await import('./container.ts')).containerRib(profile, lab.runId, t.node)) ?? []
      : () => readRibQuery(query, `speaker ${t.node}`);
    return async () => new Set((await read().catch(() => [])).map((r) => r.prefix));
  }
  if (t.hooked) {
    return async () => {
      const r = await agentStatus<{ status?: { receivedRoutes?: Array<{ prefix: string }> } }>(lab, t.node, `/sessions/${t.peerAddress}`).catch(() => null);
      return new Set((r?.status?.receivedRoutes ?? []).map((x) => x.prefix));
    };
  }
  const spec = lab.spec(t.node);
  if (spec.standIn === 'bird' && !spec.importRoutes) return 'the BIRD stand-in imports nothing (import none), so its RIB shows no received route';
  if (spec.standIn === 'openbgpd' && !spec.importRoutes) return 'the OpenBGPD stand-in imports nothing (no "allow from" rule), so its RIB shows no received route';
  return async () => {
    const rib = await lab.node(t.node).rib().catch(() => []);
    return new Set(rib.filter((r) => !t.byNextHop || r.nexthops.includes(t.peerAddress)).map((r) => r.prefix));
  };
}
