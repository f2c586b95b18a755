// Speaker profiles: what a speaker under test claims (capabilities), how the lab runs it (a lab
// daemon kind that renders its config from the node's keys, or a hook module), and why it lacks
// what it lacks. A third-party speaker is added by dropping a YAML file in profiles/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DaemonKindName } from '../model.ts';

export const PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'profiles');

const DAEMON_KINDS: readonly DaemonKindName[] = ['frr', 'gobgp', 'bird'];

export interface SpeakerProfile {
  name: string;
  description: string;
  /** Lab daemon kind that configures and queries it (conformance/lab/kinds). */
  runs?: DaemonKindName;
  /** Module (relative to this folder's parent) exporting a SpeakerHook factory. */
  hook?: { module: string; export: string };
  capabilities: string[];
  /** Capability -> why the speaker does not have it (shown as the skip reason). */
  lacks: Record<string, string>;
  file: string;
}

export class ProfileError extends Error {}

export function parseProfile(text: string, file: string): SpeakerProfile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ProfileError(`${file}: not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ProfileError(`${file}: expected a mapping at the top`);
  const d = doc as Record<string, unknown>;
  const fail = (field: string, expected: string): never => {
    throw new ProfileError(`${file}: ${field}: expected ${expected}, got ${JSON.stringify(d[field]) ?? 'nothing'}`);
  };
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(d.name)) fail('name', 'a lower-case name (letters, digits, dashes)');
  if (d.runs !== undefined && !DAEMON_KINDS.includes(d.runs as DaemonKindName)) fail('runs', `one of ${DAEMON_KINDS.join(', ')}`);
  const hook = d.hook as Record<string, unknown> | undefined;
  if (hook !== undefined && (typeof hook !== 'object' || typeof hook.module !== 'string' || typeof hook.export !== 'string'))
    fail('hook', '{ module: PATH, export: NAME }');
  if ((d.runs === undefined) === (hook === undefined)) fail('runs', 'exactly one of `runs` or `hook`');
  if (!Array.isArray(d.capabilities) || !d.capabilities.every((c) => typeof c === 'string')) fail('capabilities', 'a list of names');
  const lacks = d.lacks ?? {};
  if (typeof lacks !== 'object' || Array.isArray(lacks) || !Object.values(lacks as object).every((v) => typeof v === 'string'))
    fail('lacks', 'a mapping capability -> reason');
  return {
    name: d.name as string,
    description: typeof d.description === 'string' ? d.description : '',
    runs: d.runs as DaemonKindName | undefined,
    hook: hook as SpeakerProfile['hook'],
    capabilities: d.capabilities as string[],
    lacks: lacks as Record<string, string>,
    file,
  };
}

export function loadProfiles(dir: string = PROFILES_DIR): Map<string, SpeakerProfile> {
  const profiles = new Map<string, SpeakerProfile>();
  if (!existsSync(dir)) return profiles;
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = join(dir, f);
    const profile = parseProfile(readFileSync(file, 'utf8'), file);
    if (profiles.has(profile.name)) throw new ProfileError(`${file}: speaker "${profile.name}" is already defined in ${profiles.get(profile.name)!.file}`);
    profiles.set(profile.name, profile);
  }
  return profiles;
}

export function loadProfile(name: string, dir: string = PROFILES_DIR): SpeakerProfile {
  const profiles = loadProfiles(dir);
  const profile = profiles.get(name);
  if (!profile) throw new ProfileError(`no speaker profile "${name}" in ${dir} (known: ${[...profiles.keys()].join(', ')})`);
  return profile;
}

/** Why the speaker cannot run a case needing `needs`, or null when it can. */
export function missingCapability(profile: SpeakerProfile, needs: readonly string[]): string | null {
  for (const need of needs) {
    if (profile.capabilities.includes(need)) continue;
    return `speaker ${profile.name} lacks ${need}: ${profile.lacks[need] ?? 'not among the capabilities its profile claims'}`;
  }
  return null;
}
