// RFC 4271 9.1.2.2 tie-breaks: two tester slots announce the same prefix with paths that differ
// in one step of the decision process, a third (eBGP) observes which one the SUT advertises.
// Each candidate carries a tag AS at the end of its AS_PATH, so the observer can tell the paths
// apart. Both orders are played: loser first (the SUT must switch to the winner) and winner
// first (the SUT must not switch to the loser), so "newest wins" fails.
import type { UpdateMessage } from '../../reference/bgp/wire/index.ts';
import type { SlotRole, TesterSlot } from '../tester/sut.ts';
import { announces, ExpectationFailed, withdraws } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announceRaw, pathAsns, rawRouteAttributes, sleep, type RouteOptions } from './update-kit.ts';

const ipv4Number = (a: string): number => a.split('.').reduce((n, x) => n * 256 + Number(x), 0);

interface DecisionCase {
  id: string;
  step: string;
  title: string;
  n: number;
  /** Three slots: two candidates, then the (eBGP) observer. */
  slots: SlotRole[];
  /** Which of slots 0 and 1 should win. */
  winner: (t: ClauseContext) => 0 | 1;
  /** Route options of each candidate; `tag` goes last in its AS_PATH. */
  route: (slot: TesterSlot, tag: number, wins: boolean) => RouteOptions;
}

function decision(c: DecisionCase): ClauseTest {
  const first = `100.69.${c.n * 2}.0/24`;
  const second = `100.69.${c.n * 2 + 1}.0/24`;
  const sentinel = `100.70.${c.n}.0/24`;
  const winnerTag = 64700 + c.n * 2;
  const loserTag = winnerTag + 1;
  return {
    id: c.id,
    rfc: 'RFC 4271 9.1.2.2',
    level: 'MUST',
    title: c.title,
    slots: c.slots,
    ...(c.slots.includes('ibgp') ? { needs: ['ibgp' as const] } : {}),
    async run(t) {
      const observer = await t.establish(2);
      const peers = [await t.establish(0), await t.establish(1)];
      const w = c.winner(t);
      const l = w === 0 ? 1 : 0;
      const attrs = (i: number) => rawRouteAttributes(t.slots[i]!, c.route(t.slots[i]!, i === w ? winnerTag : loserTag, i === w));
      const carries = (tag: number) => (u: UpdateMessage) => pathAsns(u.attributes.asPath).includes(tag);
      const expect = (prefix: string, tag: number, who: string) =>
        observer.expectUpdate((u) => announces(u, prefix) && carries(tag)(u), `announcing ${prefix} with the ${who} path (tag AS ${tag})`);

      // Loser first: the SUT advertises it, then switches to the winner.
      announceRaw(peers[l]!, first, attrs(l), `the path that should lose on ${c.step}`);
      await expect(first, loserTag, 'losing');
      announceRaw(peers[w]!, first, attrs(w), `the path that should win on ${c.step}`);
      await expect(first, winnerTag, 'winning');

      // Winner first: the SUT keeps it when the loser arrives.
      announceRaw(peers[w]!, second, attrs(w), `the path that should win on ${c.step}`);
      await expect(second, winnerTag, 'winning');
      observer.sync();
      const mark = observer.messages.length;
      announceRaw(peers[l]!, second, attrs(l), `the path that should lose on ${c.step}`);
      announceRaw(peers[l]!, sentinel, rawRouteAttributes(t.slots[l]!), 'a sentinel after it');
      await observer.expectAnnounced(sentinel);
      await sleep(1000);
      observer.sync();
      const changed = observer.messages.slice(mark).find((m) => m.type === 'UPDATE' && (withdraws(m, second) || (announces(m, second) && !carries(winnerTag)(m))));
      if (changed) throw new ExpectationFailed(`${observer.label}: the SUT replaced the winning path for ${second} after the losing one (${c.step}) arrived`, observer.transcript);
    },
  };
}

export const DECISION_CLAUSES: ClauseTest[] = [
  decision({
    id: 'bgp.decision.shorter-as-path',
    step: 'AS_PATH length',
    n: 1,
    slots: ['ebgp', 'ebgp', 'ebgp'],
    title: 'of two eBGP routes for a prefix the one with the shorter AS_PATH is selected and advertised',
    winner: () => 1,
    route: (_s, tag, wins) => ({ path: wins ? [tag] : [64601, tag] }),
  }),
  decision({
    id: 'bgp.decision.lower-origin',
    step: 'ORIGIN',
    n: 2,
    slots: ['ebgp', 'ebgp', 'ebgp'],
    title: 'of two eBGP routes equal in AS_PATH length the one with the lower ORIGIN (IGP over INCOMPLETE) is selected',
    winner: () => 1,
    route: (_s, tag, wins) => ({ path: [tag], origin: wins ? 0 : 2 }),
  }),
  decision({
    id: 'bgp.decision.lower-med-same-as',
    step: 'MULTI_EXIT_DISC',
    n: 3,
    slots: ['ibgp', 'ibgp', 'ebgp'],
    title: 'of two routes from the same neighbouring AS (over iBGP) the one with the lower MULTI_EXIT_DISC is selected',
    winner: () => 1,
    route: (_s, tag, wins) => ({ path: [64630, tag], med: wins ? 10 : 50 }),
  }),
  decision({
    id: 'bgp.decision.ebgp-over-ibgp',
    step: 'eBGP over iBGP',
    n: 4,
    slots: ['ibgp', 'ebgp', 'ebgp'],
    title: 'of two routes equal up to MED the one learned over eBGP is preferred to the one learned over iBGP',
    winner: () => 1,
    route: (s, tag) => ({ path: s.role === 'ibgp' ? [64640, tag] : [tag] }),
  }),
  decision({
    id: 'bgp.decision.lower-bgp-identifier',
    step: 'BGP Identifier',
    n: 5,
    slots: ['ibgp', 'ibgp', 'ebgp'],
    title: 'of two iBGP routes equal up to the BGP Identifier step the one from the peer with the lower BGP Identifier is selected',
    winner: (t) => (ipv4Number(t.slots[0]!.address) < ipv4Number(t.slots[1]!.address) ? 0 : 1),
    route: (_s, tag) => ({ path: [64650, tag] }),
  }),
];
