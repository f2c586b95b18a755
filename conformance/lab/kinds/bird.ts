import { join } from 'node:path';
import { parseCidr } from '../../../reference/ipam/address.ts';
import { addPathDirections, neighborFamilies, type LabNode, type Neighbor } from '../model.ts';
import { ensureDir, writeConfig } from './files.ts';
import { hasIpv6Sessions, waitForLinkLocalAddresses } from './link-local.ts';
import { normaliseState, type DaemonKind, type NodeContext, type RouteEntry, type SessionState } from './kind.ts';

// BIRD 2 node: rendered bird.conf, per-node control socket. A `speaker` stand-in only exports
// its own static prefixes and imports nothing (what the seed articles' node BIRD does); a
// router imports and exports everything it learns.

// Indexed, not named after the address: one node may peer twice with the same address from
// different local addresses (Anthos floating IPs).
function protocolName(neighbor: Neighbor, index: number): string {
  return neighbor.name ?? `peer${index}`;
}

const LAB_ROUTES = 'lab_routes';

/** `prefix` is the subnet of one of the node's interface addresses. */
function isConnected(node: LabNode, prefix: string): boolean {
  const wanted = parseCidr(prefix);
  return Object.values(node.interfaces).flat().some((address) => {
    const c = parseCidr(address);
    return c !== null && wanted !== null && c.family === wanted.family && c.prefixLength === wanted.prefixLength && c.network === wanted.network;
  });
}

export function renderBirdConf(node: LabNode, logFile: string): string {
  const standIn = node.kind === 'speaker';
  const importing = !standIn || node.importRoutes === true;
  const lines = [
    `log "${logFile}" all;`,
    node.routerId ? `router id ${node.routerId};` : '',
    'protocol device { scan time 10; }',
    'protocol direct { ipv4; }',
    'protocol kernel {',
    '  merge paths on;',
    '  ipv4 { import none; export filter { if source = RTS_STATIC || source = RTS_DEVICE then reject; accept; }; };',
    '}',
  ];
  if (node.neighbors.some((n) => neighborFamilies(n).includes('ipv6-unicast'))) {
    // IPv6 routes learned over the session need their next hops resolved on the link.
    lines.push('protocol direct direct6 { ipv6; }');
  }
  for (const family of ['ipv4', 'ipv6'] as const) {
    const prefixes = node.announce.filter((p) => p.includes(':') === (family === 'ipv6'));
    if (prefixes.length === 0) continue;
    for (let copy = 1; copy <= (node.announcePaths ?? 1); copy++) {
      lines.push(`protocol static ${family === 'ipv4' ? 'announced' : 'announced6'}${copy > 1 ? `_${copy}` : ''} {`, `  ${family};`);
      for (const prefix of prefixes) lines.push(`  route ${prefix} blackhole;`);
      lines.push('}');
    }
  }
  // The node's own static routes (also in its kernel) are BIRD statics too, so next hops reached
  // only through them resolve (a multihop peer behind a router); they are never exported. They
  // are at IGP distance 0, as FRR counts a static: BIRD gives a static no IGP metric (unknown,
  // worse than a connected next hop), so it never merged a path behind one with a connected one
  // into a multipath route (RFC 4271 9.1.2.2 e; addpath.multi-nexthop on seed-004).
  const labRoutes = node.routes.filter((r) => r.via || r.dev);
  for (const family of ['ipv4', 'ipv6'] as const) {
    const routes = labRoutes.filter((r) => (r.to === 'default' ? !(r.via ?? '').includes(':') : !r.to.includes(':')) === (family === 'ipv4'));
    if (routes.length === 0) continue;
    lines.push(`protocol static ${LAB_ROUTES}_${family} {`, `  ${family};`);
    for (const r of routes) {
      const to = r.to === 'default' ? (family === 'ipv4' ? '0.0.0.0/0' : '::/0') : r.to;
      lines.push(`  route ${to} via ${r.via ?? `"${r.dev}"`} { igp_metric = 0; };`);
    }
    lines.push('}');
  }
  const notLabRoutes = labRoutes.length > 0 ? ` && proto !~ "${LAB_ROUTES}_*"` : '';
  const baseExport = standIn ? `source = RTS_STATIC${notLabRoutes}` : `source != RTS_DEVICE${notLabRoutes}`;
  // An announced prefix that is also a connected subnet has the direct route as BIRD's best (it
  // beats the static), so it is matched by prefix as FRR's `network` statement does.
  const exportRule = (family: 'ipv4' | 'ipv6') => {
    const connected = node.announce.filter((p) => p.includes(':') === (family === 'ipv6') && isConnected(node, p));
    return connected.length === 0 ? `export where ${baseExport};` : `export where (${baseExport}) || (source = RTS_DEVICE && net ~ [ ${connected.join(', ')} ]);`;
  };
  const importRule = importing ? 'import all;' : 'import none;';
  const addPathWord = (n: (typeof node.neighbors)[number]) => {
    const { send, receive } = addPathDirections(n);
    return send && receive ? ' add paths on;' : send ? ' add paths tx;' : receive ? ' add paths rx;' : '';
  };
  const wait = node.timers?.errorWait;
  const errorWait = wait === undefined ? '1, 4' : `${wait}, ${wait}`;
  node.neighbors.forEach((n, index) => {
    const channels = neighborFamilies(n).map((f) =>
      f === 'ipv6-unicast'
        ? `  ipv6 { ${importRule} ${exportRule('ipv6')}${addPathWord(n)} };`
        : `  ipv4 { ${importRule} ${exportRule('ipv4')}${addPathWord(n)}${n.extendedNexthop ? ' extended next hop on;' : ''} };`,
    );
    lines.push(
      `protocol bgp ${protocolName(n, index)} {`,
      `  local${n.updateSource ? ` ${n.updateSource}` : ''} as ${node.asn ?? 0};`,
      `  neighbor ${n.address} as ${n.asn};`,
      `  hold time ${node.timers?.hold ?? 3}; keepalive time ${node.timers?.keepalive ?? 1}; connect delay time 1; connect retry time 1; error wait time ${errorWait};`,
      n.multihop ? `  multihop ${n.multihop};` : '  direct;',
      n.rrClient ? '  rr client;' : '',
      n.passive ? '  passive on;' : '',
      n.dontCapabilityNegotiate ? '  capabilities off;' : '',
      node.gracefulRestart ? `  graceful restart on; graceful restart time ${node.gracefulRestart.restartTime};` : '',
      ...channels,
      '}',
    );
  });
  return lines.filter((l) => l !== '').join('\n') + '\n';
}

function socketOf(dir: string): string {
  return join(dir, 'bird.ctl');
}

export async function birdc(ctx: NodeContext, command: string): Promise<string> {
  const result = await ctx.backend.exec(ctx.node.name, ['birdc', '-s', socketOf(ctx.dir), ...command.split(' ')], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`birdc on ${ctx.node.name} "${command}" failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/** Parses `birdc show protocols`: rows of Name Proto Table State Since Info. */
export function parseBirdProtocols(text: string): Array<{ name: string; proto: string; state: string; info: string }> {
  const rows: Array<{ name: string; proto: string; state: string; info: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(up|down|start|stop|flush)\s+(\S+(?: \S+)?)\s*(.*)$/.exec(line.trimEnd());
    if (m && m[1] !== 'Name') rows.push({ name: m[1]!, proto: m[2]!, state: m[4]!, info: m[6]!.trim() });
  }
  return rows;
}

/** Parses `birdc show route`: a prefix line followed by `via ADDR on IF` lines. */
export function parseBirdRoutes(text: string): RouteEntry[] {
  const routes = new Map<string, RouteEntry>();
  let current: RouteEntry | null = null;
  for (const line of text.split('\n')) {
    const prefixMatch = /^(\d+\.\d+\.\d+\.\d+\/\d+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*\/\d+)\s/.exec(line);
    if (prefixMatch) {
      current = routes.get(prefixMatch[1]!) ?? { prefix: prefixMatch[1]!, nexthops: [], table: 'rib' };
      routes.set(current.prefix, current);
      if (/\bblackhole\b|\bunreachable\b/.test(line)) current.nexthops.push('blackhole');
      continue;
    }
    const viaMatch = /^\s+via\s+(\S+)/.exec(line);
    if (viaMatch && current) current.nexthops.push(viaMatch[1]!);
    else if (/^\s+dev\s+(\S+)/.test(line) && current) current.nexthops.push(/dev\s+(\S+)/.exec(line)![1]!);
    else if (/^\s+unicast|^\s+\[/.test(line) && current) {
      // a further path of the same prefix; its via line follows
    }
  }
  return [...routes.values()];
}

export const birdKind: DaemonKind = {
  render({ node, dir }) {
    ensureDir(dir);
    return [writeConfig(dir, 'bird.conf', renderBirdConf(node, join(dir, 'bird.log')))];
  },

  async start({ backend, node, dir }) {
    if (hasIpv6Sessions(node)) await waitForLinkLocalAddresses(backend, node.name);
    const argv = ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', socketOf(dir), '-P', join(dir, 'bird.pid')];
    return [await backend.spawn(node.name, argv, { label: 'bird', logFile: join(dir, 'bird.out') })];
  },

  async sessions(ctx) {
    const byProtocol = new Map(ctx.node.neighbors.map((n, i) => [protocolName(n, i), n]));
    return parseBirdProtocols(await birdc(ctx, 'show protocols'))
      .filter((p) => p.proto === 'BGP')
      .map((p): SessionState => {
        const neighbor = byProtocol.get(p.name);
        const word = p.info.split(/\s+/)[0] ?? '';
        return {
          node: ctx.node.name,
          peer: neighbor?.address ?? p.name,
          local: neighbor?.updateSource,
          peerAsn: neighbor?.asn,
          state: normaliseState(word || 'Idle'),
        };
      });
  },

  async ribRoutes(ctx) {
    return parseBirdRoutes(await birdc(ctx, 'show route'));
  },

  logs({ dir }) {
    return [join(dir, 'bird.log'), join(dir, 'bird.out')];
  },
};
