// Puts a speaker under test and a fabric peer into a fixture's topology: every `speaker` node
// runs the speaker (its profile's daemon kind, or its hook), every router node is re-rendered as
// the fabric peer's daemon kind.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SpeakerHook } from '../lab.ts';
import { DAEMON_KINDS, isDaemonKind, type DaemonKindName, type LabTopology } from '../model.ts';
import type { SpeakerProfile } from './profile.ts';

/** The combination cannot run on this topology (a precise reason; cases become `skipped`). */
export class UnsupportedCombination extends Error {}

export const FABRIC_PEERS: readonly DaemonKindName[] = DAEMON_KINDS;

const isRouter = isDaemonKind;

export function withFabricPeer(topology: LabTopology, peer: DaemonKindName): LabTopology {
  const nodes = topology.nodes.map((n) => {
    if (!isRouter(n.kind) || n.kind === peer) return n;
    if (n.frrConfig) throw new UnsupportedCombination(`node ${n.name} uses a ready-made FRR config (${n.frrConfig}); it cannot be re-rendered as ${peer}`);
    return { ...n, kind: peer };
  });
  return { ...topology, nodes };
}

export function speakerNodes(topology: LabTopology): string[] {
  return topology.nodes.filter((n) => n.kind === 'speaker').map((n) => n.name);
}

export interface SpeakerPlacement {
  topology: LabTopology;
  /** Hooks per speaker node, for speakers that are not a lab daemon kind. */
  hooks: Record<string, SpeakerHook>;
}

const speakersDir = dirname(fileURLToPath(import.meta.url));

export async function withSpeaker(topology: LabTopology, profile: SpeakerProfile): Promise<SpeakerPlacement> {
  const nodes = speakerNodes(topology);
  if (nodes.length === 0) throw new UnsupportedCombination(`fixture ${topology.name} has no speaker nodes`);
  if (profile.runs) {
    const runs = profile.runs;
    return { topology: { ...topology, nodes: topology.nodes.map((n) => (n.kind === 'speaker' ? { ...n, standIn: runs } : n)) }, hooks: {} };
  }
  const hook = profile.hook!;
  const module = resolve(speakersDir, 'profiles', hook.module);
  if (!existsSync(module)) throw new UnsupportedCombination(`speaker ${profile.name}: its hook module ${module} does not exist yet`);
  const exported = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  const factory = exported[hook.export];
  if (typeof factory !== 'function') throw new UnsupportedCombination(`speaker ${profile.name}: ${module} does not export ${hook.export}`);
  const made = (factory as (options: Record<string, unknown>) => SpeakerHook)({});
  return { topology, hooks: Object.fromEntries(nodes.map((n) => [n, made])) };
}
