import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceName } from '../lab/backends/netns.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { emptyNode, type LabTopology } from '../lab/model.ts';
import { namespaceExists } from '../lab/netns.ts';
import { leftovers } from '../lab/teardown.ts';
import { addPod, removeLeftoverPods, type Pod } from './pods.ts';

// Two nodes routing each other's pod CIDR statically: a pod on each, TCP between them, then
// remove() leaves the nodes as they were (no namespace, veth, route; forwarding as found).

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-pods-'));
chmodSync(runsRoot, 0o755);
let lab: Lab;

const topology: LabTopology = {
  name: 'pods',
  nodes: [
    { ...emptyNode('node-a', 'host'), interfaces: { eth1: ['10.77.0.1/24'] }, routes: [{ to: '10.88.1.0/24', via: '10.77.0.2' }] },
    { ...emptyNode('node-b', 'host'), interfaces: { eth1: ['10.77.0.2/24'] }, routes: [{ to: '10.88.0.0/24', via: '10.77.0.1' }] },
  ],
  links: [{ a: { node: 'node-a', ifname: 'eth1' }, b: { node: 'node-b', ifname: 'eth1' } }],
};

beforeAll(async () => {
  lab = await startLab(topology, { runsRoot, timeoutMs: 20_000 });
});

afterAll(async () => {
  await lab?.stop();
  if (lab) expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  rmSync(runsRoot, { recursive: true, force: true });
});

const sysctl = async (node: string, key: string) => (await lab.node(node).exec(['sysctl', '-n', key])).stdout.trim();

describe('addPod', () => {
  it('makes pods that reach each other across nodes, and remove() restores the nodes', async () => {
    const forwardingBefore = await sysctl('node-a', 'net.ipv4.ip_forward');
    const pods: Pod[] = [];
    try {
      pods.push(await addPod(lab, 'node-a', '10.88.0.10'));
      pods.push(await addPod(lab, 'node-b', '10.88.1.10'));
      const [a, b] = pods as [Pod, Pod];
      expect(await sysctl('node-a', 'net.ipv4.ip_forward')).toBe('1');
      await b.serveHttp(8080);
      let answer = '';
      for (let i = 0; i < 20 && !answer; i++) {
        const r = await a.exec(['curl', '-s', '--max-time', '1', 'http://10.88.1.10:8080/']);
        if (r.code === 0) answer = r.stdout.trim();
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toBe(`${b.podNode} 10.88.1.10`);
      // The connection ran between the pods' own addresses (the client closed first: TIME-WAIT is in pod a).
      const closed = (await a.exec(['ss', '-Htn', 'state', 'time-wait'])).stdout;
      expect(closed).toMatch(/10\.88\.0\.10:\d+\s+10\.88\.1\.10:8080/);
    } finally {
      for (const p of pods) await p.remove();
    }
    for (const p of pods) {
      expect(namespaceExists(namespaceName(lab.runId, p.podNode))).toBe(false);
      const links = (await lab.node(p.node).exec(['ip', '-o', 'link', 'show'])).stdout;
      expect(links).not.toContain(p.hostIfname);
      expect((await lab.node(p.node).exec(['ip', 'route', 'show', `${p.address}/32`])).stdout.trim()).toBe('');
    }
    expect(await sysctl('node-a', 'net.ipv4.ip_forward')).toBe(forwardingBefore);
  });

  it("removeLeftoverPods undoes the pods of a creator that died (a crashed case attempt), not a live creator's", async () => {
    const forwardingBefore = await sysctl('node-a', 'net.ipv4.ip_forward');
    const orphan = await addPod(lab, 'node-a', '10.88.0.20');
    const live = await addPod(lab, 'node-b', '10.88.1.20');
    try {
      await orphan.serveHttp(8081);
      // Its creator gone: the record names a process that has exited.
      const record = join(lab.runDir, 'pods', `${orphan.podNode}.state`);
      const deadPid = spawnSync('true').pid!;
      writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, 'utf8')), creatorPid: deadPid }));
      expect(await removeLeftoverPods(lab)).toEqual([orphan.podNode]);
      expect(namespaceExists(namespaceName(lab.runId, orphan.podNode))).toBe(false);
      expect((await lab.node('node-a').exec(['ip', '-o', 'link', 'show'])).stdout).not.toContain(orphan.hostIfname);
      expect(await sysctl('node-a', 'net.ipv4.ip_forward')).toBe(forwardingBefore);
      expect(namespaceExists(namespaceName(lab.runId, live.podNode))).toBe(true);
      expect(await removeLeftoverPods(lab)).toEqual([]);
    } finally {
      await orphan.remove();
      await live.remove();
    }
    expect(namespaceExists(namespaceName(lab.runId, live.podNode))).toBe(false);
  });

  it('refuses a node that does not exist, leaving nothing behind', async () => {
    await expect(addPod(lab, 'no-such-node', '10.88.0.11')).rejects.toThrow(/no-such-node/);
  });
});
