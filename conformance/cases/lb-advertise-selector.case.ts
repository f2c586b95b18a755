// lb.advertise-selector: a node announces the VIP of a LoadBalancer Service exactly when a BGP
// policy selecting the node also selects the Service, as a host route (/32, /128), and never the
// VIPs of services no such policy selects. Judged per session from the capture of the node's
// link (what the speaker sent) and from every router's RIB (what the fabric learned).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { sentPrefixEvents, pollUntil } from '../checks/captured.ts';
import { clusterView, expectedRoutes } from '../checks/expected-routes.ts';
import { hostRoute, judgeSelectorAdvertisements } from '../checks/selector-advertisements.ts';
import { carriesPrefix, speakerSessions } from '../checks/sessions.ts';
import { isAnnounced } from '../checks/withdrawals.ts';
import { captureFileName } from '../lab/capture.ts';
import { agentClusterDir } from '../lab/speakers/reference.ts';
import { defineCase } from './harness.ts';

/** Routes are expected at bring-up; this covers a session or agent still converging. */
const CONVERGE_MS = 15_000;

defineCase('lb.advertise-selector', {
  needs: ['k8s-control-plane'],
  async run({ lab, measure, artifact, skip }) {
    const clusterDir = agentClusterDir(lab.runDir);
    if (!existsSync(clusterDir)) return skip(`no agent cluster folder at ${clusterDir}`);
    // Expected per session from the reference's own translator (desired state per peer: policies,
    // node and service selectors, pools, externalTrafficPolicy Local endpoints), per family.
    const cluster = clusterView(lab)!;
    const lbHostRoutes = new Map(cluster.ipam.services.flatMap((svc) => svc.addresses.map((a) => [hostRoute(a.address), svc.service] as const)));
    const sessions = speakerSessions(lab.topology)
      .filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker')
      .map((s) => {
        // VIPs a node announces for other nodes (Anthos floating IPs, next hop another node's
        // address) are addpath.multi-nexthop's to judge: neither required nor forbidden here.
        const expected = expectedRoutes(lab, s, true, cluster);
        const announced = new Set(expected.prefixes.filter((p) => !expected.viaOtherNodes.includes(p)));
        const onFamily = [...lbHostRoutes].filter(([vip]) => carriesPrefix(s, vip) && !expected.viaOtherNodes.includes(vip));
        return {
          ...s,
          name: `${s.speakerNode} -> ${s.peerAddress}`,
          file: captureFileName(lab.runDir, s.speakerNode, s.ifname!),
          elsewhere: expected.viaOtherNodes.filter((p) => lbHostRoutes.has(p)),
          expected: { required: new Map(onFamily.filter(([vip]) => announced.has(vip))), forbidden: new Map(onFamily.filter(([vip]) => !announced.has(vip))) },
        };
      });
    const required = new Set(sessions.flatMap((s) => [...s.expected.required.keys()]));
    // A VIP no session may carry (a node that must announce it makes it no router's mistake to hold it).
    const forbidden = new Set([...new Set(sessions.flatMap((s) => [...s.expected.forbidden.keys()]))].filter((v) => !required.has(v)));
    const forOthers = [...new Set(sessions.flatMap((s) => s.elsewhere))];
    if (required.size === 0 && forOthers.length > 0)
      return skip(
        `the cluster's VIPs (${forOthers.join(', ')}) are announced only with other nodes' addresses as next hop (floating IPs), which addpath.multi-nexthop judges; ` +
          'a LoadBalancer Service whose VIP a speaker node announces for itself (next hop self) would make this case apply',
      );
    if (required.size === 0)
      return skip(
        'no policy in the cluster selects a LoadBalancer Service with an address, so there is no VIP to judge; a Service of type LoadBalancer with an address from a pool ' +
          '(or status.loadBalancer.ingress) and an advertisement selecting it on a speaker node (Cilium CiliumBGPAdvertisement Service/LoadBalancerIP, MetalLB BGPAdvertisement, Calico serviceLoadBalancerIPs) would provide one',
      );
    for (const s of sessions) artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));

    const judge = () =>
      sessions.map((s) => {
        const events = sentPrefixEvents(s.file, s);
        const announced = [...new Set(events.map((e) => e.prefix))].filter((p) => isAnnounced(events, p));
        return { s, announced, problems: judgeSelectorAdvertisements({ session: s.name, announced }, s.expected) };
      });
    const { value: wire } = await pollUntil(judge, (now) => now.every((x) => x.problems.length === 0), CONVERGE_MS);

    // The fabric: each peer holds every required VIP with the announcing node among its next
    // hops, and no router anywhere holds a forbidden one.
    const routers = lab.topology.nodes.filter((n) => n.kind !== 'speaker' && n.kind !== 'host' && n.kind !== 'bridge').map((n) => n.name);
    const readRibs = async () => new Map(await Promise.all(routers.map(async (r) => [r, await lab.node(r).rib().catch(() => [])] as const)));
    const ribProblems = (ribs: Awaited<ReturnType<typeof readRibs>>) => {
      const out: string[] = [];
      for (const s of sessions)
        for (const vip of s.expected.required.keys()) {
          const route = ribs.get(s.peerNode!)?.find((r) => r.prefix === vip);
          if (!route) out.push(`${s.peerNode} RIB has no ${vip} (announced by ${s.speakerNode})`);
          else if (!s.multihop && !route.nexthops.includes(s.speakerAddress))
            out.push(`${s.peerNode} RIB: ${vip} next hops ${route.nexthops.join(', ') || 'none'}, expected ${s.speakerAddress} (${s.speakerNode}) among them`);
        }
      for (const [router, rib] of ribs)
        for (const r of rib.filter((x) => forbidden.has(x.prefix))) out.push(`${router} RIB holds ${r.prefix} via ${r.nexthops.join(', ')}, a VIP no policy selects`);
      return out;
    };
    const { value: ribs } = await pollUntil(readRibs, (now) => ribProblems(now).length === 0, CONVERGE_MS);

    const carrying = wire.filter((x) => x.announced.some((p) => required.has(p)));
    measure('selectedVips', [...required].join(', '));
    measure('unselectedVips', [...forbidden].join(', '));
    measure('sessionsJudged', sessions.length);
    measure('sessionsCarryingVip', carrying.length);
    measure('unselectedAnnouncements', wire.reduce((n, x) => n + x.announced.filter((p) => forbidden.has(p)).length, 0));
    for (const peer of new Set(sessions.map((s) => s.peerNode!)))
      for (const vip of required) measure(`${peer} ${vip} nexthops`, ribs.get(peer)?.find((r) => r.prefix === vip)?.nexthops.join(', ') ?? 'absent');
    const problems = [...wire.flatMap((x) => x.problems), ...ribProblems(ribs)];
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
