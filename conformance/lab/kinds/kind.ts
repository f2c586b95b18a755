import type { Backend, BackendProcess } from '../backend.ts';
import type { LabNode } from '../model.ts';

export interface SessionState {
  node: string;
  peer: string;
  /** Local address of the session when the node has several sessions to the same peer. */
  local?: string;
  peerAsn?: number;
  /** Normalised to RFC 4271 names: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  prefixesReceived?: number;
}

export interface RouteEntry {
  prefix: string;
  nexthops: string[];
  /** Who reported it: the daemon's RIB or the kernel FIB. */
  table: 'rib' | 'fib';
}

export interface NodeContext {
  backend: Backend;
  node: LabNode;
  /** Node folder inside the run folder: rendered configs, sockets, logs. */
  dir: string;
}

/** A daemon flavour: renders its configs, starts its processes and answers state queries. */
export interface DaemonKind {
  /** Writes config files into ctx.dir; returns their paths (attached to readiness errors). */
  render(ctx: NodeContext): string[];
  start(ctx: NodeContext): Promise<BackendProcess[]>;
  /** Runs after start once the daemon answers queries (e.g. to inject routes by API). */
  afterStart?(ctx: NodeContext): Promise<void>;
  sessions(ctx: NodeContext): Promise<SessionState[]>;
  ribRoutes(ctx: NodeContext): Promise<RouteEntry[]>;
  /** Log files worth attaching when something does not come up. */
  logs(ctx: NodeContext): string[];
}

export const fsmStateNames: Record<string, string> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

export function normaliseState(raw: string): string {
  return fsmStateNames[raw.toLowerCase().replace(/[^a-z]/g, '')] ?? raw;
}

/** Kernel FIB of a node as RouteEntry[] (`ip -j route`), the same on every backend. */
export async function fibRoutes(backend: Backend, node: string): Promise<RouteEntry[]> {
  const result = await backend.exec(node, ['ip', '-4', '-j', 'route', 'show', 'table', 'main']);
  if (result.code !== 0) throw new Error(`ip route on ${node} failed: ${result.stderr.trim()}`);
  return parseIpRoutes(result.stdout);
}

/** `ip -4 -j route` rows as RouteEntry[]; a gateway is `gateway`, or `via` for an IPv6 one. */
export function parseIpRoutes(text: string): RouteEntry[] {
  const rows = JSON.parse(text || '[]') as Array<{
    dst: string;
    gateway?: string;
    dev?: string;
    type?: string;
    via?: Via;
    nexthops?: Array<{ gateway?: string; via?: Via; dev?: string }>;
  }>;
  return rows.map((r) => ({
    prefix: r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`,
    nexthops: r.nexthops
      ? r.nexthops.map((n) => n.gateway ?? n.via?.host ?? n.dev ?? '')
      : [r.gateway ?? r.via?.host ?? (r.type && r.type !== 'unicast' ? r.type : r.dev ?? '')],
    table: 'fib' as const,
  }));
}

/** `ip -j route`'s gateway of another family (RTA_VIA): an IPv4 route `via inet6 ADDR` (RFC 8950). */
interface Via {
  family?: string;
  host?: string;
}
