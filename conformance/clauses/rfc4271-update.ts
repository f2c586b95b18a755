// RFC 4271 UPDATE handling: errors that reset the session (6.3, 6.1 for the size), what the SUT
// passes on and how (5, 5.1.x: AS_PATH prepend, NEXT_HOP, MED, LOCAL_PREF, unknown attributes),
// routes it must ignore (NEXT_HOP, AS loop), withdrawal, and the decision process tie-breaks
// (9.1.2.2) seen from an observer slot. RFC 7606 actions per attribute are in rfc7606.ts.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import { ErrorCode, HeaderSubcode, UpdateSubcode, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { attribute, ipv4, ipv4Nlri, nextHop } from '../tester/bytes.ts';
import type { SlotRole, TesterSlot } from '../tester/sut.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { DECISION_CLAUSES } from './rfc4271-decision.ts';
import {
  announceRaw,
  announcedRoute,
  EXTENDED,
  OPTIONAL,
  OPTIONAL_TRANSITIVE,
  PARTIAL,
  resetOrFamilyDisabled,
  pathAsns,
  rawRouteAttributes,
  routeTest,
  sizedUpdate,
  stillUp,
  Watch,
  WELL_KNOWN,
  withdraw,
  type RouteOptions,
  type RouteTestCase,
} from './update-kit.ts';
import { u32 } from '../tester/bytes.ts';

const P = (n: number) => `100.65.${n}.0/24`;
const SENTINEL = (n: number) => `100.67.${n}.0/24`;

/** Unassigned attribute type codes used as "unknown". */
const UNKNOWN_WELL_KNOWN = 204;
const UNKNOWN_NON_TRANSITIVE = 205;
const UNKNOWN_TRANSITIVE = 206;

const fail = (peer: TesterPeer, message: string): never => {
  throw new ExpectationFailed(`${peer.label}: ${message}`, peer.transcript);
};

/** A NOTIFICATION within `ms`, or null while the session stays up. */
async function notificationWithin(peer: TesterPeer, ms: number) {
  const n = await peer.next((m) => m.type === 'NOTIFICATION', ms);
  return n && n.type === 'NOTIFICATION' ? n : null;
}

/**
 * A route the SUT must ignore (RFC 4271 6.3, semantically incorrect NEXT_HOP): a fresh prefix
 * with the bad NEXT_HOP, then a sentinel; the prefix never reaches the observer or the RIB, the
 * session stays. `resetSubcode`: an UPDATE Message Error subcode that is allowed instead.
 */
function ignoredRoute(c: { id: string; title: string; n: number; level: 'MUST' | 'SHOULD'; nextHop: (t: ClauseContext) => string; resetSubcode?: number }): ClauseTest {
  return routeTest({ id: c.id, rfc: 'RFC 4271 6.3', level: c.level, negative: true, title: c.title }, async (t) => {
    const b = await t.establish(1);
    const a = await t.establish(0);
    const watch = new Watch(t, 0, b);
    const hop = c.nextHop(t);
    announceRaw(a, P(c.n), rawRouteAttributes(t.slots[0]!, { replace: { 3: nextHop(hop) } }), `NEXT_HOP ${hop}`);
    const n = await notificationWithin(a, 1000);
    if (n) {
      if (c.resetSubcode !== undefined && n.code === ErrorCode.UPDATE && n.subcode === c.resetSubcode) return;
      fail(a, `expected the route to be ignored with the session kept, got NOTIFICATION ${n.code}/${n.subcode}`);
    }
    await watch.neverUsed(a, P(c.n), SENTINEL(c.n), rawRouteAttributes(t.slots[0]!));
    await stillUp(a);
  });
}

/** A route from slot 0 announced to observer slot 1: `check` judges the UPDATE the observer got. */
function passedOn(c: RouteTestCase & { level: 'MUST' | 'SHOULD'; n: number; route?: (s: TesterSlot) => RouteOptions; check: (u: UpdateMessage, t: ClauseContext, b: TesterPeer) => void }): ClauseTest {
  return routeTest(c, async (t) => {
    const { a, b, first } = await announcedRoute(t, P(c.n), c.route?.(t.slots[0]!) ?? {});
    c.check(first, t, b);
    await stillUp(a);
  });
}

/** The SUT's own route (sut.info.originates.ipv4) as slot 0 receives it. */
function ownRoute(c: { id: string; rfc: string; title: string; slot: SlotRole; check: (u: UpdateMessage, t: ClauseContext, peer: TesterPeer) => void }): ClauseTest {
  return {
    id: c.id,
    rfc: c.rfc,
    level: 'MUST',
    title: c.title,
    slots: [c.slot],
    ...(c.slot === 'ibgp' ? { needs: ['ibgp' as const] } : {}),
    async run(t) {
      const peer = await t.establish(0);
      const u = await peer.expectAnnounced(t.sut.originates.ipv4);
      c.check(u, t, peer);
    },
  };
}

export const UPDATE_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.update.attribute-length-overrun-message',
    rfc: 'RFC 4271 6.3',
    level: 'MUST',
    negative: true,
    title: 'a Total Path Attribute Length running past the end of the message -> UPDATE Message Error / Malformed Attribute List',
    async run(t) {
      const a = await t.establish(0);
      a.drain();
      const bytes = rawUpdate(rawRouteAttributes(t.slots[0]!), ipv4Nlri(P(1)));
      const at = 21 + 2; // withdrawn length 0, then the Total Path Attribute Length
      const length = (bytes[at - 2]! << 8) + bytes[at - 1]! + 10;
      bytes.set([length >> 8, length & 255], at - 2);
      a.sendMessage(bytes, `UPDATE whose Total Path Attribute Length says ${length}, past the message`);
      await a.expectNotification(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
    },
  },
  {
    id: 'bgp.update.withdrawn-length-overrun',
    rfc: 'RFC 4271 6.3',
    level: 'MUST',
    negative: true,
    title: 'a Withdrawn Routes Length running past the end of the message -> UPDATE Message Error / Malformed Attribute List',
    async run(t) {
      const a = await t.establish(0);
      a.drain();
      const bytes = rawUpdate([], [], ipv4Nlri(P(2)));
      bytes.set([0, 200], 19);
      a.sendMessage(bytes, 'UPDATE whose Withdrawn Routes Length says 200');
      await a.expectNotification(ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
    },
  },
  routeTest({ id: 'bgp.update.nlri-prefix-length', rfc: 'RFC 4271 6.3', level: 'MUST', negative: true, title: 'an NLRI prefix of length 33 -> UPDATE Message Error / Invalid Network Field (or, RFC 7606 5.3, IPv4 unicast disabled on the session)' }, async (t) => {
    const announced = await announcedRoute(t, P(3));
    const bytes = rawUpdate(rawRouteAttributes(t.slots[0]!), [33, 10, 65, 3, 1, 0]);
    await resetOrFamilyDisabled(announced, P(3), bytes, 'UPDATE announcing a /33', [UpdateSubcode.INVALID_NETWORK_FIELD], 'UPDATE Message Error / Invalid Network Field');
  }),
  {
    id: 'bgp.update.unrecognized-well-known',
    rfc: 'RFC 4271 6.3',
    level: 'MUST',
    negative: true,
    title: 'an unrecognized well-known attribute (flags 0x40) -> UPDATE Message Error / Unrecognized Well-known Attribute, data the attribute',
    async run(t) {
      const a = await t.establish(0);
      a.drain();
      const unknown = attribute(WELL_KNOWN, UNKNOWN_WELL_KNOWN, [1, 2, 3, 4]);
      announceRaw(a, P(4), rawRouteAttributes(t.slots[0]!, { extra: unknown }), `unknown well-known attribute ${UNKNOWN_WELL_KNOWN}`);
      const n = await a.expectNotification(ErrorCode.UPDATE, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE);
      const want = Buffer.from(unknown).toString('hex');
      if (n.data !== want) fail(a, `the NOTIFICATION's data should be the attribute ${want}, is "${n.data}"`);
    },
  },
  passedOn({
    id: 'bgp.update.unknown-optional-non-transitive',
    rfc: 'RFC 4271 5',
    level: 'MUST',
    n: 5,
    title: 'an unrecognized optional non-transitive attribute is quietly ignored: the route is used and passed on without it',
    route: () => ({ extra: attribute(OPTIONAL, UNKNOWN_NON_TRANSITIVE, [1, 2, 3, 4]) }),
    check(u, _t, b) {
      if (u.attributes.unknown?.some((x) => x.code === UNKNOWN_NON_TRANSITIVE)) fail(b, `the SUT passed on the optional non-transitive attribute ${UNKNOWN_NON_TRANSITIVE}`);
    },
  }),
  ...[false, true].map((partial, k) =>
    passedOn({
      id: partial ? 'bgp.update.unknown-optional-transitive-partial-kept' : 'bgp.update.unknown-optional-transitive',
      rfc: 'RFC 4271 5',
      level: 'MUST',
      n: 6 + k,
      title: partial
        ? 'an unrecognized optional transitive attribute that arrives with the Partial bit set is passed on with it still set'
        : 'an unrecognized optional transitive attribute is passed on to another eBGP peer unchanged, with the Partial bit set',
      route: () => ({ extra: attribute(OPTIONAL_TRANSITIVE | (partial ? PARTIAL : 0), UNKNOWN_TRANSITIVE, [9, 8, 7, 6, 5]) }),
      check(u, _t, b) {
        const got = u.attributes.unknown?.find((x) => x.code === UNKNOWN_TRANSITIVE);
        if (!got) return fail(b, `the SUT did not pass on the optional transitive attribute ${UNKNOWN_TRANSITIVE}`);
        if ((got.flags & 0xe0) !== 0xe0) fail(b, `attribute ${UNKNOWN_TRANSITIVE} went on with flags 0x${got.flags.toString(16)}, not Optional+Transitive+Partial`);
        if (got.hex !== '0908070605') fail(b, `attribute ${UNKNOWN_TRANSITIVE} went on with value ${got.hex}, not 0908070605`);
      },
    }),
  ),
  passedOn({
    id: 'bgp.update.med-not-passed-on',
    rfc: 'RFC 4271 5.1.4',
    level: 'MUST',
    n: 8,
    title: 'a MULTI_EXIT_DISC received from one neighbouring AS is not propagated to another (eBGP to eBGP)',
    route: () => ({ med: 77 }),
    check(u, _t, b) {
      if (u.attributes.med !== undefined) fail(b, `the route went to another AS with MED ${u.attributes.med}`);
    },
  }),
  passedOn({
    id: 'bgp.update.local-pref-not-to-ebgp',
    rfc: 'RFC 4271 5.1.5',
    level: 'MUST',
    n: 9,
    slots: ['ibgp', 'ebgp'],
    title: 'LOCAL_PREF is not sent to an external peer (route learned over iBGP with LOCAL_PREF 300)',
    route: () => ({ localPref: 300, path: [64509] }),
    check(u, _t, b) {
      if (u.attributes.localPref !== undefined) fail(b, `the SUT sent LOCAL_PREF ${u.attributes.localPref} to an external peer`);
    },
  }),
  passedOn({
    id: 'bgp.update.local-pref-to-ibgp',
    rfc: 'RFC 4271 5.1.5',
    level: 'MUST',
    n: 10,
    slots: ['ebgp', 'ibgp'],
    title: 'an UPDATE to an internal peer carries LOCAL_PREF (route learned over eBGP)',
    check(u, _t, b) {
      if (u.attributes.localPref === undefined) fail(b, 'the SUT sent a route to an internal peer without LOCAL_PREF');
    },
  }),
  passedOn({
    id: 'bgp.update.as-path-prepend-ebgp',
    rfc: 'RFC 4271 5.1.2',
    level: 'MUST',
    n: 11,
    title: 'a route passed to an external peer has the SUT\'s AS prepended as the leftmost AS of an AS_SEQUENCE',
    route: () => ({ path: [64511] }),
    check(u, t, b) {
      const first = u.attributes.asPath?.[0];
      const want = [t.sut.asn, t.slots[0]!.asn, 64511];
      if (first?.type !== 'sequence' || pathAsns(u.attributes.asPath).join(' ') !== want.join(' ')) fail(b, `expected AS_PATH sequence ${want.join(' ')}, got ${JSON.stringify(u.attributes.asPath)}`);
    },
  }),
  passedOn({
    id: 'bgp.update.as-path-unchanged-ibgp',
    rfc: 'RFC 4271 5.1.2',
    level: 'MUST',
    n: 12,
    slots: ['ebgp', 'ibgp'],
    title: 'a route passed to an internal peer keeps its AS_PATH unchanged (no prepend)',
    route: () => ({ path: [64512] }),
    check(u, t, b) {
      const want = [t.slots[0]!.asn, 64512];
      if (pathAsns(u.attributes.asPath).join(' ') !== want.join(' ')) fail(b, `expected AS_PATH ${want.join(' ')} unchanged, got ${JSON.stringify(u.attributes.asPath)}`);
    },
  }),
  ownRoute({
    id: 'bgp.update.as-path-originated-ebgp',
    rfc: 'RFC 4271 5.1.2',
    slot: 'ebgp',
    title: 'the SUT\'s own route goes to an external peer with AS_PATH one AS_SEQUENCE of its own AS',
    check(u, t, peer) {
      const path = u.attributes.asPath ?? [];
      if (path.length !== 1 || path[0]!.type !== 'sequence' || path[0]!.asns.join(' ') !== String(t.sut.asn)) fail(peer, `expected AS_PATH [${t.sut.asn}], got ${JSON.stringify(path)}`);
    },
  }),
  ownRoute({
    id: 'bgp.update.as-path-originated-ibgp',
    rfc: 'RFC 4271 5.1.2',
    slot: 'ibgp',
    title: 'the SUT\'s own route goes to an internal peer with an empty AS_PATH',
    check(u, _t, peer) {
      if (u.attributes.asPath === undefined) fail(peer, 'the UPDATE has no AS_PATH attribute');
      if (pathAsns(u.attributes.asPath).length !== 0) fail(peer, `expected an empty AS_PATH, got ${JSON.stringify(u.attributes.asPath)}`);
    },
  }),
  ownRoute({
    id: 'bgp.update.next-hop-self-originated-ebgp',
    rfc: 'RFC 4271 5.1.3',
    slot: 'ebgp',
    title: 'the SUT\'s own route goes to an external peer with NEXT_HOP its address on that session',
    check(u, t, peer) {
      if (u.attributes.nextHop !== t.slots[0]!.sutAddress) fail(peer, `expected NEXT_HOP ${t.slots[0]!.sutAddress}, got ${u.attributes.nextHop}`);
    },
  }),
  passedOn({
    id: 'bgp.update.next-hop-ebgp-learned',
    rfc: 'RFC 4271 5.1.3',
    level: 'MUST',
    n: 13,
    title: 'a route learned from an external peer goes to another external peer with NEXT_HOP the SUT\'s own address (or the received one: third party on a shared subnet)',
    check(u, t, b) {
      const allowed = [t.slots[1]!.sutAddress, t.slots[0]!.address];
      if (!allowed.includes(u.attributes.nextHop ?? '')) fail(b, `expected NEXT_HOP ${allowed.join(' or ')}, got ${u.attributes.nextHop}`);
    },
  }),
  passedOn({
    id: 'bgp.update.next-hop-unchanged-ibgp',
    rfc: 'RFC 4271 5.1.3',
    level: 'SHOULD',
    n: 14,
    slots: ['ebgp', 'ibgp'],
    title: 'a route learned from an external peer goes to an internal peer with the NEXT_HOP it arrived with',
    check(u, t, b) {
      if (u.attributes.nextHop !== t.slots[0]!.address) fail(b, `expected NEXT_HOP ${t.slots[0]!.address} unchanged, got ${u.attributes.nextHop}`);
    },
  }),
  passedOn({
    id: 'bgp.update.origin-unchanged',
    rfc: 'RFC 4271 5.1.1',
    level: 'SHOULD',
    n: 15,
    title: 'ORIGIN EGP received from a peer goes on unchanged',
    route: () => ({ origin: 1 }),
    check(u, _t, b) {
      if (u.attributes.origin !== 'egp') fail(b, `ORIGIN went on as ${u.attributes.origin}, not egp`);
    },
  }),
  passedOn({
    id: 'bgp.update.atomic-aggregate-kept',
    rfc: 'RFC 4271 5.1.6',
    level: 'SHOULD',
    n: 16,
    title: 'ATOMIC_AGGREGATE received on a route is not removed when the route is passed on',
    route: () => ({ extra: attribute(WELL_KNOWN, 6, []) }),
    check(u, _t, b) {
      if (!u.attributes.atomicAggregate) fail(b, 'the SUT removed ATOMIC_AGGREGATE');
    },
  }),
  passedOn({
    id: 'bgp.update.extended-length-short-values',
    rfc: 'RFC 4271 4.3',
    level: 'MUST',
    n: 17,
    title: 'attributes in the 2-octet (Extended Length) form with short values are accepted',
    route: (s) => ({
      replace: {
        1: attribute(WELL_KNOWN | EXTENDED, 1, [0]),
        2: attribute(WELL_KNOWN | EXTENDED, 2, [2, 1, s.asn >>> 24, (s.asn >> 16) & 255, (s.asn >> 8) & 255, s.asn & 255]),
        3: attribute(WELL_KNOWN | EXTENDED, 3, ipv4(s.address)),
      },
    }),
    check() {},
  }),
  ignoredRoute({ id: 'bgp.update.next-hop-zero', n: 18, level: 'SHOULD', title: 'a route with NEXT_HOP 0.0.0.0 is not used (the session stays, or Invalid NEXT_HOP Attribute)', nextHop: () => '0.0.0.0', resetSubcode: UpdateSubcode.INVALID_NEXT_HOP }),
  ignoredRoute({ id: 'bgp.update.next-hop-multicast', n: 19, level: 'SHOULD', title: 'a route with a multicast NEXT_HOP (224.0.0.5) is not used (the session stays, or Invalid NEXT_HOP Attribute)', nextHop: () => '224.0.0.5', resetSubcode: UpdateSubcode.INVALID_NEXT_HOP }),
  ignoredRoute({ id: 'bgp.update.next-hop-own-address', n: 20, level: 'SHOULD', title: 'a route whose NEXT_HOP is the SUT\'s own address is ignored, without a NOTIFICATION', nextHop: (t) => t.slots[0]!.sutAddress }),
  routeTest({ id: 'bgp.update.first-as-not-peer', rfc: 'RFC 4271 6.3', level: 'MAY', negative: true, title: 'an eBGP route whose leftmost AS is not the peer\'s: accepted, treated as withdrawn (RFC 7606 7.2), or Malformed AS_PATH; nothing else' }, async (t) => {
    const b = await t.establish(1);
    const a = await t.establish(0);
    const watch = new Watch(t, 0, b);
    announceRaw(a, P(21), rawRouteAttributes(t.slots[0]!, { replace: { 2: attribute(WELL_KNOWN, 2, [2, 2, ...u32(64998), ...u32(64999)]) } }), "AS_PATH 64998 64999, without the peer's AS");
    const n = await notificationWithin(a, 1000);
    if (n) {
      if (n.code !== ErrorCode.UPDATE || n.subcode !== UpdateSubcode.MALFORMED_AS_PATH) fail(a, `the only reset allowed is UPDATE Message Error / Malformed AS_PATH, got ${n.code}/${n.subcode}`);
      return;
    }
    // Accepted or treated as withdrawn: either way the session keeps working.
    announceRaw(a, SENTINEL(21), rawRouteAttributes(t.slots[0]!), 'well-formed route after the one under test');
    await watch.present(SENTINEL(21));
    await stillUp(a);
  }),
  routeTest({ id: 'bgp.update.as-loop', rfc: 'RFC 4271 9.1.2', level: 'SHOULD', negative: true, title: 'a route whose AS_PATH holds the SUT\'s own AS is not used: it replaces (withdraws) the peer\'s earlier route for the prefix' }, async (t) => {
    const prefix = P(22);
    const { a, b } = await announcedRoute(t, prefix);
    announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, { path: [t.sut.asn, 64522] }), `AS_PATH with the SUT's AS ${t.sut.asn}`);
    await b.expectWithdrawn(prefix);
    await stillUp(a);
  }),
  routeTest({ id: 'bgp.update.withdrawal-propagated', rfc: 'RFC 4271 3.1', level: 'MUST', title: 'a withdrawn route is removed and its withdrawal passed on to the peers it was announced to' }, async (t) => {
    const prefix = P(23);
    const { a, watch } = await announcedRoute(t, prefix);
    withdraw(a, prefix);
    await watch.gone(prefix);
    await stillUp(a);
  }),
  routeTest({ id: 'bgp.update.implicit-withdraw', rfc: 'RFC 4271 3.1', level: 'MUST', title: 'a route for the same prefix from the same peer replaces the earlier one without a withdrawal; the replacement is passed on' }, async (t) => {
    const prefix = P(24);
    const { a, watch } = await announcedRoute(t, prefix, { path: [64524] });
    announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, { path: [64525] }), 'replacement with a new AS_PATH');
    const u = await watch.next(prefix);
    if (!announces(u, prefix) || !pathAsns(u.attributes.asPath).includes(64525)) fail(watch.observer, `expected ${prefix} announced again with the new AS_PATH (…64525), got another UPDATE`);
    await stillUp(a);
  }),
  routeTest({ id: 'bgp.update.size-4096', rfc: 'RFC 4271 4.1', level: 'MUST', title: 'an UPDATE of exactly 4096 octets (the maximum) is accepted and its route used' }, async (t) => {
    const b = await t.establish(1);
    const a = await t.establish(0);
    const watch = new Watch(t, 0, b);
    a.sendMessage(sizedUpdate(t.slots[0]!, P(25), 4096, { withdrawnFrom: 200 }), `UPDATE of 4096 octets announcing ${P(25)} (withdrawn routes as padding)`);
    await watch.present(P(25));
    await stillUp(a);
  }),
  {
    id: 'bgp.update.size-4097',
    rfc: 'RFC 4271 6.1',
    level: 'MUST',
    negative: true,
    title: 'an UPDATE of 4097 octets (extended messages not negotiated) -> Message Header Error / Bad Message Length, data 1001',
    async run(t) {
      const a = await t.establish(0);
      a.drain();
      a.sendMessage(sizedUpdate(t.slots[0]!, P(26), 4097, { withdrawnFrom: 210 }), 'UPDATE of 4097 octets');
      const n = await a.expectNotification(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH);
      if (n.data !== '1001') fail(a, `the NOTIFICATION's data should be the erroneous Length 1001, is "${n.data}"`);
    },
  },
  routeTest({ id: 'bgp.update.ibgp-split-horizon', rfc: 'RFC 4271 9.2', level: 'MUST', title: 'a route learned from an internal peer is not advertised to another internal peer (it is to an external one)', slots: ['ibgp', 'ibgp', 'ebgp'] }, async (t) => {
    const other = await t.establish(1);
    const c = await t.establish(2);
    const a = await t.establish(0);
    announceRaw(a, P(27), rawRouteAttributes(t.slots[0]!, { path: [64527] }), 'from an internal peer');
    await c.expectAnnounced(P(27));
    // An eBGP route announced afterwards does reach the other internal peer.
    announceRaw(c, SENTINEL(27), rawRouteAttributes(t.slots[2]!), 'from an external peer, after the iBGP one');
    await other.expectAnnounced(SENTINEL(27));
    await new Promise((r) => setTimeout(r, 1000));
    other.sync();
    if (other.messages.some((m) => m.type === 'UPDATE' && announces(m, P(27)))) fail(other, `the SUT advertised ${P(27)}, learned over iBGP, to another internal peer`);
    await stillUp(a);
  }),
  ...DECISION_CLAUSES,
];
