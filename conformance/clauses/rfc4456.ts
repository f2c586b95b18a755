// RFC 4456 route reflection: the SUT reflects between its rr-client slots and its plain iBGP
// (non-client) slots by the rules of section 6, sets ORIGINATOR_ID and prepends its CLUSTER_ID
// (section 8), ignores routes that looped back (its own router id as ORIGINATOR_ID, its
// CLUSTER_ID in CLUSTER_LIST), and keeps both attributes inside the AS.
// Prefixes 10.44.N.0/24, one N per test.
import type { PathAttributes, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announces, ExpectationFailed, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';
import { announce, establish, expectNotPropagated, patient } from './feature-helpers.ts';

const p = (n: number) => `10.44.${n}.0/24`;
const clusterId = (t: ClauseContext) => t.sut.clusterId ?? t.sut.routerId;

/** Observer slot 1 up first, then slot 0 announces `prefix` (with `extra`); what slot 1 receives. */
async function reflected(t: ClauseContext, n: number, extra: PathAttributes = {}): Promise<{ observer: TesterPeer; u: UpdateMessage }> {
  const observer = await establish(t, 1);
  const source = await establish(t, 0);
  announce(t, source, 0, [p(n)], extra);
  return { observer, u: await observer.expectAnnounced(p(n)) };
}

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

export const ROUTE_REFLECTION_CLAUSES: ClauseTest[] = patient([
  {
    id: 'bgp.rr.client-to-client',
    rfc: 'RFC 4456 6',
    level: 'MUST',
    title: 'a route from a route-reflector client is reflected to the other clients',
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      await reflected(t, 1);
    },
  },
  {
    id: 'bgp.rr.originator-id-set',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'a reflected route carries ORIGINATOR_ID = the BGP identifier of the client it came from',
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 2);
      const want = t.slots[0]!.address; // establish() uses the slot address as BGP identifier
      if (u.attributes.originatorId !== want) throw new ExpectationFailed(`ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected ${want} (the originating client's BGP identifier)`, observer.transcript);
    },
  },
  {
    id: 'bgp.rr.cluster-list-created',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'a reflected route without CLUSTER_LIST gets one holding the reflector\'s CLUSTER_ID',
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 3);
      const list = u.attributes.clusterList ?? [];
      if (list[0] !== clusterId(t)) throw new ExpectationFailed(`CLUSTER_LIST is [${list.join(', ')}], expected it to start with the CLUSTER_ID ${clusterId(t)}`, observer.transcript);
    },
  },
  {
    id: 'bgp.rr.cluster-list-prepended',
    rfc: 'RFC 4456 8',
    level: 'MUST',
    title: 'when reflecting a route that has a CLUSTER_LIST the reflector prepends its CLUSTER_ID and keeps the rest',
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 4, { clusterList: ['192.0.2.44'], originatorId: t.slots[0]!.address });
      const list = u.attributes.clusterList ?? [];
      if (list.length !== 2 || list[0] !== clusterId(t) || list[1] !== '192.0.2.44') throw new ExpectationFailed(`CLUSTER_LIST is [${list.join(', ')}], expected [${clusterId(t)}, 192.0.2.44]`, observer.transcript);
    },
  },
  {
    id: 'bgp.rr.originator-id-preserved',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'the reflector does not replace an ORIGINATOR_ID that the route already carries',
    needs: ['route-reflector'],
    slots: ['rr-client', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 5, { originatorId: '192.0.2.45' });
      if (u.attributes.originatorId !== '192.0.2.45') throw new ExpectationFailed(`ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected the received 192.0.2.45 unchanged`, observer.transcript);
    },
  },
  loopIgnored('bgp.rr.originator-id-loop', 'a route whose ORIGINATOR_ID is the reflector\'s own BGP identifier is ignored (not reflected)', (t) => ({ originatorId: t.sut.routerId }), 6),
  loopIgnored('bgp.rr.cluster-list-loop', 'a route whose CLUSTER_LIST holds the reflector\'s CLUSTER_ID is ignored (not reflected)', (t) => ({ originatorId: '192.0.2.47', clusterList: ['192.0.2.99', clusterId(t)] }), 7),
  {
    id: 'bgp.rr.client-to-nonclient',
    rfc: 'RFC 4456 6',
    level: 'MUST',
    title: 'a route from a client is reflected to a non-client iBGP peer',
    needs: ['route-reflector', 'ibgp'],
    slots: ['rr-client', 'ibgp'],
    async run(t) {
      await reflected(t, 8);
    },
  },
  {
    id: 'bgp.rr.nonclient-to-client',
    rfc: 'RFC 4456 6',
    level: 'MUST',
    title: 'a route from a non-client iBGP peer is reflected to the clients, with ORIGINATOR_ID = that peer\'s BGP identifier',
    needs: ['route-reflector', 'ibgp'],
    slots: ['ibgp', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 9);
      if (u.attributes.originatorId !== t.slots[0]!.address) throw new ExpectationFailed(`ORIGINATOR_ID is ${u.attributes.originatorId ?? 'absent'}, expected ${t.slots[0]!.address}`, observer.transcript);
    },
  },
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
  {
    id: 'bgp.rr.ebgp-route-not-reflected',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'a route learned from an eBGP peer is advertised to a client as a plain iBGP route, without ORIGINATOR_ID or CLUSTER_LIST (nothing was reflected)',
    needs: ['route-reflector'],
    slots: ['ebgp', 'rr-client'],
    async run(t) {
      const { observer, u } = await reflected(t, 12);
      if (u.attributes.originatorId !== undefined || u.attributes.clusterList !== undefined) throw new ExpectationFailed(`the client got ORIGINATOR_ID ${u.attributes.originatorId ?? '-'} / CLUSTER_LIST ${u.attributes.clusterList?.join(',') ?? '-'} on an eBGP-learned route`, observer.transcript);
    },
  },
  {
    id: 'bgp.rr.attributes-not-to-ebgp',
    rfc: 'RFC 4456 8',
    level: 'SHOULD',
    title: 'a route from a client advertised to an eBGP peer carries neither ORIGINATOR_ID nor CLUSTER_LIST',
    needs: ['route-reflector'],
    slots: ['rr-client', 'ebgp'],
    async run(t) {
      const { observer, u } = await reflected(t, 11, { originatorId: '192.0.2.51', clusterList: ['192.0.2.52'] });
      if (u.attributes.originatorId !== undefined || u.attributes.clusterList !== undefined) throw new ExpectationFailed(`the eBGP peer got ORIGINATOR_ID ${u.attributes.originatorId ?? '-'} / CLUSTER_LIST ${u.attributes.clusterList?.join(',') ?? '-'}`, observer.transcript);
    },
  },
]);
