import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendProcess } from '../../conformance/lab/backend.ts';
import type { Lab } from '../../conformance/lab/lab.ts';
import { agentClusterDir } from '../../conformance/lab/speakers/reference.ts';
import { agentDesired, eventually, fibNexthops, makeRunsRoot, startAgentLab, waitForAgents, stopAgentLab } from '../../conformance/lab/speakers/agent-lab.ts';

// Seed 000 with the reference agent on both nodes, from the cluster folder as the article's
// second phase writes it (MetalLB-style bgp-config ConfigMap: both nodes AS 65000 peering the
// router's id 192.168.121.16; cluster-pool pod CIDRs 172.31.254.0/23 in /26s). Then DSR (the
// values' loadBalancer.mode=dsr) once the service has an endpoint, and SIGTERM removing what
// DSR added.

const runs = makeRunsRoot();
let lab: Lab;
const processes = new Map<string, BackendProcess>();

beforeAll(async () => {
  lab = await startAgentLab('seed-000-cilium-two-subnets', ['node1', 'node2'], runs.path, {}, processes);
  await waitForAgents(lab, ['node1', 'node2']);
});

afterAll(() => stopAgentLab(lab, ['node1', 'node2'], runs));

describe('seed-000 with the reference agent', () => {
  it('the router learns each node\'s PodCIDR (/26 of 172.31.254.0/23) with the node as next hop', async () => {
    const node1 = await agentDesired(lab, 'node1');
    const node2 = await agentDesired(lab, 'node2');
    const pod1 = node1.desired!.routes.find((r) => r.prefix.startsWith('172.31.254.'))!.prefix;
    const pod2 = node2.desired!.routes.find((r) => r.prefix.startsWith('172.31.254.'))!.prefix;
    expect(new Set([pod1, pod2])).toEqual(new Set(['172.31.254.0/26', '172.31.254.64/26']));
    expect(await eventually(`${pod1} via 10.0.1.10`, async () => ((await fibNexthops(lab, 'router', pod1)).length ? fibNexthops(lab, 'router', pod1) : undefined))).toEqual(['10.0.1.10']);
    expect(await eventually(`${pod2} via 10.0.2.10`, async () => ((await fibNexthops(lab, 'router', pod2)).length ? fibNexthops(lab, 'router', pod2) : undefined))).toEqual(['10.0.2.10']);
  });

  it('the LB VIP from 192.0.2.0/24 is announced by both nodes: a 2-path multipath route on the router', async () => {
    const vip = (await agentDesired(lab, 'node1')).desired!.localVips[0]!;
    expect(vip).toMatch(/^192\.0\.2\./);
    expect((await agentDesired(lab, 'node2')).desired!.localVips).toEqual([vip]);
    const hops = await eventually(`${vip}/32 with two next hops`, async () => {
      const h = await fibNexthops(lab, 'router', `${vip}/32`);
      return h.length === 2 ? h : undefined;
    });
    expect(hops).toEqual(['10.0.1.10', '10.0.2.10']);
    const bgp = JSON.parse((await lab.node('router').exec(['vtysh', '--vty_socket', lab.nodeDir('router'), '-c', `show bgp ipv4 unicast ${vip}/32 json`])).stdout) as {
      paths: Array<{ multipath?: boolean; bestpath?: { overall?: boolean }; nexthops: Array<{ ip: string }> }>;
    };
    expect(bgp.paths).toHaveLength(2);
    expect(bgp.paths.every((p) => p.multipath || p.bestpath?.overall)).toBe(true);
    // The node accepts the VIP's traffic: it is on lo.
    const lo = (await lab.node('node1').exec(['ip', '-j', 'addr', 'show', 'dev', 'lo'])).stdout;
    expect(lo).toContain(`"${vip}"`);
  });

  it('DSR (loadBalancer.mode=dsr): once an endpoint appears, the client reaches it through either node and the replies come from the VIP straight from the backend', async () => {
    const vip = (await agentDesired(lab, 'node1')).desired!.localVips[0]!;
    const generation = (await agentDesired(lab, 'node1')).generation;
    writeFileSync(
      join(agentClusterDir(lab.runDir), 'endpoints.yaml'),
      `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: whoami-lb-1, namespace: default, labels: { kubernetes.io/service-name: whoami-lb } }
addressType: IPv4
endpoints:
  - { addresses: [10.0.2.10], nodeName: node2, conditions: { ready: true } }
`,
    );
    for (const node of ['node1', 'node2']) {
      await eventually(`${node} programs DSR`, async () => {
        const s = await agentDesired(lab, node);
        return s.generation > generation && s.desired!.dsr.length === 1 ? true : undefined;
      });
    }
    const server = `require('http').createServer((q, s) => s.end('node2')).listen(80, '10.0.2.10')`;
    await lab.node('node2').exec(['sh', '-c', `nohup ${process.execPath} -e "${server}" >/dev/null 2>&1 &`]);
    const toNode1 = await lab.capture('router', 'eth1');
    const toNode2 = await lab.capture('router', 'eth2');
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await eventually(`curl ${vip} #${i}`, async () => {
        const c = await lab.node('client').exec(['curl', '-s', '--max-time', '3', '--local-port', String(41000 + i), `http://${vip}/`]);
        return c.code === 0 ? c.stdout : undefined;
      }, 15_000);
      answers.push(r);
    }
    expect(new Set(answers)).toEqual(new Set(['node2']));
    const read = (file: string) => execFileSync('tcpdump', ['-nn', '-r', file, 'tcp port 80'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const node1Link = read(await toNode1.stop());
    const node2Link = read(await toNode2.stop());
    // Some connections were hashed to node1: it forwarded them to the backend keeping the client's address...
    expect(node1Link).toMatch(new RegExp(`10\\.0\\.3\\.10\\.\\d+ > ${vip.replace(/\./g, '\\.')}\\.80:`));
    expect(node1Link).toMatch(/10\.0\.3\.10\.\d+ > 10\.0\.2\.10\.80:/);
    // ...and no reply ever went back through node1.
    expect(node1Link).not.toMatch(new RegExp(`${vip.replace(/\./g, '\\.')}\\.80 > `));
    expect(node1Link).not.toMatch(/10\.0\.2\.10\.80 > /);
    // The backend answered from the VIP, on its own link.
    expect(node2Link).toMatch(new RegExp(`${vip.replace(/\./g, '\\.')}\\.80 > 10\\.0\\.3\\.10\\.\\d+:`));
  });

  it('SIGTERM to an agent with DSR removes its nftables tables, policy rule, return route and VIP', async () => {
    const agent = processes.get('node2')!;
    const inNode = async (argv: string[]) => (await lab.node('node2').exec(argv)).stdout;
    expect(await inNode(['nft', 'list', 'tables'])).toContain('peerproof_dsr_');
    expect(await inNode(['ip', 'rule', 'show'])).toContain('lookup 100');
    await agent.stop('SIGTERM', 10_000);
    expect(await agent.exited).toBe(0);
    expect(await inNode(['nft', 'list', 'tables'])).not.toContain('peerproof_dsr_');
    expect(await inNode(['ip', 'rule', 'show'])).not.toContain('lookup 100');
    expect(await inNode(['ip', 'route', 'show', 'table', '100'])).toBe('');
    expect(await inNode(['ip', '-j', 'addr', 'show', 'dev', 'lo'])).not.toMatch(/"192\.0\.2\./);
  });
});
