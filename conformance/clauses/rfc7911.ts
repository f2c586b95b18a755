// RFC 7911 ADD-PATH on the SUT's addpath slots (configured send+receive for IPv4/IPv6 unicast):
// the capability, path identifiers per family and direction as negotiated, several paths of one
// prefix kept apart, withdrawal by path identifier, and NLRI without the identifier.
// Prefixes 10.79.N.0/24 (and 10.179.0.0/16), one N per test.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import type { AddPathMode, Capability, Route, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { asPath4, nextHop, origin } from '../tester/bytes.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, announcedToObserver, capsWith, establish, expectNotWithdrawn, expectStillUp, patient, pause, requireSutCapability, routesOf, withdraw } from './feature-helpers.ts';

const p = (n: number) => `10.79.${n}.0/24`;

const addPath = (entries: Array<[afi: number, mode: AddPathMode]>): Capability => ({ code: 69, name: 'add-path', entries: entries.map(([afi, mode]) => ({ afi, safi: 1, mode })) });
const BOTH = addPath([
  [1, 'both'],
  [2, 'both'],
]);

/** The SUT's ADD-PATH mode for a family on this session, or undefined. */
function sutMode(peer: TesterPeer, afi: number): AddPathMode | undefined {
  const cap = peer.openReceived()?.capabilities.find((c): c is Extract<Capability, { code: 69 }> => c.code === 69);
  return cap?.entries.find((e) => e.afi === afi && e.safi === 1)?.mode;
}
const canSend = (m: AddPathMode | undefined) => m === 'send' || m === 'both';
const canReceive = (m: AddPathMode | undefined) => m === 'receive' || m === 'both';

/** Slot 0 with ADD-PATH as `cap` (none when null); skips unless the SUT offers ADD-PATH in `needSut` direction for IPv4. */
async function addPathSession(t: ClauseContext, cap: Capability | null, needSut: 'send' | 'receive' | 'any', i = 0): Promise<TesterPeer> {
  const asn = t.slots[i]!.asn;
  const peer = await establish(t, i, { capabilities: cap ? capsWith(asn, cap) : capsWith(asn) });
  requireSutCapability(t, peer, 69, 'ADD-PATH');
  const mode = sutMode(peer, 1);
  if (needSut === 'send' && !canSend(mode)) t.skip(`the SUT does not offer to send ADD-PATH for IPv4 unicast (mode ${mode ?? 'none'})`);
  if (needSut === 'receive' && !canReceive(mode)) t.skip(`the SUT does not offer to receive ADD-PATH for IPv4 unicast (mode ${mode ?? 'none'})`);
  return peer;
}

/** The SUT's originated route of `prefix` arrives and decodes as `withPathId` says (the decoder follows the negotiated context). */
async function expectOriginated(peer: TesterPeer, prefix: string, withPathId: boolean, why: string): Promise<void> {
  const u = await peer.next((m): m is UpdateMessage => m.type === 'UPDATE' && announces(m, prefix), 10_000);
  if (!u) {
    const undecodable = peer.undecodable.length ? `; ${peer.undecodable.length} message(s) did not decode: ${peer.undecodable[0]}` : '';
    throw new ExpectationFailed(`${peer.label}: ${prefix} did not arrive as expected ${withPathId ? 'with' : 'without'} path identifiers (${why})${undecodable}`, peer.transcript);
  }
  const route = routesOf(u, prefix)[0]!;
  if ((route.pathId !== undefined) !== withPathId) throw new ExpectationFailed(`${prefix} came ${route.pathId !== undefined ? 'with' : 'without'} a path identifier (${why})`, peer.transcript);
  if (peer.undecodable.length) throw new ExpectationFailed(`${peer.undecodable.length} message(s) from the SUT did not decode in the negotiated context: ${peer.undecodable[0]}`, peer.transcript);
}

/** On an ADD-PATH session (tester offering `cap`), the SUT's originated IPv4 route comes with or without path identifiers as `withPathId` says. */
function pathIdsFromSut(c: { id: string; rfc: string; title: string; cap: Capability; needSut: 'send' | 'any'; withPathId: boolean; why: string }): ClauseTest {
  return {
    id: c.id,
    rfc: c.rfc,
    level: 'MUST',
    title: c.title,
    needs: ['addpath'],
    slots: ['addpath'],
    async run(t) {
      const peer = await addPathSession(t, c.cap, c.needSut);
      await expectOriginated(peer, t.sut.originates.ipv4, c.withPathId, c.why);
    },
  };
}

/** A route from the ADD-PATH slot (offering `cap`) that the SUT must accept and pass on to an eBGP observer. */
interface AcceptedRoute {
  id: string;
  rfc: string;
  title: string;
  cap: Capability;
  needSut: 'receive' | 'any';
  route: string | Route;
  what: string;
}

export const ADD_PATH_CLAUSES: ClauseTest[] = patient([
  {
    id: 'bgp.addpath.capability-offered',
    rfc: 'RFC 7911 4',
    level: 'MUST',
    title: 'a SUT configured for ADD-PATH offers capability 69 with an entry per configured family (IPv4 unicast at least) and a valid Send/Receive mode',
    needs: ['addpath'],
    slots: ['addpath'],
    async run(t) {
      const peer = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, BOTH) });
      const cap = peer.openReceived()?.capabilities.find((c): c is Extract<Capability, { code: 69 }> => c.code === 69);
      if (!cap) throw new ExpectationFailed('the SUT OPEN on an ADD-PATH slot carries no ADD-PATH capability (69)', peer.transcript);
      if (!sutMode(peer, 1)) throw new ExpectationFailed(`the ADD-PATH capability has no IPv4 unicast entry (entries: ${cap.entries.map((e) => `${e.afi}/${e.safi} ${e.mode}`).join(', ')})`, peer.transcript);
    },
  },
  pathIdsFromSut({ id: 'bgp.addpath.sut-sends-path-ids', rfc: 'RFC 7911 3', title: 'when the SUT may send and the tester may receive ADD-PATH for IPv4, every IPv4 NLRI the SUT sends carries a path identifier', cap: BOTH, needSut: 'send', withPathId: true, why: 'ADD-PATH negotiated SUT -> tester for IPv4' }),
  {
    id: 'bgp.addpath.sut-sends-path-ids-ipv6',
    rfc: 'RFC 7911 3',
    level: 'MUST',
    title: 'when ADD-PATH is negotiated SUT -> tester for IPv6 unicast, the IPv6 NLRI the SUT sends (in MP_REACH_NLRI) carry path identifiers',
    needs: ['addpath', 'ipv6'],
    slots: ['addpath'],
    async run(t) {
      const v6 = t.sut.originates.ipv6;
      if (!v6) return t.skip('the SUT originates no IPv6 route');
      const peer = await addPathSession(t, BOTH, 'any');
      if (!canSend(sutMode(peer, 2))) return t.skip(`the SUT does not offer to send ADD-PATH for IPv6 unicast (mode ${sutMode(peer, 2) ?? 'none'})`);
      await expectOriginated(peer, v6, true, 'ADD-PATH negotiated SUT -> tester for IPv6');
    },
  },
  {
    id: 'bgp.addpath.no-path-ids-when-not-negotiated',
    rfc: 'RFC 7911 4',
    level: 'MUST',
    title: 'when the tester offers no ADD-PATH capability, the SUT sends its NLRI without path identifiers',
    needs: ['addpath'],
    slots: ['addpath'],
    async run(t) {
      const peer = await establish(t, 0);
      await expectOriginated(peer, t.sut.originates.ipv4, false, 'the tester offered no ADD-PATH capability');
    },
  },
  pathIdsFromSut({
    id: 'bgp.addpath.no-path-ids-to-send-only-peer',
    rfc: 'RFC 7911 4',
    title: 'when the tester offers ADD-PATH Send only, the SUT (which may not send to a peer that cannot receive) sends NLRI without path identifiers',
    cap: addPath([
      [1, 'send'],
      [2, 'send'],
    ]),
    needSut: 'any',
    withPathId: false,
    why: 'the tester offered Send only',
  }),
  {
    id: 'bgp.addpath.per-family',
    rfc: 'RFC 7911 4',
    level: 'MUST',
    title: 'ADD-PATH is per family: with Receive offered for IPv4 only, the SUT sends path identifiers for IPv4 and none for IPv6',
    needs: ['addpath', 'ipv6'],
    slots: ['addpath'],
    async run(t) {
      const v6 = t.sut.originates.ipv6;
      if (!v6) return t.skip('the SUT originates no IPv6 route');
      const peer = await addPathSession(t, addPath([[1, 'receive']]), 'send');
      const v4 = t.sut.originates.ipv4;
      const find = (prefix: string) => peer.messages.find((m): m is UpdateMessage => m.type === 'UPDATE' && announces(m, prefix));
      const deadline = Date.now() + 10_000;
      while ((!find(v4) || !find(v6)) && !peer.closed && Date.now() < deadline) await pause(100);
      peer.sync();
      const undecodable = peer.undecodable.length ? `; undecodable: ${peer.undecodable[0]}` : '';
      for (const [prefix, withId] of [[v4, true], [v6, false]] as const) {
        const u = find(prefix);
        if (!u) throw new ExpectationFailed(`${prefix} did not arrive decodable ${withId ? 'with' : 'without'} path identifiers (ADD-PATH negotiated for IPv4 only)${undecodable}`, peer.transcript);
        if ((routesOf(u, prefix)[0]!.pathId !== undefined) !== withId) throw new ExpectationFailed(`${prefix} came ${withId ? 'without' : 'with'} a path identifier although ADD-PATH was negotiated for IPv4 only`, peer.transcript);
      }
      if (undecodable) throw new ExpectationFailed(`messages from the SUT did not decode in the negotiated context${undecodable}`, peer.transcript);
    },
  },
  ...(
    [
      { id: 'accepts-path-ids', rfc: 'RFC 7911 3', title: 'when the tester may send and the SUT may receive ADD-PATH, the SUT accepts NLRI with path identifiers (the route is used and passed on)', cap: addPath([[1, 'send']]), needSut: 'receive', route: { prefix: p(1), pathId: 7 }, what: 'NLRI with path identifiers' },
      { id: 'path-id-zero', rfc: 'RFC 7911 3', title: 'path identifier 0 is a valid identifier: a route with it is accepted and passed on', cap: BOTH, needSut: 'receive', route: { prefix: p(2), pathId: 0 }, what: 'a path identifier 0' },
      { id: 'no-path-ids-from-receive-only-peer', rfc: 'RFC 7911 4', title: "when the tester offers ADD-PATH Receive only, the SUT reads the tester's NLRI without path identifiers", cap: addPath([[1, 'receive']]), needSut: 'any', route: p(3), what: 'NLRI without path identifiers from a Receive-only peer' },
    ] satisfies AcceptedRoute[]
  ).map(
    (c): ClauseTest => ({
      id: `bgp.addpath.${c.id}`,
      rfc: c.rfc,
      level: 'MUST',
      title: c.title,
      needs: ['addpath'],
      slots: ['addpath', 'ebgp'],
      async run(t) {
        const { source } = await announcedToObserver(t, [c.route], { source: () => addPathSession(t, c.cap, c.needSut) });
        expectStillUp(source, c.what);
      },
    }),
  ),
  {
    id: 'bgp.addpath.withdraw-one-path',
    rfc: 'RFC 7911 3',
    level: 'MUST',
    title: 'two paths of one prefix (path ids 1 and 2) are kept apart: withdrawing path 1 leaves the prefix reachable, withdrawing path 2 removes it',
    needs: ['addpath'],
    slots: ['addpath', 'ebgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const peer = await addPathSession(t, BOTH, 'receive');
      announce(t, peer, 0, [{ prefix: p(4), pathId: 1 }], { med: 10 });
      announce(t, peer, 0, [{ prefix: p(4), pathId: 2 }], { med: 20 });
      await observer.expectAnnounced(p(4));
      await observer.next(() => false, 1000);
      observer.drain();
      withdraw(peer, [{ prefix: p(4), pathId: 1 }]);
      await expectNotWithdrawn(observer, p(4), 'path id 2 of it is still announced', 2500);
      withdraw(peer, [{ prefix: p(4), pathId: 2 }]);
      await observer.expectWithdrawn(p(4));
      expectStillUp(peer, 'withdrawals by path identifier');
    },
  },
  {
    id: 'bgp.addpath.both-paths-propagated',
    rfc: 'RFC 7911 3',
    level: 'MAY',
    title: 'two paths of one prefix from one peer reach another ADD-PATH peer of the SUT as two paths with distinct path identifiers',
    needs: ['addpath'],
    slots: ['addpath', 'addpath'],
    async run(t) {
      const observer = await addPathSession(t, BOTH, 'send', 1);
      const peer = await addPathSession(t, BOTH, 'receive');
      announce(t, peer, 0, [{ prefix: p(5), pathId: 1 }], { med: 10 });
      announce(t, peer, 0, [{ prefix: p(5), pathId: 2 }], { med: 20 });
      const ids = new Set<number>();
      const deadline = Date.now() + 10_000;
      while (ids.size < 2 && Date.now() < deadline) {
        const u = await observer.next((m): m is UpdateMessage => m.type === 'UPDATE' && announces(m, p(5)), deadline - Date.now());
        if (!u) break;
        for (const r of routesOf(u, p(5))) if (r.pathId !== undefined) ids.add(r.pathId);
      }
      if (ids.size < 2) throw new ExpectationFailed(`the ADD-PATH observer got ${ids.size} path(s) of ${p(5)} (ids ${[...ids].join(', ') || 'none'}), expected 2 with distinct identifiers`, observer.transcript);
    },
  },
  {
    id: 'bgp.addpath.missing-path-id',
    rfc: 'RFC 7911 3',
    level: 'MUST',
    negative: true,
    title: 'an NLRI without its path identifier (ADD-PATH negotiated toward the SUT) is malformed: session reset, or the route is not used (RFC 7606 treat-as-withdraw / AFI-SAFI disable)',
    needs: ['addpath'],
    slots: ['addpath', 'ebgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const peer = await addPathSession(t, BOTH, 'receive');
      const prefix = '10.179.0.0/16';
      peer.sendMessage(rawUpdate([...origin(), ...asPath4(t.slots[0]!.asn), ...nextHop(t.slots[0]!.address)], [16, 10, 179]), `UPDATE nlri ${prefix} without its path identifier`);
      const n = await peer.next((m) => m.type === 'NOTIFICATION', 3000);
      if (n && n.type === 'NOTIFICATION') {
        if (n.code !== 3) throw new ExpectationFailed(`the SUT reset the session with NOTIFICATION ${n.code}/${n.subcode}; a reset for a malformed UPDATE uses code 3 (UPDATE Message Error)`, peer.transcript);
        peer.note(`allowed outcome: session reset with NOTIFICATION 3/${n.subcode}`);
        return;
      }
      peer.note('no NOTIFICATION: the route must not be used');
      await observer.expectNoUpdate((u) => announces(u, prefix) || u.nlri.some((r) => r.prefix.startsWith('10.179.')), `announcing ${prefix} (its NLRI was malformed)`, 2000);
    },
  },
]);
