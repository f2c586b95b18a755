// RFC 2918 route refresh and RFC 7313 enhanced route refresh: the SUT re-sends its Adj-RIB-Out
// on request (framed by BoRR / EoRR when enhanced refresh is negotiated), ignores requests for
// families not negotiated and unknown subtypes, rejects BoRR / EoRR of the wrong length, and
// purges the tester's routes not re-sent between the tester's BoRR and EoRR.
// Prefixes 10.29.N.0/24, one N per test.
import { endOfRib, ErrorCode, RouteRefreshSubcode, type BgpMessage, type RouteRefreshMessage } from '../../reference/bgp/wire/index.ts';
import { rawMessage } from '../tester/bytes.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, capsWith, establish, expectNotWithdrawn, expectStillUp, isEndOfRibFor, patient, requireSutCapability, settle } from './feature-helpers.ts';

const p = (n: number) => `10.29.${n}.0/24`;
const ENHANCED = { code: 70, name: 'enhanced-route-refresh' } as const;
/** The tester's Graceful Restart capability (IPv4 and IPv6, forwarding state kept). */
const GR = { code: 64, name: 'graceful-restart', restarting: false, notification: false, restartTime: 60, families: [1, 2].map((afi) => ({ afi, safi: 1, forwardingState: true })) } as const;

const refresh = (afi: number, safi = 1, subtype = 0): RouteRefreshMessage => ({ type: 'ROUTE-REFRESH', afi, safi, subtype });
const isRefresh = (subtype: number) => (m: BgpMessage) => m.type === 'ROUTE-REFRESH' && m.subtype === subtype;

const grCap = () => ({ ...GR, families: [...GR.families] });

/**
 * An established session whose initial table has been received. With `enhanced` the tester offers
 * enhanced refresh and graceful restart too: a GR speaker sends no BoRR before its End-of-RIB
 * (RFC 7313 4), and some send End-of-RIB only to GR peers, so this keeps that rule out of the way.
 */
async function refreshSession(t: ClauseContext, enhanced: boolean): Promise<TesterPeer> {
  const asn = t.slots[0]!.asn;
  const peer = await establish(t, 0, enhanced ? { capabilities: capsWith(asn, ENHANCED, grCap()) } : {});
  requireSutCapability(t, peer, 2, 'route refresh');
  if (enhanced) requireSutCapability(t, peer, 70, 'enhanced route refresh');
  await settle(t, peer);
  return peer;
}

/** A ROUTE-REFRESH for IPv4 unicast on `peer`: the SUT sends its originated IPv4 route again. */
async function refreshResends(t: ClauseContext, peer: TesterPeer): Promise<void> {
  peer.sendMessage(refresh(1));
  await peer.expectAnnounced(t.sut.originates.ipv4);
}

/** Both prefixes reach `observer`, in one UPDATE or two. */
async function expectBothAnnounced(observer: TesterPeer, x: string, y: string): Promise<void> {
  const first = await observer.expectUpdate((u) => announces(u, x) || announces(u, y), `announcing ${x} or ${y}`);
  if (!announces(first, x) || !announces(first, y)) await observer.expectAnnounced(announces(first, x) ? y : x);
}

/** A ROUTE-REFRESH that is ignored: no NOTIFICATION, and the originated IPv4 route is not re-sent. */
async function expectIgnored(t: ClauseContext, peer: TesterPeer, what: string): Promise<void> {
  await peer.expectNoUpdate((u) => announces(u, t.sut.originates.ipv4), `re-sending ${t.sut.originates.ipv4} (${what} must be ignored)`, 3000);
  expectStillUp(peer, what);
}

/** BoRR or EoRR with a 5-octet body: ROUTE-REFRESH Message Error / Invalid Message Length, the message as data. */
function badLength(subtype: 1 | 2, name: string): ClauseTest {
  return {
    id: `bgp.enhanced-refresh.${name.toLowerCase()}-bad-length`,
    rfc: 'RFC 7313 5',
    level: 'MUST',
    negative: true,
    title: `a ${name} whose body is not 4 octets gets NOTIFICATION ROUTE-REFRESH Message Error / Invalid Message Length with the message as data`,
    needs: ['enhanced-route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, true);
      const body = [0, 1, subtype, 1, 0];
      peer.sendMessage(rawMessage(5, body), `${name} for IPv4 unicast with a 5-octet body`);
      const n = await peer.expectNotification(ErrorCode.ROUTE_REFRESH, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH);
      if (!n.data.endsWith(Buffer.from(body).toString('hex'))) throw new ExpectationFailed(`the NOTIFICATION's data should be the ${name} message (ending ${Buffer.from(body).toString('hex')}), is "${n.data}"`, peer.transcript);
    },
  };
}

/**
 * Slot 0 (enhanced refresh and graceful restart offered) announces `kept` and `dropped` and its
 * End-of-RIB (so its BoRR is not one a GR speaker must ignore), slot 1 sees both; slot 0 sends
 * BoRR, re-announces `kept` only, then EoRR.
 */
async function refreshCycle(t: ClauseContext, kept: string, dropped: string): Promise<{ source: TesterPeer; observer: TesterPeer }> {
  const observer = await establish(t, 1);
  const source = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, ENHANCED, grCap()) });
  requireSutCapability(t, source, 70, 'enhanced route refresh');
  announce(t, source, 0, [kept, dropped]);
  source.sendMessage(endOfRib(1, 1), 'End-of-RIB IPv4');
  await expectBothAnnounced(observer, kept, dropped);
  observer.drain();
  source.sendMessage(refresh(1, 1, 1), 'ROUTE-REFRESH BoRR for IPv4 unicast');
  await expectNotWithdrawn(observer, dropped, 'BoRR alone must not remove routes', 1500);
  announce(t, source, 0, [kept]);
  source.sendMessage(refresh(1, 1, 2), 'ROUTE-REFRESH EoRR for IPv4 unicast');
  return { source, observer };
}

export const ROUTE_REFRESH_CLAUSES: ClauseTest[] = patient([
  {
    id: 'bgp.route-refresh.capability-offered',
    rfc: 'RFC 2918 2',
    level: 'MUST',
    title: 'a SUT configured for route refresh offers the Route Refresh capability (2) in its OPEN',
    needs: ['route-refresh'],
    async run(t) {
      const peer = await establish(t);
      const cap = peer.openReceived()?.capabilities.find((c) => c.code === 2);
      if (!cap) throw new ExpectationFailed('the SUT OPEN carries no Route Refresh capability (2)', peer.transcript);
    },
  },
  {
    id: 'bgp.route-refresh.resend-ipv4',
    rfc: 'RFC 2918 4',
    level: 'MUST',
    title: 'a ROUTE-REFRESH for IPv4 unicast makes the SUT advertise its IPv4 Adj-RIB-Out again (its originated route comes again)',
    needs: ['route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, false);
      await refreshResends(t, peer);
      expectStillUp(peer, 'ROUTE-REFRESH');
    },
  },
  {
    id: 'bgp.route-refresh.resend-ipv6',
    rfc: 'RFC 2918 4',
    level: 'MUST',
    title: 'a ROUTE-REFRESH for IPv6 unicast makes the SUT advertise its IPv6 Adj-RIB-Out again, and not its IPv4 routes',
    needs: ['route-refresh', 'ipv6'],
    async run(t) {
      const v6 = t.sut.originates.ipv6;
      if (!v6) return t.skip('the SUT originates no IPv6 route');
      const peer = await refreshSession(t, false);
      peer.sendMessage(refresh(2));
      const u = await peer.expectAnnounced(v6);
      if (announces(u, t.sut.originates.ipv4)) throw new ExpectationFailed('the IPv6 refresh re-sent IPv4 routes in the same UPDATE', peer.transcript);
      expectStillUp(peer, 'ROUTE-REFRESH');
    },
  },
  {
    id: 'bgp.route-refresh.family-not-negotiated',
    rfc: 'RFC 2918 4',
    level: 'MUST',
    title: 'a ROUTE-REFRESH for a family not negotiated on the session (IPv6 when the tester offered IPv4 only) is ignored',
    needs: ['route-refresh'],
    async run(t) {
      const asn = t.slots[0]!.asn;
      const peer = await establish(t, 0, { capabilities: capsWith(asn).filter((c) => !(c.name === 'multiprotocol' && c.afi === 2)) });
      requireSutCapability(t, peer, 2, 'route refresh');
      await settle(t, peer);
      peer.sendMessage(refresh(2), 'ROUTE-REFRESH for IPv6 unicast (not negotiated)');
      await peer.expectNoUpdate((u) => u.attributes.mpReach?.afi === 2, 'carrying IPv6 routes (not negotiated)', 3000);
      expectStillUp(peer, 'a ROUTE-REFRESH for a family not negotiated');
    },
  },
  {
    id: 'bgp.route-refresh.unknown-family',
    rfc: 'RFC 2918 4',
    level: 'MUST',
    title: 'a ROUTE-REFRESH for an AFI/SAFI the SUT never advertised (IPv4 SAFI 128) is ignored: no NOTIFICATION, nothing re-sent',
    needs: ['route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, false);
      peer.sendMessage(refresh(1, 128), 'ROUTE-REFRESH for AFI 1 SAFI 128');
      await expectIgnored(t, peer, 'a ROUTE-REFRESH for AFI 1 SAFI 128');
    },
  },
  {
    id: 'bgp.enhanced-refresh.capability-offered',
    rfc: 'RFC 7313 3.1',
    level: 'MUST',
    title: 'a SUT configured for enhanced route refresh offers the Enhanced Route Refresh capability (70) in its OPEN',
    needs: ['enhanced-route-refresh'],
    async run(t) {
      const peer = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, ENHANCED) });
      if (!peer.openReceived()?.capabilities.some((c) => c.code === 70)) throw new ExpectationFailed('the SUT OPEN carries no Enhanced Route Refresh capability (70)', peer.transcript);
    },
  },
  {
    id: 'bgp.enhanced-refresh.borr-eorr-framing',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'with enhanced refresh negotiated, a ROUTE-REFRESH is answered with BoRR, the re-advertised routes, then EoRR',
    needs: ['enhanced-route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, true);
      peer.sendMessage(refresh(1));
      const borr = await peer.next((m) => isRefresh(1)(m) || (m.type === 'UPDATE' && announces(m, t.sut.originates.ipv4)), 10_000);
      if (!borr || borr.type !== 'ROUTE-REFRESH') throw new ExpectationFailed(`expected a BoRR (ROUTE-REFRESH subtype 1) before the re-advertised routes, got ${borr ? 'the route first' : 'nothing'}`, peer.transcript);
      if (borr.afi !== 1 || borr.safi !== 1) throw new ExpectationFailed(`the BoRR is for AFI ${borr.afi} SAFI ${borr.safi}, expected IPv4 unicast`, peer.transcript);
      const route = await peer.next((m) => isRefresh(2)(m) || (m.type === 'UPDATE' && announces(m, t.sut.originates.ipv4)), 10_000);
      if (!route || route.type !== 'UPDATE') throw new ExpectationFailed(`expected ${t.sut.originates.ipv4} between BoRR and EoRR, got ${route ? 'the EoRR first' : 'nothing'}`, peer.transcript);
      const eorr = await peer.next(isRefresh(2), 10_000);
      if (!eorr || eorr.type !== 'ROUTE-REFRESH' || eorr.afi !== 1 || eorr.safi !== 1) throw new ExpectationFailed('expected an EoRR (ROUTE-REFRESH subtype 2) for IPv4 unicast after the re-advertised routes', peer.transcript);
    },
  },
  {
    id: 'bgp.enhanced-refresh.resend-without-gr',
    rfc: 'RFC 2918 4',
    level: 'MUST',
    title: 'with enhanced refresh negotiated but no graceful restart from the tester, a ROUTE-REFRESH still makes the SUT advertise its Adj-RIB-Out again',
    needs: ['enhanced-route-refresh'],
    async run(t) {
      const peer = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, ENHANCED) });
      requireSutCapability(t, peer, 70, 'enhanced route refresh');
      await settle(t, peer);
      await refreshResends(t, peer);
      expectStillUp(peer, 'ROUTE-REFRESH');
    },
  },
  {
    id: 'bgp.enhanced-refresh.no-markers-without-capability',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'when the tester did not offer enhanced refresh, the SUT answers a ROUTE-REFRESH without BoRR / EoRR markers',
    needs: ['route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, false);
      await refreshResends(t, peer);
      await peer.next(() => false, 1500);
      const marker = peer.messages.find((m) => m.type === 'ROUTE-REFRESH' && (m.subtype === 1 || m.subtype === 2));
      if (marker) throw new ExpectationFailed('the SUT sent a BoRR/EoRR although the tester did not offer the Enhanced Route Refresh capability', peer.transcript);
    },
  },
  badLength(1, 'BoRR'),
  badLength(2, 'EoRR'),
  {
    id: 'bgp.enhanced-refresh.unknown-subtype',
    rfc: 'RFC 7313 5',
    level: 'MUST',
    title: 'a ROUTE-REFRESH with a Message Subtype other than 0, 1 or 2 is ignored: no NOTIFICATION, nothing re-sent',
    needs: ['enhanced-route-refresh'],
    async run(t) {
      const peer = await refreshSession(t, true);
      peer.sendMessage(refresh(1, 1, 7), 'ROUTE-REFRESH subtype 7 for IPv4 unicast');
      await expectIgnored(t, peer, 'a ROUTE-REFRESH of subtype 7');
    },
  },
  {
    id: 'bgp.enhanced-refresh.stale-purge',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'routes of the tester not re-advertised between its BoRR and EoRR are removed at the EoRR',
    needs: ['enhanced-route-refresh'],
    slots: ['ebgp', 'ebgp'],
    async run(t) {
      const { observer } = await refreshCycle(t, p(1), p(2));
      await observer.expectWithdrawn(p(2));
    },
  },
  {
    id: 'bgp.enhanced-refresh.refreshed-kept',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'routes of the tester re-advertised between its BoRR and EoRR stay after the EoRR',
    needs: ['enhanced-route-refresh'],
    slots: ['ebgp', 'ebgp'],
    async run(t) {
      const { source, observer } = await refreshCycle(t, p(3), p(4));
      await expectNotWithdrawn(observer, p(3), 'it was re-advertised before the EoRR', 3000);
      expectStillUp(source, 'BoRR / EoRR');
    },
  },
  {
    id: 'bgp.enhanced-refresh.no-borr-before-eor',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'with graceful restart negotiated, the SUT does not send a BoRR for a family before that family\'s End-of-RIB (refresh asked for right after OPEN)',
    needs: ['enhanced-route-refresh', 'graceful-restart'],
    slots: ['gr'],
    async run(t) {
      const peer = await t.connect();
      const asn = t.slots[0]!.asn;
      peer.sendOpen({ asn, bgpId: t.slots[0]!.address, holdTime: 9, capabilities: capsWith(asn, ENHANCED, grCap()) });
      await peer.expectOpen(10_000);
      requireSutCapability(t, peer, 70, 'enhanced route refresh');
      requireSutCapability(t, peer, 64, 'Graceful Restart');
      peer.sendMessage({ type: 'KEEPALIVE' });
      peer.sendMessage(refresh(1), 'ROUTE-REFRESH for IPv4 unicast, right after our KEEPALIVE');
      peer.startKeepalives(3000);
      const first = await peer.next((m) => isRefresh(1)(m) || (m.type === 'UPDATE' && isEndOfRibFor(m, 1)), 15_000);
      if (!first) throw new ExpectationFailed('neither an IPv4 End-of-RIB nor a BoRR came within 15 s', peer.transcript);
      if (first.type === 'ROUTE-REFRESH') throw new ExpectationFailed('the SUT sent a BoRR for IPv4 before its IPv4 End-of-RIB', peer.transcript);
    },
  },
  {
    id: 'bgp.enhanced-refresh.borr-before-eor-ignored',
    rfc: 'RFC 7313 4',
    level: 'MUST',
    title: 'from a peer that offered graceful restart, a BoRR before that peer\'s End-of-RIB is ignored: its EoRR then purges nothing',
    needs: ['enhanced-route-refresh', 'graceful-restart'],
    slots: ['gr', 'ebgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, ENHANCED, grCap()) });
      requireSutCapability(t, source, 70, 'enhanced route refresh');
      requireSutCapability(t, source, 64, 'Graceful Restart');
      announce(t, source, 0, [p(5), p(6)]);
      await expectBothAnnounced(observer, p(5), p(6));
      source.sendMessage(refresh(1, 1, 1), 'ROUTE-REFRESH BoRR for IPv4 unicast (no End-of-RIB sent yet)');
      announce(t, source, 0, [p(5)]);
      source.sendMessage(refresh(1, 1, 2), 'ROUTE-REFRESH EoRR for IPv4 unicast');
      await expectNotWithdrawn(observer, p(6), 'the BoRR came before our End-of-RIB and must have been ignored', 3000);
      expectStillUp(source, 'BoRR / EoRR before End-of-RIB');
    },
  },
]);
