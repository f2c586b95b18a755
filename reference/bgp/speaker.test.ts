// Two of our speakers talking over loopback (127.0.0.1 <-> 127.0.0.2): FSM, OPEN negotiation,
// route exchange, withdrawals, ADD-PATH, collision detection, hold timer, refused connections.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig, type SpeakerConfig } from './config.ts';
import { Speaker } from './speaker.ts';
import { fetchStatus, formatSessionsTable, startStatusServer, type BgpSessionResource } from './status.ts';
import { decodeMessage, encodeMessage, messageLengthAt, type BgpMessage } from './wire/index.ts';
import { pollUntil } from '../../conformance/lab/poll.ts';

const running: Speaker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function config(raw: Record<string, unknown>): SpeakerConfig {
  return readConfig({ holdTime: 9, connectRetry: 1, ...raw }, 'test.yaml');
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
  const { value, met } = await pollUntil(probe, (v) => !!v, timeoutMs, 20);
  if (!met) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

/** A listens on 127.0.0.1 (passive unless told), B connects from 127.0.0.2. */
async function pair(aExtra: Record<string, unknown> = {}, bExtra: Record<string, unknown> = {}, peerA: Record<string, unknown> = {}, peerB: Record<string, unknown> = {}) {
  const logs: string[] = [];
  const a = new Speaker(
    config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, passive: true, ...peerA }], ...aExtra }),
    (_, m) => logs.push(`A ${m}`),
  );
  running.push(a);
  await a.start();
  const b = new Speaker(
    config({ routerId: '10.0.0.2', localAs: 65002, listen: { address: '127.0.0.2', port: 0 }, peers: [{ address: '127.0.0.1', asn: 65001, port: a.listenPort, localAddress: '127.0.0.2', ...peerB }], ...bExtra }),
    (_, m) => logs.push(`B ${m}`),
  );
  running.push(b);
  await b.start();
  return { a, b, logs };
}

const established = (s: Speaker) => s.peers[0]!.session.state === 'Established';
const received = (s: Speaker) => s.receivedRoutes(s.peers[0]!);

describe('speaker over loopback', () => {
  it('establishes, negotiates capabilities and exchanges routes with next hop and AS path rules', async () => {
    const { a, b } = await pair(
      { routes: [{ prefix: '10.0.0.1/32', nextHop: '192.168.1.10', communities: ['65001:1'] }, '2001:db8::/64'] },
      { routes: ['192.0.2.0/24'] },
      { families: ['ipv4-unicast', 'ipv6-unicast'] },
      { families: ['ipv4-unicast', 'ipv6-unicast'] },
    );
    await until('established', () => established(a) && established(b));
    const n = a.peers[0]!.session.negotiated!;
    expect(n.as4).toBe(true);
    expect(n.families).toEqual(['1/1', '2/1']);
    expect(n.routeRefresh && n.enhancedRouteRefresh).toBe(true);
    const atB = await until('routes at B', () => received(b).length === 2 && received(b));
    expect(atB).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prefix: '10.0.0.1/32', nextHop: '192.168.1.10', asPath: '65001', communities: ['65001:1'] }),
        expect.objectContaining({ prefix: '2001:db8::/64', nextHop: '::ffff:127.0.0.1', asPath: '65001' }),
      ]),
    );
    const atA = await until('routes at A', () => received(a).length === 1 && received(a));
    expect(atA[0]).toMatchObject({ prefix: '192.0.2.0/24', nextHop: '127.0.0.2', asPath: '65002' });
    b.withdrawLocal(1, '192.0.2.0/24');
    await until('withdrawal at A', () => received(a).length === 0);
    expect(a.rib(1).prefixCount).toBe(1);
  });

  it('carries several ADD-PATH ids for one prefix and the AS_TRANS rules for a 4-octet AS', async () => {
    const { a, b } = await pair(
      { localAs: 4200000001 },
      {},
      { asn: 65002, addPath: 'both' },
      { asn: 4200000001, addPath: 'both' },
    );
    // Two paths to one prefix in A (two sources would need two peers, so use a static and a learned one).
    a.announce({ prefix: '10.1.0.0/16', afi: 1, origin: 'igp', nextHop: '127.0.0.11' });
    b.announce({ prefix: '10.1.0.0/16', afi: 1, origin: 'igp' });
    await until('established', () => established(a) && established(b));
    expect(a.peers[0]!.session.negotiated!.localOpen.myAs).toBe(23456);
    expect(b.peers[0]!.session.negotiated!.receiveContext.addPath?.has('1/1')).toBe(true);
    const atB = await until('route at B', () => received(b).length === 1 && received(b));
    expect(atB[0]).toMatchObject({ prefix: '10.1.0.0/16', asPath: '4200000001', pathId: expect.any(Number) });
    // A holds its own static path and B's; ADD-PATH lets it send both kinds, but never B's back to B.
    await until('A has both paths', () => a.rib(1).sortedPaths(a.keyOf(1, '10.1.0.0/16')).length === 2);
  });

  it('asks for a route refresh and gets the table again between BoRR and EoRR', async () => {
    const { a, b } = await pair({}, { routes: ['192.0.2.0/24'] });
    await until('route at A', () => received(a).length === 1);
    const updatesBefore = a.peers[0]!.session.counters.updatesIn;
    expect(a.requestRefresh('127.0.0.2')).toBe(true);
    await until('refresh answered', () => b.peers[0]!.routeRefreshesReceived === 1 && a.peers[0]!.session.counters.updatesIn > updatesBefore);
    expect(received(a)).toEqual([expect.objectContaining({ prefix: '192.0.2.0/24' })]);
    expect(a.requestRefresh('127.0.0.99')).toBe(false);
  });

  it('resolves a connection collision to exactly one session', async () => {
    const aConfig = config({ routerId: '10.0.0.9', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, localAddress: '127.0.0.1' }] });
    const bConfig = config({ routerId: '10.0.0.2', localAs: 65002, listen: { address: '127.0.0.2', port: 0 }, peers: [{ address: '127.0.0.1', asn: 65001, localAddress: '127.0.0.2' }] });
    const logs: string[] = [];
    const a = new Speaker(aConfig, (_, m) => logs.push(`A ${m}`));
    const b = new Speaker(bConfig, (_, m) => logs.push(`B ${m}`));
    running.push(a, b);
    await a.listen();
    await b.listen();
    a.peers[0]!.config.port = b.listenPort;
    b.peers[0]!.config.port = a.listenPort;
    a.startPeers();
    b.startPeers();
    await until('established', () => established(a) && established(b));
    await new Promise((r) => setTimeout(r, 300));
    expect(a.peers[0]!.session.connections.size).toBe(1);
    expect(b.peers[0]!.session.connections.size).toBe(1);
    // A has the higher BGP identifier: the connection A initiated survives (RFC 4271 6.8).
    expect(a.peers[0]!.session.established!.direction).toBe('outbound');
    expect(b.peers[0]!.session.established!.direction).toBe('inbound');
  });

  it('refuses an OPEN from the wrong AS with NOTIFICATION 2/2 and a peer without our families with 2/7', async () => {
    const a = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65099, passive: true }] }));
    running.push(a);
    await a.listen();
    a.startPeers();
    const replies = await rawOpen(a.listenPort, 65002, [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }]);
    expect(replies.find((m) => m.type === 'NOTIFICATION')).toMatchObject({ code: 2, subcode: 2, data: 'fdea' });
    const v6only = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, passive: true, families: ['ipv6-unicast'] }] }));
    running.push(v6only);
    await v6only.start();
    const replies2 = await rawOpen(v6only.listenPort, 65002, [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }]);
    expect(replies2.find((m) => m.type === 'NOTIFICATION')).toMatchObject({ code: 2, subcode: 7, data: '0104000200 01'.replace(' ', '') });
  });

  it('refuses a connection from an address that is not a configured peer (Cease/5)', async () => {
    const a = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.9', asn: 65002, passive: true }] }));
    running.push(a);
    await a.start();
    const replies = await rawOpen(a.listenPort, 65002, []);
    expect(replies[0]).toMatchObject({ type: 'NOTIFICATION', code: 6, subcode: 5 });
  });

  it('sends NOTIFICATION 4/0 when the peer stops talking (hold timer)', async () => {
    const a = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, holdTime: 3, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, passive: true }] }));
    running.push(a);
    await a.start();
    const replies = await rawOpen(a.listenPort, 65002, [], { keepalive: true, waitMs: 5000 });
    const types = replies.map((m) => m.type);
    expect(types.slice(0, 2)).toEqual(['OPEN', 'KEEPALIVE']);
    expect(types.filter((t) => t === 'KEEPALIVE').length).toBeGreaterThanOrEqual(2);
    expect(types.at(-1)).toBe('NOTIFICATION');
    expect(replies.at(-1)).toMatchObject({ code: 4, subcode: 0 });
    expect(a.peers[0]!.session.lastError).toBe('hold timer expired');
  }, 15_000);
});

/** A raw client from 127.0.0.2: sends an OPEN (and one KEEPALIVE), records what comes back. */
function rawOpen(
  port: number,
  asn: number,
  capabilities: Extract<BgpMessage, { type: 'OPEN' }>['capabilities'],
  options: { keepalive?: boolean; waitMs?: number } = {},
): Promise<Array<BgpMessage & Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    const messages: Array<BgpMessage & Record<string, unknown>> = [];
    let buffer = Buffer.alloc(0);
    const finish = () => {
      socket.destroy();
      resolve(messages);
    };
    const timer = setTimeout(finish, options.waitMs ?? 1500);
    socket.on('connect', () => {
      socket.write(encodeMessage({ type: 'OPEN', version: 4, myAs: asn, holdTime: 3, bgpId: '10.0.0.2', as4: null, capabilities }));
      if (options.keepalive) socket.write(encodeMessage({ type: 'KEEPALIVE' }));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const length = messageLengthAt(buffer, 0);
        if (length === null || buffer.length < length) break;
        messages.push(decodeMessage(buffer.subarray(0, length)) as BgpMessage & Record<string, unknown>);
        buffer = buffer.subarray(length);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (messages.length > 0) finish();
      else reject(err);
    });
  });
}

describe('policy, ADD-PATH best-N and MRAI between three speakers', () => {
  /** Hub A (127.0.0.1) with spokes B (127.0.0.2) and C (127.0.0.3). */
  async function hub(hubExtra: Record<string, unknown>, peerB: Record<string, unknown>) {
    const a = new Speaker(
      config({
        routerId: '10.0.0.1',
        localAs: 65001,
        listen: { address: '127.0.0.1', port: 0 },
        peers: [
          { name: 'b', address: '127.0.0.2', asn: 65002, passive: true, addPath: 'both', ...peerB },
          { name: 'c', address: '127.0.0.3', asn: 65003, passive: true, addPath: 'both' },
        ],
        ...hubExtra,
      }),
    );
    running.push(a);
    await a.start();
    const spoke = (id: number, extra: Record<string, unknown> = {}) =>
      new Speaker(config({ routerId: `10.0.0.${id}`, localAs: 65000 + id, peers: [{ address: '127.0.0.1', asn: 65001, port: a.listenPort, localAddress: `127.0.0.${id}`, addPath: 'both' }], ...extra }));
    const b = spoke(2);
    const c = spoke(3, { routes: ['10.9.0.0/16', '10.8.0.0/16'] });
    running.push(b, c);
    await b.start();
    await c.start();
    await until('established', () => established(a) && a.peers[1]!.session.state === 'Established' && established(b) && established(c));
    return { a, b, c };
  }

  it('sends every path of a prefix with its own path id, or only the best N', async () => {
    const all = await hub({ routes: ['10.9.0.0/16'] }, {});
    const paths = await until('two paths at B', () => {
      const r = received(all.b).filter((route) => route.prefix === '10.9.0.0/16');
      return r.length === 2 && r;
    });
    expect(new Set(paths.map((p) => p.pathId)).size).toBe(2);
    expect(paths.map((p) => p.asPath).sort()).toEqual(['65001', '65001 65003']);
    await Promise.all(running.splice(0).map((s) => s.stop()));

    const bestOne = await hub({ routes: ['10.9.0.0/16'] }, { addPathSendMax: 1 });
    await until('C route seen by A', () => bestOne.a.rib(1).sortedPaths(bestOne.a.keyOf(1, '10.9.0.0/16')).length === 2);
    await until('10.8.0.0/16 at B', () => received(bestOne.b).some((r) => r.prefix === '10.8.0.0/16'));
    // The locally originated path wins, and only it is sent.
    expect(received(bestOne.b).filter((r) => r.prefix === '10.9.0.0/16').map((r) => r.asPath)).toEqual(['65001']);
  });

  it('applies export policy (reject, prepend, communities, explicit next hop) and import policy', async () => {
    const { b } = await hub(
      {
        policies: {
          out: {
            default: 'accept',
            terms: [
              { match: { prefixes: ['10.8.0.0/16'] }, action: 'reject' },
              { set: { prepend: 2, communities: { add: ['65001:7'] }, largeCommunities: { add: ['65001:0:7'] }, nextHop: '127.0.0.50', med: 30 }, action: 'accept' },
            ],
          },
        },
      },
      { export: 'out' },
    );
    const route = await until('10.9.0.0/16 at B', () => received(b).find((r) => r.prefix === '10.9.0.0/16'));
    expect(route).toMatchObject({ asPath: '65001 65001 65001 65003', communities: ['65001:7'], largeCommunities: ['65001:0:7'], nextHop: '127.0.0.50', med: 30 });
    await new Promise((r) => setTimeout(r, 200));
    expect(received(b).some((r) => r.prefix === '10.8.0.0/16')).toBe(false);
  });

  it('holds UPDATEs for the MRAI and sends what changed meanwhile together', async () => {
    const { a, b } = await hub({ mrai: 400 }, {});
    await until('initial routes at B', () => received(b).length === 2);
    const before = b.peers[0]!.session.counters.updatesIn;
    a.announce({ prefix: '10.7.1.0/24', afi: 1, origin: 'igp' });
    a.announce({ prefix: '10.7.2.0/24', afi: 1, origin: 'igp' });
    a.withdrawLocal(1, '10.7.2.0/24');
    a.announce({ prefix: '10.7.3.0/24', afi: 1, origin: 'igp' });
    await until('batch at B', () => received(b).length === 4);
    // One UPDATE for the shared attributes; 10.7.2.0/24 came and went inside the window.
    expect(b.peers[0]!.session.counters.updatesIn - before).toBe(1);
    expect(received(b).some((r) => r.prefix === '10.7.2.0/24')).toBe(false);
  });
});

describe('status API', () => {
  it('serves BGPSession and BGPAdvertisedRoute resources over HTTP', async () => {
    const { a, b } = await pair({ routes: [{ prefix: '10.0.4.1/32', nextHop: '192.168.1.10' }] }, {}, {}, { name: 'tor' });
    await until('route at B', () => received(b).length === 1);
    const server = await startStatusServer(a, { address: '127.0.0.1', port: 0 });
    try {
      const port = Number(server.where.split(':').pop());
      const sessions = (await fetchStatus({ port }, '/sessions')) as { items: BgpSessionResource[] };
      expect(sessions.items[0]).toMatchObject({
        kind: 'BGPSession',
        spec: { localASN: 65001, peerASN: 65002, localIP: '127.0.0.1', peerIP: '127.0.0.2' },
        status: { state: 'Established', connection: 'inbound', advertisedPrefixes: 1, advertisedRoutes: [{ prefix: '10.0.4.1/32', nextHop: '192.168.1.10' }] },
      });
      expect(sessions.items[0]!.status.negotiated).toMatchObject({ fourOctetAs: true, families: ['1/1'], routeRefresh: true });
      const routes = (await fetchStatus({ port }, '/advertised-routes')) as { items: Array<{ kind: string; spec: Record<string, unknown> }> };
      expect(routes.items).toEqual([expect.objectContaining({ kind: 'BGPAdvertisedRoute', spec: expect.objectContaining({ prefix: '10.0.4.1/32', peerIP: '127.0.0.2' }) })]);
      await expect(fetchStatus({ port }, '/sessions/nobody')).rejects.toThrow(/no session nobody/);
      expect(formatSessionsTable(sessions.items)).toMatch(/127\.0\.0\.2\s+Established/);
    } finally {
      await server.close();
    }
  });
});

describe('extended next hop (RFC 8950)', () => {
  it('carries IPv4 routes with an IPv6 next hop over an IPv6 session when both offer it', async () => {
    const a = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '::1', port: 0 }, peers: [{ address: '::1', asn: 65002, passive: true, extendedNextHop: true }] }));
    running.push(a);
    await a.start();
    const b = new Speaker(
      config({ routerId: '10.0.0.2', localAs: 65002, peers: [{ address: '::1', asn: 65001, port: a.listenPort, extendedNextHop: true }], routes: ['10.5.0.0/16'] }),
    );
    running.push(b);
    await b.start();
    await until('established', () => established(a) && established(b));
    expect(a.peers[0]!.session.negotiated!.extendedNextHop).toBe(true);
    const route = await until('route at A', () => received(a).find((r) => r.prefix === '10.5.0.0/16'));
    expect(route).toMatchObject({ nextHop: '::1', asPath: '65002' });
  });

  it('does not send IPv4 routes without an IPv4 next hop when it was not negotiated, and says so', async () => {
    const a = new Speaker(config({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '::1', port: 0 }, peers: [{ address: '::1', asn: 65002, passive: true }] }));
    running.push(a);
    await a.start();
    const logs: string[] = [];
    const b = new Speaker(config({ routerId: '10.0.0.2', localAs: 65002, peers: [{ address: '::1', asn: 65001, port: a.listenPort, extendedNextHop: true }], routes: ['10.5.0.0/16'] }), (_, m) => logs.push(m));
    running.push(b);
    await b.start();
    await until('established', () => established(a) && established(b));
    await until('warning', () => logs.some((l) => l.includes('IPv4 routes are not sent')));
    expect(received(a)).toEqual([]);
  });
});
