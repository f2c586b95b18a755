import { copyFileSync, chownSync, existsSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { addPathDirections, neighborFamilies, type LabNode } from '../model.ts';
import { assertTraversableByOthers, ensureDir, frrOwner, waitForFile, writeConfig } from './files.ts';
import { hasIpv6Sessions, waitForLinkLocalAddresses } from './link-local.ts';
import { normaliseState, type DaemonKind, type NodeContext, type RouteEntry, type SessionState } from './kind.ts';

// FRR node: zebra + bgpd + staticd as user frr, each with per-node pid file, zserv socket and
// vty socket directory, so several FRR routers run side by side on one machine.

const daemons = ['zebra', 'bgpd', 'staticd'] as const;
const frrBin = '/usr/lib/frr';

export function renderBgpd(node: LabNode): string {
  if ((node.announcePaths ?? 1) > 1) throw new Error(`frr node ${node.name}: announcePaths (several paths of its own per prefix) is rendered by BIRD only`);
  if (node.asn === undefined) return '!\n';
  const lines = [`router bgp ${node.asn}`];
  if (node.routerId) lines.push(` bgp router-id ${node.routerId}`);
  lines.push(' no bgp ebgp-requires-policy', ' no bgp network import-check', ' bgp log-neighbor-changes');
  if (node.gracefulRestart) {
    lines.push(' bgp graceful-restart', ` bgp graceful-restart restart-time ${node.gracefulRestart.restartTime}`);
    if (node.gracefulRestart.stalePathTime !== undefined) lines.push(` bgp graceful-restart stalepath-time ${node.gracefulRestart.stalePathTime}`);
  }
  if (node.multipath) lines.push(' bgp bestpath as-path multipath-relax');
  lines.push(` timers bgp ${node.timers?.keepalive ?? 1} ${node.timers?.hold ?? 3}`);
  for (const n of node.neighbors) {
    lines.push(` neighbor ${n.address} remote-as ${n.asn}`);
    lines.push(` neighbor ${n.address} timers connect 1`);
    lines.push(` neighbor ${n.address} advertisement-interval 0`);
    if (n.multihop) lines.push(` neighbor ${n.address} ebgp-multihop ${n.multihop}`);
    if (n.updateSource) lines.push(` neighbor ${n.address} update-source ${n.updateSource}`);
    if (n.passive) lines.push(` neighbor ${n.address} passive`);
    if (n.dontCapabilityNegotiate) lines.push(` neighbor ${n.address} dont-capability-negotiate`);
    // FRR 8.4 puts the capability in its OPEN on IPv6 sessions (an IPv6 neighbour address) only.
    if (n.extendedNexthop) lines.push(` neighbor ${n.address} capability extended-nexthop`);
  }
  for (const family of ['ipv4', 'ipv6'] as const) {
    const neighbors = node.neighbors.filter((n) => neighborFamilies(n).includes(`${family}-unicast`));
    const announce = node.announce.filter((p) => p.includes(':') === (family === 'ipv6'));
    if (family === 'ipv6' && neighbors.length === 0 && announce.length === 0) continue;
    lines.push(` address-family ${family} unicast`);
    for (const prefix of announce) lines.push(`  network ${prefix}`);
    lines.push('  maximum-paths 16', '  maximum-paths ibgp 16');
    // IPv4 unicast is active by default (`frr defaults traditional`) for IPv4 neighbours; IPv6
    // unicast, and IPv4 unicast over an IPv6 session, are activated explicitly.
    if (family === 'ipv6') for (const n of neighbors) lines.push(`  neighbor ${n.address} activate`);
    else {
      for (const n of neighbors.filter((x) => isIpv6(x.address))) lines.push(`  neighbor ${n.address} activate`);
      for (const n of node.neighbors.filter((x) => !neighbors.includes(x))) lines.push(`  no neighbor ${n.address} activate`);
    }
    for (const n of neighbors) {
      if (n.rrClient) lines.push(`  neighbor ${n.address} route-reflector-client`);
      const addPath = addPathDirections(n);
      if (addPath.send) lines.push(`  neighbor ${n.address} addpath-tx-all-paths`);
      // FRR offers to receive paths by default: only a send-only (or no-receive) neighbour turns it off.
      if (n.addPath !== undefined && n.addPath !== false && !addPath.receive) lines.push(`  neighbor ${n.address} disable-addpath-rx`);
    }
    lines.push(' exit-address-family');
  }
  lines.push('exit', '');
  return lines.join('\n');
}

function isIpv6(address: string): boolean {
  return address.includes(':');
}

export function renderStaticd(node: LabNode): string {
  // Routes for FRR nodes go through staticd so they show in `show ip route` as static.
  const lines = node.routes.map((r) => `ip route ${r.to} ${r.via ?? r.dev ?? 'blackhole'}`);
  return lines.join('\n') + '\n';
}

export function renderZebra(node: LabNode): string {
  // A multihop peer is often reached only through the default route, which FRR's next-hop
  // tracking ignores unless told otherwise: bgpd would never even try to connect.
  const multihop = node.neighbors.some((n) => n.multihop);
  return `hostname ${node.name}\n${multihop ? 'ip nht resolve-via-default\n' : ''}`;
}

function paths(dir: string) {
  return { zserv: join(dir, 'zserv.api') };
}

export const frrKind: DaemonKind = {
  render({ node, dir }) {
    const owner = frrOwner();
    ensureDir(dir, owner);
    assertTraversableByOthers(dir, 'FRR (user frr)');
    const files = [writeConfig(dir, 'zebra.conf', renderZebra(node), owner)];
    if (node.frrConfig) {
      // A given integrated frr.conf: every daemon reads it and ignores the others' sections.
      const target = join(dir, 'frr.conf');
      copyFileSync(node.frrConfig, target);
      if (owner) chownSync(target, owner.uid, owner.gid);
      files.push(target);
    } else {
      files.push(writeConfig(dir, 'bgpd.conf', renderBgpd(node), owner));
      files.push(writeConfig(dir, 'staticd.conf', renderStaticd(node), owner));
    }
    return files;
  },

  async start({ backend, node, dir }) {
    // (unnumbered sessions run over the link-local addresses too)
    if (hasIpv6Sessions(node)) await waitForLinkLocalAddresses(backend, node.name);
    const { zserv } = paths(dir);
    const argvOf = (daemon: string) => {
      const config = node.frrConfig ? join(dir, 'frr.conf') : join(dir, `${daemon}.conf`);
      return [
        join(frrBin, daemon),
        '-f', config,
        '-i', join(dir, `${daemon}.pid`),
        '-z', zserv,
        '--vty_socket', dir,
        '-P', '0',
        '--log', `file:${join(dir, `${daemon}.log`)}`,
        '-u', 'frr',
        '-g', 'frr',
      ];
    };
    const opts = (daemon: string) => ({ label: daemon, logFile: join(dir, `${daemon}.out`) });
    // A socket file left by a killed zebra (a restart) would pass the wait below at once: bgpd
    // would find nobody listening and retry zserv only 10 s later, its routes kept out of the FIB.
    rmSync(zserv, { force: true });
    const zebra = await backend.spawn(node.name, argvOf('zebra'), opts('zebra'));
    // bgpd and staticd retry the zserv connection, but starting them after zebra's socket
    // exists saves that retry's delay.
    await waitForFile(zserv, 3000);
    const rest = await Promise.all(daemons.slice(1).map((d) => backend.spawn(node.name, argvOf(d), opts(d))));
    return [zebra, ...rest];
  },

  async sessions(ctx) {
    // A neighbour shows in the summary of the families it carries: IPv4 first, IPv6 for those without IPv4.
    const summaries = ['show bgp ipv4 unicast summary json'];
    if (ctx.node.neighbors.some((n) => !neighborFamilies(n).includes('ipv4-unicast'))) summaries.push('show bgp ipv6 unicast summary json');
    const byPeer = new Map<string, SessionState>();
    for (const command of summaries) {
      const json = (await bgpdJson(ctx, command)) as { peers?: Record<string, { remoteAs?: number; state?: string; pfxRcd?: number }> };
      for (const [peer, p] of Object.entries(json.peers ?? {})) {
        if (byPeer.has(peer)) continue;
        byPeer.set(peer, { node: ctx.node.name, peer, peerAsn: p.remoteAs, state: normaliseState(p.state ?? 'Idle'), prefixesReceived: p.pfxRcd });
      }
    }
    return [...byPeer.values()];
  },

  async ribRoutes(ctx) {
    const [ipv4, ipv6] = await Promise.all([bgpdVty(ctx, 'show ip bgp json'), bgpdVty(ctx, 'show bgp ipv6 unicast json')]);
    return [...parseFrrRib(ipv4), ...parseFrrRib(ipv6)];
  },

  logs({ dir }) {
    return daemons.flatMap((d) => [join(dir, `${d}.log`), join(dir, `${d}.out`)]);
  },
};

interface FrrNexthop {
  ip?: string;
  scope?: string;
  used?: boolean;
}

/**
 * Parses `show ip bgp json` / `show bgp ipv6 unicast json`: valid paths per prefix and their next
 * hops. FRR marks a valid path `"valid": true` and leaves the key out of an invalid one (say its
 * next hop is inaccessible). An IPv6 path lists its global next hop and its link-local one; the
 * link-local counts only when it is the path's only next hop.
 */
export function parseFrrRib(text: string): RouteEntry[] {
  let json: { routes?: Record<string, Array<{ valid?: boolean; nexthops?: FrrNexthop[] }>> };
  try {
    json = JSON.parse(text || '{}') as typeof json;
  } catch {
    throw new Error(`FRR RIB is not JSON: ${text.slice(0, 200)}`);
  }
  return Object.entries(json.routes ?? {}).map(
    ([prefix, paths]): RouteEntry => ({
      prefix,
      nexthops: paths
        .filter((p) => p.valid === true)
        .flatMap((p) => {
          const hops = p.nexthops ?? [];
          const global = hops.filter((n) => n.scope !== 'link-local');
          return (global.length > 0 ? global : hops).map((n) => n.ip ?? '');
        }),
      table: 'rib',
    }),
  );
}

export async function vtysh(ctx: NodeContext, command: string): Promise<string> {
  const result = await ctx.backend.exec(ctx.node.name, ['vtysh', '--vty_socket', ctx.dir, '-c', command], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`vtysh on ${ctx.node.name} "${command}" failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/**
 * Runs a command on bgpd's own vty socket (`DIR/bgpd.vty`), speaking vtysh's protocol: the
 * command NUL-terminated, the answer ends with three NULs and the status byte. No process per
 * read (vtysh, and `ip netns exec` around it, cost ~2 processes per router per readiness round,
 * 1000 per round at 500 routers); the socket is a file in the node folder, reachable from here on
 * every backend. Falls back to vtysh when the socket is not there (yet).
 */
export function bgpdVty(ctx: NodeContext, command: string, timeoutMs = 10_000): Promise<string> {
  const socket = join(ctx.dir, 'bgpd.vty');
  if (!existsSync(socket)) return vtysh(ctx, command);
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const conn = createConnection(socket);
    const timer = setTimeout(() => conn.destroy(new Error(`bgpd on ${ctx.node.name} did not answer "${command}" within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.write(`${command}\0`));
    conn.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const all = chunks.length === 1 ? d : Buffer.concat(chunks, size);
      if (all.length >= 4 && all[all.length - 4] === 0 && all[all.length - 3] === 0 && all[all.length - 2] === 0) {
        clearTimeout(timer);
        conn.end();
        const status = all[all.length - 1]!;
        const text = all.subarray(0, all.length - 4).toString('utf8');
        if (status !== 0) reject(new Error(`bgpd on ${ctx.node.name} "${command}" failed (status ${status}): ${text.trim().slice(0, 200)}`));
        else resolvePromise(text);
      }
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`bgpd vty of ${ctx.node.name}: ${err.message}`));
    });
    conn.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`bgpd on ${ctx.node.name} closed its vty before answering "${command}"`));
    });
  });
}

async function bgpdJson(ctx: NodeContext, command: string): Promise<unknown> {
  const out = await bgpdVty(ctx, command);
  try {
    return JSON.parse(out || '{}');
  } catch {
    throw new Error(`bgpd on ${ctx.node.name} "${command}" did not return JSON: ${out.slice(0, 200)}`);
  }
}

export async function vtyshJson(ctx: NodeContext, command: string): Promise<unknown> {
  const out = await vtysh(ctx, command);
  try {
    return JSON.parse(out || '{}');
  } catch {
    throw new Error(`vtysh on ${ctx.node.name} "${command}" did not return JSON: ${out.slice(0, 200)}`);
  }
}
