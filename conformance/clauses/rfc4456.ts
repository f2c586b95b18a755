// RFC 4456 route reflection: the SUT reflects between its rr-client slots and its plain iBGP
// (non-client) slots by the rules of section 6, sets ORIGINATOR_ID and prepends its CLUSTER_ID
// (section 8), ignores routes that looped back (its own router id as ORIGINATOR_ID, its
// CLUSTER_ID in CLUSTER_LIST), and keeps both attributes inside the AS.
// Prefixes 10.44.N.0/24, one N per test.
import type { PathAttributes, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { SlotRole } from '../tester/sut.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, announcedToObserver, establish, expectNotPropagated, patient } from './feature-helpers.ts';

const p = (n: number) => `10.44.${n}.0/24`;
const clusterId = (t: ClauseContext) => t.sut.clusterId ?? t.sut.routerId;

/** Observer slot 1 up first, then slot 0 announces `prefix` (with `extra`); what slot 1 receives. */
const reflected = (t: ClauseContext, n: number, extra: PathAttributes = {}): Promise<{ observer: TesterPeer; u: UpdateMessage }> => announcedToObserver(t, [p(n)], { extra });

/** Slot 0 (client) announces `prefix` with `extra`, then a control prefix without; client slot 1 must get the control only. */
function loopIgnored(id: string, title: string, extra: (t: ClauseContext) => PathAttributes, n: number): ClauseTest {
  return {
    id,
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    negative: true,
    title,
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      const observer = await establish(t, 1);
      const source = await establish(t, 0);
      announce(t, source, 0, [p(n)], extra(t));
      announce(t, source, 0, [p(n + 100)]);
      await expectNotPropagated(observer, p(n), p(n + 100), 'the route looped back to the reflector');
    },
  };
}

/**
 * Slot 0 announces 10.44.`n`.0/24 (with `extra`) and slot 1 receives it; `fault` names what is
 * wrong with the UPDATE slot 1 got, if anything.
 */
function reflects(c: { id: string; rfc: string; level: 'MUST' | 'SHOULD'; title: string; slots: SlotRole[]; n: number; extra?: (t: ClauseContext) => PathAttributes; fault?: (u: UpdateMessage, t: ClauseContext) => string | null }): ClauseTest {
  return {
    id: c.id,
    rfc: c.rfc,
    level: c.level,
    title: c.title,
    needs: c.slots.includes('ibgp') ? ['route-reflector', 'ibgp'] : ['route-reflector'],
    slots: c.slots,
    async run(t) {
      const { observer, u } = await reflected(t, c.n, c.extra?.(t));
      const fault = c.fault?.(u, t);
      if (fault) throw new ExpectationFailed(fault, observer.transcript);
    },
  };
}

const CLIENTS: SlotRole[] = ['rr-client', 'rr-client'];
const list = (u: UpdateMessage) => u.attributes.clusterList ?? [];
const reflectionAttributes = (u: UpdateMessage) => (u.attributes.originatorId !== undefined || u.attributes.clusterList !== undefined ? `ORIGINATOR_ID ${u.attributes.originatorId ?? '-'} / CLUSTER_LIST ${u.attributes.clusterList?.join(',') ?? '-'}` : null);

export const ROUTE_REFLECTION_CLAUSES: ClauseTest[] = patient([
  reflects({ id: 'bgp.rr.client-to-client', rfc: 'RFC 4456 6', level: 'MUST', title: 'a route from a route-reflector client is reflected to the other clients', slots: CLIENTS, n: 1 }),
  reflects({
    id: 'bgp.rr.originator-id-set',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'a reflected route carries ORIGINATOR_ID = the BGP identifier of the client it came from',
    slots: CLIENTS,
    n: 2,
    // establish() uses the slot address as BGP identifier
    fault: (u, t) => (u.attributes.originatorId !== t.slots[0]!.address ? `ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected ${t.slots[0]!.address} (the originating client's BGP identifier)` : null),
  }),
  reflects({
    id: 'bgp.rr.cluster-list-created',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'a reflected route without CLUSTER_LIST gets one holding the reflector\'s CLUSTER_ID',
    slots: CLIENTS,
    n: 3,
    fault: (u, t) => (list(u)[0] !== clusterId(t) ? `CLUSTER_LIST is [${list(u).join(', ')}], expected it to start with the CLUSTER_ID ${clusterId(t)}` : null),
  }),
  reflects({
    id: 'bgp.rr.cluster-list-prepended',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'when reflecting a route that has a CLUSTER_LIST the reflector prepends its CLUSTER_ID and keeps the rest',
    slots: CLIENTS,
    n: 4,
    extra: (t) => ({ clusterList: ['192.0.2.44'], originatorId: t.slots[0]!.address }),
    fault: (u, t) => (list(u).length !== 2 || list(u)[0] !== clusterId(t) || list(u)[1] !== '192.0.2.44' ? `CLUSTER_LIST is [${list(u).join(', ')}], expected [${clusterId(t)}, 192.0.2.44]` : null),
  }),
  reflects({
    id: 'bgp.rr.originator-id-preserved',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'the reflector does not replace an ORIGINATOR_ID that the route already carries',
    slots: CLIENTS,
    n: 5,
    extra: () => ({ originatorId: '192.0.2.45' }),
    fault: (u) => (u.attributes.originatorId !== '192.0.2.45' ? `ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected the received 192.0.2.45 unchanged` : null),
  }),
  loopIgnored('bgp.rr.originator-id-loop', 'a route whose ORIGINATOR_ID is the reflector\'s own BGP identifier is ignored (not reflected)', (t) => ({ originatorId: t.sut.routerId }), 6),
  loopIgnored('bgp.rr.cluster-list-loop', 'a route whose CLUSTER_LIST holds the reflector\'s CLUSTER_ID is ignored (not reflected)', (t) => ({ originatorId: '192.0.2.47', clusterList: ['192.0.2.99', clusterId(t)] }), 7),
  reflects({ id: 'bgp.rr.client-to-nonclient', rfc: 'RFC 4456 6', level: 'MUST', title: 'a route from a client is reflected to a non-client iBGP peer', slots: ['rr-client', 'ibgp'], n: 8 }),
  reflects({
    id: 'bgp.rr.nonclient-to-client',
    rfc: 'RFC 4456 6',
    level: 'MUST',
    title: 'a route from a non-client iBGP peer is reflected to the clients, with ORIGINATOR_ID = that peer\'s BGP identifier',
    slots: ['ibgp', 'rr-client'],
    n: 9,
    fault: (u, t) => (u.attributes.originatorId !== t.slots[0]!.address ? `ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected ${t.slots[0]!.address}` : null),
  }),
  {
    id: 'bgp.rr.nonclient-not-to-nonclient',
    rfc: 'RFC 4456 6',
    level: 'MUST',
    title: 'a route from a non-client iBGP peer is not reflected to another non-client (a client receiving it proves it was processed)',
    needs: ['route-reflector', 'ibgp'],
    slots: ['ibgp', 'ibgp', 'rr-client'],
    async run(t) {
      const nonClient = await establish(t, 1);
      const client = await establish(t, 2);
      const source = await establish(t, 0);
      announce(t, source, 0, [p(10)]);
      await client.expectAnnounced(p(10));
      await nonClient.expectNoUpdate((u) => announces(u, p(10)), `announcing ${p(10)} (non-client to non-client)`, 2000);
    },
  },
  reflects({
    id: 'bgp.rr.ebgp-route-not-reflected',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'a route learned from an eBGP peer is advertised to a client as a plain iBGP route, without ORIGINATOR_ID or CLUSTER_LIST (nothing was reflected)',
    slots: ['ebgp', 'rr-client'],
    n: 12,
    fault: (u) => (reflectionAttributes(u) ? `the client got ${reflectionAttributes(u)} on an eBGP-learned route` : null),
  }),
  reflects({
    id: 'bgp.rr.attributes-not-to-ebgp',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'a route from a client advertised to an eBGP peer carries neither ORIGINATOR_ID nor CLUSTER_LIST',
    slots: ['rr-client', 'ebgp'],
    n: 11,
    extra: () => ({ originatorId: '192.0.2.51', clusterList: ['192.0.2.52'] }),
    fault: (u) => (reflectionAttributes(u) ? `the eBGP peer got ${reflectionAttributes(u)}` : null),
  }),
]);
