// RFC 5492 (capabilities advertisement) and RFC 4760 (multiprotocol BGP): where the SUT puts its
// capabilities, what it does with capabilities it does not know, malformed or missing ones, and
// IPv6 routes carried in MP_REACH_NLRI / MP_UNREACH_NLRI between two tester peers.
import type { Capability, NotificationMessage, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announces, defaultCapabilities, describeMessage, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { capabilityParameter, capTlv, connectWithOpen, mappedV6, mpReachRaw, propagated, rawAttributesOf, sendRawOpen, sutOpen } from './session-helpers.ts';
import { u32 } from '../tester/bytes.ts';
import { asPath4, origin } from '../tester/bytes.ts';
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';

/** Distinct prefixes per test of this file: 100.99.(20+N).0/24 and 2001:db8:99:N::/64. */
const v4 = (n: number) => `100.99.${20 + n}.0/24`;
const v6 = (n: number) => `2001:db8:99:${n}::/64`;

const IPV4_ONLY: Capability[] = [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }];

/** An UPDATE announcing an IPv6 prefix from slot i in MP_REACH_NLRI, next hop the slot's IPv6 address on the link (else its IPv4 address IPv4-mapped). */
function announce6(t: ClauseContext, i: number, prefix: string): UpdateMessage {
  const slot = t.slots[i]!;
  return {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [],
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [slot.asn] }], mpReach: { afi: 2, safi: 1, nextHops: [slot.address6 ?? `::ffff:${slot.address}`], nlri: [{ prefix }] } },
  };
}

/** Completes the OPEN exchange on a connection whose OPEN we sent: the SUT's OPEN and KEEPALIVE, or its NOTIFICATION. */
async function answerOpen(peer: TesterPeer): Promise<{ notification: NotificationMessage | null }> {
  const m = await peer.next((x) => x.type === 'KEEPALIVE' || x.type === 'NOTIFICATION', 5000);
  if (m?.type === 'NOTIFICATION') return { notification: m };
  if (!m) throw new ExpectationFailed('expected the SUT to answer our OPEN with KEEPALIVE or NOTIFICATION, none came', peer.transcript);
  peer.sendMessage({ type: 'KEEPALIVE' });
  peer.startKeepalives(3000);
  return { notification: null };
}

/** The session comes up after our OPEN (true), or the SUT refuses it with Unsupported Capability 2/7 (false); any other NOTIFICATION fails. */
async function sessionUnlessUnsupportedCapability(peer: TesterPeer): Promise<boolean> {
  const { notification } = await answerOpen(peer);
  if (notification && (notification.code !== 2 || notification.subcode !== 7)) throw new ExpectationFailed(`expected a session or 2/7 Unsupported Capability, got ${describeMessage(notification)}`, peer.transcript);
  return !notification;
}

/** RFC 4271 6.2: a hand-built OPEN with these optional parameters gets OPEN Message Error with `subcode`. */
function refusedOpen(c: { id: string; title: string; parameters: (asn: number) => number[]; what: string; subcode: number }): ClauseTest {
  return {
    id: c.id,
    rfc: 'RFC 4271 6.2',
    level: 'MUST',
    negative: true,
    title: c.title,
    async run(t) {
      const peer = await sendRawOpen(t, c.parameters(t.slots[0]!.asn), c.what);
      await peer.expectNotification(2, c.subcode);
    },
  };
}

const TWO_PEERS: ClauseTest['slots'] = ['ebgp', 'ebgp'];

/** Within 1.5 s the SUT either keeps the session or resets it with an UPDATE Message Error (code 3). */
async function anyResetIsUpdateError(a: TesterPeer): Promise<void> {
  const n = await a.next((m) => m.type === 'NOTIFICATION', 1500);
  if (n && n.type === 'NOTIFICATION' && n.code !== 3) throw new ExpectationFailed(`a session reset should carry an UPDATE Message Error, got ${describeMessage(n)}`, a.transcript);
}

export const CAPABILITY_MP_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.cap.sut-uses-parameter-2',
    rfc: 'RFC 5492 4',
    level: 'MUST',
    title: "the SUT's OPEN carries its capabilities in Optional Parameters of type 2 (Capabilities), each well formed",
    async run(t) {
      const { peer, open } = await sutOpen(t);
      const bytes = peer.receivedBytes[peer.messages.indexOf(open)]!;
      const total = bytes[28]!;
      let p = 29;
      const types: number[] = [];
      while (p < 29 + total && !(total === 255 && bytes[29] === 255)) {
        types.push(bytes[p]!);
        p += 2 + bytes[p + 1]!;
      }
      if (open.capabilities.length === 0) throw new ExpectationFailed("the SUT's OPEN carries no capability", peer.transcript);
      if (types.some((ty) => ty !== 2) && !(total === 255 && bytes[29] === 255)) throw new ExpectationFailed(`the SUT's OPEN has optional parameters of types ${types.join(',')}, capabilities go in type 2`, peer.transcript);
    },
  },
  {
    id: 'bgp.cap.unknown-ignored',
    rfc: 'RFC 5492 4',
    level: 'MUST',
    title: 'a capability the SUT does not know (experimental code 240) is ignored: the session comes up',
    async run(t) {
      const asn = t.slots[0]!.asn;
      const peer = await t.establish(0, { capabilities: [...defaultCapabilities(asn), { code: 240, hex: 'c0ffee' }] });
      await peer.expectNoNotification(1000);
    },
  },
  {
    id: 'bgp.cap.several-in-one-parameter',
    rfc: 'RFC 5492 4',
    level: 'MUST',
    needs: ['ipv6'],
    title: 'several capabilities packed in one Capabilities parameter are all understood (IPv6 unicast negotiated from it)',
    async run(t) {
      if (!t.sut.originates.ipv6) return t.skip('the SUT profile originates no IPv6 route to look for');
      const parameter = capabilityParameter(capTlv(1, [0, 1, 0, 1]), capTlv(1, [0, 2, 0, 1]), capTlv(2, []), capTlv(65, u32(t.slots[0]!.asn)));
      const peer = await sendRawOpen(t, parameter, 'OPEN with MP v4, MP v6, route refresh and AS4 in one parameter');
      const { notification } = await answerOpen(peer);
      if (notification) throw new ExpectationFailed(`the SUT refused the OPEN: ${describeMessage(notification)}`, peer.transcript);
      await peer.expectAnnounced(t.sut.originates.ipv6);
    },
  },
  refusedOpen({
    id: 'bgp.cap.parameter-overrun',
    title: 'a capability whose length overruns its Capabilities parameter gets OPEN Message Error subcode 0 (malformed optional parameter)',
    parameters: (asn) => [...capabilityParameter(capTlv(65, u32(asn))), 2, 6, 1, 10, 0, 1, 0, 1, 2, 0],
    what: 'OPEN whose MP capability claims 10 octets in a 6-octet parameter',
    subcode: 0,
  }),
  refusedOpen({
    id: 'bgp.cap.unsupported-optional-parameter',
    title: 'an OPEN with an optional parameter of an unknown type (99) gets OPEN Message Error / Unsupported Optional Parameter (2/4)',
    parameters: (asn) => [...capabilityParameter(capTlv(1, [0, 1, 0, 1]), capTlv(65, u32(asn))), 99, 2, 0xab, 0xcd],
    what: 'OPEN with capabilities and an optional parameter of type 99',
    subcode: 4,
  }),
  {
    id: 'bgp.cap.mp-bad-length',
    rfc: 'RFC 4271 6.2',
    level: 'MUST',
    negative: true,
    title: 'a Multiprotocol capability of length 3 is malformed: OPEN Message Error subcode 0, or the capability is ignored and the session comes up',
    async run(t) {
      const parameter = capabilityParameter(capTlv(1, [0, 1, 0]), capTlv(1, [0, 1, 0, 1]), capTlv(65, u32(t.slots[0]!.asn)));
      const peer = await sendRawOpen(t, parameter, 'OPEN with a 3-octet MP capability');
      const { notification } = await answerOpen(peer);
      if (notification && !(notification.code === 2 && notification.subcode === 0)) throw new ExpectationFailed(`expected OPEN Message Error 2/0 or the session, got ${describeMessage(notification)}`, peer.transcript);
      if (!notification) await peer.expectNoNotification(1000);
    },
  },
  {
    id: 'bgp.cap.no-common-family',
    rfc: 'RFC 5492 3',
    level: 'MAY',
    negative: true,
    title: 'a tester offering only a family the SUT does not run (VPNv4) gets Unsupported Capability (2/7) with capabilities as data, or a session without IPv4 unicast routes',
    async run(t) {
      const asn = t.slots[0]!.asn;
      const peer = await connectWithOpen(t, { capabilities: [{ code: 1, name: 'multiprotocol', afi: 1, safi: 128 }, { code: 65, name: 'as4', asn }] });
      // A SUT that reads our OPEN before sending its own may refuse it without an OPEN of its own.
      const first = await peer.next((m) => m.type === 'OPEN' || m.type === 'NOTIFICATION', 5000);
      if (!first) await peer.expectOpen(0);
      const { notification } = first?.type === 'NOTIFICATION' ? { notification: first } : await answerOpen(peer);
      if (notification) {
        if (notification.code !== 2 || notification.subcode !== 7) throw new ExpectationFailed(`expected 2/7 Unsupported Capability or the session, got ${describeMessage(notification)}`, peer.transcript);
        // RFC 5492 3: the Data field lists capabilities (code, length, value), each whole.
        const data = Buffer.from(notification.data, 'hex');
        let p = 0;
        while (p + 2 <= data.length) p += 2 + data[p + 1]!;
        if (data.length > 0 && p !== data.length) throw new ExpectationFailed(`the Unsupported Capability data ${notification.data} is not a list of whole capabilities`, peer.transcript);
        return;
      }
      await peer.expectNoUpdate((u) => u.nlri.length > 0, 'with IPv4 unicast NLRI (not negotiated)', 3000);
    },
  },
  {
    id: 'bgp.cap.none-offered',
    rfc: 'RFC 5492 3',
    level: 'SHOULD',
    title: 'an OPEN without any optional parameter (a speaker without capabilities) still gets a session carrying IPv4 unicast with 2-octet AS_PATHs, or Unsupported Capability (2/7)',
    async run(t) {
      const peer = await connectWithOpen(t, { capabilities: [] });
      if (!(await sessionUnlessUnsupportedCapability(peer))) return;
      const u = await peer.expectAnnounced(t.sut.originates.ipv4);
      const path = u.attributes.asPath?.flatMap((s) => s.asns) ?? [];
      if (path[0] !== (t.sut.asn > 65535 ? 23456 : t.sut.asn)) throw new ExpectationFailed(`the AS_PATH read as 2-octet ASNs should start with the SUT's AS, is ${path.join(' ')}`, peer.transcript);
    },
  },
  {
    id: 'bgp.mp.no-mp-capability-ipv4-only',
    rfc: 'RFC 4760 8',
    level: 'SHOULD',
    title: 'a tester offering no Multiprotocol capability gets IPv4 unicast routes (the implied family) and no MP_REACH_NLRI, or Unsupported Capability (2/7, RFC 5492 3 MAY)',
    async run(t) {
      const peer = await connectWithOpen(t, { capabilities: [{ code: 2, name: 'route-refresh' }, { code: 65, name: 'as4', asn: t.slots[0]!.asn }] });
      if (!(await sessionUnlessUnsupportedCapability(peer))) return;
      await peer.expectAnnounced(t.sut.originates.ipv4);
      await peer.expectNoUpdate((u) => Boolean(u.attributes.mpReach), 'with MP_REACH_NLRI', 2000);
    },
  },
  {
    id: 'bgp.mp.sut-offers-families',
    rfc: 'RFC 4760 8',
    level: 'SHOULD',
    title: "the SUT's OPEN carries a Multiprotocol capability for IPv4 unicast and, when it runs IPv6, for IPv6 unicast",
    async run(t) {
      const { peer, open } = await sutOpen(t);
      const mp = open.capabilities.filter((c) => c.code === 1).map((c) => (c.code === 1 && c.name ? `${c.afi}/${c.safi}` : ''));
      const want = ['1/1', ...(t.sut.originates.ipv6 ? ['2/1'] : [])];
      const missing = want.filter((f) => !mp.includes(f));
      if (missing.length) throw new ExpectationFailed(`the SUT's OPEN lacks Multiprotocol capabilities for ${missing.join(', ')} (has ${mp.join(', ') || 'none'})`, peer.transcript);
    },
  },
  {
    id: 'bgp.mp.sut-ipv6-in-mp-reach',
    rfc: 'RFC 4760 3',
    level: 'MUST',
    needs: ['ipv6'],
    title: 'the SUT sends its IPv6 route in MP_REACH_NLRI (AFI 2, SAFI 1) with a next hop of 16 or 32 octets',
    async run(t) {
      const prefix = t.sut.originates.ipv6;
      if (!prefix) return t.skip('the SUT profile originates no IPv6 route');
      const peer = await t.establish();
      const u = await peer.expectAnnounced(prefix);
      const reach = rawAttributesOf(peer, u).find((a) => a.code === 14);
      if (!reach) throw new ExpectationFailed(`${prefix} came without MP_REACH_NLRI`, peer.transcript);
      const [afiHi, afiLo, safi, nhLength] = reach.value;
      if (((afiHi! << 8) | afiLo!) !== 2 || safi !== 1) throw new ExpectationFailed(`MP_REACH_NLRI carries AFI ${(afiHi! << 8) | afiLo!} SAFI ${safi}, expected 2/1`, peer.transcript);
      if (nhLength !== 16 && nhLength !== 32) throw new ExpectationFailed(`MP_REACH_NLRI next hop length ${nhLength}, expected 16 or 32`, peer.transcript);
      if ((reach.flags & 0xc0) !== 0x80) throw new ExpectationFailed(`MP_REACH_NLRI flags 0x${reach.flags.toString(16)}: it is optional non-transitive`, peer.transcript);
    },
  },
  {
    id: 'bgp.mp.ipv6-propagated',
    rfc: 'RFC 4760 3',
    level: 'MUST',
    needs: ['ipv6'],
    slots: TWO_PEERS,
    title: 'an IPv6 route received in MP_REACH_NLRI is propagated to another IPv6 peer in MP_REACH_NLRI',
    async run(t) {
      const { b, u } = await propagated(t, announce6(t, 0, v6(1)), v6(1));
      if (u.attributes.mpReach?.afi !== 2) throw new ExpectationFailed(`${v6(1)} should come in MP_REACH_NLRI AFI 2`, b.transcript);
    },
  },
  {
    id: 'bgp.mp.unreach-only-withdraws',
    rfc: 'RFC 4760 4',
    level: 'MUST',
    needs: ['ipv6'],
    slots: TWO_PEERS,
    title: 'an UPDATE carrying only MP_UNREACH_NLRI (no other attribute) is accepted and withdraws the IPv6 route from other peers',
    async run(t) {
      const { a, b } = await propagated(t, announce6(t, 0, v6(2)), v6(2));
      a.sendMessage({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: v6(2) }] } } });
      await b.expectWithdrawn(v6(2));
      await a.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.mp.ipv4-in-mp-reach',
    rfc: 'RFC 4760 3',
    level: 'MUST',
    slots: TWO_PEERS,
    title: 'IPv4 unicast NLRI carried in MP_REACH_NLRI (AFI 1, no NEXT_HOP attribute) is accepted and propagated',
    async run(t) {
      const slot = t.slots[0]!;
      const mpReach = { afi: 1, safi: 1, nextHops: [slot.address], nlri: [{ prefix: v4(1) }] };
      const { a } = await propagated(t, { type: 'UPDATE', withdrawn: [], nlri: [], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [slot.asn] }], mpReach } }, v4(1));
      await a.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.mp.unnegotiated-family',
    rfc: 'RFC 4760 8',
    level: 'MUST',
    negative: true,
    slots: TWO_PEERS,
    needs: ['ipv6'],
    title: 'IPv6 routes from a peer that negotiated only IPv4 unicast are not installed: ignored (no propagation) or the session is reset with an UPDATE error',
    async run(t) {
      const slot = t.slots[0]!;
      const a = await t.establish(0, { capabilities: [...IPV4_ONLY, { code: 65, name: 'as4', asn: slot.asn }] });
      const b = await t.establish(1);
      a.sendMessage(rawUpdate([...origin(), ...asPath4(slot.asn), ...mpReachRaw(2, 1, mappedV6(slot.address), [v6(3)])], []), `UPDATE with MP_REACH_NLRI IPv6 ${v6(3)} (family not negotiated)`);
      await anyResetIsUpdateError(a);
      await b.expectNoUpdate((u) => u.attributes.mpReach?.nlri.some((r) => r.prefix === v6(3)) ?? false, `announcing ${v6(3)}`, 2000);
    },
  },
  {
    id: 'bgp.mp.bad-next-hop-length',
    rfc: 'RFC 7606 7.11',
    level: 'MUST',
    negative: true,
    needs: ['ipv6'],
    slots: TWO_PEERS,
    title: 'MP_REACH_NLRI with a 5-octet IPv6 next hop: session reset or AFI/SAFI disable, so the peer\'s earlier IPv6 routes are withdrawn and the new one never installed',
    async run(t) {
      const { a, b } = await propagated(t, announce6(t, 0, v6(4)), v6(4));
      a.sendMessage(rawUpdate([...origin(), ...asPath4(t.slots[0]!.asn), ...mpReachRaw(2, 1, [0x20, 0x01, 0x0d, 0xb8, 0x99], [v6(5)])], []), `UPDATE with MP_REACH_NLRI ${v6(5)}, next hop length 5`);
      await anyResetIsUpdateError(a);
      await b.expectWithdrawn(v6(4));
      await new Promise((r) => setTimeout(r, 1000));
      b.sync();
      if (b.messages.some((m) => m.type === 'UPDATE' && announces(m, v6(5)))) throw new ExpectationFailed(`${v6(5)} (malformed MP_REACH_NLRI) was propagated`, b.transcript);
    },
  },
];
