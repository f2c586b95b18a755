import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../bgp/config.ts';
import { Speaker } from '../bgp/speaker.ts';
import { fetchStatus } from '../bgp/status.ts';
import { freePort } from '../testing/free-port.ts';
import { pollUntil } from '../../conformance/lab/poll.ts';
import { Agent } from './agent.ts';

// The agent in-process against a second reference speaker on loopback (no root, no kernel
// objects: a node with PodCIDRs only). Proves the reconcile loop: announce, reconverge on a file
// edit, keep the last good state on a broken file, Cease on stop.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const nodeYaml = (podCidr: string) => `apiVersion: v1
kind: Node
metadata: { name: n1, labels: { bgp: "on" } }
spec: { podCIDRs: [${podCidr}] }
status: { addresses: [{ type: InternalIP, address: 10.0.0.1 }] }
`;

const policyYaml = (port: number) => `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: { name: p }
spec:
  nodeSelector: { matchLabels: { bgp: "on" } }
  virtualRouters:
    - localASN: 65001
      exportPodCIDR: true
      neighbors: [{ peerAddress: "127.0.0.1/32", peerASN: 65000, peerPort: ${port}, holdTimeSeconds: 3, keepAliveTimeSeconds: 1 }]
`;

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const { value, met } = await pollUntil(probe, (v) => v !== undefined, 10_000, 50);
  if (!met) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

describe('Agent', () => {
  it('announces, reconverges on a file change, ignores a broken file, withdraws on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-agent-unit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cluster = join(dir, 'cluster');
    const port = await freePort();
    const router = new Speaker(
      readConfig({ routerId: '10.0.0.2', localAs: 65000, listen: { address: '127.0.0.1', port }, peers: [{ address: '127.0.0.1', asn: 65001, passive: true, holdTime: 3 }] }, 'router'),
    );
    await router.start();
    cleanups.push(() => router.stop());
    mkdirSync(cluster);
    writeFileSync(join(cluster, 'nodes.yaml'), nodeYaml('10.244.1.0/24'));
    writeFileSync(join(cluster, 'bgp.yaml'), policyYaml(port));
    const socket = join(dir, 'agent.sock');
    const agent = new Agent({ clusterDir: cluster, node: 'n1', stateDir: join(dir, 'state'), leaseDir: join(dir, 'leases'), statusSocket: socket, connectRetrySeconds: 1, debounceMs: 20 });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await agent.stop();
    });
    await agent.start();

    const received = () => router.receivedRoutes(router.peers[0]!).map((r) => r.prefix);
    await until(() => (received().includes('10.244.1.0/24') ? true : undefined), 'the PodCIDR at the router');
    const status = (await fetchStatus({ socket }, '/desired')) as { node: string; generation: number; desired: { routes: Array<{ prefix: string }> } };
    expect(status.node).toBe('n1');
    expect(status.desired.routes.map((r) => r.prefix)).toEqual(['10.244.1.0/24']);
    const sessions = (await fetchStatus({ socket }, '/sessions')) as { items: Array<{ status: { state: string } }> };
    expect(sessions.items[0]!.status.state).toBe('Established');

    writeFileSync(join(cluster, 'nodes.yaml'), nodeYaml('10.244.7.0/24'));
    await until(() => (received().join() === '10.244.7.0/24' ? true : undefined), 'the new PodCIDR replacing the old one');

    const generation = agent.state.generation;
    writeFileSync(join(cluster, 'nodes.yaml'), 'kind: Node\nmetadata: [not, a, mapping\n');
    await until(() => agent.state.lastError ?? undefined, 'the broken file to be reported');
    expect(agent.state.lastError).toMatch(/nodes\.yaml/);
    expect(agent.state.generation).toBe(generation);
    expect(received()).toEqual(['10.244.7.0/24']);

    await agent.stop();
    stopped = true;
    await until(() => (received().length === 0 ? true : undefined), 'the routes withdrawn after stop');
  });
});
