// podcidr.export: every router the speaker peers with learns each prefix the node announces
// (its PodCIDR, and VIPs), with the node's own address as next hop; and those routes carry
// traffic: a pod on one node reaches a pod on a node of another rack (TCP connections, each
// answered by the far pod), with the path read from captures of every link on the way.
import { join } from 'node:path';
import { expect } from 'vitest';
import { pollUntil, timedWait } from '../checks/captured.ts';
import { clusterView, expectedRoutes, podPrefixOf } from '../checks/expected-routes.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { conversationPath, hopsOf } from '../checks/traffic-paths.ts';
import type { Capture } from '../lab/capture.ts';
import type { Lab } from '../lab/lab.ts';
import { FIB_PROGRAMMING_KINDS, routerKindOf } from '../lab/model.ts';
import { kernelPath } from '../traffic/kernel-path.ts';
import { captureLinks, readLinkSegments } from '../traffic/link-captures.ts';
import { addPod, addressIn, removeLeftoverPods, type Pod } from '../traffic/pods.ts';
import { defineCase } from './harness.ts';

const POD_PORT = 8080;
const CONNECTIONS = 10;
const FIRST_CLIENT_PORT = 42_000;
/** A router restarted by an earlier case may still be installing what its BGP RIB already holds. */
const KERNEL_PATH_BOUND_MS = 15_000;

/** Routers' link interfaces and the pods' veths: with the lab's own captures, the whole way. */
function theWay(lab: Lab, pods: Pod[]): Array<{ node: string; ifname: string }> {
  return [
    ...lab.topology.links.flatMap((l) => [l.a, l.b]).filter((e) => routerKindOf(lab.spec(e.node)) !== null && lab.spec(e.node).kind !== 'speaker'),
    ...pods.map((p) => ({ node: p.node, ifname: p.hostIfname })),
  ];
}

defineCase('podcidr.export', {
  timeoutMs: 180_000,
  async run({ lab, suite, profile, measure, artifact, skip }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    // What each session must carry: from the cluster through the reference's translator when
    // the speaker under test reads cluster/, else the stand-ins' announce: lists.
    const cluster = clusterView(lab);
    const readsCluster = profile.capabilities.includes('k8s-control-plane') && cluster !== null;
    const expected = sessions.map((s) => ({ s, ...expectedRoutes(lab, s, readsCluster, cluster) }));
    const expectations = expected.flatMap(({ s, prefixes }) => prefixes.map((prefix) => ({ ...s, prefix })));
    if (expectations.length === 0)
      return skip(
        readsCluster
          ? `the cluster gives the speaker nodes nothing to announce on their sessions' address families (${cluster!.dir}): a Node spec.podCIDRs (or a pod IPAM pool with pods) ` +
              'and a BGP advertisement of PodCIDRs (Cilium CiliumBGPAdvertisement advertisementType: PodCIDR, Calico IPPool) would provide prefixes'
          : 'no speaker node has a prefix in `announce:` of a family its sessions carry: `announce: [PREFIX]` on a speaker node (x-peerproof or peerproof.yml) would provide one',
      );
    measure('expectedFrom', readsCluster ? 'cluster' : 'announce');
    const problems: string[] = [];
    let learned = 0;
    // Routes are already expected at bring-up; this bounded wait covers a peer still converging.
    await timedWait(() =>
      lab.waitForRoutes(
        expectations.map((e) => ({ node: e.peerNode!, prefix: e.prefix, table: 'rib' as const })),
        { timeoutMs: 10_000 },
      ),
    ).catch(() => undefined);
    const ribs = new Map<string, Awaited<ReturnType<ReturnType<typeof lab.node>['rib']>>>();
    for (const e of expectations) {
      if (!ribs.has(e.peerNode!)) ribs.set(e.peerNode!, await lab.node(e.peerNode!).rib());
      const route = ribs.get(e.peerNode!)!.find((r) => r.prefix === e.prefix);
      if (!route) problems.push(`${e.peerNode} has no route for ${e.prefix} (announced by ${e.speakerNode})`);
      else if (!e.multihop && !route.nexthops.includes(e.speakerAddress))
        problems.push(`${e.peerNode}: ${e.prefix} next hops ${route.nexthops.join(', ') || 'none'}, expected ${e.speakerAddress} (${e.speakerNode}) among them`);
      else learned++;
    }
    measure('routesExpected', expectations.length);
    measure('routesLearned', learned);

    // Traffic between pods of two nodes, preferably peering with different routers (racks).
    const podPrefix = (n: string) => podPrefixOf(lab, n, cluster);
    const withCidr = [...new Set(sessions.map((s) => s.speakerNode))].filter((n) => podPrefix(n));
    const peersOf = (node: string) => new Set(sessions.filter((s) => s.speakerNode === node).map((s) => s.peerNode));
    const from = withCidr[0];
    const to = withCidr.find((n) => n !== from && ![...peersOf(n)].some((p) => peersOf(from!).has(p))) ?? withCidr.find((n) => n !== from);
    if (lab.backend.name !== 'netns') measure('podTraffic', `not judged: pods are made on the netns backend only (this lab: ${lab.backend.name})`);
    else if (!(FIB_PROGRAMMING_KINDS as readonly string[]).includes(suite.peer)) measure('podTraffic', `not judged: fabric peer ${suite.peer} does not program the kernel FIB`);
    else if (!from || !to) measure('podTraffic', 'not judged: fewer than two speaker nodes have an IPv4 pod prefix (Node spec.podCIDRs, a pod IPAM pool with pods, or a PodCIDR in announce:)');
    else problems.push(...(await podToPod(lab, from, to, sessions, podPrefix, measure, artifact)));
    expect(problems, problems.join('; ')).toEqual([]);
  },
});

async function podToPod(
  lab: Lab,
  fromNode: string,
  toNode: string,
  sessions: ReturnType<typeof speakerSessions>,
  podCidrOf: (node: string) => string | undefined,
  measure: (name: string, value: number | string | boolean) => void,
  artifact: (path: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  const pods: Pod[] = [];
  let captures: Capture[] = [];
  try {
    // A crashed earlier attempt's pods hold the same addresses: gone before ours are made.
    const leftovers = await removeLeftoverPods(lab);
    if (leftovers.length > 0) measure('leftoverPodsRemoved', leftovers.join(' '));
    const source = await addPod(lab, fromNode, addressIn(podCidrOf(fromNode)!, 10));
    pods.push(source);
    const target = await addPod(lab, toNode, addressIn(podCidrOf(toNode)!, 10));
    pods.push(target);
    measure('podTraffic', `${source.address} (${fromNode}) -> ${target.address}:${POD_PORT} (${toNode})`);
    measure('crossRack', ![...sessions.filter((s) => s.speakerNode === toNode)].some((s) => sessions.some((x) => x.speakerNode === fromNode && x.peerNode === s.peerNode)));
    await target.serveHttp(POD_PORT);
    const url = `http://${target.address}:${POD_PORT}/`;
    const local = await pollUntil(
      () => target.exec(['curl', '-s', '--max-time', '1', `http://127.0.0.1:${POD_PORT}/`]),
      (r) => r.code === 0,
      10_000,
    );
    if (!local.met) return [`the HTTP server in the pod on ${toNode} did not start`];
    // Traffic waits for the kernels, not the BGP RIBs the first half judged: every hop's FIB has
    // the way there and back (a connection sent earlier is lost, not a finding), or a way is
    // wrong in a way no converging FIB can fix, so waiting longer cannot change the outcome.
    const waitStart = Date.now();
    const ways = await pollUntil(
      async () => [
        await kernelPath(lab, fromNode, target.address, { node: toNode, ifname: target.hostIfname }),
        await kernelPath(lab, toNode, source.address, { node: fromNode, ifname: source.hostIfname }),
      ],
      (both) => both.every((w) => w.problems.length === 0) || both.some((w) => w.settled),
      KERNEL_PATH_BOUND_MS,
      100,
    );
    measure('kernelPathWaitS', Number(((Date.now() - waitStart) / 1000).toFixed(2)));
    measure('kernelPath', ways.value[0]!.hops.join(', '));
    const wayProblems = ways.value.flatMap((w) => w.problems);
    if (wayProblems.length > 0) {
      const when = ways.met ? 'and none can come (a host route on-link elsewhere)' : `${KERNEL_PATH_BOUND_MS / 1000} s after their routes were in the BGP RIBs`;
      problems.push(`no kernel path between the pods ${when}: ${wayProblems.join('; ')}`);
    }
    // The lab's own captures also hold an earlier attempt of this case (vitest retries once).
    const since = Date.now() / 1000;
    captures = await captureLinks(lab, theWay(lab, pods), ['tcp', 'port', String(POD_PORT)]);
    const answered = new Map<number, string>();
    for (let i = 0; i < CONNECTIONS; i++) {
      const port = FIRST_CLIENT_PORT + i;
      const r = await source.exec(['curl', '-s', '--max-time', '3', '--local-port', String(port), url]);
      if (r.code === 0) answered.set(port, r.stdout.trim());
    }
    await Promise.allSettled(captures.map((c) => c.stop()));
    const wrongPod = [...answered.values()].filter((body) => !body.startsWith(`${target.podNode} `));
    const links = readLinkSegments(lab, captures, since);
    const clientPorts = new Set(Array.from({ length: CONNECTIONS }, (_, i) => FIRST_CLIENT_PORT + i));
    const path = conversationPath(links, { client: source.address, server: target.address, port: POD_PORT, clientPorts });
    const firstPort = FIRST_CLIENT_PORT;
    const forwardHops = hopsOf(links, { src: source.address, dst: target.address, srcPort: firstPort, dstPort: POD_PORT, syn: true });
    const replyHops = hopsOf(links, { src: target.address, dst: source.address, srcPort: POD_PORT, dstPort: firstPort, syn: true });
    const fromLink = `${fromNode}:${sessions.find((s) => s.speakerNode === fromNode)?.ifname}`;
    const toLink = `${toNode}:${sessions.find((s) => s.speakerNode === toNode)?.ifname}`;
    for (const c of captures) artifact(join('pcaps', `${c.node}-${c.ifname}.pcap`));

    measure('connectionsSent', CONNECTIONS);
    measure('connectionsAnswered', answered.size);
    measure('forwardPath', forwardHops.join(' > ') || 'not seen');
    measure('replyPath', replyHops.join(' > ') || 'not seen');
    measure('forwardLinks', Object.entries(path.forward).sort().map(([l, n]) => `${l}=${n}`).join(', '));
    measure('replyLinks', Object.entries(path.replies).sort().map(([l, n]) => `${l}=${n}`).join(', '));
    if (answered.size < CONNECTIONS) problems.push(`${CONNECTIONS - answered.size} of ${CONNECTIONS} connections from pod ${source.address} on ${fromNode} to pod ${target.address} on ${toNode} got no answer`);
    if (wrongPod.length > 0) problems.push(`${wrongPod.length} answers did not come from the pod on ${toNode}: ${wrongPod[0]}`);
    if ((path.forward[toLink] ?? 0) < answered.size) problems.push(`only ${path.forward[toLink] ?? 0} connections seen arriving on ${toLink}`);
    if ((path.replies[fromLink] ?? 0) < answered.size) problems.push(`only ${path.replies[fromLink] ?? 0} replies seen arriving on ${fromLink}`);
    return problems;
  } finally {
    await Promise.allSettled(captures.map((c) => c.stop()));
    for (const p of pods) await p.remove().catch((err: Error) => problems.push(`removing pod ${p.podNode}: ${err.message}`));
  }
}
