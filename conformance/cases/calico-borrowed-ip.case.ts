// calico.borrowed-ip: a pod address borrowed from another node's block is announced as a host
// route by the node running the pod; the route reflector passes it to every other client with
// ORIGINATOR_ID and CLUSTER_LIST; the block owner installs it over its own blackhole, so its
// kernel sends the borrowed address to the borrower (longest match) instead of dropping it.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { OpenMessage } from '../../reference/bgp/wire/index.ts';
import { captureFileName } from '../lab/capture.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { announcedRoutes, calicoPlan, describeRouteGet, judgeBorrowedOnOwner, judgeReflected, parseRouteGet, readCalicoFacts } from '../checks/calico-routes.ts';
import { speakerSessions, type SpeakerSession } from '../checks/sessions.ts';
import { sentBy } from '../checks/update-encoding.ts';
import { defineCase } from './harness.ts';

/** Routes are already expected at bring-up; this bounds a reflector or kernel still converging. */
const CONVERGE_MS = 10_000;

defineCase('calico.borrowed-ip', {
  // Stand-in daemons announce fixed prefixes; only a speaker running Calico's IPAM borrows.
  needs: ['k8s-control-plane'],
  async run({ lab, suite, measure, artifact }) {
    const facts = readCalicoFacts(join(suite.fixtureDir, 'cluster'));
    const speakers = lab.topology.nodes.filter((n) => n.kind === 'speaker');
    const plan = calicoPlan(Object.fromEntries(speakers.map((n) => [n.name, n.announce])), facts);
    expect(plan.borrowed.length, 'the fixture has a node announce an address borrowed from another node\'s block').toBeGreaterThan(0);
    const sessions = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    const capture = (s: SpeakerSession) => capturedMessages(captureFileName(lab.runDir, s.speakerNode, s.ifname!));
    for (const s of sessions) artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));

    const problems: string[] = [];
    let reflectedTo = 0;
    const attributesSeen: string[] = [];
    const ownerLookups: string[] = [];
    for (const b of plan.borrowed) {
      const host = `${b.address}/32`;
      if (!b.pod) problems.push(`no pod placed on ${b.node} holds ${b.address} in the cluster objects, yet the fixture has ${b.node} announce ${host}`);
      const borrowerSessions = sessions.filter((s) => s.speakerNode === b.node);
      expect(borrowerSessions.length, `${b.node} has captured sessions to the fabric`).toBeGreaterThan(0);

      for (const s of borrowerSessions) {
        // The borrower announces the host route with itself as next hop.
        const toPeer = (ms: ReturnType<typeof capture>) => sentBy(ms, { speaker: s.speakerAddress, peer: s.peerAddress });
        const { value: sent } = await pollUntil(() => toPeer(capture(s)), (ms) => announcedRoutes(ms).has(host), CONVERGE_MS);
        const announced = announcedRoutes(sent).get(host);
        if (!announced) problems.push(`${b.node} did not announce the borrowed ${host} to ${s.peerAddress}`);
        else if (announced.nextHop !== s.speakerAddress) problems.push(`${b.node} announced ${host} with NEXT_HOP ${announced.nextHop}, not its own ${s.speakerAddress}`);

        const reflector = lab.spec(s.peerNode!);
        if (!reflector.neighbors.some((n) => n.address === s.speakerAddress && n.rrClient)) continue;
        const rib = lab.node(reflector.name);
        const { value: routes } = await pollUntil(() => rib.rib(), (rs) => rs.some((r) => r.prefix === host), CONVERGE_MS);
        const learned = routes.find((r) => r.prefix === host);
        if (!learned) problems.push(`the reflector ${reflector.name} has no route for ${host}`);
        else if (!learned.nexthops.includes(s.speakerAddress)) problems.push(`the reflector ${reflector.name} routes ${host} via ${learned.nexthops.join(', ')}, expected ${s.speakerAddress}`);
        if (!routes.some((r) => r.prefix === b.block)) problems.push(`RFC 4271 9.1.4: the reflector ${reflector.name} holds ${host} but not the block ${b.block}`);

        // RFC 4456 8: reflected to every other client, tagged with the originator and the cluster.
        const originatorId = (sent.find((m) => m.type === 'OPEN')?.message as OpenMessage | undefined)?.bgpId ?? lab.spec(b.node).routerId ?? s.speakerAddress;
        const clusterId = reflector.routerId ?? s.peerAddress;
        const clients = sessions.filter((c) => c.peerNode === reflector.name && c.speakerNode !== b.node && reflector.neighbors.some((n) => n.address === c.speakerAddress && n.rrClient));
        if (clients.length === 0) problems.push(`the reflector ${reflector.name} has no other client whose capture could show the reflected ${host}`);
        for (const c of clients) {
          const fromReflector = () => sentBy(capture(c), { speaker: c.peerAddress, peer: c.speakerAddress });
          const { value: received } = await pollUntil(fromReflector, (ms) => announcedRoutes(ms).has(host), CONVERGE_MS);
          const verdict = judgeReflected(received, { prefix: host, nextHop: s.speakerAddress, originatorId, clusterId });
          problems.push(...verdict.problems.map((p) => `${reflector.name} -> ${c.speakerNode}: ${p}`));
          if (verdict.attributes) {
            reflectedTo++;
            attributesSeen.push(`${c.speakerNode}: ORIGINATOR_ID ${verdict.attributes.originatorId ?? '-'} CLUSTER_LIST ${verdict.attributes.clusterList?.join(' ') ?? '-'}`);
          }
        }
      }

      // The block owner: host route over its blackhole, and the kernel's own lookup agrees.
      const owner = lab.node(b.owner);
      const { value: fib } = await pollUntil(() => owner.fib(), (rs) => rs.some((r) => r.prefix === host), CONVERGE_MS);
      const routeGet = parseRouteGet(await owner.exec(['ip', 'route', 'get', b.address]));
      ownerLookups.push(`${b.owner} ${b.address}: ${describeRouteGet(routeGet)}`);
      problems.push(...judgeBorrowedOnOwner({ node: b.owner, address: b.address, block: b.block, borrowerAddress: borrowerSessions[0]!.speakerAddress, fib, routeGet }));
    }
    measure('borrowedAddresses', plan.borrowed.length);
    measure('reflectedToClients', reflectedTo);
    if (attributesSeen.length > 0) measure('reflectedAttributes', attributesSeen.join('; '));
    measure('ownerLookup', ownerLookups.join('; '));
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
