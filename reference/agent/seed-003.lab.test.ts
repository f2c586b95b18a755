import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendProcess } from '../../conformance/lab/backend.ts';
import type { Lab } from '../../conformance/lab/lab.ts';
import { namespacePids } from '../../conformance/lab/netns.ts';
import { agentClusterDir } from '../../conformance/lab/speakers/reference.ts';
import { allocateCluster } from '../ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../k8s/load.ts';
import { agentDesired, agentLog, eventually, fibNexthops, fixturePath, makeRunsRoot, startAgentLab, waitForAgents, stopAgentLab } from '../../conformance/lab/speakers/agent-lab.ts';

// Seed 003 with the reference agent on all four Kubernetes nodes: Cilium peering policies per
// rack advertise only services labelled advertise-bgp=true, LB-IPAM from 20.0.0.100-200, and an
// L2 pool announced by ARP on rack0's net0 by the one node holding the service's lease.
// SIGTERM to the leader's agent leaves nothing behind and hands the VIP over.

const NODES = ['rack0-node1', 'rack0-node2', 'rack1-node1', 'rack1-node2'];
const runs = makeRunsRoot();
let lab: Lab;
let bgpVip: string;
let survivor = 'rack0-node2';
const processes = new Map<string, BackendProcess>();

// What LB-IPAM gives each service, computed the way every agent does.
const allocations = (() => {
  const model = loadClusterFolder(join(fixturePath('seed-003-rack-lb'), 'cluster'));
  return new Map(allocateCluster(model).services.map((s) => [s.service, s.addresses.map((a) => a.address)]));
})();

beforeAll(async () => {
  lab = await startAgentLab('seed-003-rack-lb', NODES, runs.path, {}, processes);
  await waitForAgents(lab, NODES);
});

afterAll(() => stopAgentLab(lab, NODES, runs));

async function macOf(node: string, ifname: string): Promise<string> {
  const [link] = JSON.parse((await lab.node(node).exec(['ip', '-j', 'link', 'show', 'dev', ifname])).stdout) as Array<{ address: string }>;
  return link!.address.toLowerCase();
}

describe('seed-003 with the reference agent', () => {
  it('advertises only the advertise-bgp service, as a /32, from the nodes of each rack', async () => {
    bgpVip = allocations.get('default/nginx-service')![0]!;
    const internalOnly = allocations.get('default/unselected-service')![0]!;
    expect(bgpVip).toBe('20.0.0.100'); // the VIP the article shows on leaf01 and leaf02
    expect(internalOnly).toBe('20.0.0.101');
    const rack0 = await eventually(`${bgpVip}/32 on leaf01 via both rack0 nodes`, async () => {
      const hops = await fibNexthops(lab, 'leaf01', `${bgpVip}/32`);
      return hops.length === 2 ? hops : undefined;
    });
    expect(rack0).toEqual(['10.0.5.11', '10.0.5.12']);
    const rack1 = await eventually(`${bgpVip}/32 on leaf02 via both rack1 nodes`, async () => {
      const hops = await fibNexthops(lab, 'leaf02', `${bgpVip}/32`);
      return hops.length === 2 ? hops : undefined;
    });
    expect(rack1).toEqual(['10.0.10.11', '10.0.10.12']);
    // PodCIDRs too (exportPodCIDR), and never the unlabelled service nor the L2 pool's VIP.
    expect(await fibNexthops(lab, 'leaf01', '10.1.0.0/24')).toEqual(['10.0.5.11']);
    const leafRoutes = (await lab.node('leaf01').rib()).map((r) => r.prefix);
    expect(leafRoutes).not.toContain(`${internalOnly}/32`);
    expect(leafRoutes.filter((p) => p.startsWith('10.0.5.1') && p.endsWith('/32'))).toEqual([]);
    expect((await agentDesired(lab, 'rack0-node1')).desired!.routes.map((r) => r.prefix).filter((p) => p.startsWith('20.0.0.'))).toEqual([`${bgpVip}/32`]);
  });

  it('answers ARP for the L2 VIP from exactly one rack0 node', async () => {
    const l2Vip = allocations.get('default/nginx-service-l2')![0]!;
    expect(l2Vip).toBe('10.0.5.100');
    const macs = new Map([
      [await macOf('rack0-node1', 'net0'), 'rack0-node1'],
      [await macOf('rack0-node2', 'net0'), 'rack0-node2'],
    ]);
    const replies = await eventually('ARP replies for the L2 VIP', async () => {
      const r = await lab.node('client2').exec(['arping', '-c', '4', '-w', '5', '-I', 'net0', l2Vip]);
      const seen = [...r.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]+)\]/g)].map((m) => m[1]!.toLowerCase());
      return seen.length >= 3 ? seen : undefined;
    });
    const answering = new Set(replies.map((mac) => macs.get(mac) ?? `unknown ${mac}`));
    expect(answering.size).toBe(1);
    expect(['rack0-node1', 'rack0-node2']).toContain([...answering][0]);
  });

  it('SIGTERM to the L2 leader: it exits 0 leaving no VIP on lo, sysctls as found, no announcer; the other rack0 node takes over', async () => {
    const l2Vip = allocations.get('default/nginx-service-l2')![0]!;
    const leader = agentLog(lab, 'rack0-node1').includes('"event":"leader"') ? 'rack0-node1' : 'rack0-node2';
    const other = leader === 'rack0-node1' ? 'rack0-node2' : 'rack0-node1';
    const sysctl = async (node: string) => (await lab.node(node).exec(['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim();
    expect(await sysctl(leader)).toBe('1');
    const agent = processes.get(leader)!;
    await agent.stop('SIGTERM', 10_000);
    expect(await agent.exited).toBe(0);
    const lo = (await lab.node(leader).exec(['ip', '-j', 'addr', 'show', 'dev', 'lo'])).stdout;
    expect(lo).not.toContain(`"${bgpVip}"`);
    expect(lo).not.toContain(`"${l2Vip}"`);
    expect(await sysctl(leader)).toBe(await sysctl('client2')); // as a node the agent never touched
    expect(namespacePids(`pp-${lab.runId}-${leader}`)).toEqual([]);
    const leaderAddress = leader === 'rack0-node1' ? '10.0.5.11' : '10.0.5.12';
    const otherAddress = leader === 'rack0-node1' ? '10.0.5.12' : '10.0.5.11';
    expect(await eventually(`${bgpVip}/32 on leaf01 only via ${otherAddress}`, async () => {
      const hops = await fibNexthops(lab, 'leaf01', `${bgpVip}/32`);
      return hops.includes(leaderAddress) ? undefined : hops;
    })).toEqual([otherAddress]);
    const otherMac = await macOf(other, 'net0');
    await eventually(`ARP for ${l2Vip} answered by ${other}`, async () => {
      const r = await lab.node('client2').exec(['arping', '-c', '2', '-w', '3', '-I', 'net0', l2Vip]);
      const seen = [...r.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]+)\]/g)].map((m) => m[1]!.toLowerCase());
      return seen.length > 0 && seen.every((mac) => mac === otherMac) ? true : undefined;
    });
    survivor = other;
  });

  it('deleting the services file withdraws the VIP on the leaves', async () => {
    const deletedAt = Date.now();
    rmSync(join(agentClusterDir(lab.runDir), 'services.yaml'));
    await eventually(`${bgpVip}/32 withdrawn on leaf01 and leaf02`, async () => {
      const left = [...(await fibNexthops(lab, 'leaf01', `${bgpVip}/32`)), ...(await fibNexthops(lab, 'leaf02', `${bgpVip}/32`))];
      return left.length === 0 ? true : undefined;
    }, 10_000);
    console.info(`seed-003: services.yaml deleted -> VIP gone from both leaves' FIB in ${Date.now() - deletedAt} ms (polled every 250 ms)`);
    const desired = (await agentDesired(lab, survivor)).desired!;
    expect(desired.routes.map((r) => r.prefix)).toEqual([survivor === 'rack0-node1' ? '10.1.0.0/24' : '10.1.3.0/24']);
    expect(desired.l2).toEqual([]);
    // the VIPs left lo with their services
    expect((await lab.node(survivor).exec(['ip', '-j', 'addr', 'show', 'dev', 'lo'])).stdout).not.toContain(`"${bgpVip}"`);
  });
});
