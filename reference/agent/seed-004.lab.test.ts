import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../conformance/lab/lab.ts';
import { agentDesired, agentStatus, eventually, fibNexthops, makeRunsRoot, startAgentLab, waitForAgents, stopAgentLab } from '../../conformance/lab/speakers/agent-lab.ts';

// Seed 004 (Anthos bundled LB) with the reference agent on the three control-plane and the two
// load-balancer nodes. Kubernetes nodes are named by address there; the hook maps cp1 -> 10.0.1.10,
// lb1 -> 10.0.1.20 from the topology's interface addresses. Service VIPs go over sessions from
// the floating IPs, each session carrying one path per load-balancer node (ADD-PATH).

const NODES = ['cp1', 'cp2', 'cp3', 'lb1', 'lb2'];
const runs = makeRunsRoot();
let lab: Lab;

beforeAll(async () => {
  lab = await startAgentLab('seed-004-anthos-floating', NODES, runs.path);
  await waitForAgents(lab, NODES);
});

afterAll(() => stopAgentLab(lab, NODES, runs));

interface FrrPath {
  nexthops: Array<{ ip: string }>;
  peer: { peerId: string };
  addpathRxId?: number;
  multipath?: boolean;
  bestpath?: { overall?: boolean };
}

async function frrPaths(node: string, prefix: string): Promise<FrrPath[]> {
  const out = (await lab.node(node).exec(['vtysh', '--vty_socket', lab.nodeDir(node), '-c', `show bgp ipv4 unicast ${prefix} json`])).stdout;
  return ((JSON.parse(out) as { paths?: FrrPath[] }).paths ?? []);
}

describe('seed-004 with the reference agent', () => {
  it('maps the topology nodes to the Anthos nodes named by address', async () => {
    expect((await agentDesired(lab, 'lb1')).node).toBe('10.0.1.20');
    expect((await agentDesired(lab, 'cp3')).node).toBe('10.0.2.10');
  });

  it('service VIP sessions run from the floating IPs, one session carrying a path per load-balancer node', async () => {
    const vip = (await agentDesired(lab, 'lb1')).desired!.routes.find((r) => r.pathId > 0)!.prefix;
    expect(vip).toBe('10.0.0.1/32');
    for (const router of ['peer1', 'peer2']) {
      const sessions = await eventually(`${router} sessions from the floating IPs`, async () => {
        const s = await lab.node(router).sessions();
        const floating = s.filter((x) => x.peer === '10.0.1.100' || x.peer === '10.0.2.100');
        return floating.length === 2 && floating.every((x) => x.state === 'Established') ? floating : undefined;
      });
      expect(sessions).toHaveLength(2);
    }
    const paths = await eventually(`${vip} on peer1 with two paths from 10.0.1.100`, async () => {
      const p = (await frrPaths('peer1', vip)).filter((x) => x.peer.peerId === '10.0.1.100');
      return p.length === 2 ? p : undefined;
    });
    expect(new Set(paths.map((p) => p.addpathRxId)).size).toBe(2);
    expect(paths.map((p) => p.nexthops[0]!.ip).sort()).toEqual(['10.0.1.20', '10.0.2.20']);
    // and the agent's own view of what it sent on that session: two path ids
    const session = await agentStatus<{ status: { advertisedRoutes: Array<{ prefix: string; pathId?: number; nextHop?: string }> } }>(lab, 'lb1', '/sessions/10.8.0.10');
    const sent = session.status.advertisedRoutes.filter((r) => r.prefix === vip);
    expect(new Set(sent.map((r) => r.pathId)).size).toBe(2);
  });

  it('the peers install every next hop of the VIP (ECMP over the load-balancer nodes)', async () => {
    // The far load-balancer node is reached through the other peer, so the kernel shows that
    // hop resolved: peer1 10.0.2.20 -> via 10.8.0.11, peer2 10.0.1.20 -> via 10.8.0.10.
    const expected = { peer1: ['10.0.1.20', '10.8.0.11'], peer2: ['10.0.2.20', '10.8.0.10'] };
    for (const [router, fib] of Object.entries(expected)) {
      const hops = await eventually(`10.0.0.1/32 in ${router}'s kernel with two next hops`, async () => {
        const h = await fibNexthops(lab, router, '10.0.0.1/32');
        return h.length === 2 ? h : undefined;
      });
      expect(hops).toEqual(fib);
      const zebra = JSON.parse((await lab.node(router).exec(['vtysh', '--vty_socket', lab.nodeDir(router), '-c', 'show ip route 10.0.0.1/32 json'])).stdout) as Record<
        string,
        Array<{ protocol: string; installed?: boolean; nexthops: Array<{ ip?: string }> }>
      >;
      const route = zebra['10.0.0.1/32']!.find((r) => r.protocol === 'bgp')!;
      expect(route.installed).toBe(true);
      expect(route.nexthops.map((n) => n.ip)).toEqual(expect.arrayContaining(['10.0.1.20', '10.0.2.20']));
    }
  });

  it('the control-plane VIP comes from each control-plane node', async () => {
    const hops = await eventually('10.0.0.8/32 on peer1 from the control-plane nodes', async () => {
      const p = await frrPaths('peer1', '10.0.0.8/32');
      const from = new Set(p.map((x) => x.peer.peerId));
      return from.size === 3 ? [...from].sort() : undefined;
    });
    expect(hops).toEqual(['10.0.1.10', '10.0.1.11', '10.0.2.10']);
  });
});
