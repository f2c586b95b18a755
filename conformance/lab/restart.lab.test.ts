import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../checks/captured.ts';
import { backendFactory } from './backends/index.ts';
import { Lab, startLab } from './lab.ts';
import { Ledger } from './ledger.ts';
import { emptyNode, type DaemonKindName, type LabTopology } from './model.ts';
import { daemonProcesses, killDaemon, restartDaemon } from './restart.ts';
import { leftovers } from './teardown.ts';

// A hub (BIRD) peering an FRR and a GoBGP router that each originate a prefix: every kind is
// killed and restarted once, and its session and route come back.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-restart-'));
chmodSync(runsRoot, 0o755);

function star(): LabTopology {
  const hub = emptyNode('hub', 'bird');
  hub.asn = 65000;
  hub.routerId = '10.9.0.1';
  hub.interfaces = { eth1: ['10.9.1.1/24'], eth2: ['10.9.2.1/24'] };
  hub.neighbors = [
    { address: '10.9.1.2', asn: 65001 },
    { address: '10.9.2.2', asn: 65002 },
  ];
  hub.expectRoutes = ['198.51.100.0/24', '203.0.113.0/24'];
  const frr = emptyNode('frr1', 'frr');
  frr.asn = 65001;
  frr.routerId = '10.9.1.2';
  frr.interfaces = { eth1: ['10.9.1.2/24'] };
  frr.neighbors = [{ address: '10.9.1.1', asn: 65000 }];
  frr.routes = [{ to: '198.51.100.0/24', dev: 'lo' }];
  frr.announce = ['198.51.100.0/24'];
  const gobgp = emptyNode('gobgp1', 'gobgp');
  gobgp.asn = 65002;
  gobgp.routerId = '10.9.2.2';
  gobgp.interfaces = { eth1: ['10.9.2.2/24'] };
  gobgp.neighbors = [{ address: '10.9.2.1', asn: 65000 }];
  gobgp.announce = ['203.0.113.0/24'];
  return {
    name: 'restart-star',
    nodes: [hub, frr, gobgp],
    links: [
      { a: { node: 'hub', ifname: 'eth1' }, b: { node: 'frr1', ifname: 'eth1' } },
      { a: { node: 'hub', ifname: 'eth2' }, b: { node: 'gobgp1', ifname: 'eth1' } },
    ],
  };
}

describe('killDaemon / restartDaemon', () => {
  let owner: Lab;
  // Like a case: a second Lab object over the owner's run (the owner counts the killed
  // processes as deaths and would fail its own readiness waits at once).
  let lab: Lab;
  beforeAll(async () => {
    owner = await startLab(star(), { runsRoot, timeoutMs: 30_000 });
    const ledger = new Ledger(owner.runDir);
    lab = new Lab(owner.topology, backendFactory('netns').create(ledger), ledger, { handleSignals: false });
  }, 60_000);
  afterAll(async () => {
    await owner?.stop();
    rmSync(runsRoot, { recursive: true, force: true });
  });

  const cases: Array<{ node: string; kind: DaemonKindName; labels: string[]; watcher: string; peer: string }> = [
    { node: 'frr1', kind: 'frr', labels: ['bgpd', 'staticd', 'zebra'], watcher: 'hub', peer: '10.9.1.2' },
    { node: 'gobgp1', kind: 'gobgp', labels: ['gobgpd'], watcher: 'hub', peer: '10.9.2.2' },
    { node: 'hub', kind: 'bird', labels: ['bird'], watcher: 'gobgp1', peer: '10.9.2.1' },
  ];
  for (const c of cases) {
    it(`${c.kind}: SIGKILL by ledger pid drops the session; a restart brings session and routes back`, async () => {
      const killed = await killDaemon(lab, c.node);
      expect(killed.map((p) => p.label).sort()).toEqual(c.labels);
      expect(daemonProcesses(lab.ledger.entries(), c.node)).toEqual([]);
      const down = await pollUntil(
        async () => (await lab.node(c.watcher).sessions()).find((s) => s.peer === c.peer)?.state,
        (state) => state !== 'Established',
        10_000,
      );
      expect(down.met, `${c.watcher} notices ${c.node} is gone`).toBe(true);
      await expect(restartDaemon(lab, c.node)).resolves.toHaveLength(c.labels.length);
      await expect(restartDaemon(lab, c.node)).rejects.toThrow(/still running/);
      await lab.waitForSessions({ timeoutMs: 20_000 });
      await lab.waitForRoutes(undefined, { timeoutMs: 20_000 });
    }, 60_000);
  }

  it('the restarted daemons are the lab\'s: stop leaves nothing', async () => {
    await owner.stop();
    expect(leftovers(owner.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});

describe('a restart racing the teardown', () => {
  it('stop() waits for a restart in flight and ends the restarted daemon; a restart once stop() began is refused', async () => {
    const node = emptyNode('g1', 'gobgp');
    node.asn = 65010;
    node.routerId = '10.9.3.1';
    node.interfaces = { eth1: ['10.9.3.1/24'] };
    const host = emptyNode('h1', 'host');
    host.interfaces = { eth1: ['10.9.3.2/24'] };
    const lab = await startLab({ name: 'restart-race', nodes: [node, host], links: [{ a: { node: 'g1', ifname: 'eth1' }, b: { node: 'h1', ifname: 'eth1' } }] }, { runsRoot, timeoutMs: 30_000 });
    try {
      await killDaemon(lab, 'g1');
      // What a crash watcher does when the lab goes down under it (Ctrl-C during a clause run).
      const restarting = restartDaemon(lab, 'g1');
      const stopping = lab.stop();
      await expect(restartDaemon(lab, 'g1')).rejects.toThrow(/being stopped/);
      const [restarted] = await Promise.allSettled([restarting, stopping]);
      expect(restarted.status).toBe('fulfilled');
    } finally {
      await lab.stop();
    }
    expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 60_000);
});
