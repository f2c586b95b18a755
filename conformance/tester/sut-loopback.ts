// The reference speaker as SUT on loopback, in this process: tester slots are 127.0.0.x
// addresses, which every Linux host has without a namespace. It is how `npm test` runs the clause
// suite against the reference in seconds; the lab SUT runs the same tests against daemons.
import net from 'node:net';
import { readConfig } from '../../reference/bgp/config.ts';
import { Speaker } from '../../reference/bgp/speaker.ts';
import type { SlotRole, Sut, TesterSlot } from './sut.ts';

export const LOOPBACK_SUT_ASN = 65001;
const TESTER_ASN_BASE = 65100;

/** How many slots of each role the loopback SUT is configured with. */
export const LOOPBACK_SLOTS: Record<SlotRole, number> = { ebgp: 24, ibgp: 6, 'ebgp-active': 3, 'rr-client': 4, addpath: 4, gr: 4 };

export async function startLoopbackSut(log: (line: string) => void = () => undefined): Promise<Sut> {
  const slots: TesterSlot[] = [];
  let next = 10;
  for (const [role, count] of Object.entries(LOOPBACK_SLOTS) as Array<[SlotRole, number]>) {
    for (let k = 0; k < count; k++, next++) {
      const address = `127.0.0.${next}`;
      slots.push({ index: slots.length, role, address, asn: role === 'ibgp' || role === 'rr-client' ? LOOPBACK_SUT_ASN : TESTER_ASN_BASE + next, sutAddress: '127.0.0.1' });
    }
  }
  // ebgp-active slots: the SUT connects to a listener of ours on the slot's address.
  const listeners = new Map<number, { server: net.Server; port: number; waiting: net.Socket[]; wanted: Array<(s: net.Socket) => void> }>();
  for (const slot of slots.filter((s) => s.role === 'ebgp-active')) {
    const entry = { server: net.createServer(), port: 0, waiting: [] as net.Socket[], wanted: [] as Array<(s: net.Socket) => void> };
    entry.server.on('connection', (socket) => {
      const want = entry.wanted.shift();
      if (want) want(socket);
      else socket.destroy(); // nobody is waiting: the SUT retries
    });
    await new Promise<void>((resolve) => entry.server.listen(0, slot.address, resolve));
    entry.port = (entry.server.address() as net.AddressInfo).port;
    listeners.set(slot.index, entry);
  }
  const peers = slots.map((s) => ({
    address: s.address,
    asn: s.asn,
    passive: s.role !== 'ebgp-active',
    ...(s.role === 'ebgp-active' ? { port: listeners.get(s.index)!.port, connectRetry: 1 } : {}),
    families: ['ipv4-unicast', 'ipv6-unicast'],
    ...(s.role === 'addpath' ? { addPath: 'both' } : {}),
    ...(s.role === 'rr-client' ? { routeReflectorClient: true } : {}),
    // only gr slots: the speaker-wide switch below would otherwise turn it on for every peer
    gracefulRestart: s.role === 'gr',
    nextHop6: '::ffff:127.0.0.1',
    // RFC 8950 offered to every slot, so the extended next hop clauses run against the reference.
    extendedNextHop: true,
  }));
  const speaker = new Speaker(
    readConfig({ routerId: '10.255.0.1', localAs: LOOPBACK_SUT_ASN, holdTime: 9, connectRetry: 1, gracefulRestart: { restartTime: 30 }, listen: { address: '127.0.0.1', port: 0 }, peers, routes: ['192.0.2.0/24', '2001:db8:ff::/48'] }, 'loopback-sut.yaml'),
    (level, m) => log(`${level} ${m}`),
  );
  await speaker.start();
  return {
    info: { name: 'reference', asn: LOOPBACK_SUT_ASN, routerId: '10.255.0.1', originates: { ipv4: '192.0.2.0/24', ipv6: '2001:db8:ff::/48' }, holdTime: 9 },
    lacks: {
      'extended-message': 'the reference speaker does not offer extended messages (RFC 8654)',
      role: 'the reference speaker does not implement BGP roles (RFC 9234)',
    },
    slots,
    connect: (slot) =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: speaker.listenPort, localAddress: slot.address });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }),
    accept: (slot, timeoutMs) =>
      new Promise((resolve, reject) => {
        const entry = listeners.get(slot.index);
        if (!entry) return reject(new Error(`slot ${slot.index} is not an ebgp-active slot`));
        const timer = setTimeout(() => reject(new Error(`the SUT did not connect to ${slot.address} within ${timeoutMs} ms`)), timeoutMs);
        entry.wanted.push((socket) => (clearTimeout(timer), resolve(socket)));
      }),
    async receivedFrom(slot) {
      const peer = speaker.peers.find((p) => p.config.address === slot.address);
      return peer ? new Set(speaker.receivedRoutes(peer).map((r) => r.prefix)) : new Set();
    },
    async stop() {
      await speaker.stop();
      for (const l of listeners.values()) l.server.close();
    },
  };
}
