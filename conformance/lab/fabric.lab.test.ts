import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fabricTopology, nodePrefix } from './fabric.ts';
import { startLab, type Lab } from './lab.ts';
import { leftovers } from './teardown.ts';

// A generated fabric of 104 nodes (4 FRR spines, 20 FRR leaves, 80 GoBGP stand-ins, 104
// namespaces, 160 links, 320 sessions) comes up in `npm test` and goes away leaving nothing:
// the guard of issue 21's scale work (bench/lab-scale.bench.ts measures it; nothing here asserts
// a time). Readiness is startLab's: every session Established, every node /24 in every spine FIB.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-fabric-'));
chmodSync(runsRoot, 0o755); // FRR drops to user frr, which must reach its node folders
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

const ours = (runId: string) => (existsSync('/run/netns') ? readdirSync('/run/netns').filter((ns) => ns.startsWith(`pp-${runId}-`)) : []);

/** Interface names in the host's own namespace (the lab must never add any). */
function hostLinks(): Set<string> {
  const rows = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>;
  return new Set(rows.map((r) => r.ifname));
}

describe('fabric 4x20x4 (104 nodes) on the netns backend', () => {
  let lab: Lab | undefined;
  afterAll(async () => {
    await lab?.stop();
  });

  it('comes up with every session Established and ECMP through every spine, and tears down to nothing', async () => {
    const topology = fabricTopology({ spines: 4, leaves: 20, nodesPerLeaf: 4 });
    expect(topology.nodes).toHaveLength(104);
    const hostBefore = hostLinks();
    lab = await startLab(topology, { runsRoot, timeoutMs: 90_000 });
    const runId = lab.runId;
    expect(ours(runId)).toHaveLength(104); // every node is a namespace of its own

    const expected = lab.expectedSessions();
    expect(expected).toHaveLength(320);
    const sessions = await lab.sessions();
    const notUp = expected.filter((e) => !sessions.some((s) => s.node === e.node && s.peer === e.peer && s.state === 'Established'));
    expect(notUp).toEqual([]);

    // A node /24 behind another leaf is reached through all four spines (multipath across them).
    await lab.waitForRoutes([{ node: 'leaf0', prefix: nodePrefix(79), minNexthops: 4 }], { timeoutMs: 30_000 });
    const linkNames = new Set(topology.links.flatMap((l) => [l.a.ifname, l.b.ifname]));
    expect([...hostLinks()].filter((l) => !hostBefore.has(l) && linkNames.has(l))).toEqual([]);

    const stopped = lab;
    lab = undefined;
    await stopped.stop();
    expect(ours(runId)).toEqual([]);
    expect(leftovers(stopped.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});
