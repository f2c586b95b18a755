// l2.arp-leader: exactly one of the nodes an L2 announcement policy selects answers ARP for the
// service's VIP (one reply per request, RFC 826 Packet Reception), and nothing answers on an
// interface the policy does not match. Real broadcast requests from a client on the segment,
// judged from a capture on the client's link.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { arpExchange, arpFrames, type L2Target } from '../checks/arp.ts';
import { arping, candidateMacs, fixtureL2Targets, interfaceMac, leaseHolder } from '../checks/arp-probe.ts';
import { pollUntil } from '../checks/captured.ts';
import type { Lab } from '../lab/lab.ts';
import { defineCase } from './harness.ts';

const REQUESTS = 10;
/** Right after bring-up the nodes may still be electing; someone must answer within this. */
const FIRST_ANSWER_MS = 15_000;

/**
 * A link between the leader and the client on a fresh segment, the leader's end named so that
 * no pattern of the policy matches it. Both ends get an address, so a node that answered ARP
 * for any local address (arp_ignore=0 with the VIP on lo) would answer here.
 */
async function addUnmatchedLink(lab: Lab, target: L2Target, leader: string, client: string) {
  const suffix = randomBytes(2).toString('hex');
  const subnet = `169.254.${parseInt(suffix.slice(0, 2), 16)}`;
  const leaderEnd = `l2x${suffix}`;
  const clientEnd = `l2p${suffix}`;
  if (target.interfaces.length === 0 || target.interfaces.some((p) => new RegExp(p).test(leaderEnd))) return null;
  await lab.backend.createLink({ node: leader, ifname: leaderEnd }, { node: client, ifname: clientEnd });
  await lab.node(leader).exec(['ip', 'addr', 'add', `${subnet}.1/24`, 'dev', leaderEnd]);
  await lab.node(client).exec(['ip', 'addr', 'add', `${subnet}.2/24`, 'dev', clientEnd]);
  return { leaderEnd, clientEnd, remove: () => lab.node(client).exec(['ip', 'link', 'del', clientEnd]) };
}

defineCase('l2.arp-leader', {
  needs: ['l2'],
  async run({ lab, suite, measure, artifact, skip }) {
    const target = fixtureL2Targets(lab, suite.fixtureDir)[0];
    if (!target) return skip('the fixture\'s cluster objects announce no IPv4 VIP over L2');
    if (!target.client) return skip(`no host shares a segment with ${target.candidates.map((c) => c.node).join(', ') || 'the selected nodes'} to send ARP from`);
    const client = target.client;
    const macs = await candidateMacs(lab, target);
    const clientMac = await interfaceMac(lab, client.node, client.ifname);
    measure('vip', target.vip);
    measure('candidates', target.candidates.map((c) => c.node).join(', '));

    const answered = await pollUntil(
      () => arping(lab, client.node, client.ifname, target.vip, 2, 'l2-arp-leader-first'),
      (r) => r.answered > 0,
      FIRST_ANSWER_MS,
      500,
    );
    expect(answered.met, `someone answers ARP for ${target.vip} within ${FIRST_ANSWER_MS / 1000} s (${answered.value.output})`).toBe(true);

    const probe = await arping(lab, client.node, client.ifname, target.vip, REQUESTS, 'l2-arp-leader');
    artifact(probe.pcap);
    const exchange = arpExchange(arpFrames(probe.frames), target.vip, clientMac);
    const responders = Object.keys(exchange.repliesBy);
    const leader = responders.length === 1 ? macs.get(responders[0]!) : undefined;
    measure('requests', exchange.requests);
    measure('replies', exchange.replies);
    measure('responders', responders.length);
    measure('responderMacs', responders.map((m) => `${m} (${macs.get(m) ?? 'not a selected node'})`).join(', '));
    measure('leader', leader ?? 'none');
    measure('leaseHolder', leaseHolder(lab, target.service) ?? 'unknown');
    expect(exchange.requests, `requests for ${target.vip} from ${client.node} on the wire (arping: ${probe.output})`).toBe(REQUESTS);
    expect(responders, 'MACs answering for the VIP').toHaveLength(1);
    expect(leader, `the one responder ${responders[0]} is a node the policy selects (${[...macs.values()].join(', ')})`).toBeDefined();
    expect(exchange.answeredMoreThanOnce, 'requests answered more than once').toBe(0);
    expect(exchange.unanswered, 'requests left unanswered').toBe(0);

    const unmatched = await addUnmatchedLink(lab, target, leader!, client.node);
    if (!unmatched) {
      measure('unmatchedInterface', `none: ${target.interfaces.length === 0 ? 'the policy matches every interface' : `the probe name matched ${target.interfaces.join(', ')}`}`);
      return;
    }
    try {
      const off = await arping(lab, client.node, unmatched.clientEnd, target.vip, 3, 'l2-arp-leader-unmatched');
      artifact(off.pcap);
      const offExchange = arpExchange(arpFrames(off.frames), target.vip, await interfaceMac(lab, client.node, unmatched.clientEnd));
      measure('unmatchedInterface', `${leader}:${unmatched.leaderEnd}`);
      measure('unmatchedRequests', offExchange.requests);
      measure('unmatchedReplies', offExchange.replies);
      expect(offExchange.requests, `requests sent towards ${leader}:${unmatched.leaderEnd}`).toBe(3);
      expect(offExchange.repliesBy, `replies for ${target.vip} on ${leader}:${unmatched.leaderEnd}, which ${target.interfaces.join(', ')} does not match`).toEqual({});
    } finally {
      await unmatched.remove();
    }
  },
});
