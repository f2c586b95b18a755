// RFC 7606 (revised UPDATE error handling): for each attribute it covers, the action the SUT
// must take on a malformed one (treat-as-withdraw, attribute discard, session reset), judged on
// the wire: a route announced before by a good UPDATE is withdrawn toward an observer slot
// (treat-as-withdraw), or the route goes on without the bad attribute (attribute discard), and
// the sender's session stays up; or the exact NOTIFICATION where a reset is required.
import { ErrorCode, UpdateSubcode, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { attribute, ipv4, origin } from '../tester/bytes.ts';
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import type { SlotRole, TesterSlot } from '../tester/sut.ts';
import { ExpectationFailed, withdraws } from '../tester/tester-peer.ts';
import type { ClauseTest } from './clause.ts';
import { announceRaw, announcedRoute, OPTIONAL, OPTIONAL_TRANSITIVE, pathAsns, resetOrFamilyDisabled, rawRouteAttributes, routeTest, stillUp, WELL_KNOWN, type RouteOptions } from './update-kit.ts';
import { u32 } from '../tester/bytes.ts';

const P = (n: number) => `100.66.${n}.0/24`;
/** The AS_PATH value (no attribute header) of one 4-octet AS_SEQUENCE. */
const sequence = (...asns: number[]): number[] => [2, asns.length, ...asns.flatMap(u32)];
const COMMUNITY = [0xfd, 0xe8, 0, 1]; // 65000:1

interface WithdrawCase {
  id: string;
  rfc: string;
  title: string;
  n: number;
  /** The bad UPDATE's route options for the sender slot (slot 0). */
  bad: (slot: TesterSlot) => RouteOptions;
  slots?: SlotRole[];
}

/**
 * Treat-as-withdraw: a good route for the prefix first (seen by the observer), then the same
 * prefix in an UPDATE with the error; the SUT withdraws it toward the observer and keeps the
 * sender's session.
 */
function treatAsWithdraw(c: WithdrawCase): ClauseTest {
  return routeTest({ ...c, level: 'MUST', negative: true }, async (t) => {
    const prefix = P(c.n);
    const { a, watch } = await announcedRoute(t, prefix);
    announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, c.bad(t.slots[0]!)), c.title.split(' ->')[0]!);
    await watch.gone(prefix);
    await stillUp(a);
  });
}

/**
 * Attribute discard: a fresh route whose UPDATE carries the bad attribute is used all the same
 * (announced to the observer) without that attribute, and the session stays up.
 */
function attributeDiscard(c: { id: string; rfc: string; title: string; n: number; bad: (slot: TesterSlot) => RouteOptions; lacks: (u: UpdateMessage) => boolean; what: string }): ClauseTest {
  return routeTest({ id: c.id, rfc: c.rfc, level: 'MUST', negative: true, title: c.title }, async (t) => {
    const { a, b, first } = await announcedRoute(t, P(c.n), c.bad(t.slots[0]!));
    if (!c.lacks(first)) throw new ExpectationFailed(`${b.label}: the route should go on without the malformed ${c.what} (attribute discard), the SUT passed it on`, b.transcript);
    await stillUp(a);
  });
}

/**
 * Flags errors on attributes whose own rule is attribute discard: RFC 7606 3(c) says
 * treat-as-withdraw unless the attribute's specification says otherwise, so both are accepted:
 * the route is withdrawn, or it goes on (with the new AS_PATH) without the attribute.
 */
function discardOrWithdraw(c: { id: string; title: string; n: number; bad: (slot: TesterSlot) => RouteOptions; lacks: (u: UpdateMessage) => boolean; what: string }): ClauseTest {
  return routeTest({ id: c.id, rfc: 'RFC 7606 3', level: 'MUST', negative: true, title: c.title }, async (t) => {
    const prefix = P(c.n);
    const { a, watch } = await announcedRoute(t, prefix, { path: [64501] });
    announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, { path: [64502], ...c.bad(t.slots[0]!) }), `new AS_PATH and a ${c.what} with wrong flags`);
    const u = await watch.next(prefix);
    if (withdraws(u, prefix)) return stillUp(a);
    if (!pathAsns(u.attributes.asPath).includes(64502)) throw new ExpectationFailed(`${watch.observer.label}: expected ${prefix} withdrawn or announced with the new AS_PATH, got another path`, watch.observer.transcript);
    if (!c.lacks(u)) throw new ExpectationFailed(`${watch.observer.label}: the route went on with the ${c.what} whose flags were wrong (neither treat-as-withdraw nor attribute discard)`, watch.observer.transcript);
    await stillUp(a);
  });
}

const ibgpFirst: SlotRole[] = ['ibgp', 'ebgp'];

export const RFC7606_CLAUSES: ClauseTest[] = [
  // 3(d): a missing well-known mandatory attribute.
  treatAsWithdraw({ id: 'bgp.rfc7606.missing-origin', rfc: 'RFC 7606 3', n: 1, title: 'an UPDATE with NLRI but no ORIGIN -> treat-as-withdraw (the prefix is withdrawn, the session stays)', bad: () => ({ replace: { 1: null } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.missing-as-path', rfc: 'RFC 7606 3', n: 2, title: 'an UPDATE with NLRI but no AS_PATH -> treat-as-withdraw (the prefix is withdrawn, the session stays)', bad: () => ({ replace: { 2: null } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.missing-next-hop', rfc: 'RFC 7606 3', n: 3, title: 'an UPDATE with IPv4 NLRI but no NEXT_HOP -> treat-as-withdraw (the prefix is withdrawn, the session stays)', bad: () => ({ replace: { 3: null } }) }),
  // 3(c): wrong Optional / Transitive bits.
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-origin', rfc: 'RFC 7606 3', n: 4, title: 'ORIGIN with the Optional bit set (flags 0xC0) -> treat-as-withdraw', bad: () => ({ replace: { 1: attribute(OPTIONAL_TRANSITIVE, 1, [0]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-as-path', rfc: 'RFC 7606 3', n: 5, title: 'AS_PATH with the Optional bit set (flags 0xC0) -> treat-as-withdraw', bad: (s) => ({ replace: { 2: attribute(OPTIONAL_TRANSITIVE, 2, sequence(s.asn)) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-next-hop', rfc: 'RFC 7606 3', n: 6, title: 'NEXT_HOP with the Optional bit set (flags 0xC0) -> treat-as-withdraw', bad: (s) => ({ replace: { 3: attribute(OPTIONAL_TRANSITIVE, 3, ipv4(s.address)) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-med', rfc: 'RFC 7606 3', n: 7, title: 'MULTI_EXIT_DISC flagged well-known (flags 0x40, Optional bit clear) -> treat-as-withdraw', bad: () => ({ replace: { 4: attribute(WELL_KNOWN, 4, u32(10)) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-local-pref', rfc: 'RFC 7606 3', n: 8, slots: ibgpFirst, title: 'LOCAL_PREF on iBGP with the Optional bit set (flags 0xC0) -> treat-as-withdraw', bad: () => ({ replace: { 5: attribute(OPTIONAL_TRANSITIVE, 5, u32(100)) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.flags-communities', rfc: 'RFC 7606 3', n: 9, title: 'COMMUNITIES flagged optional non-transitive (flags 0x80) -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL, 8, COMMUNITY) }) }),
  discardOrWithdraw({ id: 'bgp.rfc7606.flags-atomic-aggregate', n: 10, what: 'ATOMIC_AGGREGATE', title: 'ATOMIC_AGGREGATE with the Optional bit set (flags 0xC0) -> treat-as-withdraw or attribute discard', bad: () => ({ extra: attribute(OPTIONAL_TRANSITIVE, 6, []) }), lacks: (u) => !u.attributes.atomicAggregate }),
  discardOrWithdraw({ id: 'bgp.rfc7606.flags-aggregator', n: 11, what: 'AGGREGATOR', title: 'AGGREGATOR flagged well-known (flags 0x40) -> treat-as-withdraw or attribute discard', bad: (s) => ({ extra: attribute(WELL_KNOWN, 7, [...u32(s.asn), ...ipv4('192.0.2.7')]) }), lacks: (u) => !u.attributes.aggregator }),
  // 7.x: each attribute's own malformation.
  treatAsWithdraw({ id: 'bgp.rfc7606.origin-length', rfc: 'RFC 7606 7.1', n: 12, title: 'ORIGIN of length 2 -> treat-as-withdraw', bad: () => ({ replace: { 1: attribute(WELL_KNOWN, 1, [0, 0]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.origin-value', rfc: 'RFC 7606 7.1', n: 13, title: 'ORIGIN value 3 (undefined) -> treat-as-withdraw', bad: () => ({ replace: { 1: origin(3) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.as-path-overrun', rfc: 'RFC 7606 7.2', n: 14, title: 'AS_PATH whose segment length (3) overruns the attribute (1 AS) -> treat-as-withdraw', bad: (s) => ({ replace: { 2: attribute(WELL_KNOWN, 2, [2, 3, ...u32(s.asn)]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.as-path-zero-segment', rfc: 'RFC 7606 7.2', n: 15, title: 'AS_PATH with a segment of length 0 -> treat-as-withdraw', bad: (s) => ({ replace: { 2: attribute(WELL_KNOWN, 2, [...sequence(s.asn), 2, 0]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.as-path-bad-segment-type', rfc: 'RFC 7606 7.2', n: 16, title: 'AS_PATH with an unrecognized segment type (7) -> treat-as-withdraw', bad: (s) => ({ replace: { 2: attribute(WELL_KNOWN, 2, [7, 1, ...u32(s.asn)]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.as-path-underrun', rfc: 'RFC 7606 7.2', n: 17, title: 'AS_PATH with a single octet left after the last segment -> treat-as-withdraw', bad: (s) => ({ replace: { 2: attribute(WELL_KNOWN, 2, [...sequence(s.asn), 2]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7607.as-path-as-zero', rfc: 'RFC 7607 2', n: 18, title: 'AS_PATH holding AS 0 is malformed -> treat-as-withdraw (RFC 7606 7.2)', bad: (s) => ({ replace: { 2: attribute(WELL_KNOWN, 2, sequence(s.asn, 0)) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.next-hop-length', rfc: 'RFC 7606 7.3', n: 19, title: 'NEXT_HOP of length 5 -> treat-as-withdraw', bad: (s) => ({ replace: { 3: attribute(WELL_KNOWN, 3, [...ipv4(s.address), 0]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.med-length', rfc: 'RFC 7606 7.4', n: 20, title: 'MULTI_EXIT_DISC of length 3 -> treat-as-withdraw', bad: () => ({ replace: { 4: attribute(OPTIONAL, 4, [0, 0, 10]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.local-pref-length', rfc: 'RFC 7606 7.5', n: 21, slots: ibgpFirst, title: 'LOCAL_PREF of length 2 from an internal peer -> treat-as-withdraw', bad: () => ({ replace: { 5: attribute(WELL_KNOWN, 5, [0, 100]) } }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.communities-length', rfc: 'RFC 7606 7.8', n: 22, title: 'COMMUNITIES of length 5 (not a multiple of 4) -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL_TRANSITIVE, 8, [...COMMUNITY, 0]) }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.communities-empty', rfc: 'RFC 7606 7.8', n: 23, title: 'COMMUNITIES of length 0 -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL_TRANSITIVE, 8, []) }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.originator-id-length-ibgp', rfc: 'RFC 7606 7.9', n: 37, slots: ibgpFirst, title: 'ORIGINATOR_ID of length 3 from an internal peer -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL, 9, [10, 0, 0]) }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.cluster-list-length-ibgp', rfc: 'RFC 7606 7.10', n: 38, slots: ibgpFirst, title: 'CLUSTER_LIST of length 3 from an internal peer -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL, 10, [10, 0, 0]) }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.extended-communities-length', rfc: 'RFC 7606 7.14', n: 39, title: 'EXTENDED_COMMUNITIES of length 7 (not a multiple of 8) -> treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL_TRANSITIVE, 16, [0, 2, 0xfd, 0xe8, 0, 0, 1]) }) }),
  // 4: attribute lengths against the Total Path Attribute Length.
  treatAsWithdraw({ id: 'bgp.rfc7606.attribute-overrun', rfc: 'RFC 7606 4', n: 24, title: 'the last attribute\'s length overruns the path attributes (NLRI still located) -> treat-as-withdraw', bad: () => ({ extra: [OPTIONAL_TRANSITIVE, 8, 8, ...COMMUNITY] }) }),
  treatAsWithdraw({ id: 'bgp.rfc7606.attribute-header-underrun', rfc: 'RFC 7606 4', n: 25, title: 'two stray octets after the last attribute (too few for a header) -> treat-as-withdraw', bad: () => ({ extra: [OPTIONAL_TRANSITIVE, 8] }) }),
  attributeDiscard({ id: 'bgp.rfc7606.atomic-aggregate-length', rfc: 'RFC 7606 7.6', n: 26, what: 'ATOMIC_AGGREGATE', title: 'ATOMIC_AGGREGATE of length 1 -> attribute discard (the route is used without it)', bad: () => ({ extra: attribute(WELL_KNOWN, 6, [0]) }), lacks: (u) => !u.attributes.atomicAggregate }),
  attributeDiscard({ id: 'bgp.rfc7606.aggregator-length', rfc: 'RFC 7606 7.7', n: 27, what: 'AGGREGATOR', title: 'AGGREGATOR of length 7 on a 4-octet-AS session -> attribute discard (the route is used without it)', bad: (s) => ({ extra: attribute(OPTIONAL_TRANSITIVE, 7, [...u32(s.asn).slice(1), ...ipv4('192.0.2.7')]) }), lacks: (u) => !u.attributes.aggregator }),
  attributeDiscard({ id: 'bgp.rfc7607.aggregator-as-zero', rfc: 'RFC 7607 2', n: 28, what: 'AGGREGATOR', title: 'AGGREGATOR with AS 0 is malformed -> attribute discard (RFC 7606 7.7)', bad: () => ({ extra: attribute(OPTIONAL_TRANSITIVE, 7, [...u32(0), ...ipv4('192.0.2.7')]) }), lacks: (u) => !u.attributes.aggregator }),
  attributeDiscard({ id: 'bgp.rfc7606.local-pref-malformed-from-ebgp', rfc: 'RFC 7606 7.5', n: 34, what: 'LOCAL_PREF', title: 'a LOCAL_PREF of length 2 from an external peer -> attribute discard (the route is used), not treat-as-withdraw', bad: () => ({ localPref: 0, replace: { 5: attribute(WELL_KNOWN, 5, [0, 100]) } }), lacks: (u) => u.attributes.localPref === undefined }),
  attributeDiscard({ id: 'bgp.rfc7606.originator-id-from-ebgp', rfc: 'RFC 7606 7.9', n: 35, what: 'ORIGINATOR_ID', title: 'an ORIGINATOR_ID of length 3 from an external peer -> attribute discard (the route is used), not treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL, 9, [10, 0, 0]) }), lacks: (u) => u.attributes.originatorId === undefined }),
  attributeDiscard({ id: 'bgp.rfc7606.cluster-list-from-ebgp', rfc: 'RFC 7606 7.10', n: 36, what: 'CLUSTER_LIST', title: 'a CLUSTER_LIST of length 3 from an external peer -> attribute discard (the route is used), not treat-as-withdraw', bad: () => ({ extra: attribute(OPTIONAL, 10, [10, 0, 0]) }), lacks: (u) => u.attributes.clusterList === undefined }),
  routeTest({ id: 'bgp.rfc7606.local-pref-from-ebgp', rfc: 'RFC 7606 7.5', level: 'MUST', negative: true, title: 'LOCAL_PREF from an external peer is discarded: the route goes to an iBGP peer with the SUT\'s own LOCAL_PREF, not the received 4242', slots: ['ebgp', 'ibgp'] }, async (t) => {
    const { a, first } = await announcedRoute(t, P(29), { localPref: 4242 });
    if (first.attributes.localPref === 4242) throw new ExpectationFailed('the SUT passed the LOCAL_PREF 4242 received from an external peer on to an internal one', a.transcript);
    await stillUp(a);
  }),
  routeTest({ id: 'bgp.rfc7606.duplicate-attribute', rfc: 'RFC 7606 3', level: 'MUST', negative: true, title: 'an attribute appearing twice (ORIGIN IGP, then ORIGIN INCOMPLETE): all but the first are discarded, the route is used' }, async (t) => {
    const { a, first } = await announcedRoute(t, P(30), { extra: origin(2) });
    if (first.attributes.origin !== 'igp') throw new ExpectationFailed(`the route went on with ORIGIN ${first.attributes.origin}, not the first copy's IGP`, a.transcript);
    await stillUp(a);
  }),
  {
    id: 'bgp.rfc7606.duplicate-mp-reach',
    rfc: 'RFC 7606 3',
    level: 'MUST',
    negative: true,
    title: 'MP_REACH_NLRI appearing twice -> UPDATE Message Error / Malformed Attribute List (session reset)',
    needs: ['ipv6'],
    async run(t) {
      const a = await t.establish(0);
      a.drain();
      // IPv6 unicast, next hop 2001:db8::1, NLRI 2001:db8:6631::/48.
      const reach = attribute(OPTIONAL, 14, [0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0, 48, 0x20, 0x01, 0x0d, 0xb8, 0x66, 0x31]);
      a.sendMessage(rawUpdate([...rawRouteAttributes(t.slots[0]!, { replace: { 3: null } }), ...reach, ...reach], []), 'UPDATE with MP_REACH_NLRI twice');
      await a.expectNotification(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
    },
  },
  routeTest({ id: 'bgp.rfc7606.withdrawn-prefix-length', rfc: 'RFC 7606 5.3', level: 'MUST', negative: true, title: 'a withdrawn route of prefix length 33 -> session reset (Invalid Network Field or Malformed Attribute List) or AFI/SAFI disable' }, async (t) => {
    const announced = await announcedRoute(t, P(32));
    const subcodes = [UpdateSubcode.INVALID_NETWORK_FIELD, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST];
    await resetOrFamilyDisabled(announced, P(32), rawUpdate([], [], [33, 10, 66, 32, 1, 0]), 'UPDATE withdrawing a /33', subcodes, 'UPDATE Message Error / Invalid Network Field (or Malformed Attribute List)');
  }),
  routeTest({ id: 'bgp.rfc7606.missing-local-pref-ibgp', rfc: 'RFC 7606 3', level: 'MUST', negative: true, title: 'an iBGP UPDATE without LOCAL_PREF does not reset the session: the route is treated as withdrawn or used (LOCAL_PREF is not well-known mandatory)', slots: ibgpFirst }, async (t) => {
    const prefix = P(33);
    const { a, watch } = await announcedRoute(t, prefix, { path: [64533] });
    announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, { path: [64534], replace: { 5: null } }), 'no LOCAL_PREF, new AS_PATH');
    const u = await watch.next(prefix);
    if (!withdraws(u, prefix) && !pathAsns(u.attributes.asPath).includes(64534)) throw new ExpectationFailed(`expected ${prefix} withdrawn or announced with the new AS_PATH`, watch.observer.transcript);
    await stillUp(a);
  }),
];
