// RFC 8654 (extended messages), RFC 8950 (IPv4 NLRI with an IPv6 next hop), RFC 8203 / 9003
// (shutdown communication in Cease NOTIFICATIONs) and RFC 9234 (BGP roles, OTC). The extension
// tests look at the SUT's OPEN first and are skipped, with the reason, when it does not offer the
// capability they need.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import type { Capability, OpenMessage } from '../../reference/bgp/wire/index.ts';
import { asPath4, attribute, ipv4Nlri, origin } from '../tester/bytes.ts';
import { defaultCapabilities, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { rawRouteAttributes, sizedUpdate } from './update-kit.ts';
import { expectKeepalive, expectQuietClose, propagated, slotOpen, sutOpen, mappedV6, mpReachRaw, rawAttributesOf, reestablish } from './session-helpers.ts';
import { u32 } from '../tester/bytes.ts';

/** Distinct prefix per test of this file: 100.99.(60+N).0/24. */
const v4 = (n: number) => `100.99.${60 + n}.0/24`;

/**
 * An Established session from slot i whose OPEN is chosen after reading the SUT's (which it sends
 * on accepting the connection): `caps` returns our capabilities, or the reason to skip the test.
 */
async function establishAfterTheirs(t: ClauseContext, i: number, caps: (theirs: OpenMessage) => Capability[] | string): Promise<TesterPeer> {
  const slot = t.slots[i]!;
  const peer = await t.connect(i);
  const theirs = await peer.expectOpen();
  const chosen = caps(theirs);
  if (typeof chosen === 'string') {
    peer.close();
    return t.skip(chosen);
  }
  peer.sendOpen({ asn: slot.asn, bgpId: slot.address, holdTime: 9, capabilities: chosen });
  await expectKeepalive(peer);
  peer.sendMessage({ type: 'KEEPALIVE' });
  peer.startKeepalives(3000);
  return peer;
}

const has = (open: OpenMessage, code: number) => open.capabilities.some((c) => c.code === code);

const EXTENDED_MESSAGE: Capability = { code: 6, hex: '' };
const NO_EXTENDED_MESSAGE = 'the SUT does not offer the Extended Message capability (6)';

/** Sends a Cease NOTIFICATION with `data`; the SUT closes quietly, then a new session comes up. */
async function shutdownWith(t: ClauseContext, subcode: number, data: number[], what: string): Promise<void> {
  const peer = await t.establish();
  peer.drain();
  peer.sendMessage({ type: 'NOTIFICATION', code: 6, subcode, data: Buffer.from(data).toString('hex') }, what);
  await expectQuietClose(peer);
  await reestablish(t);
}

const communication = (text: string): number[] => {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [bytes.length, ...bytes];
};

/** RFC 9234 4.2: the role each role is compatible with (provider 0, rs 1, rs-client 2, customer 3, peer 4). */
const MATCHING_ROLE: Record<number, number> = { 0: 3, 1: 2, 2: 1, 3: 0, 4: 4 };
const ROLE_NAME: Record<number, string> = { 0: 'provider', 1: 'route server', 2: 'rs-client', 3: 'customer', 4: 'peer' };

/** The SUT's role from its OPEN, or null when it offers no BGP Role capability. */
function roleOf(open: OpenMessage): number | null {
  const cap = open.capabilities.find((c) => c.code === 9);
  return cap && 'hex' in cap && cap.hex.length === 2 ? parseInt(cap.hex, 16) : null;
}
const NO_ROLE = 'the SUT offers no BGP Role capability (9) on this session';
const roleCap = (role: number): Capability => ({ code: 9, hex: role.toString(16).padStart(2, '0') });

/**
 * A session from slot 0 in the role that pairs with the SUT's (its OPEN read first); skipped when
 * the SUT offers no role or one outside `sutRoles` (`why`: what the tester could not test then).
 */
async function sessionInMatchingRole(t: ClauseContext, sutRoles: number[], why: string): Promise<{ peer: TesterPeer; role: number }> {
  let role = -1;
  const peer = await establishAfterTheirs(t, 0, (theirs) => {
    const r = roleOf(theirs);
    if (r === null) return NO_ROLE;
    if (!sutRoles.includes(r)) return `the SUT's role is ${ROLE_NAME[r] ?? r}: ${why}`;
    role = r;
    return [...defaultCapabilities(t.slots[0]!.asn), roleCap(MATCHING_ROLE[r]!)];
  });
  return { peer, role };
}

export const EXTENSION_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.extmsg.large-update-accepted',
    rfc: 'RFC 8654 4',
    level: 'MUST',
    needs: ['extended-message'],
    slots: ['ebgp', 'ebgp'],
    title: 'with extended messages negotiated on both sides, a 5000-octet UPDATE is accepted and its route propagated',
    async run(t) {
      const caps = (i: number) => (theirs: OpenMessage) => (has(theirs, 6) ? [...defaultCapabilities(t.slots[i]!.asn), EXTENDED_MESSAGE] : NO_EXTENDED_MESSAGE);
      const [a, b] = [await establishAfterTheirs(t, 0, caps(0)), await establishAfterTheirs(t, 1, caps(1))];
      await propagated(t, sizedUpdate(t.slots[0]!, v4(1), 5000, 'attribute'), v4(1), { a, b, label: `UPDATE of 5000 octets announcing ${v4(1)}` });
      await a.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.extmsg.not-negotiated',
    rfc: 'RFC 8654 4',
    level: 'MUST',
    negative: true,
    needs: ['extended-message'],
    title: 'when only the SUT offered extended messages, a 5000-octet UPDATE gets Bad Message Length (1/2)',
    async run(t) {
      const peer = await establishAfterTheirs(t, 0, (theirs) => (has(theirs, 6) ? defaultCapabilities(t.slots[0]!.asn) : NO_EXTENDED_MESSAGE));
      peer.drain();
      peer.sendMessage(sizedUpdate(t.slots[0]!, v4(2), 5000, 'attribute'), 'UPDATE of 5000 octets, extended messages not negotiated');
      await peer.expectNotification(1, 2);
    },
  },
  {
    id: 'bgp.extnh.ipv4-with-ipv6-next-hop',
    rfc: 'RFC 8950 4',
    level: 'MUST',
    needs: ['extended-nexthop'],
    slots: ['ebgp', 'ebgp'],
    title: 'with extended next hop negotiated for IPv4 unicast, an IPv4 route in MP_REACH_NLRI with a 16-octet IPv6 next hop is accepted and propagated',
    async run(t) {
      const slot = t.slots[0]!;
      const a = await establishAfterTheirs(t, 0, (theirs) =>
        theirs.capabilities.some((c) => c.code === 5 && c.name === 'extended-nexthop' && c.entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2))
          ? [...defaultCapabilities(slot.asn), { code: 5, name: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }]
          : 'the SUT does not offer Extended Next Hop Encoding (5) for IPv4 unicast over IPv6',
      );
      await propagated(t, rawUpdate([...origin(), ...asPath4(slot.asn), ...mpReachRaw(1, 1, mappedV6(slot.address), [v4(3)])], []), v4(3), { a, label: `UPDATE ${v4(3)} in MP_REACH_NLRI, next hop ::ffff:${slot.address}` });
      await a.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.shutdown.communication',
    rfc: 'RFC 9003 2',
    level: 'MUST',
    title: 'Cease / Administrative Shutdown with a Shutdown Communication: the SUT closes without answering and takes a new session',
    async run(t) {
      await shutdownWith(t, 2, communication('peerproof: planned maintenance, back in 5 minutes'), 'NOTIFICATION 6/2 with a shutdown communication');
    },
  },
  {
    id: 'bgp.shutdown.admin-reset-communication',
    rfc: 'RFC 9003 2',
    level: 'MUST',
    title: 'Cease / Administrative Reset with a Shutdown Communication: the SUT closes without answering and takes a new session',
    async run(t) {
      await shutdownWith(t, 4, communication('peerproof: resetting to apply a new policy'), 'NOTIFICATION 6/4 with a shutdown communication');
    },
  },
  {
    id: 'bgp.shutdown.long-communication',
    rfc: 'RFC 9003 2',
    level: 'MUST',
    title: 'a 200-octet UTF-8 Shutdown Communication (longer than RFC 8203\'s 128) is handled: quiet close, new session',
    async run(t) {
      const text = 'Wartung — ' + 'maintenance window, '.repeat(10);
      const bytes = [...Buffer.from(text, 'utf8')].slice(0, 200);
      await shutdownWith(t, 2, [bytes.length, ...bytes], `NOTIFICATION 6/2 with a ${bytes.length}-octet shutdown communication`);
    },
  },
  {
    id: 'bgp.shutdown.empty-communication',
    rfc: 'RFC 9003 2',
    level: 'MUST',
    title: 'Cease / Administrative Shutdown with a zero-length Shutdown Communication: quiet close, new session',
    async run(t) {
      await shutdownWith(t, 2, [0], 'NOTIFICATION 6/2, communication length 0');
    },
  },
  {
    id: 'bgp.shutdown.length-overruns',
    rfc: 'RFC 9003 3',
    level: 'SHOULD',
    negative: true,
    title: 'a Shutdown Communication whose length exceeds the data is only logged: quiet close, new session',
    async run(t) {
      await shutdownWith(t, 2, [100, ...Buffer.from('short')], 'NOTIFICATION 6/2, communication length 100 with 5 octets');
    },
  },
  {
    id: 'bgp.shutdown.invalid-utf8',
    rfc: 'RFC 9003 3',
    level: 'SHOULD',
    negative: true,
    title: 'a Shutdown Communication that is not valid UTF-8 is only logged: quiet close, new session',
    async run(t) {
      await shutdownWith(t, 2, [4, 0xff, 0xfe, 0xc3, 0x28], 'NOTIFICATION 6/2, communication bytes ff fe c3 28');
    },
  },
  {
    id: 'bgp.role.mismatch',
    rfc: 'RFC 9234 4.2',
    level: 'MUST',
    negative: true,
    needs: ['role'],
    title: 'a BGP Role that does not pair with the SUT\'s (e.g. provider to provider) gets OPEN Message Error / Role Mismatch (2/11)',
    async run(t) {
      const slot = t.slots[0]!;
      const { peer, open } = await sutOpen(t);
      const role = roleOf(open);
      if (role === null) return t.skip(NO_ROLE);
      const wrong = role === 4 ? 0 : role;
      peer.note(`SUT role ${ROLE_NAME[role] ?? role}, tester role ${ROLE_NAME[wrong]}`);
      peer.sendOpen(slotOpen(t, { capabilities: [...defaultCapabilities(slot.asn), roleCap(wrong)] }));
      await peer.expectNotification(2, 11);
    },
  },
  {
    id: 'bgp.role.otc-added-on-egress',
    rfc: 'RFC 9234 5',
    level: 'MUST',
    needs: ['role'],
    title: 'a SUT in role provider, route server or peer adds OTC (35) with its own AS to routes it sends to a customer, rs-client or peer',
    async run(t) {
      const { peer, role } = await sessionInMatchingRole(t, [0, 1, 4], 'it adds no OTC towards its provider / route server');
      peer.note(`SUT role ${ROLE_NAME[role]}`);
      const u = await peer.expectAnnounced(t.sut.originates.ipv4);
      const otc = rawAttributesOf(peer, u).find((a) => a.code === 35);
      if (!otc) throw new ExpectationFailed(`${t.sut.originates.ipv4} came without the OTC attribute`, peer.transcript);
      if (otc.value.join(',') !== u32(t.sut.asn).join(',')) throw new ExpectationFailed(`OTC should be the SUT's AS ${t.sut.asn}, is ${otc.value.join(',')}`, peer.transcript);
      if ((otc.flags & 0xc0) !== 0xc0) throw new ExpectationFailed(`OTC flags 0x${otc.flags.toString(16)}: it is optional transitive`, peer.transcript);
    },
  },
  {
    id: 'bgp.role.otc-from-customer-is-leak',
    rfc: 'RFC 9234 5',
    level: 'MUST',
    needs: ['role'],
    slots: ['ebgp', 'ebgp'],
    title: 'a route carrying OTC received from a customer or rs-client is a route leak: not propagated, while the same peer\'s route without OTC is',
    async run(t) {
      const { peer: a, role } = await sessionInMatchingRole(t, [0, 1], 'the tester cannot be its customer or rs-client');
      const b = await t.establish(1);
      const base = rawRouteAttributes(t.slots[0]!);
      a.sendMessage(rawUpdate([...base, ...attribute(0xc0, 35, u32(64512))], ipv4Nlri(v4(4))), `UPDATE ${v4(4)} with OTC 64512`);
      await propagated(t, rawUpdate(base, ipv4Nlri(v4(5))), v4(5), { a, b, label: `UPDATE ${v4(5)} without OTC (control)` });
      await new Promise((r) => setTimeout(r, 1000));
      b.sync();
      if (b.messages.some((m) => m.type === 'UPDATE' && m.nlri.some((r) => r.prefix === v4(4)))) throw new ExpectationFailed(`${v4(4)} (OTC from a ${ROLE_NAME[MATCHING_ROLE[role]!]}) was propagated`, b.transcript);
    },
  },
];
