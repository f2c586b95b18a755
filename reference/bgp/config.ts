// The speaker's YAML configuration: parsed, validated and normalised. Every error names the
// file, the field path (with its line) and the reason.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { parsePrefixListEntry, type Policy, type PolicySet, type PolicyTerm } from './policy.ts';
import { parseIpv4, parsePrefix } from './prefix.ts';
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, type AddPathMode, type AfiSafi } from './wire/types.ts';

export type FamilyName = 'ipv4-unicast' | 'ipv6-unicast';
export const FAMILIES: Record<FamilyName, AfiSafi> = {
  'ipv4-unicast': { afi: AFI_IPV4, safi: SAFI_UNICAST },
  'ipv6-unicast': { afi: AFI_IPV6, safi: SAFI_UNICAST },
};

export interface PeerConfig {
  name: string;
  address: string;
  asn: number;
  port: number;
  localAddress?: string;
  localPort?: number;
  passive: boolean;
  families: FamilyName[];
  addPath: Partial<Record<FamilyName, AddPathMode>>;
  /** ADD-PATH send: 0 sends every path, N the best N. */
  addPathSendMax: number;
  holdTime: number;
  connectRetry: number;
  importPolicy?: string;
  exportPolicy?: string;
  /** Next hop of routes sent to this peer: "self", an address, or unset (keep / self for eBGP). */
  nextHop?: string;
  nextHop6?: string;
  maxPrefixes?: number;
  gracefulRestart: boolean;
  extendedNextHop: boolean;
  /** An iBGP peer that is a route-reflector client of ours (RFC 4456). */
  routeReflectorClient: boolean;
  /** IP TTL of our packets to this peer (eBGP multihop); unset: 1 for eBGP, 255 for iBGP. */
  multihop?: number;
}

export interface StaticRoute {
  prefix: string;
  afi: number;
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
  origin: 'igp' | 'egp' | 'incomplete';
}

export interface SpeakerConfig {
  file: string;
  routerId: string;
  localAs: number;
  listen?: { address: string; port: number };
  status?: { address: string; port: number } | { socket: string };
  mraiMs: number;
  gracefulRestart: { enabled: boolean; restartTime: number; restarting: boolean };
  /** RFC 4456 7 CLUSTER_ID when reflecting routes; default the router id. */
  clusterId: string;
  multipathRelax: boolean;
  alwaysCompareMed: boolean;
  peers: PeerConfig[];
  policies: Map<string, Policy>;
  routes: StaticRoute[];
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${field}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

class Reader {
  constructor(
    readonly file: string,
    private readonly lineOf: (path: Array<string | number>) => number | undefined,
  ) {}

  fail(path: Array<string | number>, reason: string): never {
    const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(top)';
    throw new ConfigError(this.file, field, reason, this.lineOf(path));
  }

  object(value: unknown, path: Array<string | number>, known: string[]): Raw {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be a mapping');
    for (const key of Object.keys(value as Raw)) {
      if (!known.includes(key)) this.fail([...path, key], `unknown field (expected one of: ${known.join(', ')})`);
    }
    return value as Raw;
  }

  integer(value: unknown, path: Array<string | number>, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  boolean(value: unknown, path: Array<string | number>): boolean {
    if (typeof value !== 'boolean') this.fail(path, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  address(value: unknown, path: Array<string | number>, family?: 4 | 6): string {
    if (typeof value !== 'string' || isIP(value) === 0 || (family && isIP(value) !== family)) {
      this.fail(path, `must be an IPv${family ?? '4 or IPv6'} address, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  stringList(value: unknown, path: Array<string | number>, check?: RegExp, what = 'string'): string[] {
    if (!Array.isArray(value)) this.fail(path, 'must be a list');
    return value.map((item, i) => {
      if (typeof item !== 'string' || (check && !check.test(item))) this.fail([...path, i], `must be a ${what}, got ${JSON.stringify(item)}`);
      return item;
    });
  }
}

const COMMUNITY = /^\d{1,5}:\d{1,5}$/;
const LARGE_COMMUNITY = /^\d{1,10}:\d{1,10}:\d{1,10}$/;
const ADD_PATH_MODES = ['receive', 'send', 'both'];

function readPolicySet(r: Reader, raw: unknown, path: Array<string | number>): PolicySet {
  const o = r.object(raw, path, ['localPref', 'med', 'communities', 'largeCommunities', 'prepend', 'nextHop']);
  const set: PolicySet = {};
  if (o.localPref !== undefined) set.localPref = r.integer(o.localPref, [...path, 'localPref'], 0, 4294967295);
  if (o.med !== undefined) set.med = r.integer(o.med, [...path, 'med'], 0, 4294967295);
  for (const [field, pattern, what] of [
    ['communities', COMMUNITY, 'community "asn:value"'],
    ['largeCommunities', LARGE_COMMUNITY, 'large community "ga:ld1:ld2"'],
  ] as const) {
    if (o[field] === undefined) continue;
    const ops = r.object(o[field], [...path, field], ['add', 'remove']);
    const add = ops.add === undefined ? undefined : r.stringList(ops.add, [...path, field, 'add'], pattern, what);
    const remove = ops.remove === undefined ? undefined : r.stringList(ops.remove, [...path, field, 'remove'], pattern, what);
    if (field === 'communities') Object.assign(set, { addCommunities: add, removeCommunities: remove });
    else Object.assign(set, { addLargeCommunities: add, removeLargeCommunities: remove });
  }
  if (o.prepend !== undefined) {
    if (typeof o.prepend === 'number') set.prepend = { count: r.integer(o.prepend, [...path, 'prepend'], 0, 32) };
    else {
      const p = r.object(o.prepend, [...path, 'prepend'], ['count', 'asn']);
      set.prepend = { count: r.integer(p.count, [...path, 'prepend', 'count'], 0, 32) };
      if (p.asn !== undefined) set.prepend.asn = r.integer(p.asn, [...path, 'prepend', 'asn'], 1, 4294967295);
    }
  }
  if (o.nextHop !== undefined) set.nextHop = o.nextHop === 'self' ? 'self' : r.address(o.nextHop, [...path, 'nextHop']);
  return set;
}

function readPolicy(r: Reader, name: string, raw: unknown, path: Array<string | number>): Policy {
  const o = r.object(raw, path, ['terms', 'default']);
  const defaultAction = o.default ?? 'accept';
  if (defaultAction !== 'accept' && defaultAction !== 'reject') r.fail([...path, 'default'], 'must be accept or reject');
  const rawTerms = o.terms ?? [];
  if (!Array.isArray(rawTerms)) r.fail([...path, 'terms'], 'must be a list');
  const terms = rawTerms.map((rawTerm, i): PolicyTerm => {
    const tp = [...path, 'terms', i];
    const t = r.object(rawTerm, tp, ['match', 'set', 'action']);
    const action = t.action ?? 'accept';
    if (action !== 'accept' && action !== 'reject' && action !== 'next') r.fail([...tp, 'action'], 'must be accept, reject or next');
    const term: PolicyTerm = { action };
    if (t.match !== undefined) {
      const m = r.object(t.match, [...tp, 'match'], ['prefixes', 'communities', 'largeCommunities']);
      term.match = {};
      if (m.prefixes !== undefined) {
        term.match.prefixes = r.stringList(m.prefixes, [...tp, 'match', 'prefixes']).map((text, j) => {
          const entry = parsePrefixListEntry(text);
          if (typeof entry === 'string') r.fail([...tp, 'match', 'prefixes', j], entry);
          return entry;
        });
      }
      if (m.communities !== undefined) term.match.communities = r.stringList(m.communities, [...tp, 'match', 'communities'], COMMUNITY, 'community "asn:value"');
      if (m.largeCommunities !== undefined) {
        term.match.largeCommunities = r.stringList(m.largeCommunities, [...tp, 'match', 'largeCommunities'], LARGE_COMMUNITY, 'large community "ga:ld1:ld2"');
      }
    }
    if (t.set !== undefined) term.set = readPolicySet(r, t.set, [...tp, 'set']);
    return term;
  });
  return { name, terms, defaultAction };
}

function readPeer(r: Reader, raw: unknown, i: number, top: { holdTime: number; connectRetry: number; gr: boolean; localAs: number }, policies: Map<string, Policy>): PeerConfig {
  const path = ['peers', i];
  const o = r.object(raw, path, [
    'name', 'address', 'asn', 'port', 'localAddress', 'localPort', 'passive', 'families', 'addPath', 'addPathSendMax',
    'holdTime', 'connectRetry', 'import', 'export', 'nextHop', 'nextHop6', 'maxPrefixes', 'gracefulRestart',
    'extendedNextHop', 'multihop', 'routeReflectorClient',
  ]);
  const address = r.address(o.address, [...path, 'address']);
  const asn = r.integer(o.asn, [...path, 'asn'], 1, 4294967295);
  const families = (o.families === undefined ? ['ipv4-unicast'] : r.stringList(o.families, [...path, 'families'])) as FamilyName[];
  families.forEach((f, j) => {
    if (!(f in FAMILIES)) r.fail([...path, 'families', j], `unknown family "${f}" (expected ipv4-unicast or ipv6-unicast)`);
  });
  const addPath: PeerConfig['addPath'] = {};
  if (typeof o.addPath === 'string') {
    if (!ADD_PATH_MODES.includes(o.addPath)) r.fail([...path, 'addPath'], 'must be receive, send or both');
    for (const f of families) addPath[f] = o.addPath as AddPathMode;
  } else if (o.addPath !== undefined) {
    const ap = r.object(o.addPath, [...path, 'addPath'], Object.keys(FAMILIES));
    for (const [f, mode] of Object.entries(ap)) {
      if (typeof mode !== 'string' || !ADD_PATH_MODES.includes(mode)) r.fail([...path, 'addPath', f], 'must be receive, send or both');
      if (!families.includes(f as FamilyName)) r.fail([...path, 'addPath', f], `family ${f} is not in this peer's families`);
      addPath[f as FamilyName] = mode as AddPathMode;
    }
  }
  const policyRef = (field: 'import' | 'export'): string | undefined => {
    if (o[field] === undefined) return undefined;
    if (typeof o[field] !== 'string' || !policies.has(o[field])) {
      r.fail([...path, field], `no policy named ${JSON.stringify(o[field])} (defined: ${[...policies.keys()].join(', ') || 'none'})`);
    }
    return o[field];
  };
  const holdTime = o.holdTime === undefined ? top.holdTime : r.integer(o.holdTime, [...path, 'holdTime'], 0, 65535);
  if (holdTime === 1 || holdTime === 2) r.fail([...path, 'holdTime'], 'must be 0 or at least 3 seconds (RFC 4271 4.2)');
  const peer: PeerConfig = {
    name: typeof o.name === 'string' ? o.name : address,
    address,
    asn,
    port: o.port === undefined ? 179 : r.integer(o.port, [...path, 'port'], 1, 65535),
    passive: o.passive === undefined ? false : r.boolean(o.passive, [...path, 'passive']),
    families,
    addPath,
    addPathSendMax: o.addPathSendMax === undefined ? 0 : r.integer(o.addPathSendMax, [...path, 'addPathSendMax'], 0, 255),
    holdTime,
    connectRetry: o.connectRetry === undefined ? top.connectRetry : r.integer(o.connectRetry, [...path, 'connectRetry'], 1, 3600),
    importPolicy: policyRef('import'),
    exportPolicy: policyRef('export'),
    gracefulRestart: o.gracefulRestart === undefined ? top.gr : r.boolean(o.gracefulRestart, [...path, 'gracefulRestart']),
    extendedNextHop: o.extendedNextHop === undefined ? false : r.boolean(o.extendedNextHop, [...path, 'extendedNextHop']),
    routeReflectorClient: o.routeReflectorClient === undefined ? false : r.boolean(o.routeReflectorClient, [...path, 'routeReflectorClient']),
  };
  if (peer.routeReflectorClient && asn !== top.localAs) r.fail([...path, 'routeReflectorClient'], 'only an iBGP peer (asn = localAs) can be a route-reflector client');
  if (o.localAddress !== undefined) peer.localAddress = r.address(o.localAddress, [...path, 'localAddress'], isIP(address) as 4 | 6);
  if (o.localPort !== undefined) peer.localPort = r.integer(o.localPort, [...path, 'localPort'], 1, 65535);
  if (o.nextHop !== undefined) peer.nextHop = o.nextHop === 'self' ? 'self' : r.address(o.nextHop, [...path, 'nextHop'], 4);
  if (o.nextHop6 !== undefined) peer.nextHop6 = o.nextHop6 === 'self' ? 'self' : r.address(o.nextHop6, [...path, 'nextHop6'], 6);
  if (o.multihop !== undefined) peer.multihop = r.integer(o.multihop, [...path, 'multihop'], 1, 255);
  if (o.maxPrefixes !== undefined) peer.maxPrefixes = r.integer(o.maxPrefixes, [...path, 'maxPrefixes'], 1, 4294967295);
  return peer;
}

function readRoute(r: Reader, raw: unknown, i: number): StaticRoute {
  const path = ['routes', i];
  const o = typeof raw === 'string' ? { prefix: raw } : r.object(raw, path, ['prefix', 'nextHop', 'med', 'localPref', 'communities', 'largeCommunities', 'origin']);
  const parsed = typeof o.prefix === 'string' ? parsePrefix(o.prefix) : 'must be a prefix like 10.0.0.1/32';
  if (typeof parsed === 'string') r.fail([...path, 'prefix'], parsed);
  const route: StaticRoute = { prefix: parsed.prefix, afi: parsed.afi, origin: 'igp' };
  if (o.nextHop !== undefined) route.nextHop = r.address(o.nextHop, [...path, 'nextHop']);
  if (o.med !== undefined) route.med = r.integer(o.med, [...path, 'med'], 0, 4294967295);
  if (o.localPref !== undefined) route.localPref = r.integer(o.localPref, [...path, 'localPref'], 0, 4294967295);
  if (o.communities !== undefined) route.communities = r.stringList(o.communities, [...path, 'communities'], COMMUNITY, 'community "asn:value"');
  if (o.largeCommunities !== undefined) route.largeCommunities = r.stringList(o.largeCommunities, [...path, 'largeCommunities'], LARGE_COMMUNITY, 'large community "ga:ld1:ld2"');
  if (o.origin !== undefined) {
    if (o.origin !== 'igp' && o.origin !== 'egp' && o.origin !== 'incomplete') r.fail([...path, 'origin'], 'must be igp, egp or incomplete');
    route.origin = o.origin;
  }
  return route;
}

/** Validates a parsed YAML value; `file` is only used in error messages. */
export function readConfig(value: unknown, file: string, lineOf: (path: Array<string | number>) => number | undefined = () => undefined): SpeakerConfig {
  const r = new Reader(file, lineOf);
  const o = r.object(value, [], [
    'routerId', 'clusterId', 'localAs', 'listen', 'status', 'holdTime', 'connectRetry', 'mrai', 'gracefulRestart', 'multipath',
    'alwaysCompareMed', 'peers', 'policies', 'routes',
  ]);
  if (typeof o.routerId !== 'string' || parseIpv4(o.routerId) === null || parseIpv4(o.routerId) === 0) {
    r.fail(['routerId'], `must be a non-zero dotted quad like 10.0.0.1, got ${JSON.stringify(o.routerId)}`);
  }
  const localAs = r.integer(o.localAs, ['localAs'], 1, 4294967295);
  const holdTime = o.holdTime === undefined ? 90 : r.integer(o.holdTime, ['holdTime'], 0, 65535);
  if (holdTime === 1 || holdTime === 2) r.fail(['holdTime'], 'must be 0 or at least 3 seconds (RFC 4271 4.2)');
  const connectRetry = o.connectRetry === undefined ? 5 : r.integer(o.connectRetry, ['connectRetry'], 1, 3600);
  const config: SpeakerConfig = {
    file,
    routerId: o.routerId as string,
    clusterId: o.routerId as string,
    localAs,
    mraiMs: o.mrai === undefined ? 0 : r.integer(o.mrai, ['mrai'], 0, 600_000),
    gracefulRestart: { enabled: false, restartTime: 120, restarting: false },
    multipathRelax: false,
    alwaysCompareMed: o.alwaysCompareMed === undefined ? false : r.boolean(o.alwaysCompareMed, ['alwaysCompareMed']),
    peers: [],
    policies: new Map(),
    routes: [],
  };
  if (o.listen !== undefined && o.listen !== false) {
    const l = r.object(o.listen, ['listen'], ['address', 'port']);
    config.listen = {
      address: l.address === undefined ? '0.0.0.0' : r.address(l.address, ['listen', 'address']),
      port: l.port === undefined ? 179 : r.integer(l.port, ['listen', 'port'], 0, 65535),
    };
  }
  if (o.status !== undefined) {
    const s = r.object(o.status, ['status'], ['address', 'port', 'socket']);
    if (s.socket !== undefined) {
      if (typeof s.socket !== 'string' || s.socket === '') r.fail(['status', 'socket'], 'must be a file path');
      config.status = { socket: s.socket as string };
    } else {
      config.status = {
        address: s.address === undefined ? '127.0.0.1' : r.address(s.address, ['status', 'address']),
        port: r.integer(s.port, ['status', 'port'], 0, 65535),
      };
    }
  }
  if (o.gracefulRestart !== undefined) {
    const g = r.object(o.gracefulRestart, ['gracefulRestart'], ['enabled', 'restartTime', 'restarting']);
    config.gracefulRestart = {
      enabled: g.enabled === undefined ? true : r.boolean(g.enabled, ['gracefulRestart', 'enabled']),
      restartTime: g.restartTime === undefined ? 120 : r.integer(g.restartTime, ['gracefulRestart', 'restartTime'], 1, 4095),
      restarting: g.restarting === undefined ? false : r.boolean(g.restarting, ['gracefulRestart', 'restarting']),
    };
  }
  if (o.multipath !== undefined) {
    const m = r.object(o.multipath, ['multipath'], ['relax']);
    config.multipathRelax = m.relax === undefined ? false : r.boolean(m.relax, ['multipath', 'relax']);
  }
  if (o.policies !== undefined) {
    const p = r.object(o.policies, ['policies'], Object.keys(o.policies as Raw));
    for (const [name, raw] of Object.entries(p)) config.policies.set(name, readPolicy(r, name, raw, ['policies', name]));
  }
  if (o.peers !== undefined && !Array.isArray(o.peers)) r.fail(['peers'], 'must be a list');
  if (o.clusterId !== undefined) {
    if (typeof o.clusterId !== 'string' || !parseIpv4(o.clusterId)) r.fail(['clusterId'], `must be a non-zero dotted quad, got ${JSON.stringify(o.clusterId)}`);
    config.clusterId = o.clusterId as string;
  }
  const top = { holdTime, connectRetry, gr: config.gracefulRestart.enabled, localAs };
  config.peers = ((o.peers as unknown[]) ?? []).map((raw, i) => readPeer(r, raw, i, top, config.policies));
  const seen = new Set<string>();
  config.peers.forEach((peer, i) => {
    if (seen.has(peer.address)) r.fail(['peers', i, 'address'], `peer ${peer.address} is configured twice`);
    seen.add(peer.address);
  });
  if (o.routes !== undefined && !Array.isArray(o.routes)) r.fail(['routes'], 'must be a list');
  config.routes = ((o.routes as unknown[]) ?? []).map((raw, i) => readRoute(r, raw, i));
  return config;
}

/** Parses YAML text; syntax errors are reported with their line. */
export function parseConfig(text: string, file: string): SpeakerConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    throw new ConfigError(file, '(yaml)', error.message.split('\n')[0]!, error.linePos?.[0]?.line);
  }
  const lineOf = (path: Array<string | number>): number | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return readConfig(doc.toJS(), file, lineOf);
}

export function loadConfig(file: string): SpeakerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot read: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}
