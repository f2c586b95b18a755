// ecmp.spread: a VIP announced by several nodes is a multipath route on the client's gateway
// router; 1,000 UDP flows from the client spread over the announcing nodes, counted in the
// captures of their links (each flow must stick to one node; the spread within a bound).
import { join } from 'node:path';
import { expect } from 'vitest';
import { sentPrefixEvents, pollUntil, timedWait } from '../checks/captured.ts';
import { spreadOf, udpSourcePortsInFile } from '../checks/flow-spread.ts';
import { nodeOwning, speakerSessions } from '../checks/sessions.ts';
import { isAnnounced } from '../checks/withdrawals.ts';
import { captureFileName } from '../lab/capture.ts';
import { execDefaultGateway } from '../lab/exec-lines.ts';
import { FIB_PROGRAMMING_KINDS } from '../lab/model.ts';
import { runFlows } from '../traffic/run-flows.ts';
import { defineCase } from './harness.ts';

const FLOWS = 1000;
const PORT = 9; // discard
/** Largest accepted |share - fair share| (about 6 standard deviations for 1,000 flows on 2 paths). */
const MAX_DEVIATION = 0.1;

defineCase('ecmp.spread', {
  peers: [...FIB_PROGRAMMING_KINDS],
  peerReason: 'it does not program the kernel FIB (GoBGP never does; portable OpenBGPD cannot on Linux), so the fabric forwards no traffic by BGP',
  async run({ lab, measure, artifact, skip }) {
    // Who announces a VIP is read from the wire: a reference speaker announces what its cluster
    // objects select (e.g. every node for externalTrafficPolicy: Cluster), not the stand-ins' list.
    const captured = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode);
    const announcers = new Map<string, string[]>();
    for (const s of captured) {
      const events = sentPrefixEvents(captureFileName(lab.runDir, s.speakerNode, s.ifname!), s);
      for (const p of new Set(events.map((e) => e.prefix))) {
        if (!p.endsWith('/32') || !isAnnounced(events, p) || announcers.get(p)?.includes(s.speakerNode)) continue;
        announcers.set(p, [...(announcers.get(p) ?? []), s.speakerNode]);
      }
    }
    const vip = [...announcers].find(([, nodes]) => nodes.length >= 2);
    if (!vip)
      return skip(
        'no /32 VIP is announced on the wire by two or more speaker nodes in this fixture; a LoadBalancer Service (externalTrafficPolicy: Cluster) ' +
          'that an advertisement selecting two or more speaker nodes selects (cluster/), or one /32 in the `announce:` of two stand-in speaker nodes, would provide one',
      );
    const [prefix, nodes] = vip;
    const address = prefix.split('/')[0]!;
    const sessions = captured.filter((s) => nodes.includes(s.speakerNode));
    const paths = nodes.map((n) => sessions.find((s) => s.speakerNode === n)).filter((s) => s !== undefined);
    if (paths.length < nodes.length) return skip(`announcers of ${prefix} without a captured link: ${nodes.filter((n) => !paths.some((p) => p.speakerNode === n)).join(', ')}`);
    // The client whose gateway router holds the VIP; prefer one outside the announcers' subnets.
    // A client is any host with a default route; hosts the fixture calls `role: client` narrow
    // the choice (a plain containerlab file with an overlay naming kinds only gives no roles).
    const hosts = lab.topology.nodes.filter((n) => n.kind === 'host');
    const candidates = hosts
      .map((n) => ({ node: n, gateway: n.routes.find((r) => r.to === 'default')?.via ?? execDefaultGateway(n) }))
      .filter((c): c is { node: typeof c.node; gateway: string } => Boolean(c.gateway))
      .map((c) => ({ ...c, router: nodeOwning(lab.topology, c.gateway)?.name }))
      .filter((c) => c.router && !nodes.includes(c.router));
    const clients = candidates.some((c) => c.node.role === 'client') ? candidates.filter((c) => c.node.role === 'client') : candidates;
    const client = clients.find((c) => !paths.some((p) => p.peerNode === c.router)) ?? clients[0];
    if (!client)
      return skip(
        `no host with a default route via a router other than the announcers of ${prefix} to send flows from; a \`kind: host\` node with ` +
          '`routes: [{ to: default, via: GATEWAY }]` (or an exec line `ip route add default via GATEWAY`) behind a router that holds the VIP would provide one',
      );
    const router = client.router!;
    await timedWait(() => lab.waitForRoutes([{ node: router, prefix, table: 'fib', minNexthops: 2 }], { timeoutMs: 15_000 }));
    // Resolve ARP on the way first: a burst to an unresolved neighbour overflows the kernel's
    // per-neighbour queue (unres_qlen) and would be counted as loss instead of spread.
    await lab.node(client.node.name).exec(['ping', '-c', '1', '-W', '2', client.gateway]);
    for (const p of paths) if (p.peerNode) await lab.node(p.peerNode).exec(['ping', '-c', '1', '-W', '2', p.speakerAddress]);
    const sent = await runFlows(lab, client.node.name, { target: address, port: PORT, flows: FLOWS, firstSourcePort: 20_000, rounds: 3 });
    const files = paths.map((p) => captureFileName(lab.runDir, p.speakerNode, p.ifname!));
    for (const p of paths) artifact(join('pcaps', `${p.speakerNode}-${p.ifname}.pcap`));
    const { value: spread, met } = await pollUntil(
      () => spreadOf(files.map((f) => udpSourcePortsInFile(f, address, PORT))),
      (s) => s.total >= sent,
      10_000,
    );
    measure('vip', prefix);
    measure('client', client.node.name);
    measure('router', router);
    measure('paths', paths.map((p) => p.speakerNode).join(' '));
    measure('flows', sent);
    measure('flowsSeen', spread.total);
    measure('perPath', spread.perLink.join('/'));
    measure('maxDeviation', Number(spread.maxDeviation.toFixed(4)));
    measure('bound', MAX_DEVIATION);
    measure('splitFlows', spread.split);
    expect(met, `flows seen at the announcing nodes: ${spread.total} of ${sent}`).toBe(true);
    expect(spread.split, 'flows seen at more than one node').toBe(0);
    expect(spread.perLink.every((n) => n > 0), `every announcing node receives flows (${spread.perLink.join('/')})`).toBe(true);
    expect(spread.maxDeviation).toBeLessThanOrEqual(MAX_DEVIATION);
  },
});
