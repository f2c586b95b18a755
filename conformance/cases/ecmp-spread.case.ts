// ecmp.spread: a VIP announced by several nodes is a multipath route on the router in front of
// them; 1,000 UDP flows from the fixture's client spread over the next-hop links, counted in
// the captures of the speaker nodes' links.
import { join } from 'node:path';
import { expect } from 'vitest';
import { pollUntil } from '../checks/captured.ts';
import { spreadOf, udpSourcePortsInFile } from '../checks/flow-spread.ts';
import { nodeOwning, speakerSessions } from '../checks/sessions.ts';
import { captureFileName } from '../lab/capture.ts';
import { runFlows } from '../traffic/run-flows.ts';
import { defineCase } from './harness.ts';

const FLOWS = 1000;
const PORT = 9; // discard
/** Largest accepted |share - fair share| (about 6 standard deviations for 1,000 flows on 2 links). */
const MAX_DEVIATION = 0.1;

defineCase('ecmp.spread', {
  peers: ['frr', 'bird'],
  peerReason: 'GoBGP does not program the kernel FIB, so the fabric forwards no traffic by BGP',
  async run({ lab, measure, artifact, skip }) {
    const sessions = speakerSessions(lab.topology);
    const announcers = new Map<string, Set<string>>();
    for (const n of lab.topology.nodes.filter((x) => x.kind === 'speaker'))
      for (const p of n.announce.filter((x) => x.endsWith('/32'))) announcers.set(p, new Set([...(announcers.get(p) ?? []), n.name]));
    const vip = [...announcers].find(([, nodes]) => nodes.size >= 2);
    if (!vip) return skip('no /32 VIP is announced by two or more speaker nodes in this fixture');
    const [prefix, nodes] = vip;
    const address = prefix.split('/')[0]!;
    const paths = sessions.filter((s) => nodes.has(s.speakerNode) && s.peerNode && s.ifname && !s.multihop);
    const byRouter = new Map<string, typeof paths>();
    for (const p of paths) byRouter.set(p.peerNode!, [...(byRouter.get(p.peerNode!) ?? []), p]);
    const front = [...byRouter].find(([, ps]) => ps.length >= 2);
    if (!front) return skip(`no single router peers directly with two announcers of ${prefix}`);
    const [router, links] = front;
    const client = lab.topology.nodes.find((n) => n.role === 'client' && n.kind === 'host');
    if (!client) return skip('the fixture has no client host node to send flows from');
    if (!nodeOwning(lab.topology, address) && !lab.topology.nodes.some((n) => n.announce.includes(prefix))) return skip(`${address} is not a lab address`);
    await lab.waitForRoutes([{ node: router, prefix, table: 'fib', minNexthops: links.length }], { timeoutMs: 15_000 });
    // Resolve the next hops' ARP first: a burst to unresolved neighbours overflows the kernel's
    // per-neighbour queue (unres_qlen) and would be counted as loss instead of spread.
    for (const l of links) await lab.node(router).exec(['ping', '-c', '1', '-W', '2', l.speakerAddress]);
    const sent = await runFlows(lab, client.name, { target: address, port: PORT, flows: FLOWS, firstSourcePort: 20_000, rounds: 2 });
    const files = links.map((l) => captureFileName(lab.runDir, l.speakerNode, l.ifname!));
    for (const l of links) artifact(join('pcaps', `${l.speakerNode}-${l.ifname}.pcap`));
    const { value: spread, met } = await pollUntil(
      () => spreadOf(files.map((f) => udpSourcePortsInFile(f, address, PORT))),
      (s) => s.total >= sent,
      10_000,
    );
    measure('vip', prefix);
    measure('router', router);
    measure('links', links.length);
    measure('flows', sent);
    measure('flowsSeen', spread.total);
    measure('perLink', spread.perLink.join('/'));
    measure('maxDeviation', Number(spread.maxDeviation.toFixed(4)));
    measure('bound', MAX_DEVIATION);
    measure('splitFlows', spread.split);
    expect(met, `flows seen on the next-hop links: ${spread.total} of ${sent}`).toBe(true);
    expect(spread.split, 'flows seen on more than one link').toBe(0);
    expect(spread.perLink.every((n) => n > 0), `every next-hop link carries flows (${spread.perLink.join('/')})`).toBe(true);
    expect(spread.maxDeviation).toBeLessThanOrEqual(MAX_DEVIATION);
  },
});
