// calico.block-aggregation: a Calico node announces its IPAM block, never the /32s of its own
// pods, and keeps a kernel blackhole for the block so addresses nobody holds are dropped on the
// node. Judged on the wire (what each owner sent to its peers), in the peers' RIBs (the block,
// via the owner, next to any more specific route: both kept) and in the owner's kernel.
import { join } from 'node:path';
import { expect } from 'vitest';
import { captureFileName } from '../lab/capture.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { announcedRoutes, calicoPlan, covers, describeRouteGet, judgeBlockOwner, parseRouteGet, readCalicoFacts, unassignedAddress } from '../checks/calico-routes.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { sentBy } from '../checks/update-encoding.ts';
import { defineCase } from './harness.ts';

defineCase('calico.block-aggregation', {
  // Stand-in daemons announce fixed prefixes; only a speaker running Calico's IPAM chooses blocks.
  needs: ['k8s-control-plane'],
  async run({ lab, suite, measure, artifact }) {
    const facts = readCalicoFacts(join(suite.fixtureDir, 'cluster'));
    const speakers = lab.topology.nodes.filter((n) => n.kind === 'speaker');
    const plan = calicoPlan(Object.fromEntries(speakers.map((n) => [n.name, n.announce])), facts);
    expect(plan.owners.length, 'the fixture has a node announce an IPAM block of its pools').toBeGreaterThan(0);
    const sessions = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    const ownerSessions = (node: string) => sessions.filter((s) => s.speakerNode === node);
    const readAnnounced = (node: string) =>
      ownerSessions(node).map((s) => ({
        peer: s.peerAddress,
        local: s.speakerAddress,
        routes: announcedRoutes(sentBy(capturedMessages(captureFileName(lab.runDir, node, s.ifname!)), { speaker: s.speakerAddress, peer: s.peerAddress })),
      }));
    const allAnnounced = () => plan.owners.map((o) => ({ owner: o, announced: readAnnounced(o.node) }));
    // Bring-up already waited for the routes; this bound covers an owner still sending.
    const { value: wire } = await pollUntil(allAnnounced, (all) => all.every(({ owner, announced }) => announced.every(({ routes }) => owner.blocks.every((b) => routes.has(b)))), 10_000);

    const problems: string[] = [];
    let perPodRoutes = 0;
    let blackholes = 0;
    let peerRibs = 0;
    let overlapping = 0;
    const probes: string[] = [];
    for (const { owner, announced } of wire) {
      expect(announced.length, `${owner.node} has captured sessions to the fabric`).toBeGreaterThan(0);
      for (const s of ownerSessions(owner.node)) artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));
      const verdict = judgeBlockOwner({ ...owner, announced, fib: await lab.node(owner.node).fib() });
      problems.push(...verdict.problems);
      perPodRoutes += verdict.perPodRoutes.length;
      blackholes += verdict.blackholes;

      // Every router the owner peers with holds the block via the owner, and keeps the more
      // specific routes other nodes announce from inside it next to it (RFC 4271 9.1.4).
      const inside = speakers.filter((n) => n.name !== owner.node).flatMap((n) => n.announce.filter((p) => owner.blocks.some((b) => b !== p && covers(b, p))));
      for (const s of ownerSessions(owner.node)) {
        const peer = lab.node(s.peerNode!);
        const wanted = [...owner.blocks, ...inside];
        const { value: rib, met } = await pollUntil(() => peer.rib(), (routes) => wanted.every((p) => routes.some((r) => r.prefix === p)), 10_000);
        const waited = met ? '' : ' after 10 s';
        for (const block of owner.blocks) {
          const route = rib.find((r) => r.prefix === block);
          if (!route) problems.push(`${peer.name} has no route for ${owner.node}'s block ${block}${waited}`);
          else if (!route.nexthops.includes(s.speakerAddress)) problems.push(`${peer.name} routes ${block} via ${route.nexthops.join(', ')}, expected ${s.speakerAddress} (${owner.node})`);
          else peerRibs++;
        }
        for (const prefix of inside) {
          if (rib.some((r) => r.prefix === prefix)) overlapping++;
          else problems.push(`RFC 4271 9.1.4: ${peer.name} holds ${owner.node}'s block but not the more specific ${prefix}${waited}`);
        }
      }

      // The blackhole's job: an address of the block that nobody holds does not leave the node.
      const held = [...facts.pods.map((p) => p.ip), ...speakers.filter((n) => n.name !== owner.node).flatMap((n) => n.announce)];
      for (const block of owner.blocks) {
        const probe = unassignedAddress(block, held);
        if (!probe) continue;
        const answer = parseRouteGet(await lab.node(owner.node).exec(['ip', 'route', 'get', probe]));
        probes.push(`${probe}: ${describeRouteGet(answer)}`);
        if (answer.kind !== 'blackhole') problems.push(`RFC 4632 5.1: ip route get ${probe} (unassigned, in ${block}) on ${owner.node} answers ${describeRouteGet(answer)}, expected the block's blackhole`);
      }
    }
    measure('blockOwners', plan.owners.length);
    measure('blocks', plan.owners.reduce((n, o) => n + o.blocks.length, 0));
    measure('perPodRoutesAnnounced', perPodRoutes);
    measure('kernelBlackholes', blackholes);
    measure('peerRibsWithBlock', peerRibs);
    measure('moreSpecificsKeptBesideBlock', overlapping);
    if (probes.length > 0) measure('unassignedAddressLookup', probes.join('; '));
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
