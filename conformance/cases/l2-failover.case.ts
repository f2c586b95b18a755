// l2.failover: the node answering ARP for an L2 VIP dies; another selected node announces the
// VIP with gratuitous ARP (RFC 5227 3) within the bound the lease allows, the client's
// neighbour entry moves to the new MAC (RFC 826 Packet Reception), and only the new node
// answers. Then the dead node comes back (the lab as before; the new leader keeps the lease).
//
// "The leader dies" is its whole agent dying at once: SIGKILL to the agent and every process it
// started (its L2 announcers), as when a node or its agent pod dies in Kubernetes. Killing only
// the announcer would be a failure Cilium cannot have (its announcer lives in the agent) and our
// agent does not restart a dead announcer; SIGTERM would hand the lease over politely, which is
// not a failure. Healing starts the agent again with the command line the lab started it with.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { arpExchange, arpFrames, firstTakeover, type L2Target } from '../checks/arp.ts';
import { arping, candidateMacs, fixtureL2Targets, interfaceMac, leaseHolder, startArpCapture } from '../checks/arp-probe.ts';
import { pollUntil, timedWait } from '../checks/captured.ts';
import { captureFileName, readCapturedFrames, type CapturedFrame } from '../lab/capture.ts';
import type { Lab } from '../lab/lab.ts';
import { signal } from '../lab/netns.ts';
import { processTree } from '../lab/proc.ts';
import { agentStatusSocket } from '../lab/speakers/reference.ts';
import { parseIpv4, parseMac } from '../../reference/l2/addresses.ts';
import { failoverFromCapture } from '../../reference/l2/failover.ts';
import { FileLeaseStore } from '../../reference/l2/lease-store.ts';
import { leaseNameFor } from '../../reference/l2/main.ts';
import { fetchStatus } from '../../reference/bgp/status.ts';
import { defineCase } from './harness.ts';

/** Cilium's default l2-announcements-lease-duration, for a speaker that keeps no lease files here. */
const DEFAULT_LEASE_S = 15;
const HEAL_BOUND_MS = 30_000;

/** The lease duration of the service, from the agents' lease folder. */
function leaseDurationS(lab: Lab, service: string): number | null {
  const [namespace, name] = service.split('/');
  try {
    return new FileLeaseStore(join(lab.runDir, 'agent', 'leases')).read(leaseNameFor(namespace!, name!))?.lease.spec.leaseDurationSeconds ?? null;
  } catch {
    return null;
  }
}

/** The node's running agent as the lab's ledger recorded it (the latest start), or null. */
function runningAgent(lab: Lab, node: string): { pid: number; argv: string[] } | null {
  const started = lab.ledger.entries().filter((e) => e.t === 'proc' && e.node === node && e.label === 'agent' && e.pid);
  const last = started.at(-1);
  if (last?.t !== 'proc' || !last.pid) return null;
  try {
    return readFileSync(`/proc/${last.pid}/cmdline`, 'utf8').includes('agent') ? { pid: last.pid, argv: last.argv } : null;
  } catch {
    return null;
  }
}

/** Every frame so far on the leader's announcing link, from the suite's capture of speaker links. */
async function leaderLinkFrames(lab: Lab, leader: string, target: L2Target, leaderMac: string): Promise<CapturedFrame[]> {
  for (const ifname of target.candidates.find((c) => c.node === leader)?.matching ?? []) {
    const file = captureFileName(lab.runDir, leader, ifname);
    if (existsSync(file) && (await interfaceMac(lab, leader, ifname)) === leaderMac) return readCapturedFrames(file);
  }
  return [];
}

async function neighbourMac(lab: Lab, node: string, ifname: string, ip: string): Promise<string | null> {
  const r = await lab.node(node).exec(['ip', '-j', 'neigh', 'show', 'to', ip, 'dev', ifname]);
  const [entry] = (r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : []) as Array<{ lladdr?: string }>;
  return entry?.lladdr?.toLowerCase() ?? null;
}

/** Starts the node's agent again as the lab did, then waits for its sessions, routes and announcer. */
async function restartAgent(lab: Lab, node: string, argv: string[]): Promise<void> {
  const logFile = join(lab.nodeDir(node), 'agent.log');
  const logFrom = statSync(logFile).size;
  const agent = await lab.backend.spawn(node, argv, { label: 'agent', logFile });
  agent.detach(); // the lab's teardown ends it with the node, whether or not this worker lives on
  const socket = agentStatusSocket(lab.nodeDir(node));
  const reconciled = await pollUntil(
    () => fetchStatus({ socket }, '/desired').then((s) => (s as { generation?: number }).generation ?? 0, () => 0),
    (generation) => generation > 0,
    HEAL_BOUND_MS,
  );
  if (!reconciled.met) throw new Error(`the restarted agent on ${node} did not reconcile within ${HEAL_BOUND_MS / 1000} s (see ${logFile})`);
  const announcerUp = await pollUntil(
    () => readFileSync(logFile, 'utf8').slice(logFrom),
    (log) => /l2: \{.*"event":"(follower|leader)"/.test(log),
    HEAL_BOUND_MS,
  );
  if (!announcerUp.met) throw new Error(`the restarted agent on ${node} started no L2 announcer that joined the election (see ${logFile})`);
  await timedWait(async () => {
    await lab.waitForSessions({ timeoutMs: HEAL_BOUND_MS });
    await lab.waitForRoutes(undefined, { timeoutMs: HEAL_BOUND_MS });
  });
}

defineCase('l2.failover', {
  needs: ['l2'],
  timeoutMs: 180_000,
  async run({ lab, suite, measure, artifact, skip }) {
    // Both backends record host PIDs: docker's spawn reports the command's host PID (nsenter's child).
    if (lab.backend.name !== 'netns' && lab.backend.name !== 'docker') return skip(`killing a node's agent by host PID needs the netns or docker backend (this lab runs on ${lab.backend.name})`);
    const target = fixtureL2Targets(lab, suite.fixtureDir)[0];
    if (!target) return skip('the fixture\'s cluster objects announce no IPv4 VIP over L2');
    if (target.candidates.length < 2) return skip(`the policy selects ${target.candidates.length} node(s): nobody to fail over to`);
    if (!target.client) return skip(`no host shares a segment with ${target.candidates.map((c) => c.node).join(', ')} to send ARP from`);
    const client = target.client;
    const vip = target.vip;
    const macs = await candidateMacs(lab, target);
    const clientMac = await interfaceMac(lab, client.node, client.ifname);
    measure('vip', vip);

    // Who answers now (l2.arp-leader judges that it is one node).
    const before = await pollUntil(
      () => arping(lab, client.node, client.ifname, vip, 2, 'l2-failover-before'),
      (r) => r.answered > 0,
      15_000,
      500,
    );
    const responders = Object.keys(arpExchange(arpFrames(before.value.frames), vip, clientMac).repliesBy);
    expect(responders, `exactly one MAC answers for ${vip} before the failure (${before.value.output})`).toHaveLength(1);
    const leader = macs.get(responders[0]!);
    expect(leader, `the responder ${responders[0]} is a selected node`).toBeDefined();
    const leaderMac = responders[0]!;
    measure('leader', leader!);
    // The client talks to the VIP, so it holds a neighbour entry the announcement must move.
    await lab.node(client.node).exec(['ping', '-c', '1', '-W', '2', '-I', client.ifname, vip]);
    const entryBefore = await neighbourMac(lab, client.node, client.ifname, vip);
    expect(entryBefore, `${client.node}'s neighbour entry for ${vip} before the failure`).toBe(leaderMac);

    const agent = runningAgent(lab, leader!);
    if (!agent) return skip(`no running agent of ${leader} in the lab's ledger (the speaker under test runs no agent there)`);
    const leaseS = leaseDurationS(lab, target.service) ?? DEFAULT_LEASE_S;
    // A dead holder's lease runs out at most one duration after the kill; a candidate retries
    // more often than once per duration (client-go: RetryPeriod < LeaseDuration).
    const boundMs = 2 * leaseS * 1000;
    measure('leaseDurationMs', Math.round(leaseS * 1000));
    measure('boundMs', boundMs);

    const capture = await startArpCapture(lab, client.node, client.ifname, 'l2-failover');
    const victims = processTree(agent.pid);
    measure('killedProcesses', victims.length);
    const killedAt = Date.now() / 1000;
    for (const pid of victims) signal(pid, 'SIGKILL');
    try {
      const { value: takeover } = await pollUntil(() => firstTakeover(arpFrames(capture.frames()), vip, killedAt, leaderMac), (a) => a !== null, boundMs + 10_000, 50);
      const newLeader = takeover ? macs.get(takeover.mac) : undefined;
      const failoverMs = takeover ? Math.round((takeover.ts - killedAt) * 1000) : null;
      measure('newLeader', newLeader ?? (takeover ? `not a selected node: ${takeover.mac}` : 'none'));
      measure('failoverMs', failoverMs ?? -1);
      // The bench's figure too: from the dead node's last frame (its own link's capture) to the announcement.
      const seen = takeover ? failoverFromCapture(await leaderLinkFrames(lab, leader!, target, leaderMac), parseMac(leaderMac), parseMac(takeover.mac), parseIpv4(vip)) : null;
      if (seen) measure('lastLeaderFrameToAnnouncementMs', Math.round(seen.milliseconds));
      expect(takeover, `a gratuitous ARP for ${vip} from another MAC than ${leaderMac} after ${leader} died`).not.toBeNull();
      expect(newLeader, `the announcing MAC ${takeover!.mac} belongs to a node the policy selects`).toBeDefined();
      expect(failoverMs!, `failover (kill to the first gratuitous ARP of the new MAC, ms) within ${boundMs}`).toBeLessThanOrEqual(boundMs);

      const moved = await pollUntil(() => neighbourMac(lab, client.node, client.ifname, vip), (mac) => mac === takeover!.mac, 3_000);
      measure('neighbourMoved', moved.met);
      expect(moved.value, `${client.node}'s neighbour entry for ${vip} follows the announcement`).toBe(takeover!.mac);
      await capture.finish(); // one capture of the client's link at a time: the probe below makes its own

      const after = await arping(lab, client.node, client.ifname, vip, 3, 'l2-failover-after');
      artifact(after.pcap);
      const answers = arpExchange(arpFrames(after.frames), vip, clientMac);
      measure('repliesAfter', answers.replies);
      expect(answers.repliesBy, `only ${newLeader} answers for ${vip} once ${leader} is dead`).toEqual({ [takeover!.mac]: answers.requests });
      expect(answers.requests).toBe(3);
      measure('leaseHolderAfter', leaseHolder(lab, target.service) ?? 'unknown');
    } finally {
      try {
        artifact(await capture.finish());
      } finally {
        const healStart = Date.now();
        await restartAgent(lab, leader!, agent.argv);
        measure('healS', Number(((Date.now() - healStart) / 1000).toFixed(2)));
      }
    }
    // Healed: one node answers again (the new leader keeps the lease while it lives).
    const healed = await arping(lab, client.node, client.ifname, vip, 3, 'l2-failover-healed');
    artifact(healed.pcap);
    const after = Object.keys(arpExchange(arpFrames(healed.frames), vip, clientMac).repliesBy);
    measure('leaderAfterHeal', after.map((m) => macs.get(m) ?? m).join(', '));
    expect(after, `exactly one MAC answers for ${vip} once ${leader} is back`).toHaveLength(1);
    expect(after[0], `${leader} restarted as a follower`).not.toBe(leaderMac);
  },
});
