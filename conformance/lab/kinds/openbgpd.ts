import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addPathDirections, neighborFamilies, type LabNode, type Neighbor } from '../model.ts';
import { ensureDir, writeConfig } from './files.ts';
import { normaliseState, type DaemonKind, type NodeContext, type RouteEntry, type SessionState } from './kind.ts';

// OpenBGPD (portable 7.7, Debian `openbgpd`) node: rendered bgpd.conf, one bgpd per node in the
// foreground with its own control socket (`socket` in the config; bgpd 7.7 has no flag for it),
// queried with `bgpctl -j -s SOCK`.
//
// What differs from the other kinds, and why the config says what it says:
// - Filters deny by default (bgpd.conf(5) FILTER: "The default action is to deny"), its own
//   `network`s included: a router renders `allow from any` + `allow to any`; a stand-in speaker
//   only `allow to any` (it holds nothing else to send) unless it imports (`importRoutes`).
// - The portable release has no kernel route support on Linux: `fib-update` is accepted and does
//   nothing, so, like GoBGP, routes stay in the RIB (model.ts FIB_PROGRAMMING_KINDS). It is
//   rendered `no` so the config says so.
// - Privilege separation: the session engine and the RDE chroot to the home of user `_openbgpd`
//   (/run/openbgpd on Debian, made by systemd's RuntimeDirectory, which the lab does not run);
//   every node's bgpd shares that empty folder, each has its own socket and log in its node folder.
// - No RFC 8950 extended next hop setting in 7.7 (like GoBGP): `extendedNexthop` is not rendered.
// - `enforce neighbor-as yes` is the eBGP default (first AS of the path must be the peer's), as in
//   the others' RFC 4271 behaviour; nothing to render.

export const OPENBGPD_USER = '_openbgpd';

export function socketOf(dir: string): string {
  return join(dir, 'bgpd.sock');
}

function descr(index: number): string {
  return `peer${index}`;
}

function neighborBlock(n: Neighbor, index: number, gracefulRestart: boolean): string[] {
  const lines = [`neighbor ${n.address} {`, `\tremote-as ${n.asn}`, `\tdescr "${descr(index)}"`];
  if (n.passive) lines.push('\tpassive');
  // The 2-octet peer of RFC 6793 tests: an OPEN without optional parameters.
  if (n.dontCapabilityNegotiate) lines.push('\tannounce capabilities no');
  // 7.7 offers graceful restart for End-of-RIB only; its restart time is bgpd's own (not configurable).
  if (gracefulRestart) lines.push('\tannounce restart yes');
  if (n.updateSource) lines.push(`\tlocal-address ${n.updateSource}`);
  if (n.multihop) lines.push(`\tmultihop ${n.multihop}`);
  if (n.rrClient) lines.push('\troute-reflector');
  // The session's own family is announced by default; any other is asked for, and a family the
  // neighbour does not carry is turned off.
  const families = neighborFamilies(n);
  const sessionFamily = n.address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  for (const [family, word] of [['ipv4-unicast', 'IPv4'], ['ipv6-unicast', 'IPv6']] as const) {
    const wanted = families.includes(family);
    if (wanted && family !== sessionFamily) lines.push(`\tannounce ${word} unicast`);
    if (!wanted && family === sessionFamily) lines.push(`\tannounce ${word} none`);
  }
  const addPath = addPathDirections(n);
  if (addPath.receive) lines.push('\tannounce add-path recv yes');
  if (addPath.send) lines.push('\tannounce add-path send all');
  lines.push('}');
  return lines;
}

export function renderBgpdConf(node: LabNode, socket: string): string {
  if ((node.announcePaths ?? 1) > 1) throw new Error(`openbgpd node ${node.name}: announcePaths (several paths of its own per prefix) is rendered by BIRD only`);
  const standIn = node.kind === 'speaker';
  const hold = node.timers?.hold ?? 3;
  const importing = !standIn || node.importRoutes === true;
  const lines = [
    `# peerproof lab node ${node.name} (${standIn ? 'speaker stand-in' : 'router'})`,
    `AS ${node.asn ?? 0}`,
    ...(node.routerId ? [`router-id ${node.routerId}`] : []),
    `socket "${socket}"`,
    'fib-update no',
    `holdtime ${hold}`,
    `holdtime min ${Math.min(hold, 3)}`,
    'connect-retry 1',
    'log updates',
    '',
    ...node.announce.map((prefix) => `network ${prefix}`),
    ...(node.announce.length > 0 ? [''] : []),
    ...node.neighbors.flatMap((n, i) => [...neighborBlock(n, i, node.gracefulRestart !== undefined), '']),
    ...(importing ? ['allow from any'] : ['# a stand-in imports nothing: no "allow from" rule (default deny)']),
    'allow to any',
  ];
  return lines.join('\n') + '\n';
}

let chrootDir: string | undefined;

/** The privilege-separated processes' chroot: the home of `_openbgpd`, made if missing. */
export function openbgpdChroot(): string {
  if (chrootDir === undefined) {
    let entry: string;
    try {
      entry = execFileSync('getent', ['passwd', OPENBGPD_USER], { encoding: 'utf8' }).trim();
    } catch {
      throw new Error(`OpenBGPD needs user ${OPENBGPD_USER} (Debian package openbgpd; run scripts/bootstrap.sh)`);
    }
    chrootDir = entry.split(':')[5] || '/run/openbgpd';
  }
  if (!existsSync(chrootDir)) mkdirSync(chrootDir, { recursive: true, mode: 0o755 });
  return chrootDir;
}

/** `bgpctl -j -s SOCK COMMAND...` inside the node: its JSON text. */
export async function bgpctl(ctx: NodeContext, command: string[]): Promise<string> {
  const result = await ctx.backend.exec(ctx.node.name, ['bgpctl', '-j', '-s', socketOf(ctx.dir), ...command], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`bgpctl on ${ctx.node.name} "${command.join(' ')}" failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text || '{}') as T;
  } catch {
    throw new Error(`${what} is not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * `bgpctl neighbor ADDR up`: starts the session now. After a session error bgpd holds it Idle
 * for IdleHoldTime (30 s, doubled on every further error; no bgpd.conf setting in 7.7), the
 * damping RFC 4271 8.1.1 allows; this ends that hold the way an operator does.
 */
export async function startNeighbor(ctx: NodeContext, address: string): Promise<void> {
  const result = await ctx.backend.exec(ctx.node.name, ['bgpctl', '-s', socketOf(ctx.dir), 'neighbor', address, 'up'], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`bgpctl on ${ctx.node.name} "neighbor ${address} up" failed: ${(result.stderr || result.stdout).trim()}`);
}

/** `bgpctl -j show`: one row per neighbour. */
export function parseOpenbgpdSummary(text: string, node: string): SessionState[] {
  const json = parseJson<{ neighbors?: Array<{ remote_addr?: string; remote_as?: string; state?: string }> }>(text, 'bgpctl show');
  return (json.neighbors ?? []).map((n) => ({
    node,
    peer: n.remote_addr ?? '',
    peerAsn: n.remote_as !== undefined ? Number(n.remote_as) : undefined,
    state: normaliseState(n.state ?? 'Idle'),
  }));
}

/**
 * `bgpctl -j show rib`: every path of the Loc-RIB (both families), next hop = the BGP next hop
 * (`exit_nexthop`); paths bgpd marks invalid (next hop unreachable) are left out, as for FRR.
 * Its own networks have next hop 0.0.0.0, like FRR's.
 */
export function parseOpenbgpdRib(text: string): RouteEntry[] {
  const json = parseJson<{ rib?: Array<{ prefix: string; exit_nexthop?: string; valid?: boolean }> }>(text, 'bgpctl show rib');
  const routes = new Map<string, RouteEntry>();
  for (const path of json.rib ?? []) {
    const route = routes.get(path.prefix) ?? { prefix: path.prefix, nexthops: [], table: 'rib' as const };
    routes.set(path.prefix, route);
    if (path.valid !== false) route.nexthops.push(path.exit_nexthop ?? '');
  }
  return [...routes.values()];
}

export const openbgpdKind: DaemonKind = {
  render({ node, dir }) {
    ensureDir(dir);
    return [writeConfig(dir, 'bgpd.conf', renderBgpdConf(node, socketOf(dir)))];
  },

  async start({ backend, node, dir }) {
    // The docker backend's images (conformance/lab/images) hold FRR, GoBGP and BIRD only.
    if (backend.name !== 'netns') throw new Error(`node ${node.name}: OpenBGPD runs on the netns backend only (the ${backend.name} backend has no OpenBGPD image yet)`);
    openbgpdChroot();
    const conf = join(dir, 'bgpd.conf');
    const check = await backend.exec(node.name, ['bgpd', '-n', '-f', conf], { timeoutMs: 10_000 });
    if (check.code !== 0) throw new Error(`bgpd -n rejects ${conf}: ${(check.stderr || check.stdout).trim()}`);
    // -d: foreground, log to stderr (the .log file); -v: session state changes and updates.
    return [await backend.spawn(node.name, ['bgpd', '-d', '-v', '-f', conf], { label: 'bgpd', logFile: join(dir, 'bgpd.log') })];
  },

  async sessions(ctx) {
    return parseOpenbgpdSummary(await bgpctl(ctx, ['show']), ctx.node.name);
  },

  async ribRoutes(ctx) {
    return parseOpenbgpdRib(await bgpctl(ctx, ['show', 'rib']));
  },

  logs({ dir }) {
    return [join(dir, 'bgpd.log')];
  },
};
