// RFC 6793 (4-octet AS numbers): the capability in the OPEN, AS_TRANS and AS4_PATH towards a
// 2-octet (OLD) peer, AS4_PATH merged from an OLD peer, AS4_PATH / AS4_AGGREGATOR discarded from a
// NEW peer, and a malformed AS4_PATH handled as attribute discard. Tester A and B are eBGP peers of
// the SUT; a peer that leaves out capability 65 is an OLD speaker.
import type { Capability, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import type { TesterSlot } from '../tester/sut.ts';
import { attribute, ipv4, u32 } from '../tester/bytes.ts';
import { defaultCapabilities, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { as4Path, asPath2, connectWithOpen, expectKeepalive, pathAsns, rawAttributesOf, sutOpen } from './session-helpers.ts';
import { announceRaw, rawRouteAttributes, type RouteOptions } from './update-kit.ts';

const AS_TRANS = 23456;
/** Distinct prefix per test of this file: 100.99.(40+N).0/24. */
const v4 = (n: number) => `100.99.${40 + n}.0/24`;

/** Capabilities of an OLD (2-octet) speaker: everything but capability 65. */
const OLD: Capability[] = defaultCapabilities(0).filter((c) => c.code !== 65);

/** The SUT's AS as a 2-octet speaker sees it. */
const mapped = (t: ClauseContext) => (t.sut.asn > 65535 ? AS_TRANS : t.sut.asn);

const TWO: ClauseTest['slots'] = ['ebgp', 'ebgp'];

/** Slot 0 a 4-octet (NEW) speaker, slot 1 a 2-octet (OLD) one, both Established in that order. */
async function newAndOld(t: ClauseContext): Promise<{ newPeer: TesterPeer; oldPeer: TesterPeer }> {
  const newPeer = await t.establish(0);
  const oldPeer = await t.establish(1, { capabilities: OLD });
  return { newPeer, oldPeer };
}

/** Slots 0 and 1, both 4-octet speakers, Established in that order. */
async function twoNew(t: ClauseContext): Promise<{ sender: TesterPeer; receiver: TesterPeer }> {
  const sender = await t.establish(0);
  const receiver = await t.establish(1);
  return { sender, receiver };
}

/** The attributes of a route from the OLD speaker (slot 1): its 2-octet AS_PATH "slot AS, AS_TRANS", then `extra`. */
const fromOldSpeaker = (t: ClauseContext, extra: number[]): number[] => rawRouteAttributes(t.slots[1]!, { replace: { 2: asPath2(t.slots[1]!.asn, AS_TRANS) }, extra });

/** AGGREGATOR (7) with these AS octets (2 or 4) and address; AS4_AGGREGATOR (18) with a 4-octet AS. */
const aggregator = (asOctets: number[], address: string): number[] => attribute(0xc0, 7, [...asOctets, ...ipv4(address)]);
const as4Aggregator = (asn: number, address: string): number[] => attribute(0xc0, 18, [...u32(asn), ...ipv4(address)]);

/** `what` (an AS_PATH as the observer read it) is `want`. */
function expectPath(peer: TesterPeer, what: string, got: number[], want: number[], note = ''): void {
  if (got.join(' ') !== want.join(' ')) throw new ExpectationFailed(`${what} should be ${want.join(' ')}${note}, is ${got.join(' ')}`, peer.transcript);
}

/**
 * RFC 6793 6: an AS4_PATH / AS4_AGGREGATOR from a 4-octet (NEW) peer is discarded. Slot 0 sends
 * the route, slot 1 (also NEW) gets it without `attribute` and as `check` says; with `quietMs`,
 * slot 0 then gets no NOTIFICATION for that long.
 */
function discardedFromNew(c: {
  id: string;
  n: number;
  title: string;
  attribute: { code: number; name: string };
  route: (a: TesterSlot) => RouteOptions;
  label: (a: TesterSlot) => string;
  check: (u: UpdateMessage, t: ClauseContext, receiver: TesterPeer) => void;
  quietMs?: number;
}): ClauseTest {
  return {
    id: c.id,
    rfc: 'RFC 6793 6',
    level: 'MUST',
    slots: TWO,
    title: c.title,
    async run(t) {
      const a = t.slots[0]!;
      const { sender, receiver } = await twoNew(t);
      announceRaw(sender, v4(c.n), rawRouteAttributes(a, c.route(a)), c.label(a));
      const u = await receiver.expectAnnounced(v4(c.n));
      c.check(u, t, receiver);
      if (rawAttributesOf(receiver, u).some((x) => x.code === c.attribute.code)) throw new ExpectationFailed(`the SUT passed ${c.attribute.name} on to a 4-octet peer`, receiver.transcript);
      if (c.quietMs) await sender.expectNoNotification(c.quietMs);
    },
  };
}

export const AS4_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.as4.sut-capability',
    rfc: 'RFC 6793 3',
    level: 'MUST',
    title: "the SUT's OPEN carries the 4-octet AS capability (65) with its AS, and My AS is that AS (or AS_TRANS when it does not fit 2 octets)",
    async run(t) {
      const { peer, open } = await sutOpen(t);
      if (open.as4 !== t.sut.asn) throw new ExpectationFailed(`capability 65 should carry AS ${t.sut.asn}, carries ${open.as4 ?? 'nothing (absent)'}`, peer.transcript);
      if (open.myAs !== mapped(t)) throw new ExpectationFailed(`My Autonomous System should be ${mapped(t)}, is ${open.myAs}`, peer.transcript);
    },
  },
  {
    id: 'bgp.as4.peer-as-from-capability',
    rfc: 'RFC 6793 3',
    level: 'MUST',
    title: 'an OPEN with My AS = AS_TRANS and the real AS in capability 65 is accepted (the peer AS is the capability\'s)',
    async run(t) {
      const peer = await connectWithOpen(t, { myAs: AS_TRANS });
      await expectKeepalive(peer);
    },
  },
  {
    id: 'bgp.as4.capability-as-mismatch',
    rfc: 'RFC 6793 3',
    level: 'MUST',
    negative: true,
    title: 'an OPEN whose capability 65 names an AS other than the configured peer AS gets OPEN Message Error / Bad Peer AS (2/2)',
    async run(t) {
      const slot = t.slots[0]!;
      const peer = await connectWithOpen(t, { asn: slot.asn + 1000, myAs: slot.asn });
      await peer.expectNotification(2, 2);
    },
  },
  {
    id: 'bgp.as4.as-trans-to-old-speaker',
    rfc: 'RFC 6793 4.2.2',
    level: 'MUST',
    slots: TWO,
    title: 'to a 2-octet peer the SUT sends AS_TRANS in AS_PATH for a 4-octet AS, and the whole path in AS4_PATH',
    async run(t) {
      const { newPeer, oldPeer } = await newAndOld(t);
      announceRaw(newPeer, v4(1), rawRouteAttributes(t.slots[0]!, { path: [4200000001] }), `AS_PATH ${t.slots[0]!.asn} 4200000001`);
      const attrs = rawAttributesOf(oldPeer, await oldPeer.expectAnnounced(v4(1)));
      expectPath(oldPeer, 'the 2-octet AS_PATH', pathAsns(attrs.find((x) => x.code === 2)?.value ?? [], 2), [mapped(t), t.slots[0]!.asn, AS_TRANS]);
      const as4 = attrs.find((x) => x.code === 17);
      if (!as4) throw new ExpectationFailed('no AS4_PATH came with the AS_TRANS path', oldPeer.transcript);
      if ((as4.flags & 0xc0) !== 0xc0) throw new ExpectationFailed(`AS4_PATH flags 0x${as4.flags.toString(16)}: it is optional transitive`, oldPeer.transcript);
      const full = pathAsns(as4.value, 4);
      if (full[full.length - 1] !== 4200000001) throw new ExpectationFailed(`AS4_PATH should end with 4200000001, is ${full.join(' ')}`, oldPeer.transcript);
    },
  },
  {
    id: 'bgp.as4.as4-path-merged-from-old',
    rfc: 'RFC 6793 4.2.3',
    level: 'MUST',
    slots: TWO,
    title: 'AS_PATH with AS_TRANS plus AS4_PATH from a 2-octet peer are merged: a 4-octet peer gets the real 4-octet AS',
    async run(t) {
      const { newPeer, oldPeer } = await newAndOld(t);
      announceRaw(oldPeer, v4(2), fromOldSpeaker(t, as4Path(4200000002)), `AS_PATH ${t.slots[1]!.asn} 23456, AS4_PATH 4200000002`);
      const u = await newPeer.expectAnnounced(v4(2));
      expectPath(newPeer, 'the AS_PATH', u.attributes.asPath?.flatMap((s) => s.asns) ?? [], [t.sut.asn, t.slots[1]!.asn, 4200000002]);
    },
  },
  discardedFromNew({
    id: 'bgp.as4.as4-path-from-new-discarded',
    n: 3,
    title: 'an AS4_PATH received from a 4-octet peer is discarded: the route goes on with its AS_PATH alone and no AS4_PATH',
    attribute: { code: 17, name: 'AS4_PATH' },
    route: (a) => ({ path: [64512], extra: as4Path(a.asn, 4200000003) }),
    label: (a) => `AS_PATH ${a.asn} 64512, AS4_PATH ${a.asn} 4200000003`,
    check: (u, t, receiver) => expectPath(receiver, 'the AS_PATH', u.attributes.asPath?.flatMap((s) => s.asns) ?? [], [t.sut.asn, t.slots[0]!.asn, 64512], ' (AS4_PATH ignored)'),
    quietMs: 300,
  }),
  discardedFromNew({
    id: 'bgp.as4.as4-aggregator-from-new-discarded',
    n: 4,
    title: 'an AS4_AGGREGATOR received from a 4-octet peer is discarded: the AGGREGATOR goes on unchanged and no AS4_AGGREGATOR',
    attribute: { code: 18, name: 'AS4_AGGREGATOR' },
    route: (a) => ({ extra: [...aggregator(u32(a.asn), '198.51.100.4'), ...as4Aggregator(4200000004, '198.51.100.44')] }),
    label: (a) => `AGGREGATOR ${a.asn} 198.51.100.4, AS4_AGGREGATOR 4200000004 198.51.100.44`,
    check(u, t, receiver) {
      const [a, agg] = [t.slots[0]!, u.attributes.aggregator];
      if (agg?.asn !== a.asn || agg.address !== '198.51.100.4') throw new ExpectationFailed(`the AGGREGATOR should be ${a.asn} 198.51.100.4, is ${agg ? `${agg.asn} ${agg.address}` : 'absent'}`, receiver.transcript);
    },
  }),
  {
    id: 'bgp.as4.four-octet-path-to-new',
    rfc: 'RFC 6793 4.1',
    level: 'MUST',
    slots: TWO,
    title: 'between 4-octet speakers the AS_PATH carries 4-octet ASNs as they are, with no AS_TRANS and no AS4_PATH',
    async run(t) {
      const a = t.slots[0]!;
      const { sender, receiver } = await twoNew(t);
      announceRaw(sender, v4(5), rawRouteAttributes(a, { path: [4200000005] }), `AS_PATH ${a.asn} 4200000005`);
      const attrs = rawAttributesOf(receiver, await receiver.expectAnnounced(v4(5)));
      expectPath(receiver, 'the 4-octet AS_PATH', pathAsns(attrs.find((x) => x.code === 2)?.value ?? [], 4), [t.sut.asn, a.asn, 4200000005]);
      if (attrs.some((x) => x.code === 17)) throw new ExpectationFailed('the SUT sent AS4_PATH to a 4-octet peer', receiver.transcript);
    },
  },
  {
    id: 'bgp.as4.malformed-as4-path',
    rfc: 'RFC 6793 6',
    level: 'MUST',
    negative: true,
    slots: TWO,
    title: 'a malformed AS4_PATH from a 2-octet peer is discarded (attribute discard): no NOTIFICATION, the route is still propagated',
    async run(t) {
      const { newPeer, oldPeer } = await newAndOld(t);
      // One AS_SEQUENCE that says 3 ASNs but holds 1.
      announceRaw(oldPeer, v4(6), fromOldSpeaker(t, attribute(0xc0, 17, [2, 3, ...u32(4200000006)])), 'with a malformed AS4_PATH');
      const u = await newPeer.expectAnnounced(v4(6));
      const path = u.attributes.asPath?.flatMap((s) => s.asns) ?? [];
      if (path.includes(4200000006)) throw new ExpectationFailed(`the malformed AS4_PATH was used: AS_PATH ${path.join(' ')}`, newPeer.transcript);
      await oldPeer.expectNoNotification(500);
    },
  },
  {
    id: 'bgp.as4.as4-aggregator-merged-from-old',
    rfc: 'RFC 6793 4.2.3',
    level: 'MUST',
    slots: TWO,
    title: 'AGGREGATOR with AS_TRANS plus AS4_AGGREGATOR from a 2-octet peer: a 4-octet peer gets the AGGREGATOR with the real 4-octet AS',
    async run(t) {
      const { newPeer, oldPeer } = await newAndOld(t);
      const extra = [...aggregator([AS_TRANS >> 8, AS_TRANS & 255], '198.51.100.7'), ...as4Path(4200000007), ...as4Aggregator(4200000007, '198.51.100.7')];
      announceRaw(oldPeer, v4(7), fromOldSpeaker(t, extra), 'AGGREGATOR 23456, AS4_AGGREGATOR 4200000007');
      const agg = (await newPeer.expectAnnounced(v4(7))).attributes.aggregator;
      if (agg?.asn !== 4200000007) throw new ExpectationFailed(`the AGGREGATOR should carry AS 4200000007, carries ${agg ? agg.asn : 'nothing (absent)'}`, newPeer.transcript);
    },
  },
  {
    id: 'bgp.as4.as4-aggregator-to-old',
    rfc: 'RFC 6793 4.2.2',
    level: 'MUST',
    slots: TWO,
    title: 'to a 2-octet peer an AGGREGATOR with a 4-octet AS goes out as AS_TRANS, with AS4_AGGREGATOR carrying the real AS',
    async run(t) {
      const { newPeer, oldPeer } = await newAndOld(t);
      announceRaw(newPeer, v4(8), rawRouteAttributes(t.slots[0]!, { path: [4200000008], extra: aggregator(u32(4200000008), '198.51.100.8') }), 'AGGREGATOR 4200000008 198.51.100.8');
      const attrs = rawAttributesOf(oldPeer, await oldPeer.expectAnnounced(v4(8)));
      const agg = attrs.find((x) => x.code === 7)?.value ?? [];
      if (agg.length !== 6 || ((agg[0]! << 8) | agg[1]!) !== AS_TRANS) throw new ExpectationFailed(`the 2-octet AGGREGATOR should carry AS_TRANS, is [${agg.join(',')}]`, oldPeer.transcript);
      const as4 = attrs.find((x) => x.code === 18)?.value ?? [];
      if (as4.slice(0, 4).join(',') !== u32(4200000008).join(',')) throw new ExpectationFailed(`AS4_AGGREGATOR should carry 4200000008, is [${as4.join(',')}]`, oldPeer.transcript);
    },
  },
];
