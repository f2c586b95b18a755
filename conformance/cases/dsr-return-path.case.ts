// dsr.return-path: with Cilium's loadBalancer.mode=dsr, a client's connections to a VIP enter
// through the node that holds the VIP (the load-balancer node), which passes them on to a
// backend on another node keeping the client's address; the backend answers from the VIP
// straight to the client, on a path that never crosses the load-balancer node again.
//
// The case switches the agents' cluster copy to DSR and gives the service an endpoint (a
// backend at a pod address of a node that is not a load-balancer node), opens TCP connections
// from a client host, judges the captures of the load-balancer nodes' links and of the client's
// own link, and restores the cluster copy, the backend and the captures afterwards.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { matchesSelector } from '../../reference/k8s/selectors.ts';
import { pollHarness, pollUntil } from '../checks/captured.ts';
import { nodeInterfaces, sameSubnet, speakerSessions } from '../checks/sessions.ts';
import { connections, hopsOf, judgeReturnPath } from '../checks/traffic-paths.ts';
import type { BackendProcess } from '../lab/backend.ts';
import { FIB_PROGRAMMING_KINDS } from '../lab/model.ts';
import type { Capture } from '../lab/capture.ts';
import { startHttpServer } from '../lab/kinds/host.ts';
import type { Lab } from '../lab/lab.ts';
import { emptyNode } from '../lab/model.ts';
import { agentClusterDir, agentDesired, k8sNodeFor } from '../lab/speakers/reference.ts';
import { captureLinks, readLinkSegments } from '../traffic/link-captures.ts';
import { addressIn } from '../traffic/pods.ts';
import { defineCase } from './harness.ts';

const CONNECTIONS = 10;
const FIRST_CLIENT_PORT = 43_000;
/** The pod address seed 003's capture shows (10.1.1.134 in rack1-node2's 10.1.1.0/24). */
const BACKEND_OFFSET = 134;
const DSR_VALUES_FILE = 'cilium-values.yaml';
const ENDPOINTS_FILE = 'zz-peerproof-dsr-endpoints.yaml';
const CONVERGE_MS = 20_000;

interface Plan {
  service: { key: string; namespace: string; name: string; port: number };
  vip: string;
  client: { node: string; address: string; ifname: string };
  /** Kubernetes node name per topology speaker node. */
  k8s: Map<string, string>;
  backend: { node: string; address: string };
}

/**
 * A TCP LoadBalancer service with an IPv4 VIP and a client host: preferably a VIP announced by
 * ARP on the client's own subnet (seed 003: 10.0.5.100 and client2 on rack0's bridge), else any
 * client host. The backend goes on the last speaker node with a PodCIDR that no announcement of
 * the VIP selects, so its replies have a path that bypasses the load-balancer node.
 */
function plan(lab: Lab, clusterDir: string): Plan | string {
  const model = loadClusterFolder(clusterDir);
  const addresses = new Map(allocateCluster(model).services.map((s) => [s.service, s.addresses.map((a) => a.address).filter((a) => isIP(a) === 4)]));
  const speakers = lab.topology.nodes.filter((n) => n.kind === 'speaker');
  const k8s = new Map(speakers.map((n) => [n.name, k8sNodeFor(model, n)]));
  const clients = lab.topology.nodes
    .filter((n) => n.kind === 'host' && n.role === 'client')
    .flatMap((n) => Object.entries(nodeInterfaces(n)).flatMap(([ifname, cidrs]) => cidrs.map((c) => ({ node: n.name, ifname, cidr: c, address: c.split('/')[0]! }))));
  const candidates = model.services
    .filter((s) => s.type === 'LoadBalancer' && (addresses.get(s.key)?.length ?? 0) > 0)
    .flatMap((s) => s.ports.filter((p) => p.protocol === 'TCP' && (p.targetPort === undefined || p.targetPort === p.port)).map((p) => ({ s, port: p.port, vip: addresses.get(s.key)![0]! })))
    .map((c) => ({ ...c, client: clients.find((cl) => sameSubnet(cl.cidr, c.vip)) }))
    .sort((a, b) => Number(Boolean(b.client)) - Number(Boolean(a.client)));
  const chosen = candidates[0];
  if (!chosen) return 'no LoadBalancer Service with an IPv4 address and a TCP port whose targetPort equals its port (what DSR can rewrite)';
  const client = chosen.client ?? clients[0];
  if (!client) return 'the fixture has no client host';
  const labels = (k8sNode: string) => model.nodes.find((n) => n.name === k8sNode)?.labels ?? {};
  const announces = (k8sNode: string) =>
    model.l2Announcements.some((a) => matchesSelector(a.serviceSelector, chosen.s.labels) && matchesSelector(a.nodeSelector, labels(k8sNode))) ||
    model.advertisements.some((a) => a.kind === 'lb-vip' && matchesSelector(a.serviceSelector, chosen.s.labels) && matchesSelector(a.nodeSelector, labels(k8sNode)));
  const backendNode = speakers.filter((n) => !announces(k8s.get(n.name)!) && n.announce.some((p) => isIP(p.split('/')[0]!) === 4 && Number(p.split('/')[1]) <= 24)).pop();
  if (!backendNode) return `every speaker node may receive ${chosen.vip}: no node is left for a backend the replies could bypass it from`;
  const podCidr = backendNode.announce.find((p) => isIP(p.split('/')[0]!) === 4 && Number(p.split('/')[1]) <= 24)!;
  return {
    service: { key: chosen.s.key, namespace: chosen.s.namespace, name: chosen.s.name, port: chosen.port },
    vip: chosen.vip,
    client: { node: client.node, address: client.address, ifname: client.ifname },
    k8s,
    backend: { node: backendNode.name, address: addressIn(podCidr, BACKEND_OFFSET) },
  };
}

function endpointSlice(p: Plan): string {
  return `# Written by the dsr.return-path case for the duration of the case.
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${p.service.name}-dsr, namespace: ${p.service.namespace}, labels: { kubernetes.io/service-name: ${p.service.name} } }
addressType: IPv4
endpoints:
  - { addresses: [${p.backend.address}], nodeName: ${p.k8s.get(p.backend.node)}, conditions: { ready: true } }
`;
}

defineCase('dsr.return-path', {
  needs: ['k8s-control-plane'],
  peers: [...FIB_PROGRAMMING_KINDS],
  peerReason: 'it does not program the kernel FIB (GoBGP never does; portable OpenBGPD cannot on Linux), so the fabric forwards no traffic by BGP',
  timeoutMs: 180_000,
  async run({ lab, measure, artifact, skip }) {
    const clusterDir = agentClusterDir(lab.runDir);
    if (!existsSync(clusterDir)) return skip(`no agent cluster folder at ${clusterDir}`);
    const valuesFile = join(clusterDir, DSR_VALUES_FILE);
    if (existsSync(valuesFile)) return skip(`the cluster already has ${DSR_VALUES_FILE}; the case only adds one of its own`);
    const p = plan(lab, clusterDir);
    if (typeof p === 'string') return skip(p);
    const nodes = [...p.k8s.keys()];
    measure('vip', `${p.vip}:${p.service.port} (${p.service.key})`);
    measure('client', `${p.client.address} (${p.client.node})`);
    measure('backend', `${p.backend.address} (${p.backend.node})`);

    const generations = new Map(await Promise.all(nodes.map(async (n) => [n, (await agentDesired(lab, n)).generation] as const)));
    const endpointsFile = join(clusterDir, ENDPOINTS_FILE);
    let restored = false;
    let server: BackendProcess | null = null;
    let clientCapture: Capture | null = null;
    let backendAddressAdded = false;
    try {
      writeFileSync(valuesFile, '# Written by the dsr.return-path case for the duration of the case.\nloadBalancer:\n  mode: dsr\n');
      writeFileSync(endpointsFile, endpointSlice(p));
      // Every agent has applied the change; the receiving ones program the rewrite, the backend's node the return path.
      const { value: desired, met: converged } = await pollUntil(
        () => Promise.all(nodes.map(async (n) => ({ n, s: await agentDesired(lab, n).catch(() => null) }))),
        (all) => all.every(({ n, s }) => s !== null && s.generation > generations.get(n)!) && all.some(({ n, s }) => n === p.backend.node && s!.desired?.dsr.some((d) => d.localBackends.length > 0)),
        CONVERGE_MS,
      );
      expect(converged, `agents applied loadBalancer.mode=dsr and the endpoint ${p.backend.address} (${JSON.stringify(desired.map(({ n, s }) => [n, s?.lastError ?? s?.desired?.dsr.length]))})`).toBe(true);
      const lbNodes = desired.filter(({ s }) => s?.desired?.dsr.some((d) => d.vip === p.vip && d.backends)).map(({ n }) => n);
      measure('loadBalancerNodes', lbNodes.join(', '));
      expect(lbNodes.length, `a node receiving ${p.vip} programs the DSR rewrite`).toBeGreaterThan(0);

      // The backend: a host-network endpoint at the pod address (the agent's DSR shape rewrites
      // the source of replies the node itself sends).
      const backend = lab.node(p.backend.node);
      const added = await backend.exec(['ip', 'addr', 'add', `${p.backend.address}/32`, 'dev', 'lo']);
      if (added.code !== 0) throw new Error(`adding ${p.backend.address} on ${p.backend.node}: ${added.stderr.trim()}`);
      backendAddressAdded = true;
      server = await startHttpServer(lab.backend, { ...emptyNode(p.backend.node, 'host'), httpPort: p.service.port }, lab.nodeDir(p.backend.node));
      // Listening, checked with ss: a local connection would have its replies rewritten to the VIP.
      const listening = await pollHarness(() => backend.exec(['ss', '-Htln', `sport = :${p.service.port}`]), (r) => r.stdout.trim() !== '', 10_000);
      expect(listening.met, `the backend on ${p.backend.node} listens on port ${p.service.port}`).toBe(true);
      // The lab's own captures also hold an earlier attempt of this case (vitest retries once).
      const since = Date.now() / 1000;
      [clientCapture] = await captureLinks(lab, [{ node: p.client.node, ifname: p.client.ifname }], ['tcp', 'port', String(p.service.port)]);
      if (!clientCapture) throw new Error(`${p.client.node}:${p.client.ifname} is captured by the lab already; the case needs its own capture there`);

      const url = `http://${p.vip}:${p.service.port}/`;
      const curl = (port: number) => lab.node(p.client.node).exec(['curl', '-s', '--max-time', '3', '--local-port', String(port), url]);
      // The first connection also waits for ARP/the server; it is not one of the judged ones.
      const warm = await pollUntil(() => curl(FIRST_CLIENT_PORT - 1), (r) => r.code === 0, 15_000, 500);
      const answered = new Map<number, string>();
      if (warm.met)
        for (let i = 0; i < CONNECTIONS; i++) {
          const r = await curl(FIRST_CLIENT_PORT + i);
          if (r.code === 0) answered.set(FIRST_CLIENT_PORT + i, r.stdout.trim());
        }
      await clientCapture.stop();

      const sessions = speakerSessions(lab.topology);
      const linkOf = (node: string) => `${node}:${sessions.find((s) => s.speakerNode === node)?.ifname}`;
      const links = readLinkSegments(lab, [clientCapture], since);
      const clientPorts = new Set(Array.from({ length: CONNECTIONS }, (_, i) => FIRST_CLIENT_PORT + i));
      const verdict = judgeReturnPath(links, {
        client: p.client.address,
        vip: p.vip,
        port: p.service.port,
        lbLinks: lbNodes.map(linkOf),
        bypassLink: `${p.client.node}:${p.client.ifname}`,
        clientPorts,
      });
      const seenOn = (link: string, m: Parameters<typeof connections>[1], side: 'src' | 'dst') =>
        [...connections(links.find((l) => l.link === link)?.segments ?? [], m, side)].filter((x) => clientPorts.has(x)).length;
      const backendLink = linkOf(p.backend.node);
      for (const { link } of links.filter((l) => !l.link.startsWith(`${p.client.node}:`))) {
        const toBackend = seenOn(link, { src: p.client.address, dst: p.backend.address, dstPort: p.service.port }, 'src');
        if (toBackend > 0) measure(`forwardToBackendOn ${link}`, toBackend);
      }
      const fromVipAtBackend = seenOn(backendLink, { src: p.vip, dst: p.client.address, srcPort: p.service.port }, 'dst');
      for (const link of [`${p.client.node}:${p.client.ifname}`, ...lbNodes.map(linkOf), backendLink]) artifact(join('pcaps', `${link.replace(':', '-')}.pcap`));
      measure('connectionsSent', CONNECTIONS);
      measure('connectionsAnswered', answered.size);
      measure('forwardViaLbNode', verdict.forwardViaLb);
      measure('rewrittenByLbNode', verdict.forwardedOn);
      measure('repliesFromVipOnClientLink', verdict.repliesOnBypass);
      measure('repliesFromVipOnBackendLink', fromVipAtBackend);
      measure('repliesViaLbNode', verdict.repliesViaLb);
      const problems: string[] = [];
      if (!warm.met) {
        // Nothing was judged: say where the first connection's packets went instead.
        const warmPort = FIRST_CLIENT_PORT - 1;
        const hops = (m: Parameters<typeof hopsOf>[1]) => hopsOf(links, m).join(' > ') || 'no captured link';
        problems.push(
          `no connection to ${url} from ${p.client.node} succeeded within 15 s: its SYNs to ${p.vip} crossed ${hops({ src: p.client.address, dst: p.vip, srcPort: warmPort })}, ` +
            `rewritten to ${p.backend.address} ${hops({ src: p.client.address, dst: p.backend.address, srcPort: warmPort })}; ` +
            `replies from ${p.vip} crossed ${hops({ src: p.vip, dst: p.client.address, dstPort: warmPort })}`,
        );
      } else problems.push(...verdict.problems);
      if (warm.met && answered.size < CONNECTIONS) problems.push(`${CONNECTIONS - answered.size} of ${CONNECTIONS} connections to ${url} got no answer`);
      const wrong = [...answered.values()].filter((body) => !body.endsWith(` ${p.backend.address}`));
      if (wrong.length > 0) problems.push(`${wrong.length} answers did not come from the backend ${p.backend.address}: ${wrong[0]}`);
      if (verdict.forwardedOn < verdict.forwardViaLb) problems.push(`the load-balancer node passed on only ${verdict.forwardedOn} of ${verdict.forwardViaLb} connections with the destination rewritten`);
      if (fromVipAtBackend < answered.size) problems.push(`only ${fromVipAtBackend} connections answered from ${p.vip} on the backend's link ${backendLink}`);
      expect(problems, problems.join('; ')).toEqual([]);
    } finally {
      await clientCapture?.stop();
      await server?.stop('SIGTERM', 1000);
      if (backendAddressAdded) await lab.node(p.backend.node).exec(['ip', 'addr', 'del', `${p.backend.address}/32`, 'dev', 'lo']);
      rmSync(endpointsFile, { force: true });
      rmSync(valuesFile, { force: true });
      // Healed: every agent back to no DSR (bounded; judged below).
      const { met } = await pollUntil(
        () => Promise.all(nodes.map((n) => agentDesired(lab, n).catch(() => null))),
        (all) => all.every((s) => s !== null && s.desired?.dsr.length === 0),
        CONVERGE_MS,
      );
      restored = met;
      measure('restored', met);
    }
    expect(restored, 'every agent dropped DSR once the case removed its values and endpoints').toBe(true);
  },
});
