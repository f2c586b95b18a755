// RFC 6793 (4-octet AS numbers): the capability in the OPEN, AS_TRANS and AS4_PATH towards a
// 2-octet (OLD) peer, AS4_PATH merged from an OLD peer, AS4_PATH / AS4_AGGREGATOR discarded from a
// NEW peer, and a malformed AS4_PATH handled as attribute discard. Tester A and B are eBGP peers of
// the SUT; a peer that leaves out capability 65 is an OLD speaker.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import type { Capability } from '../../reference/bgp/wire/index.ts';
import { asPath4, attribute, ipv4, ipv4Nlri, nextHop, origin } from '../tester/bytes.ts';
import { defaultCapabilities, ExpectationFailed } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { as4Path, asPath2, expectKeepalive, pathAsns, rawAttributesOf } from './session-helpers.ts';
import { u32 } from '../tester/bytes.ts';

const AS_TRANS = 23456;
/** Distinct prefix per test of this file: 100.99.(40+N).0/24. */
const v4 = (n: number) => `100.99.${40 + n}.0/24`;

/** Capabilities of an OLD (2-octet) speaker: everything but capability 65. */
const OLD: Capability[] = defaultCapabilities(0).filter((c) => c.code !== 65);

/** The SUT's AS as a 2-octet speaker sees it. */
const mapped = (t: ClauseContext) => (t.sut.asn > 65535 ? AS_TRANS : t.sut.asn);

const TWO: ClauseTest['slots'] = ['ebgp', 'ebgp'];

export const AS4_CLAUSES: ClauseTest[] = [
  {
    id: 'bgp.as4.sut-capability',
    rfc: 'RFC 6793 3',
    level: 'MUST',
    title: "the SUT's OPEN carries the 4-octet AS capability (65) with its AS, and My AS is that AS (or AS_TRANS when it does not fit 2 octets)",
    async run(t) {
      const peer = await t.connect();
      const open = await peer.expectOpen();
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
      const slot = t.slots[0]!;
      const peer = await t.connect();
      peer.sendOpen({ asn: slot.asn, myAs: AS_TRANS, bgpId: slot.address, holdTime: 9, capabilities: defaultCapabilities(slot.asn) });
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
      const peer = await t.connect();
      peer.sendOpen({ asn: slot.asn + 1000, myAs: slot.asn, bgpId: slot.address, holdTime: 9, capabilities: defaultCapabilities(slot.asn + 1000) });
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
      const a = t.slots[0]!;
      const newPeer = await t.establish(0);
      const oldPeer = await t.establish(1, { capabilities: OLD });
      newPeer.sendMessage(rawUpdate([...origin(), ...asPath4(a.asn, 4200000001), ...nextHop(a.address)], ipv4Nlri(v4(1))), `UPDATE ${v4(1)} AS_PATH ${a.asn} 4200000001`);
      const u = await oldPeer.expectAnnounced(v4(1));
      const attrs = rawAttributesOf(oldPeer, u);
      const path = pathAsns(attrs.find((x) => x.code === 2)?.value ?? [], 2);
      const want = [mapped(t), a.asn, AS_TRANS];
      if (path.join(' ') !== want.join(' ')) throw new ExpectationFailed(`the 2-octet AS_PATH should be ${want.join(' ')}, is ${path.join(' ')}`, oldPeer.transcript);
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
      const b = t.slots[1]!;
      const newPeer = await t.establish(0);
      const oldPeer = await t.establish(1, { capabilities: OLD });
      oldPeer.sendMessage(rawUpdate([...origin(), ...asPath2(b.asn, AS_TRANS), ...nextHop(b.address), ...as4Path(4200000002)], ipv4Nlri(v4(2))), `UPDATE ${v4(2)} AS_PATH ${b.asn} 23456, AS4_PATH 4200000002`);
      const u = await newPeer.expectAnnounced(v4(2));
      const path = u.attributes.asPath?.flatMap((s) => s.asns) ?? [];
      const want = [t.sut.asn, b.asn, 4200000002];
      if (path.join(' ') !== want.join(' ')) throw new ExpectationFailed(`the AS_PATH should be ${want.join(' ')}, is ${path.join(' ')}`, newPeer.transcript);
    },
  },
  {
    id: 'bgp.as4.as4-path-from-new-discarded',
    rfc: 'RFC 6793 6',
    level: 'MUST',
    slots: TWO,
    title: 'an AS4_PATH received from a 4-octet peer is discarded: the route goes on with its AS_PATH alone and no AS4_PATH',
    async run(t) {
      const a = t.slots[0]!;
      const sender = await t.establish(0);
      const receiver = await t.establish(1);
      sender.sendMessage(rawUpdate([...origin(), ...asPath4(a.asn, 64512), ...nextHop(a.address), ...as4Path(a.asn, 4200000003)], ipv4Nlri(v4(3))), `UPDATE ${v4(3)} AS_PATH ${a.asn} 64512, AS4_PATH ${a.asn} 4200000003`);
      const u = await receiver.expectAnnounced(v4(3));
      const path = u.attributes.asPath?.flatMap((s) => s.asns) ?? [];
      const want = [t.sut.asn, a.asn, 64512];
      if (path.join(' ') !== want.join(' ')) throw new ExpectationFailed(`the AS_PATH should be ${want.join(' ')} (AS4_PATH ignored), is ${path.join(' ')}`, receiver.transcript);
      if (rawAttributesOf(receiver, u).some((x) => x.code === 17)) throw new ExpectationFailed('the SUT passed AS4_PATH on to a 4-octet peer', receiver.transcript);
      await sender.expectNoNotification(300);
    },
  },
  {
    id: 'bgp.as4.as4-aggregator-from-new-discarded',
    rfc: 'RFC 6793 6',
    level: 'MUST',
    slots: TWO,
    title: 'an AS4_AGGREGATOR received from a 4-octet peer is discarded: the AGGREGATOR goes on unchanged and no AS4_AGGREGATOR',
    async run(t) {
      const a = t.slots[0]!;
      const sender = await t.establish(0);
      const receiver = await t.establish(1);
      const aggregator = attribute(0xc0, 7, [...u32(a.asn), ...ipv4('198.51.100.4')]);
      const as4Aggregator = attribute(0xc0, 18, [...u32(4200000004), ...ipv4('198.51.100.44')]);
      sender.sendMessage(rawUpdate([...origin(), ...asPath4(a.asn), ...nextHop(a.address), ...aggregator, ...as4Aggregator], ipv4Nlri(v4(4))), `UPDATE ${v4(4)} AGGREGATOR ${a.asn} 198.51.100.4, AS4_AGGREGATOR 4200000004 198.51.100.44`);
      const u = await receiver.expectAnnounced(v4(4));
      const agg = u.attributes.aggregator;
      if (agg?.asn !== a.asn || agg.address !== '198.51.100.4') throw new ExpectationFailed(`the AGGREGATOR should be ${a.asn} 198.51.100.4, is ${agg ? `${agg.asn} ${agg.address}` : 'absent'}`, receiver.transcript);
      if (rawAttributesOf(receiver, u).some((x) => x.code === 18)) throw new ExpectationFailed('the SUT passed AS4_AGGREGATOR on to a 4-octet peer', receiver.transcript);
    },
  },
  {
    id: 'bgp.as4.four-octet-path-to-new',
    rfc: 'RFC 6793 4.1',
    level: 'MUST',
    slots: TWO,
    title: 'between 4-octet speakers the AS_PATH carries 4-octet ASNs as they are, with no AS_TRANS and no AS4_PATH',
    async run(t) {
      const a = t.slots[0]!;
      const sender = await t.establish(0);
      const receiver = await t.establish(1);
      sender.sendMessage(rawUpdate([...origin(), ...asPath4(a.asn, 4200000005), ...nextHop(a.address)], ipv4Nlri(v4(5))), `UPDATE ${v4(5)} AS_PATH ${a.asn} 4200000005`);
      const u = await receiver.expectAnnounced(v4(5));
      const attrs = rawAttributesOf(receiver, u);
      const path = pathAsns(attrs.find((x) => x.code === 2)?.value ?? [], 4);
      const want = [t.sut.asn, a.asn, 4200000005];
      if (path.join(' ') !== want.join(' ')) throw new ExpectationFailed(`the 4-octet AS_PATH should be ${want.join(' ')}, is ${path.join(' ')}`, receiver.transcript);
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
      const b = t.slots[1]!;
      const newPeer = await t.establish(0);
      const oldPeer = await t.establish(1, { capabilities: OLD });
      // One AS_SEQUENCE that says 3 ASNs but holds 1.
      const badAs4Path = attribute(0xc0, 17, [2, 3, ...u32(4200000006)]);
      oldPeer.sendMessage(rawUpdate([...origin(), ...asPath2(b.asn, AS_TRANS), ...nextHop(b.address), ...badAs4Path], ipv4Nlri(v4(6))), `UPDATE ${v4(6)} with a malformed AS4_PATH`);
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
      const b = t.slots[1]!;
      const newPeer = await t.establish(0);
      const oldPeer = await t.establish(1, { capabilities: OLD });
      const aggregator = attribute(0xc0, 7, [AS_TRANS >> 8, AS_TRANS & 255, ...ipv4('198.51.100.7')]);
      const as4Aggregator = attribute(0xc0, 18, [...u32(4200000007), ...ipv4('198.51.100.7')]);
      oldPeer.sendMessage(rawUpdate([...origin(), ...asPath2(b.asn, AS_TRANS), ...nextHop(b.address), ...aggregator, ...as4Path(4200000007), ...as4Aggregator], ipv4Nlri(v4(7))), `UPDATE ${v4(7)} AGGREGATOR 23456, AS4_AGGREGATOR 4200000007`);
      const u = await newPeer.expectAnnounced(v4(7));
      const agg = u.attributes.aggregator;
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
      const a = t.slots[0]!;
      const newPeer = await t.establish(0);
      const oldPeer = await t.establish(1, { capabilities: OLD });
      const aggregator = attribute(0xc0, 7, [...u32(4200000008), ...ipv4('198.51.100.8')]);
      newPeer.sendMessage(rawUpdate([...origin(), ...asPath4(a.asn, 4200000008), ...nextHop(a.address), ...aggregator], ipv4Nlri(v4(8))), `UPDATE ${v4(8)} AGGREGATOR 4200000008 198.51.100.8`);
      const u = await oldPeer.expectAnnounced(v4(8));
      const attrs = rawAttributesOf(oldPeer, u);
      const agg = attrs.find((x) => x.code === 7)?.value ?? [];
      if (agg.length !== 6 || ((agg[0]! << 8) | agg[1]!) !== AS_TRANS) throw new ExpectationFailed(`the 2-octet AGGREGATOR should carry AS_TRANS, is [${agg.join(',')}]`, oldPeer.transcript);
      const as4 = attrs.find((x) => x.code === 18)?.value ?? [];
      if (as4.slice(0, 4).join(',') !== u32(4200000008).join(',')) throw new ExpectationFailed(`AS4_AGGREGATOR should carry 4200000008, is [${as4.join(',')}]`, oldPeer.transcript);
    },
  },
];
