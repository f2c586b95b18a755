// RFC 4271 8.2.2 (the FSM per state), 6.6 (FSM Error, with the RFC 6608 subcodes), 6.8
// (connection collision), 4.5 / 6.4 (NOTIFICATION handling) and 4.1 (the 4096-octet limit):
// unexpected messages in OpenSent / OpenConfirm / Established, what the SUT does when the tester
// ends the session, its timers before Established, and collisions.
import { ipv4NumberToString, parseIpv4, type BgpMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { describeMessage, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { acceptSutConnection, expectKeepalive, slotOpen, keepalivesAtHoldTime3, expectFsmError, expectQuietClose, propagated, reestablish } from './session-helpers.ts';
import { routeUpdate } from './feature-helpers.ts';
import { sizedUpdate } from './update-kit.ts';

/** Distinct prefix per test of this file: 100.99.N.0/24. */
const v4 = (n: number) => `100.99.${n}.0/24`;

/** An UPDATE announcing `prefix` from slot 0 (eBGP): ORIGIN IGP, AS_PATH its AS, NEXT_HOP its address. */
const announce = (t: ClauseContext, prefix: string): UpdateMessage => routeUpdate(t, 0, [prefix]);

/** Our OPEN for slot i on a connection made with t.connect / t.accept. */
function sendOpen(t: ClauseContext, peer: TesterPeer, i = 0, over: { holdTime?: number; bgpId?: string } = {}): void {
  peer.sendOpen(slotOpen(t, over, i));
}

/** A connection in OpenSent on the SUT's side: TCP up, the SUT's OPEN received, ours not sent. */
async function inOpenSent(t: ClauseContext): Promise<TesterPeer> {
  const peer = await t.connect();
  await peer.expectOpen();
  return peer;
}

/** A connection in OpenConfirm on the SUT's side: both OPENs exchanged, the SUT's KEEPALIVE received, ours not sent. */
async function inOpenConfirm(t: ClauseContext, holdTime = 9): Promise<TesterPeer> {
  const peer = await t.connect();
  sendOpen(t, peer, 0, { holdTime });
  await peer.expectOpen();
  await expectKeepalive(peer, "expected the SUT's KEEPALIVE after the OPENs (OpenConfirm)");
  return peer;
}

const ROUTE_REFRESH = { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 } as const;

const FSM_OPEN_SENT = [0, 1];
const FSM_OPEN_CONFIRM = [0, 2];
const FSM_ESTABLISHED = [0, 3];

/** The SUT's BGP identifier plus `delta`, or null when it would wrap or be 0. */
function idNear(routerId: string, delta: number): string | null {
  const n = parseIpv4(routerId) + delta;
  return n <= 0 || n > 0xffffffff ? null : ipv4NumberToString(n);
}

/** A connection reached in this state on the SUT's side, with nothing unread. */
const REACH: Record<'OpenSent' | 'OpenConfirm' | 'Established', (t: ClauseContext) => Promise<TesterPeer>> = {
  OpenSent: inOpenSent,
  OpenConfirm: (t) => inOpenConfirm(t),
  Established: async (t) => {
    const peer = await t.establish();
    peer.drain();
    return peer;
  },
};

/** What the SUT must answer: an FSM Error with one of these subcodes, exactly this subcode and data, or a close without a NOTIFICATION. */
type Answer = { fsmError: number[]; thenClosed?: boolean } | { subcode: number; data: string } | 'quiet close';

/**
 * A message the SUT does not expect in `state` (RFC 4271 8.2.2, RFC 6608 4): the tester reaches
 * the state, sends it, and judges the answer.
 */
function unexpectedMessage(c: { id: string; rfc: string; negative?: boolean; title: string; state: keyof typeof REACH; send: (t: ClauseContext, peer: TesterPeer) => void; answer: Answer }): ClauseTest {
  return {
    id: c.id,
    rfc: c.rfc,
    level: 'MUST',
    ...(c.negative === false ? {} : { negative: true }),
    title: c.title,
    async run(t) {
      const peer = await REACH[c.state](t);
      c.send(t, peer);
      if (c.answer === 'quiet close') return expectQuietClose(peer);
      if ('fsmError' in c.answer) {
        await expectFsmError(peer, c.answer.fsmError);
        if (c.answer.thenClosed) await peer.expectClosed(3000);
        return;
      }
      const n = await peer.expectNotification(5, c.answer.subcode);
      if (n.data !== c.answer.data) throw new ExpectationFailed(`the NOTIFICATION's data should be the unexpected message's type ${c.answer.data}, is "${n.data}"`, peer.transcript);
    },
  };
}

/** Sends `message` with this transcript label. */
const sending =
  (message: BgpMessage | ((t: ClauseContext) => BgpMessage), label: string) =>
  (t: ClauseContext, peer: TesterPeer): void =>
    peer.sendMessage(typeof message === 'function' ? message(t) : message, label);
const update = (n: number) => (t: ClauseContext) => announce(t, v4(n));
const secondOpen = (t: ClauseContext, peer: TesterPeer): void => sendOpen(t, peer);
const cease = (subcode: number, data = ''): BgpMessage => ({ type: 'NOTIFICATION', code: 6, subcode, data });

export const FSM_CLAUSES: ClauseTest[] = [
  unexpectedMessage({ id: 'bgp.fsm.keepalive-in-opensent', rfc: 'RFC 4271 8.2.2', title: 'a KEEPALIVE before the OPEN (SUT in OpenSent) gets NOTIFICATION FSM Error (5/0, or 5/1 per RFC 6608)', state: 'OpenSent', send: sending({ type: 'KEEPALIVE' }, 'KEEPALIVE before our OPEN'), answer: { fsmError: FSM_OPEN_SENT } }),
  unexpectedMessage({ id: 'bgp.fsm.update-in-opensent', rfc: 'RFC 4271 8.2.2', title: 'an UPDATE before the OPEN (SUT in OpenSent) gets NOTIFICATION FSM Error (5/0, or 5/1 per RFC 6608)', state: 'OpenSent', send: sending(update(1), 'UPDATE before our OPEN'), answer: { fsmError: FSM_OPEN_SENT } }),
  unexpectedMessage({ id: 'bgp.fsm.route-refresh-in-opensent', rfc: 'RFC 6608 4', title: 'a ROUTE-REFRESH before the OPEN (SUT in OpenSent) gets NOTIFICATION FSM Error (5/0 or 5/1)', state: 'OpenSent', send: sending(ROUTE_REFRESH, 'ROUTE-REFRESH before our OPEN'), answer: { fsmError: FSM_OPEN_SENT } }),
  unexpectedMessage({ id: 'bgp.fsm.opensent-subcode-data', rfc: 'RFC 6608 4', title: 'an UPDATE in OpenSent gets FSM Error subcode 1 (Receive Unexpected Message in OpenSent), data the message type 2', state: 'OpenSent', send: sending(update(2), 'UPDATE before our OPEN'), answer: { subcode: 1, data: '02' } }),
  unexpectedMessage({ id: 'bgp.fsm.update-in-openconfirm', rfc: 'RFC 4271 8.2.2', title: 'an UPDATE instead of the KEEPALIVE (SUT in OpenConfirm) gets NOTIFICATION FSM Error (5/0, or 5/2 per RFC 6608)', state: 'OpenConfirm', send: sending(update(3), 'UPDATE before our KEEPALIVE'), answer: { fsmError: FSM_OPEN_CONFIRM } }),
  unexpectedMessage({ id: 'bgp.fsm.route-refresh-in-openconfirm', rfc: 'RFC 6608 4', title: 'a ROUTE-REFRESH instead of the KEEPALIVE (SUT in OpenConfirm) gets NOTIFICATION FSM Error (5/0 or 5/2)', state: 'OpenConfirm', send: sending(ROUTE_REFRESH, 'ROUTE-REFRESH before our KEEPALIVE'), answer: { fsmError: FSM_OPEN_CONFIRM } }),
  unexpectedMessage({ id: 'bgp.fsm.open-in-openconfirm', rfc: 'RFC 6608 4', title: 'a second OPEN on the same connection in OpenConfirm gets FSM Error subcode 2 (Receive Unexpected Message in OpenConfirm), data type 1', state: 'OpenConfirm', send: secondOpen, answer: { subcode: 2, data: '01' } }),
  unexpectedMessage({ id: 'bgp.fsm.open-in-established', rfc: 'RFC 4271 8.2.2', title: 'a second OPEN on an Established connection gets NOTIFICATION FSM Error (5/0, or 5/3 per RFC 6608)', state: 'Established', send: secondOpen, answer: { fsmError: FSM_ESTABLISHED } }),
  unexpectedMessage({ id: 'bgp.fsm.established-subcode-data', rfc: 'RFC 6608 4', title: 'a second OPEN in Established gets FSM Error subcode 3 (Receive Unexpected Message in Established), data type 1', state: 'Established', send: secondOpen, answer: { subcode: 3, data: '01' } }),
  unexpectedMessage({ id: 'bgp.fsm.notification-in-opensent', rfc: 'RFC 4271 8.2.2', title: 'a NOTIFICATION other than a version error instead of the OPEN (SUT in OpenSent, Event 25) gets FSM Error (5/0 or 5/1) and the connection closes', state: 'OpenSent', send: sending(cease(5), 'NOTIFICATION Cease/Connection Rejected'), answer: { fsmError: FSM_OPEN_SENT, thenClosed: true } }),
  unexpectedMessage({ id: 'bgp.fsm.notification-in-openconfirm', rfc: 'RFC 4271 8.2.2', negative: false, title: 'a NOTIFICATION instead of the KEEPALIVE (SUT in OpenConfirm): the SUT drops the connection without a NOTIFICATION of its own', state: 'OpenConfirm', send: sending(cease(4), 'NOTIFICATION Cease/Administrative Reset'), answer: 'quiet close' }),
  unexpectedMessage({ id: 'bgp.fsm.notification-in-established', rfc: 'RFC 4271 8.2.2', negative: false, title: 'a NOTIFICATION in Established: the SUT drops the connection without a NOTIFICATION of its own', state: 'Established', send: sending(cease(6), 'NOTIFICATION Cease/Other Configuration Change'), answer: 'quiet close' }),
  unexpectedMessage({ id: 'bgp.notification.unknown-code', rfc: 'RFC 4271 6.4', title: 'a NOTIFICATION with an undefined Error Code (99) still ends the session: the SUT closes without answering it', state: 'Established', send: sending({ type: 'NOTIFICATION', code: 99, subcode: 7, data: '0102' }, 'NOTIFICATION 99/7'), answer: 'quiet close' }),
  ...(
    [
      ['opensent', 'OpenSent', inOpenSent],
      ['openconfirm', 'OpenConfirm', (t: ClauseContext) => inOpenConfirm(t)],
      ['established', 'Established', (t: ClauseContext) => t.establish()],
    ] as const
  ).map(
    ([key, state, reach]): ClauseTest => ({
      id: `bgp.fsm.tcp-close-${key}`,
      rfc: 'RFC 4271 8.2.2',
      level: 'MUST',
      title: `when the tester closes TCP in ${state}, the SUT releases the connection and accepts a new session from the same peer`,
      async run(t) {
        const first = await reach(t);
        first.note(`closing TCP in ${state}`);
        first.close();
        const second = await reestablish(t);
        await second.expectNoNotification(1000);
      },
    }),
  ),
  ...(
    [
      ['tcp-close', 4, "when a peer's TCP connection fails in Established", (a: TesterPeer) => (a.note('closing TCP without a NOTIFICATION'), a.close())],
      ['notification', 5, 'when a peer sends a NOTIFICATION in Established', (a: TesterPeer) => a.sendMessage(cease(2), 'NOTIFICATION Cease/Administrative Shutdown')],
    ] as const
  ).map(
    ([key, n, when, end]): ClauseTest => ({
      id: `bgp.fsm.${key}-withdraws-routes`,
      rfc: 'RFC 4271 8.2.2',
      level: 'MUST',
      slots: ['ebgp', 'ebgp'],
      title: `${when}, the SUT deletes its routes and withdraws them from other peers`,
      async run(t) {
        const { a, b } = await propagated(t, announce(t, v4(n)), v4(n));
        end(a);
        await b.expectWithdrawn(v4(n));
      },
    }),
  ),
  {
    id: 'bgp.fsm.opensent-hold-large',
    rfc: 'RFC 4271 8.2.2',
    level: 'SHOULD',
    title: 'before the OPEN arrives the SUT uses a large hold time (suggested 4 minutes): a silent new connection is not dropped within 5 s',
    async run(t) {
      const peer = await t.connect();
      await peer.expectOpen();
      await peer.expectNoNotification(5000);
    },
  },
  {
    id: 'bgp.fsm.hold-timer-openconfirm',
    rfc: 'RFC 4271 8.2.2',
    level: 'MUST',
    title: 'in OpenConfirm with hold time 3 negotiated and no KEEPALIVE from the tester, the SUT sends Hold Timer Expired (4/0)',
    async run(t) {
      const peer = await inOpenConfirm(t, 3);
      await peer.expectNotification(4, 0, 10_000);
    },
  },
  {
    id: 'bgp.fsm.collision-established',
    rfc: 'RFC 4271 6.8',
    level: 'MUST',
    negative: true,
    title: 'a second connection from an Established peer is closed (Cease, or a plain close) and the Established session stays up',
    async run(t) {
      const first = await t.establish();
      first.drain();
      const second = await t.connect();
      sendOpen(t, second);
      const n = await second.next((m) => m.type === 'NOTIFICATION', 5000);
      if (n && n.type === 'NOTIFICATION' && n.code !== 6) throw new ExpectationFailed(`the new connection should be closed with a Cease, got ${describeMessage(n)}`, second.transcript);
      if (!n) await second.expectClosed(1000);
      await first.expectNoNotification(2000);
    },
  },
  ...([
    ['higher', 1],
    ['lower', -1],
  ] as const).map(
    ([which, delta]): ClauseTest => ({
      id: `bgp.fsm.collision-tester-id-${which}`,
      rfc: 'RFC 4271 6.8',
      level: 'MUST',
      slots: ['ebgp-active'],
      needs: ['active-connect'],
      timeoutMs: 60_000,
      title: `on a connection collision with the tester's BGP Identifier ${which} than the SUT's, the SUT closes the connection ${delta > 0 ? 'it' : 'the tester'} initiated with Cease/Connection Collision Resolution (6/7)`,
      async run(t) {
        const id = idNear(t.sut.routerId, delta);
        if (!id) return t.skip(`no BGP identifier ${which} than the SUT's ${t.sut.routerId}`);
        const sutInitiated = await t.accept(0, 40_000);
        const testerInitiated = await t.connect(0);
        await sutInitiated.expectOpen();
        await testerInitiated.expectOpen();
        sendOpen(t, sutInitiated, 0, { bgpId: id });
        sendOpen(t, testerInitiated, 0, { bgpId: id });
        // The higher identifier's side keeps the connection it initiated.
        const [loser, winner] = delta > 0 ? [sutInitiated, testerInitiated] : [testerInitiated, sutInitiated];
        await loser.expectNotification(6, 7);
        await expectKeepalive(winner, `the connection the ${delta > 0 ? 'tester' : 'SUT'} initiated should survive (KEEPALIVE)`);
      },
    }),
  ),
  {
    id: 'bgp.fsm.active-sends-open',
    rfc: 'RFC 4271 8.2.2',
    level: 'MUST',
    slots: ['ebgp-active'],
    needs: ['active-connect'],
    timeoutMs: 60_000,
    title: 'a SUT configured to connect opens TCP to the tester, sends its OPEN, and the session reaches Established with its routes',
    async run(t) {
      const peer = await acceptSutConnection(t, 40_000);
      sendOpen(t, peer);
      peer.sendMessage({ type: 'KEEPALIVE' });
      await expectKeepalive(peer);
      peer.startKeepalives(3000);
      await peer.expectAnnounced(t.sut.originates.ipv4);
    },
  },
  {
    id: 'bgp.fsm.connect-retry',
    rfc: 'RFC 4271 8.2.2',
    level: 'MUST',
    slots: ['ebgp-active'],
    needs: ['active-connect'],
    timeoutMs: 90_000,
    title: 'when the tester closes the connection the SUT opened, the SUT connects again (ConnectRetry / automatic restart)',
    async run(t) {
      const first = await acceptSutConnection(t, 40_000);
      first.note('closing the TCP connection the SUT opened');
      first.close();
      await acceptSutConnection(t, 45_000);
    },
  },
  {
    id: 'bgp.update.length-exactly-4096',
    rfc: 'RFC 4271 4.1',
    level: 'MUST',
    slots: ['ebgp', 'ebgp'],
    title: 'an UPDATE of exactly 4096 octets (the maximum message size) is accepted and its route propagated',
    async run(t) {
      const { a } = await propagated(t, sizedUpdate(t.slots[0]!, v4(6), 4096, 'attribute'), v4(6), { label: `UPDATE of 4096 octets announcing ${v4(6)}` });
      await a.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.fsm.update-restarts-hold-timer',
    rfc: 'RFC 4271 8.2.2',
    level: 'MUST',
    slots: ['ebgp'],
    title: 'with hold time 3 and no KEEPALIVE from the tester, an UPDATE every second restarts the hold timer: the session stays up for 6 s',
    async run(t) {
      const peer = await t.establish(0, { holdTime: 3 });
      peer.stopKeepalives();
      peer.drain();
      for (let k = 0; k < 6; k++) {
        peer.sendMessage(k % 2 === 0 ? announce(t, v4(7)) : { type: 'UPDATE', withdrawn: [{ prefix: v4(7) }], nlri: [], attributes: {} });
        await peer.expectNoNotification(1000);
      }
    },
  },
  {
    id: 'bgp.fsm.keepalive-at-most-one-per-second',
    rfc: 'RFC 4271 10',
    level: 'MUST',
    title: 'with hold time 3 negotiated the SUT sends KEEPALIVEs no more often than one per second (at most 7 in 5 s, with slack)',
    async run(t) {
      const { peer, count } = await keepalivesAtHoldTime3(t, 5000);
      peer.note(`${count} KEEPALIVEs in 5 s`);
      if (count > 7) throw new ExpectationFailed(`${count} KEEPALIVEs in 5 s: more than one per second`, peer.transcript);
    },
  },
];
