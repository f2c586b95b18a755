import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addPathDirections, neighborFamilies, type LabNode } from '../model.ts';
import { pollHarness } from '../poll.ts';
import { ensureDir, writeConfig } from './files.ts';
import { addPath, listPeers } from './gobgp-api.ts';
import { normaliseState, type DaemonKind, type NodeContext, type RouteEntry, type SessionState } from './kind.ts';

// GoBGP node: gobgpd from a rendered TOML. Its gRPC API listens on 127.0.0.1 of the node's own
// network stack, so the same port serves every node without clashing (the `gobgp` CLI in the
// node uses it), and on a unix socket in the node folder, which the harness speaks to directly
// (gobgp-api.ts: no process per read or per injected prefix).

export const gobgpApiPort = 50051;

/** The harness's API socket, or null when the node folder's path is too long for one (sun_path is 108 bytes). */
export function gobgpApiSocket(dir: string): string | null {
  const socket = join(dir, 'gobgp.sock');
  return Buffer.byteLength(socket) < 100 ? socket : null;
}

export function renderGobgpToml(node: LabNode): string {
  if ((node.announcePaths ?? 1) > 1) throw new Error(`gobgp node ${node.name}: announcePaths (several paths of its own per prefix) is rendered by BIRD only`);
  const lines = ['[global.config]', `  as = ${node.asn ?? 0}`, `  router-id = "${node.routerId ?? '0.0.0.0'}"`, '  port = 179', ''];
  for (const n of node.neighbors) {
    lines.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      `    hold-time = ${node.timers?.hold ?? 3}`,
      `    keepalive-interval = ${node.timers?.keepalive ?? 1}`,
      '    minimum-advertisement-interval = 0',
      '    idle-hold-time-after-reset = 1',
    );
    if (n.dontCapabilityNegotiate) throw new Error(`gobgp node ${node.name}: GoBGP cannot send an OPEN without capabilities (neighbour ${n.address}); use FRR or BIRD`);
    if (n.updateSource || n.passive)
      lines.push('  [neighbors.transport.config]', ...(n.updateSource ? [`    local-address = "${n.updateSource}"`] : []), ...(n.passive ? ['    passive-mode = true'] : []));
    if (node.gracefulRestart) lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${node.gracefulRestart.restartTime}`);
    if (n.multihop) lines.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', `    multihop-ttl = ${n.multihop}`);
    if (n.rrClient)
      lines.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${node.routerId ?? '0.0.0.0'}"`);
    const addPath = addPathDirections(n);
    if (addPath.send || addPath.receive)
      lines.push('  [neighbors.add-paths.config]', ...(addPath.send ? ['    send-max = 8'] : []), ...(addPath.receive ? ['    receive = true'] : []));
    for (const family of neighborFamilies(n)) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${family}"`);
      if (node.gracefulRestart) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
    lines.push('');
  }
  return lines.join('\n');
}

function gobgpArgv(command: string[]): string[] {
  return ['gobgp', '-u', '127.0.0.1', '-p', String(gobgpApiPort), ...command];
}

async function gobgpText(ctx: NodeContext, command: string[]): Promise<string> {
  const result = await ctx.backend.exec(ctx.node.name, gobgpArgv([...command, '-j']), { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`gobgp on ${ctx.node.name} "${command.join(' ')}" failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

async function gobgpJson(ctx: NodeContext, command: string[]): Promise<unknown> {
  const text = await gobgpText(ctx, command);
  try {
    return JSON.parse(text || 'null');
  } catch {
    throw new Error(`gobgp on ${ctx.node.name} "${command.join(' ')}" did not return JSON: ${text.slice(0, 200)}`);
  }
}

const NEXT_HOP = 3;
const MP_REACH_NLRI = 14;

/**
 * Parses `gobgp global rib -a FAMILY -j`: per prefix, each path's next hop from NEXT_HOP, or from
 * MP_REACH_NLRI for IPv6 and for IPv4 with an IPv6 next hop (RFC 8950).
 */
export function parseGobgpRib(text: string): RouteEntry[] {
  let rib: Record<string, Array<{ attrs?: Array<{ type?: number; nexthop?: string }> }>> | null;
  try {
    rib = JSON.parse(text || 'null') as typeof rib;
  } catch {
    throw new Error(`GoBGP RIB is not JSON: ${text.slice(0, 200)}`);
  }
  return Object.entries(rib ?? {}).map(
    ([prefix, paths]): RouteEntry => ({
      prefix,
      nexthops: paths.map((p) => {
        const attrs = p.attrs ?? [];
        return attrs.find((a) => a.type === NEXT_HOP)?.nexthop ?? attrs.find((a) => a.type === MP_REACH_NLRI)?.nexthop ?? '';
      }),
      table: 'rib',
    }),
  );
}

// gobgp's JSON carries the FSM state as the protobuf enum (number) or its name depending on version.
const gobgpStates = ['Unknown', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/** gobgpd's PID per node folder, so afterStart can watch its API port come up. */
const gobgpdPids = new Map<string, number>();

/**
 * Whether `pid`'s network namespace has a TCP socket listening on `port` (read from
 * /proc/PID/net/tcp, no process started: waiting for the API with the gobgp CLI cost one Go
 * process per 50 ms per node, thousands at 400 stand-ins). Null when it cannot be read.
 */
export function listening(pid: number, port: number): boolean | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/tcp`, 'utf8');
  } catch {
    return null;
  }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return text.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hex}`) === true && f[3] === '0A';
  });
}

export const gobgpKind: DaemonKind = {
  render({ node, dir }) {
    ensureDir(dir);
    return [writeConfig(dir, 'gobgpd.toml', renderGobgpToml(node))];
  },

  async start({ backend, node, dir }) {
    const socket = gobgpApiSocket(dir);
    // A socket left by a killed gobgpd (a restart) would make its listen fail.
    if (socket) rmSync(socket, { force: true });
    const argv = [
      'gobgpd',
      '-f', join(dir, 'gobgpd.toml'),
      '-t', 'toml',
      '-l', 'info',
      '-p',
      '--api-hosts', [`127.0.0.1:${gobgpApiPort}`, ...(socket ? [`unix://${socket}`] : [])].join(','),
      '--pprof-disable',
    ];
    const proc = await backend.spawn(node.name, argv, { label: 'gobgpd', logFile: join(dir, 'gobgpd.log') });
    gobgpdPids.set(dir, proc.pid);
    return [proc];
  },

  async afterStart(ctx) {
    // GoBGP's config file cannot originate prefixes; inject them through the API.
    // Generous: at a few hundred stand-ins starting together gobgpd takes seconds to listen.
    const deadline = Date.now() + 20_000;
    const pid = gobgpdPids.get(ctx.dir);
    gobgpdPids.delete(ctx.dir);
    const socket = gobgpApiSocket(ctx.dir);
    const viaSocket = () => socket !== null && existsSync(socket);
    if (pid !== undefined && ctx.node.announce.length > 0) {
      while (!viaSocket() && listening(pid, gobgpApiPort) === false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    for (const prefix of ctx.node.announce) {
      if (viaSocket() && !prefix.includes(':')) {
        const inject = () => addPath(socket!, prefix).then(() => '', (err: Error) => err.message);
        const { value: error, met } = await pollHarness(inject, (e) => e === '', Math.max(0, deadline - Date.now()), 50);
        if (!met) throw new Error(`gobgp on ${ctx.node.name} could not originate ${prefix}: ${error}`);
        continue;
      }
      const add = () => ctx.backend.exec(ctx.node.name, gobgpArgv(['global', 'rib', 'add', prefix, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4']));
      const { value: result, met } = await pollHarness(add, (r) => r.code === 0, Math.max(0, deadline - Date.now()), 50);
      if (!met) throw new Error(`gobgp on ${ctx.node.name} could not originate ${prefix}: ${result.stderr.trim()}`);
    }
  },

  async sessions(ctx) {
    const socket = gobgpApiSocket(ctx.dir);
    if (socket && existsSync(socket)) {
      return (await listPeers(socket)).map((p): SessionState => ({ node: ctx.node.name, peer: p.address, peerAsn: p.asn, state: gobgpStates[p.state] ?? String(p.state) }));
    }
    const peers = ((await gobgpJson(ctx, ['neighbor'])) ?? []) as Array<{
      conf?: { neighbor_address?: string; peer_asn?: number };
      state?: { session_state?: number | string; neighbor_address?: string; peer_asn?: number };
    }>;
    return peers.map((p): SessionState => {
      const raw = p.state?.session_state ?? 1;
      return {
        node: ctx.node.name,
        peer: p.conf?.neighbor_address ?? p.state?.neighbor_address ?? '',
        peerAsn: p.conf?.peer_asn ?? p.state?.peer_asn,
        state: typeof raw === 'number' ? gobgpStates[raw] ?? String(raw) : normaliseState(raw),
      };
    });
  },

  async ribRoutes(ctx) {
    const [ipv4, ipv6] = await Promise.all(['ipv4', 'ipv6'].map((family) => gobgpText(ctx, ['global', 'rib', '-a', family])));
    return [...parseGobgpRib(ipv4!), ...parseGobgpRib(ipv6!)];
  },

  logs({ dir }) {
    return [join(dir, 'gobgpd.log')];
  },
};
