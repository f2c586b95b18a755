// RFC 1997 communities (well-known NO_EXPORT / NO_ADVERTISE / NO_EXPORT_SUBCONFED, transitive
// passing on), RFC 8092 large communities, and their RFC 7606 / RFC 8092 error handling.
// Prefixes 10.19.N.0/24, one N per test.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import { asPath4, attribute, ipv4Nlri, nextHop, origin } from '../tester/bytes.ts';
import { ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, establish, expectNotPropagated, expectStillUp, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED, patient } from './feature-helpers.ts';

const p = (n: number) => `10.19.${n}.0/24`;

/** Slot 0 announces `prefix` with `communities` and then a control prefix without; slot 1 must not see `prefix`. */
function notAdvertised(id: string, rfc: string, community: string, name: string, to: 'ebgp' | 'ibgp', n: number): ClauseTest {
  return {
    id,
    rfc,
    level: 'MUST',
    title: `a route carrying ${name} is not advertised to ${to === 'ebgp' ? 'an eBGP' : 'an iBGP'} peer`,
    slots: ['ebgp', to],
    needs: to === 'ibgp' ? ['ibgp'] : [],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0);
      announce(t, source, 0, [p(n)], { communities: ['65010:1', community] });
      announce(t, source, 0, [p(n + 100)], { communities: ['65010:1'] });
      await expectNotPropagated(observer, p(n), p(n + 100), `it carries ${name}`);
    },
  };
}

/** Slot 0 announces with `community`; slot 1 (iBGP) receives the route, the community kept. */
function stillToIbgp(id: string, community: string, name: string, n: number): ClauseTest {
  return {
    id,
    rfc: 'RFC 1997',
    level: 'SHOULD',
    title: `a route from an eBGP peer carrying ${name} is still advertised inside the AS (to an iBGP peer), with the community`,
    slots: ['ebgp', 'ibgp'],
    needs: ['ibgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0);
      announce(t, source, 0, [p(n)], { communities: [community] });
      const u = await observer.expectAnnounced(p(n));
      if (!u.attributes.communities?.includes(community)) throw new ExpectationFailed(`${p(n)} reached the iBGP peer without ${name} (communities: ${u.attributes.communities?.join(' ') ?? 'none'})`, observer.transcript);
    },
  };
}

/** The attributes of an eBGP tester's route as raw bytes, plus `extra`. */
const rawAttrs = (t: ClauseContext, extra: number[]) => [...origin(), ...asPath4(t.slots[0]!.asn), ...nextHop(t.slots[0]!.address), ...extra];

/**
 * Slot 0 announces `prefix` cleanly, slot 1 sees it; then slot 0 re-announces it with a malformed
 * attribute: RFC 7606 treat-as-withdraw, so slot 1 sees the withdrawal and slot 0's session stays.
 */
function treatAsWithdraw(id: string, rfc: string, title: string, bad: number[], n: number): ClauseTest {
  return {
    id,
    rfc,
    level: 'MUST',
    negative: true,
    title,
    slots: ['ebgp', 'ebgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0);
      announce(t, source, 0, [p(n)]);
      await observer.expectAnnounced(p(n));
      source.sendMessage(rawUpdate(rawAttrs(t, bad), ipv4Nlri(p(n))), `UPDATE nlri ${p(n)} with a malformed attribute ${Buffer.from(bad).toString('hex')}`);
      await observer.expectWithdrawn(p(n));
      await source.expectNoNotification(1500);
      expectStillUp(source, 'the malformed attribute');
    },
  };
}

/** Slot 0 announces with `attrs`; what reaches eBGP slot 1. */
async function passedOn(t: ClauseContext, n: number, extra: Parameters<typeof announce>[4]): Promise<{ observer: TesterPeer; u: Awaited<ReturnType<TesterPeer['expectAnnounced']>> }> {
  const observer = await establish(t, 1);
  const source = await establish(t, 0);
  announce(t, source, 0, [p(n)], extra);
  return { observer, u: await observer.expectAnnounced(p(n)) };
}

export const COMMUNITY_CLAUSES: ClauseTest[] = patient([
  notAdvertised('bgp.community.no-export-not-to-ebgp', 'RFC 1997', NO_EXPORT, 'NO_EXPORT', 'ebgp', 1),
  stillToIbgp('bgp.community.no-export-to-ibgp', NO_EXPORT, 'NO_EXPORT', 2),
  notAdvertised('bgp.community.no-advertise-not-to-ebgp', 'RFC 1997', NO_ADVERTISE, 'NO_ADVERTISE', 'ebgp', 3),
  notAdvertised('bgp.community.no-advertise-not-to-ibgp', 'RFC 1997', NO_ADVERTISE, 'NO_ADVERTISE', 'ibgp', 4),
  notAdvertised('bgp.community.no-export-subconfed-not-to-ebgp', 'RFC 1997', NO_EXPORT_SUBCONFED, 'NO_EXPORT_SUBCONFED', 'ebgp', 5),
  stillToIbgp('bgp.community.no-export-subconfed-to-ibgp', NO_EXPORT_SUBCONFED, 'NO_EXPORT_SUBCONFED', 6),
  ...(
    [
      { key: 'community', attr: 'communities', code: 8, name: 'COMMUNITIES', what: 'communities', rfc: ['RFC 1997', 'RFC 1997'], sent: ['65010:7', '65020:300', '1:1'], one: '65010:8', n: 7, from: 'from one eBGP peer ' },
      { key: 'large-community', attr: 'largeCommunities', code: 32, name: 'LARGE_COMMUNITIES', what: 'large communities', rfc: ['RFC 8092 2', 'RFC 8092 3'], sent: ['65010:1:2', '4200000000:7:9'], one: '65010:10:10', n: 9, from: '' },
    ] as const
  ).flatMap((c): ClauseTest[] => [
    {
      id: `bgp.${c.key}.passed-on`,
      rfc: c.rfc[0],
      level: 'MUST',
      title: `${c.name} (optional transitive) ${c.from}are passed on to another eBGP peer with every value`,
      slots: ['ebgp', 'ebgp'],
      async run(t) {
        const { observer, u } = await passedOn(t, c.n, { [c.attr]: c.sent });
        const got: string[] = u.attributes[c.attr] ?? [];
        const missing = c.sent.filter((x) => !got.includes(x));
        if (missing.length) throw new ExpectationFailed(`the passed-on route lacks ${c.what} ${missing.join(' ')} (has: ${got.join(' ') || 'none'})`, observer.transcript);
      },
    },
    {
      id: `bgp.${c.key}.flags-optional-transitive`,
      rfc: c.rfc[1],
      level: 'MUST',
      title: `a passed-on ${c.name} attribute is sent with the Optional and Transitive flags set`,
      slots: ['ebgp', 'ebgp'],
      async run(t) {
        const { observer, u } = await passedOn(t, c.n + 1, { [c.attr]: [c.one] });
        const entry = u.layout?.find((x) => x.code === c.code);
        if (!entry) throw new ExpectationFailed(`the passed-on route has no ${c.name} attribute`, observer.transcript);
        if ((entry.flags & 0xc0) !== 0xc0) throw new ExpectationFailed(`${c.name} flags are 0x${entry.flags.toString(16)}, Optional (0x80) and Transitive (0x40) must be set`, observer.transcript);
      },
    },
  ]),
  {
    id: 'bgp.large-community.duplicates-removed',
    rfc: 'RFC 8092 2',
    level: 'MUST',
    title: 'duplicate large community values are not an error, and the receiver removes the redundant ones (passed on once)',
    slots: ['ebgp', 'ebgp'],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0);
      const lc = [0, 0, 0xfd, 0xf2, 0, 0, 0, 11, 0, 0, 0, 11]; // 65010:11:11
      source.sendMessage(rawUpdate(rawAttrs(t, attribute(0xc0, 32, [...lc, ...lc])), ipv4Nlri(p(11))), `UPDATE nlri ${p(11)} with LARGE_COMMUNITIES 65010:11:11 twice`);
      const u = await observer.expectAnnounced(p(11));
      expectStillUp(source, 'duplicate large communities');
      const got = u.attributes.largeCommunities ?? [];
      const count = got.filter((c) => c === '65010:11:11').length;
      if (count !== 1) throw new ExpectationFailed(`the passed-on route carries 65010:11:11 ${count} times (large communities: ${got.join(' ') || 'none'}); the redundant value must be removed`, observer.transcript);
    },
  },
  treatAsWithdraw('bgp.community.bad-length', 'RFC 7606 7.8', 'a COMMUNITIES attribute whose length is not a multiple of 4 is handled as treat-as-withdraw', attribute(0xc0, 8, [0xfd, 0xf2, 0, 12, 0]), 12),
  treatAsWithdraw('bgp.community.zero-length', 'RFC 7606 7.8', 'a COMMUNITIES attribute of length 0 is handled as treat-as-withdraw', attribute(0xc0, 8, []), 13),
  treatAsWithdraw('bgp.large-community.bad-length', 'RFC 8092 5', 'a LARGE_COMMUNITIES attribute whose length is not a multiple of 12 is handled as treat-as-withdraw', attribute(0xc0, 32, [0, 0, 0xfd, 0xf2, 0, 0, 0, 14, 0, 0, 0, 14, 0]), 14),
  treatAsWithdraw('bgp.large-community.zero-length', 'RFC 8092 5', 'a LARGE_COMMUNITIES attribute of length 0 is handled as treat-as-withdraw', attribute(0xc0, 32, []), 15),
]);
