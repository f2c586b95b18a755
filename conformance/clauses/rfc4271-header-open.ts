// RFC 4271 4.1 / 6.1 (message header) and 4.2 / 6.2 (OPEN): what the SUT answers to each error.
import { ErrorCode, HeaderSubcode, OpenSubcode } from '../../reference/bgp/wire/index.ts';
import { patchedMessage, rawMessage } from '../tester/bytes.ts';
import { ExpectationFailed } from '../tester/tester-peer.ts';
import type { ClauseTest } from './clause.ts';
import { connectWithOpen, keepalivesAtHoldTime3 } from './session-helpers.ts';

export const HEADER_OPEN_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.header.bad-marker',
    rfc: 'RFC 4271 6.1',
    level: 'MUST',
    negative: true,
    title: 'a header whose Marker is not all ones gets NOTIFICATION Message Header Error / Connection Not Synchronized',
    async run(t) {
      const peer = await t.establish();
      peer.drain();
      peer.sendMessage(patchedMessage({ type: 'KEEPALIVE' }, { marker: new Array(16).fill(0) }), 'KEEPALIVE with an all-zero Marker');
      await peer.expectNotification(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED);
    },
  },
  {
    id: 'bgp.header.length-below-minimum',
    rfc: 'RFC 4271 6.1',
    level: 'MUST',
    negative: true,
    title: 'a Length field below 19 gets Message Header Error / Bad Message Length with the erroneous Length as data',
    async run(t) {
      const peer = await t.establish();
      peer.drain();
      peer.sendMessage(rawMessage(4, [], { length: 18 }), 'KEEPALIVE header with Length 18');
      const n = await peer.expectNotification(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH);
      if (n.data !== '0012') throw new ExpectationFailed(`the NOTIFICATION's data should be the erroneous Length 0012, is "${n.data}"`, peer.transcript);
    },
  },
  {
    id: 'bgp.header.keepalive-length',
    rfc: 'RFC 4271 6.1',
    level: 'MUST',
    negative: true,
    title: 'a KEEPALIVE longer than 19 octets gets Message Header Error / Bad Message Length',
    async run(t) {
      const peer = await t.establish();
      peer.drain();
      peer.sendMessage(rawMessage(4, [0]), 'KEEPALIVE of 20 octets');
      await peer.expectNotification(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH);
    },
  },
  {
    id: 'bgp.header.bad-type',
    rfc: 'RFC 4271 6.1',
    level: 'MUST',
    negative: true,
    title: 'an unrecognized Type gets Message Header Error / Bad Message Type with the Type as data',
    async run(t) {
      const peer = await t.establish();
      peer.drain();
      peer.sendMessage(rawMessage(9, []), 'message of Type 9');
      const n = await peer.expectNotification(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE);
      if (n.data !== '09') throw new ExpectationFailed(`the NOTIFICATION's data should be the Type 09, is "${n.data}"`, peer.transcript);
    },
  },
  {
    id: 'bgp.open.unsupported-version',
    rfc: 'RFC 4271 6.2',
    level: 'MUST',
    negative: true,
    title: 'an OPEN with version 3 gets OPEN Message Error / Unsupported Version Number, data the largest supported version',
    async run(t) {
      const peer = await connectWithOpen(t, { version: 3 });
      const n = await peer.expectNotification(ErrorCode.OPEN, OpenSubcode.UNSUPPORTED_VERSION);
      if (n.data !== '0004') throw new ExpectationFailed(`the NOTIFICATION's data should be 0004 (version 4), is "${n.data}"`, peer.transcript);
    },
  },
  {
    id: 'bgp.open.bad-peer-as',
    rfc: 'RFC 4271 6.2',
    level: 'MUST',
    negative: true,
    title: 'an OPEN from an AS other than the configured one gets OPEN Message Error / Bad Peer AS',
    async run(t) {
      const peer = await connectWithOpen(t, { asn: t.slots[0]!.asn + 1000 });
      await peer.expectNotification(ErrorCode.OPEN, OpenSubcode.BAD_PEER_AS);
    },
  },
  ...[1, 2].map(
    (h): ClauseTest => ({
      id: `bgp.open.hold-time-${h}`,
      rfc: 'RFC 4271 6.2',
      level: 'MUST',
      negative: true,
      title: `an OPEN with Hold Time ${h} gets OPEN Message Error / Unacceptable Hold Time`,
      async run(t) {
        const peer = await connectWithOpen(t, { holdTime: h });
        await peer.expectNotification(ErrorCode.OPEN, OpenSubcode.UNACCEPTABLE_HOLD_TIME);
      },
    }),
  ),
  {
    id: 'bgp.open.bad-bgp-identifier',
    rfc: 'RFC 4271 6.2',
    level: 'MUST',
    negative: true,
    title: 'an OPEN with BGP Identifier 0.0.0.0 gets OPEN Message Error / Bad BGP Identifier',
    async run(t) {
      const peer = await connectWithOpen(t, { bgpId: '0.0.0.0' });
      await peer.expectNotification(ErrorCode.OPEN, OpenSubcode.BAD_BGP_IDENTIFIER);
    },
  },
  {
    id: 'bgp.open.hold-time-negotiated',
    rfc: 'RFC 4271 4.4',
    level: 'SHOULD',
    title: 'with Hold Time 3 offered, the SUT sends KEEPALIVEs about every second (one third of the negotiated hold time)',
    async run(t) {
      const { peer, count } = await keepalivesAtHoldTime3(t, 4500);
      if (count < 3) throw new ExpectationFailed(`expected at least 3 KEEPALIVEs in 4.5 s (hold 3 s -> one per second), got ${count}`, peer.transcript);
    },
  },
  {
    id: 'bgp.open.hold-time-zero',
    rfc: 'RFC 4271 4.4',
    level: 'MUST',
    title: 'with Hold Time 0 negotiated the SUT sends no periodic KEEPALIVE and keeps the session',
    async run(t) {
      const peer = await t.establish(0, { holdTime: 0 });
      peer.drain();
      const keepalive = await peer.next((m) => m.type === 'KEEPALIVE', 5000);
      if (keepalive) throw new ExpectationFailed('the SUT sent a KEEPALIVE although the negotiated hold time is 0', peer.transcript);
      await peer.expectNoNotification(10);
    },
  },
  {
    id: 'bgp.fsm.hold-timer-expires',
    rfc: 'RFC 4271 6.5',
    level: 'MUST',
    title: 'when the tester stops sending KEEPALIVEs the SUT sends Hold Timer Expired after the negotiated 3 s and closes',
    async run(t) {
      const peer = await t.establish(0, { holdTime: 3 });
      peer.stopKeepalives();
      const sentLast = Date.now();
      await peer.expectNotification(ErrorCode.HOLD_TIMER_EXPIRED, 0, 8000);
      const after = (Date.now() - sentLast) / 1000;
      peer.note(`Hold Timer Expired ${after.toFixed(1)} s after our last KEEPALIVE`);
      if (after < 2) throw new ExpectationFailed(`Hold Timer Expired came ${after.toFixed(1)} s after our last KEEPALIVE, before the 3 s hold time`, peer.transcript);
    },
  },
];
