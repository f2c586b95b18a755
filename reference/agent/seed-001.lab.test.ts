import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendProcess } from '../../conformance/lab/backend.ts';
import type { Lab } from '../../conformance/lab/lab.ts';
import { namespacePids } from '../../conformance/lab/netns.ts';
import { agentDesired, agentStatus, eventually, fibNexthops, makeRunsRoot, startAgentLab, waitForAgents, stopAgentLab } from '../../conformance/lab/speakers/agent-lab.ts';

// Seed 001 (Calico, iBGP to a route-reflecting switch) with the reference agent on all three
// nodes, installing what the switch reflects in their kernels as Calico's BIRD does. Pool
// 1.1.1.0/24 in /29 blocks: worker01 holds block 1.1.1.0/29 (pod 1.1.1.1), worker02's pod keeps
// 1.1.1.2 from that block, a borrowed address advertised as /32.
// Last: SIGTERM to worker01's agent leaves no kernel object and no session behind.

const NODES = ['master1', 'worker01', 'worker02'];
const runs = makeRunsRoot();
const processes = new Map<string, BackendProcess>();
let lab: Lab;

beforeAll(async () => {
  lab = await startAgentLab('seed-001-calico-rr', NODES, runs.path, {}, processes);
  await waitForAgents(lab, NODES);
});

afterAll(() => stopAgentLab(lab, NODES, runs));

async function blackholes(node: string): Promise<string[]> {
  const rows = JSON.parse((await lab.node(node).exec(['ip', '-j', 'route', 'show', 'type', 'blackhole'])).stdout) as Array<{ dst: string }>;
  return rows.map((r) => r.dst);
}

async function ribNexthops(node: string, prefix: string): Promise<string[] | undefined> {
  const route = (await lab.node(node).rib()).find((r) => r.prefix === prefix);
  return route ? [...route.nexthops].sort() : undefined;
}

describe('seed-001 with the reference agent', () => {
  it('the block owner advertises its block and blackholes it; the borrower advertises the borrowed /32', async () => {
    expect((await agentDesired(lab, 'worker01')).desired!.routes.map((r) => r.prefix)).toEqual(['1.1.1.0/29']);
    expect((await agentDesired(lab, 'worker02')).desired!.routes.map((r) => r.prefix)).toContain('1.1.1.2/32');
    expect(await blackholes('worker01')).toEqual(['1.1.1.0/29']);
    expect(await blackholes('worker02')).not.toContain('1.1.1.0/29');
    expect(await eventually('1.1.1.0/29 on the switch', () => ribNexthops('switch', '1.1.1.0/29'))).toEqual(['192.168.1.4']);
    expect(await eventually('1.1.1.2/32 on the switch', () => ribNexthops('switch', '1.1.1.2/32'))).toEqual(['192.168.1.5']);
  });

  it('the route reflector passes the borrowed /32 on: the block owner installs it over its blackhole, master1 both routes', async () => {
    const received = await eventually('1.1.1.2/32 received by worker01 from the RR', async () => {
      const s = await agentStatus<{ status: { receivedRoutes: Array<{ prefix: string; nextHop?: string }> } }>(lab, 'worker01', '/sessions/bgp-peer-1');
      return s.status.receivedRoutes.find((r) => r.prefix === '1.1.1.2/32');
    });
    expect(received.nextHop).toBe('192.168.1.5');
    const installed = async (node: string, prefix: string) =>
      eventually(`${prefix} in ${node}'s kernel`, async () => {
        const hops = await fibNexthops(lab, node, prefix);
        return hops.length > 0 ? hops : undefined;
      });
    // longest match: traffic for the borrowed address leaves worker01 towards worker02, not into the blackhole
    expect(await installed('worker01', '1.1.1.2/32')).toEqual(['192.168.1.5']);
    expect((await lab.node('worker01').exec(['ip', 'route', 'get', '1.1.1.2'])).stdout).toContain('via 192.168.1.5');
    expect((await lab.node('worker01').exec(['ip', 'route', 'get', '1.1.1.3'])).stderr + (await lab.node('worker01').exec(['ip', 'route', 'get', '1.1.1.3'])).stdout).toMatch(/blackhole|Invalid argument/);
    expect(await installed('master1', '1.1.1.2/32')).toEqual(['192.168.1.5']);
    expect(await installed('master1', '1.1.1.0/29')).toEqual(['192.168.1.4']);
    expect(await installed('worker02', '1.1.1.0/29')).toEqual(['192.168.1.4']);
  });

  it('SIGTERM: the agent exits 0, its blackhole is gone and the switch withdraws its block', async () => {
    const agent = processes.get('worker01')!;
    await agent.stop('SIGTERM', 10_000);
    expect(await agent.exited).toBe(0);
    expect(await blackholes('worker01')).toEqual([]);
    const routes = JSON.parse((await lab.node('worker01').exec(['ip', '-j', 'route', 'show', 'table', 'all'])).stdout) as Array<{ protocol?: string; type?: string }>;
    expect(routes.filter((r) => r.protocol === 'static' || r.protocol === 'bgp' || r.type === 'blackhole')).toEqual([]);
    await eventually('1.1.1.0/29 withdrawn on the switch', async () => ((await ribNexthops('switch', '1.1.1.0/29')) === undefined ? true : undefined), 10_000);
    expect(namespacePids(`pp-${lab.runId}-worker01`)).toEqual([]); // no announcer or other child left
  });
});
