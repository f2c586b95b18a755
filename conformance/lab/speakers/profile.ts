// Speaker profiles: what a speaker under test claims (capabilities), how the lab runs it (a lab
// daemon kind that renders its config from the node's keys, a hook module, a container of the
// vendor's image configured from a template, or an external device), and why it lacks what it
// lacks. A third-party speaker is added by dropping a YAML file in profiles/ (or passing one
// with --speaker-profile).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DAEMON_KINDS, type DaemonKindName } from '../model.ts';

export const PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'profiles');

export interface SpeakerProfile {
  name: string;
  description: string;
  /** Lab daemon kind that configures and queries it (conformance/lab/kinds). */
  runs?: DaemonKindName;
  /** Module (relative to this folder's parent) exporting a SpeakerHook factory. */
  hook?: { module: string; export: string };
  /** For `--speaker docker:IMAGE`: how a container of the image is configured and started. */
  container?: ContainerSpec;
  /** For `--speaker external:ADDRESS`: a device the lab reaches but does not configure. */
  external?: boolean;
  /** `external: { rib: ... }`: how the device's RIB is read, a command run on the host (e.g. ssh to the device). */
  externalRib?: RibQuery;
  capabilities: string[];
  /** Capability -> why the speaker does not have it (shown as the skip reason). */
  lacks: Record<string, string>;
  file: string;
}

export interface ContainerSpec {
  /** Path inside the container where the rendered config file is mounted (read-only). */
  config: string;
  /** Config template (absolute, resolved against the profile's folder); --speaker-config overrides it. */
  template?: string;
  /** Command that runs the speaker in the foreground inside the container, in the node's network. */
  start: string[];
  /** Optional RIB query inside the container, parsed like the lab daemon kind of that name. */
  rib?: RibQuery;
}

/** A command that prints the speaker's RIB the way the lab daemon kind `format` prints it. */
export interface RibQuery {
  command: string[];
  format: DaemonKindName;
}

export class ProfileError extends Error {}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');

function parseContainer(raw: unknown, file: string): ContainerSpec {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new ProfileError(`${file}: container.${field}: expected ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('', 'a mapping { config, start, template?, rib? }', raw);
  const c = raw as Record<string, unknown>;
  if (typeof c.config !== 'string' || !c.config.startsWith('/')) fail('config', 'an absolute path inside the container', c.config);
  if (!isStringList(c.start)) fail('start', 'a command as a list of words (the speaker in the foreground)', c.start);
  if (c.template !== undefined && typeof c.template !== 'string') fail('template', 'a file path relative to the profile', c.template);
  return {
    config: c.config as string,
    template: typeof c.template === 'string' ? resolve(dirname(file), c.template) : undefined,
    start: c.start as string[],
    rib: c.rib === undefined ? undefined : parseRibQuery(c.rib, 'container.rib', file),
  };
}

function parseRibQuery(raw: unknown, field: string, file: string): RibQuery {
  const fail = (sub: string, expected: string, got: unknown): never => {
    throw new ProfileError(`${file}: ${field}.${sub}: expected ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  };
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (!isStringList(r.command)) fail('command', 'a command as a list of words', r.command);
  if (!DAEMON_KINDS.includes(r.format as DaemonKindName)) fail('format', `one of ${DAEMON_KINDS.join(', ')} (whose output it prints)`, r.format);
  return { command: r.command as string[], format: r.format as DaemonKindName };
}

/** `external: true`, or `external: { rib: { command, format } }` for a device whose RIB a host command can read. */
function parseExternal(raw: unknown, file: string): RibQuery | undefined {
  if (raw === true) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).some((k) => k !== 'rib'))
    throw new ProfileError(`${file}: external: expected true or { rib: { command: [...], format: ${DAEMON_KINDS.join('|')} } }, got ${JSON.stringify(raw)}`);
  const rib = (raw as { rib?: unknown }).rib;
  return rib === undefined ? undefined : parseRibQuery(rib, 'external.rib', file);
}

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
  const externalRib = d.external === undefined ? undefined : parseExternal(d.external, file);
  const ways = [d.runs, hook, d.container, d.external].filter((w) => w !== undefined).length;
  if (ways !== 1) fail('runs', 'exactly one of `runs`, `hook`, `container` or `external: true`');
  const container = d.container === undefined ? undefined : parseContainer(d.container, file);
  if (!Array.isArray(d.capabilities) || !d.capabilities.every((c) => typeof c === 'string')) fail('capabilities', 'a list of names');
  const lacks = d.lacks ?? {};
  if (typeof lacks !== 'object' || Array.isArray(lacks) || !Object.values(lacks as object).every((v) => typeof v === 'string'))
    fail('lacks', 'a mapping capability -> reason');
  return {
    name: d.name as string,
    description: typeof d.description === 'string' ? d.description : '',
    runs: d.runs as DaemonKindName | undefined,
    hook: hook as SpeakerProfile['hook'],
    container,
    external: d.external !== undefined ? true : undefined,
    ...(externalRib && { externalRib }),
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

/** A profile the user names by path (--speaker-profile FILE). */
export function loadProfileFile(path: string): SpeakerProfile {
  const file = resolve(path);
  if (!existsSync(file)) throw new ProfileError(`speaker profile ${file} does not exist`);
  return parseProfile(readFileSync(file, 'utf8'), file);
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
