// RFC 4724 graceful restart on the SUT's gr slots: the capability, End-of-RIB after the initial
// table, and the helper (Receiving Speaker) role: the tester "restarts" (TCP closed without a
// NOTIFICATION, then a new session with the Restart State bit) and an eBGP observer slot shows
// whether the SUT kept its routes stale, purged them at End-of-RIB, at the restart time, or at
// once when the new session does not preserve them.
// Prefixes 10.47.N.0/24, one N per test.
import { endOfRib, ErrorCode, type Capability, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, announcedToObserver, capsWith, establish, expectNotWithdrawn, expectStillUp, isEndOfRibFor, patient, pause, requireSutCapability } from './feature-helpers.ts';

const p = (n: number) => `10.47.${n}.0/24`;

/** The tester's Graceful Restart capability: restart time, R bit, and per family (AFI) the Forwarding State bit. */
function gr(restartTime: number, restarting = false, families: Array<[afi: number, forwarding: boolean]> = [[1, true]]): Capability {
  return { code: 64, name: 'graceful-restart', restarting, notification: false, restartTime, families: families.map(([afi, forwardingState]) => ({ afi, safi: 1, forwardingState })) };
}

/** A session from slot i with the tester's GR capability `cap` (none when null); skips unless the SUT offers GR. */
async function grSession(t: ClauseContext, cap: Capability | null, i = 0): Promise<TesterPeer> {
  const asn = t.slots[i]!.asn;
  const peer = await establish(t, i, { capabilities: cap ? capsWith(asn, cap) : capsWith(asn) });
  requireSutCapability(t, peer, 64, 'Graceful Restart');
  return peer;
}

/** A new session from slot i after the tester's "restart" (the SUT may still be noticing the old one's end: a few tries). */
async function reconnect(t: ClauseContext, cap: Capability | null, i = 0): Promise<TesterPeer> {
  let last: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const asn = t.slots[i]!.asn;
      return await establish(t, i, { capabilities: cap ? capsWith(asn, cap) : capsWith(asn) });
    } catch (err) {
      last = err;
      await pause(1000);
    }
  }
  throw last;
}

/**
 * Observer (slot 1) up, then slot 0 with GR (restart time `restartTime`) announces `prefixes`,
 * the observer sees them, and slot 0 "restarts": its TCP connection closes without a NOTIFICATION.
 */
async function announceThenDrop(t: ClauseContext, prefixes: string[], restartTime: number): Promise<{ observer: TesterPeer; first: TesterPeer }> {
  const observer = await establish(t, 1);
  const first = await grSession(t, gr(restartTime));
  announce(t, first, 0, prefixes);
  for (const prefix of prefixes) if (!observer.messages.some((m) => m.type === 'UPDATE' && announces(m, prefix))) await observer.expectAnnounced(prefix);
  await observer.next(() => false, 500);
  observer.drain();
  first.note('tester restarts: TCP closed without a NOTIFICATION');
  first.close();
  return { observer, first };
}

/** The SUT sends its originated route of one family, then that family's End-of-RIB. */
function endOfRibTest(afi: 1 | 2): ClauseTest {
  const name = afi === 1 ? 'IPv4' : 'IPv6';
  return {
    id: `bgp.gr.end-of-rib-${name.toLowerCase()}`,
    rfc: 'RFC 4724 2',
    level: 'MUST',
    title: `with graceful restart negotiated the SUT sends the ${name} End-of-RIB marker (${afi === 1 ? 'an empty UPDATE' : 'MP_UNREACH_NLRI without NLRI'}) after its initial ${name} routes`,
    needs: afi === 1 ? ['graceful-restart'] : ['graceful-restart', 'ipv6'],
    slots: ['gr'],
    async run(t) {
      const prefix = afi === 1 ? t.sut.originates.ipv4 : t.sut.originates.ipv6;
      if (!prefix) return t.skip('the SUT originates no IPv6 route');
      const peer = await grSession(
        t,
        gr(30, false, [
          [1, true],
          [2, true],
        ]),
      );
      const first = await peer.next((m): m is UpdateMessage => m.type === 'UPDATE' && (announces(m, prefix) || isEndOfRibFor(m, afi)), 15_000);
      if (!first) throw new ExpectationFailed(`neither ${prefix} nor the ${name} End-of-RIB came within 15 s`, peer.transcript);
      if (!announces(first, prefix)) throw new ExpectationFailed(`the ${name} End-of-RIB came before the SUT's initial route ${prefix}`, peer.transcript);
      await peer.expectUpdate((u) => isEndOfRibFor(u, afi), `End-of-RIB for ${name} unicast`, 15_000);
    },
  };
}

export const GRACEFUL_RESTART_CLAUSES: ClauseTest[] = patient([
  {
    id: 'bgp.gr.capability-offered',
    rfc: 'RFC 4724 3',
    level: 'MUST',
    title: 'a SUT configured for graceful restart offers the Graceful Restart capability (64) in its OPEN',
    needs: ['graceful-restart'],
    slots: ['gr'],
    async run(t) {
      const peer = await establish(t, 0, { capabilities: capsWith(t.slots[0]!.asn, gr(30)) });
      const cap = peer.openReceived()?.capabilities.find((c) => c.code === 64);
      if (!cap) throw new ExpectationFailed('the SUT OPEN on a graceful-restart slot carries no Graceful Restart capability (64)', peer.transcript);
      if (cap.name === 'graceful-restart') peer.note(`SUT restart time ${cap.restartTime} s, R ${cap.restarting ? 1 : 0}, families ${cap.families.map((f) => `${f.afi}/${f.safi}${f.forwardingState ? ' F' : ''}`).join(', ') || 'none (helper only)'}`);
    },
  },
  endOfRibTest(1),
  endOfRibTest(2),
  {
    id: 'bgp.gr.end-of-rib-accepted',
    rfc: 'RFC 4724 2',
    level: 'MUST',
    title: 'End-of-RIB markers from the tester (IPv4 empty UPDATE, IPv6 empty MP_UNREACH_NLRI) are valid UPDATEs: no NOTIFICATION',
    needs: ['graceful-restart'],
    slots: ['gr'],
    async run(t) {
      const peer = await grSession(
        t,
        gr(30, false, [
          [1, true],
          [2, true],
        ]),
      );
      peer.sendMessage(endOfRib(1, 1), 'End-of-RIB IPv4');
      peer.sendMessage(endOfRib(2, 1), 'End-of-RIB IPv6');
      await peer.expectNoNotification(3000);
      expectStillUp(peer, 'End-of-RIB markers');
    },
  },
  {
    id: 'bgp.gr.helper-retains-routes',
    rfc: 'RFC 4724 4.2',
    level: 'MUST',
    title: 'when a GR peer\'s TCP session ends without a NOTIFICATION, the SUT keeps its routes (stale) instead of withdrawing them',
    needs: ['graceful-restart'],
    slots: ['gr', 'ebgp'],
    async run(t) {
      const { observer } = await announceThenDrop(t, [p(1)], 60);
      await expectNotWithdrawn(observer, p(1), 'the GR peer restarts and the SUT must retain its routes', 4000);
      const rib = await t.receivedFrom(0);
      if (rib && !rib.has(p(1))) throw new ExpectationFailed(`the SUT's RIB no longer holds ${p(1)} from the restarting peer`, observer.transcript);
    },
  },
  {
    id: 'bgp.gr.helper-eor-purges-stale',
    rfc: 'RFC 4724 4.2',
    level: 'MUST',
    title: 'after the restarting peer\'s new session, its routes not re-announced stay until its End-of-RIB and are removed then; re-announced ones stay',
    needs: ['graceful-restart'],
    slots: ['gr', 'ebgp'],
    async run(t) {
      const { observer } = await announceThenDrop(t, [p(2), p(3)], 60);
      await pause(2000); // let the SUT notice the old connection's end first (the fast case is new-connection-replaces-session)
      const second = await reconnect(t, gr(60, true));
      announce(t, second, 0, [p(2)]);
      await expectNotWithdrawn(observer, p(3), 'no End-of-RIB from the restarted peer yet', 2000);
      second.sendMessage(endOfRib(1, 1), 'End-of-RIB IPv4');
      await observer.expectWithdrawn(p(3));
      await expectNotWithdrawn(observer, p(2), 'it was re-announced before the End-of-RIB', 1500);
    },
  },
  {
    id: 'bgp.gr.helper-restart-time-expiry',
    rfc: 'RFC 4724 4.2',
    level: 'MUST',
    title: 'when the restarting peer does not come back within its Restart Time (4 s), the SUT deletes the stale routes',
    needs: ['graceful-restart'],
    slots: ['gr', 'ebgp'],
    timeoutMs: 75_000,
    async run(t) {
      const { observer } = await announceThenDrop(t, [p(4)], 4);
      await expectNotWithdrawn(observer, p(4), 'the 4 s restart time has not passed', 1000);
      await observer.expectWithdrawn(p(4), 25_000);
    },
  },
  ...(
    [
      ['reconnect-without-gr', 5, "when the restarted peer's new OPEN carries no Graceful Restart capability, the SUT removes the stale routes at once", null],
      ['forwarding-state-not-preserved', 6, "when the restarted peer's Graceful Restart capability has the Forwarding State bit clear for IPv4, the SUT removes the stale IPv4 routes at once", gr(60, true, [[1, false]])],
    ] as const
  ).map(
    ([key, n, title, cap]): ClauseTest => ({
      id: `bgp.gr.helper-${key}`,
      rfc: 'RFC 4724 4.2',
      level: 'MUST',
      title,
      needs: ['graceful-restart'],
      slots: ['gr', 'ebgp'],
      async run(t) {
        const { observer } = await announceThenDrop(t, [p(n)], 60);
        await pause(2000); // let the SUT notice the old connection's end first (the fast case is new-connection-replaces-session)
        await reconnect(t, cap);
        await observer.expectWithdrawn(p(n), 10_000);
      },
    }),
  ),
  {
    id: 'bgp.gr.notification-removes-routes',
    rfc: 'RFC 4724 4.2',
    level: 'MUST',
    title: 'when a GR peer ends the session with a NOTIFICATION (no RFC 8538 N bit), the SUT removes its routes at once, not after the restart time',
    needs: ['graceful-restart'],
    slots: ['gr', 'ebgp'],
    async run(t) {
      const { observer, source: peer } = await announcedToObserver(t, [p(7)], { source: () => grSession(t, gr(60)) });
      peer.sendMessage({ type: 'NOTIFICATION', code: ErrorCode.CEASE, subcode: 2, data: '' }, 'NOTIFICATION Cease / Administrative Shutdown');
      await pause(200);
      peer.close();
      await observer.expectWithdrawn(p(7), 10_000);
    },
  },
  {
    id: 'bgp.gr.new-connection-replaces-session',
    rfc: 'RFC 4724 4.2',
    level: 'MUST',
    title: 'a new connection from a restarting GR peer while the old session still looks up replaces it (old one closed), and the peer\'s routes are kept',
    needs: ['graceful-restart'],
    slots: ['gr', 'ebgp'],
    async run(t) {
      const { observer, source: first } = await announcedToObserver(t, [p(8)], { source: () => grSession(t, gr(60)) });
      observer.drain();
      first.stopKeepalives();
      first.note('tester restarts without closing this connection (it goes silent)');
      const second = await reconnect(t, gr(60, true));
      await first.expectClosed(10_000);
      announce(t, second, 0, [p(8)]);
      await expectNotWithdrawn(observer, p(8), 'the restarting peer\'s routes are retained across the new connection', 2000);
      expectStillUp(second, 'replacing the old session');
    },
  },
  {
    id: 'bgp.gr.restarting-speaker',
    rfc: 'RFC 4724 4.1',
    level: 'MUST',
    title: 'as the restarting speaker, the SUT sets the Restart State bit after its restart and sends End-of-RIB once its table is sent',
    needs: ['graceful-restart'],
    slots: ['gr'],
    async run(t) {
      t.skip('the restarting role needs the SUT\'s BGP process restarted during the test, which a tester peer cannot script; End-of-RIB after the initial table is checked by bgp.gr.end-of-rib-*');
    },
  },
]);
