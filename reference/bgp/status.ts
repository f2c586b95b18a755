// The speaker's status API: JSON over HTTP on a local port or a unix socket, shaped like the
// BGPSession and BGPAdvertisedRoute resources of Anthos' bundled load balancer (seed 004).
import { existsSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import type { Speaker, SpeakerPeer, AdvertisedRoute } from './speaker.ts';

const DEFAULT_ROUTE_LIMIT = 1000;

export interface BgpSessionResource {
  kind: 'BGPSession';
  metadata: { name: string };
  spec: { localASN: number; peerASN: number; localIP: string; peerIP: string; routerId: string };
  status: {
    state: string;
    /** Who opened the established TCP connection. */
    connection: 'outbound' | 'inbound' | null;
    lastReportTime: string;
    uptimeSeconds: number;
    negotiated: null | {
      holdTime: number;
      fourOctetAs: boolean;
      families: string[];
      addPathReceive: string[];
      addPathSend: string[];
      routeRefresh: boolean;
      enhancedRouteRefresh: boolean;
      gracefulRestart: boolean;
      extendedNextHop: boolean;
      peerRouterId: string;
    };
    counters: { messagesIn: number; messagesOut: number; updatesIn: number; updatesOut: number; establishedTransitions: number };
    receivedPrefixes: number;
    advertisedPrefixes: number;
    routeRefreshesReceived: number;
    staleFamilies: number[];
    lastError: string | null;
    /**
     * IP TTL of our packets to this peer: configured (1 eBGP, 255 iBGP, or multihop), in use on
     * the wire, and how: the speaker's nftables table, or why not (then the kernel default).
     */
    ttl: { configured: number; inUse: number; control: string };
    advertisedRoutes: AdvertisedRoute[];
    receivedRoutes: AdvertisedRoute[];
  };
}

export interface BgpAdvertisedRouteResource {
  kind: 'BGPAdvertisedRoute';
  metadata: { name: string };
  spec: AdvertisedRoute & { session: string; peerIP: string };
}

export function sessionResource(speaker: Speaker, peer: SpeakerPeer, routeLimit: number): BgpSessionResource {
  const session = peer.session;
  const n = session.negotiated;
  let received = 0;
  for (const rib of speaker.ribs.values()) received += rib.pathsFrom(peer.source);
  let advertised = 0;
  for (const out of peer.out.values()) advertised += out.count;
  return {
    kind: 'BGPSession',
    metadata: { name: peer.config.name },
    spec: {
      localASN: speaker.config.localAs,
      peerASN: peer.config.asn,
      localIP: session.established?.localAddress.replace(/^::ffff:/, '') || peer.config.localAddress || '',
      peerIP: peer.config.address,
      routerId: speaker.config.routerId,
    },
    status: {
      state: session.state,
      connection: session.established?.direction ?? null,
      lastReportTime: new Date().toISOString(),
      uptimeSeconds: session.established ? Math.floor((Date.now() - session.establishedAt) / 1000) : 0,
      negotiated: n && {
        holdTime: n.holdTime,
        fourOctetAs: n.as4,
        families: n.families,
        addPathReceive: [...(n.receiveContext.addPath ?? [])],
        addPathSend: [...(n.sendContext.addPath ?? [])],
        routeRefresh: n.routeRefresh,
        enhancedRouteRefresh: n.enhancedRouteRefresh,
        gracefulRestart: n.peerGracefulRestart !== null,
        extendedNextHop: n.extendedNextHop,
        peerRouterId: n.peerOpen.bgpId,
      },
      counters: { ...session.counters },
      receivedPrefixes: received,
      advertisedPrefixes: advertised,
      routeRefreshesReceived: peer.routeRefreshesReceived,
      staleFamilies: [...peer.staleFamilies],
      lastError: session.lastError,
      ttl: {
        configured: speaker.ttlOf(peer),
        inUse: speaker.ttlInUse(peer),
        control: speaker.ttlControl.state.active ? `nftables table inet ${speaker.ttlControl.state.table}` : `off: ${speaker.ttlControl.state.reason}`,
      },
      advertisedRoutes: speaker.advertisedRoutes(peer, routeLimit),
      receivedRoutes: speaker.receivedRoutes(peer, routeLimit),
    },
  };
}

export function advertisedRouteResources(speaker: Speaker, routeLimit: number): BgpAdvertisedRouteResource[] {
  const out: BgpAdvertisedRouteResource[] = [];
  for (const peer of speaker.peers) {
    for (const route of speaker.advertisedRoutes(peer, routeLimit)) {
      out.push({
        kind: 'BGPAdvertisedRoute',
        metadata: { name: `${peer.config.name}-${route.prefix}${route.pathId ? `-${route.pathId}` : ''}` },
        spec: { ...route, session: peer.config.name, peerIP: peer.config.address },
      });
    }
  }
  return out;
}

/** Extra read-only paths a program embedding the speaker serves beside its own (e.g. `/desired`). */
export type ExtraStatusPaths = Record<string, () => unknown>;

function handle(speaker: Speaker, req: http.IncomingMessage, res: http.ServerResponse, extra: ExtraStatusPaths): void {
  const url = new URL(req.url ?? '/', 'http://status');
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? DEFAULT_ROUTE_LIMIT : Number(limitText);
  const send = (code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body, null, 2)}\n`);
  };
  if (req.method !== 'GET') return send(405, { error: 'only GET is served' });
  if (!Number.isInteger(limit) || limit < 0) return send(400, { error: 'limit must be a non-negative integer' });
  const parts = url.pathname.split('/').filter(Boolean);
  const extraPath = extra[url.pathname.replace(/\/+$/, '')];
  if (extraPath) return send(200, extraPath());
  if (parts[0] === 'sessions' && parts.length === 1) {
    return send(200, { kind: 'BGPSessionList', items: speaker.peers.map((p) => sessionResource(speaker, p, limit)) });
  }
  if (parts[0] === 'sessions' && parts.length === 2) {
    const peer = speaker.peers.find((p) => p.config.name === decodeURIComponent(parts[1]!) || p.config.address === parts[1]);
    return peer ? send(200, sessionResource(speaker, peer, limit)) : send(404, { error: `no session ${parts[1]}` });
  }
  if (parts[0] === 'advertised-routes' && parts.length === 1) {
    return send(200, { kind: 'BGPAdvertisedRouteList', items: advertisedRouteResources(speaker, limit) });
  }
  if (parts.length === 0 || parts[0] === 'healthz') {
    return send(200, { routerId: speaker.config.routerId, localAs: speaker.config.localAs, uptimeSeconds: Math.floor((Date.now() - speaker.startedAt) / 1000) });
  }
  send(404, { error: `unknown path ${url.pathname} (try /sessions, /sessions/NAME, /advertised-routes)` });
}

export interface StatusServer {
  /** The TCP port, or the socket path. */
  where: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  speaker: Speaker,
  listen: { address: string; port: number } | { socket: string },
  extra: ExtraStatusPaths = {},
): Promise<StatusServer> {
  const server = http.createServer((req, res) => {
    try {
      handle(speaker, req, res, extra);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socket' in listen) {
      if (existsSync(listen.socket)) unlinkSync(listen.socket);
      server.listen(listen.socket, () => resolve());
    } else server.listen(listen.port, listen.address, () => resolve());
  });
  const address = server.address();
  const where = typeof address === 'string' ? address : `${address?.address}:${address?.port}`;
  return {
    where,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fetches a path from a status server (CLI and tests). */
export function fetchStatus(target: { port: number; host?: string } | { socket: string }, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = 'socket' in target ? { socketPath: target.socket, path } : { host: target.host ?? '127.0.0.1', port: target.port, path };
    const req = http.get(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as unknown;
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`status API ${path}: ${(parsed as { error?: string }).error ?? res.statusCode}`));
          else resolve(parsed);
        } catch {
          reject(new Error(`status API ${path}: not JSON (HTTP ${res.statusCode})`));
        }
      });
    });
    req.on('error', reject);
  });
}

/** The sessions table `peerproof speaker status` prints, like `kubectl get bgpsessions`. */
export function formatSessionsTable(sessions: BgpSessionResource[]): string {
  const rows = [['NAME', 'LOCAL ASN', 'PEER ASN', 'LOCAL IP', 'PEER IP', 'STATE', 'UPTIME', 'RECEIVED', 'ADVERTISED', 'LAST ERROR']];
  for (const s of sessions) {
    rows.push([
      s.metadata.name,
      String(s.spec.localASN),
      String(s.spec.peerASN),
      s.spec.localIP || '-',
      s.spec.peerIP,
      s.status.state,
      `${s.status.uptimeSeconds}s`,
      String(s.status.receivedPrefixes),
      String(s.status.advertisedPrefixes),
      s.status.lastError ?? '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
