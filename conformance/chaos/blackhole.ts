// The no-blackhole property: real probe flows (UDP, traffic/udp-probe.ts, several source ports
// per source address and target so ECMP spreads them) run through the whole chaos run; per fault,
// the longest time a flow went without a reply must stay within the bound, unless the fault itself
// cut every way from the flow's source to every node answering for its target (a single-homed
// node's only link down, its speaker restarted). Pure judging (outage, cut-off, verdict) plus the
// probes' start and stop on a lab.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterView, expectedRoutes, podPrefixOf } from '../checks/expected-routes.ts';
import { nodeInterfaces, speakerSessions } from '../checks/sessions.ts';
import type { BackendProcess } from '../lab/backend.ts';
import type { Lab } from '../lab/lab.ts';
import { isDaemonKind, type LabTopology } from '../lab/model.ts';
import { pollUntil } from '../lab/poll.ts';
import { addPod, addressIn, type Pod } from '../traffic/pods.ts';
import { tsxCommand } from '../traffic/run-flows.ts';
import { probeReplies } from '../traffic/udp-probe.ts';
import { fabricRouters } from './faults.ts';
import type { Verdict } from './properties.ts';
import type { Fault } from './schedule.ts';

const PROBE_INTERVAL_MS = 200;
const PROBE_PORT = 9797;
/** Flows (source ports) per source address and target. */
const FLOWS_PER_PAIR = 6;

export interface ProbeFlow {
  id: string;
  /** The topology node the flow leaves from (a pod's node for a pod's flow). */
  source: string;
  /** The link interface holding the flow's source address (router sources): replies come back to it. */
  sourceIfname?: string;
  target: string;
  /** Topology nodes that answer for `target` (hold it on lo, or host the pod holding it). */
  receivers: string[];
}

/**
 * The longest stretch inside [from, to] (unix seconds) with no reply: between two consecutive
 * replies, before the first one in the window (from the last reply before it), or after the
 * last one (until `to`). A healthy flow shows about one probe interval. `since`: when the
 * stretch really began (the last reply before it; -Infinity: never answered), which is before
 * `from` for a flow that was black-holed already when the window opened.
 */
export function longestOutage(replies: readonly number[], from: number, to: number): { seconds: number; at: number; since: number } {
  let best = { seconds: 0, at: from, since: from };
  let prev = -Infinity;
  for (const t of [...replies, Infinity]) {
    const a = Math.max(prev, from);
    const b = Math.min(t, to);
    if (b - a > best.seconds) best = { seconds: b - a, at: a, since: prev };
    prev = t;
    if (t >= to) break;
  }
  return { ...best, seconds: Number(best.seconds.toFixed(1)) };
}

/** "from +Xs" into the window, or how long before it the flow last answered (a black hole carried over from earlier). */
function outageStart(o: { at: number; since: number }, from: number): string {
  return o.since < from - 1 ? `no reply since ${(from - o.since).toFixed(1)}s before the fault` : `from +${(o.at - from).toFixed(1)}s`;
}

/**
 * Whether `fault` leaves no way from the flow's source to any of its receivers: the topology
 * with the downed link removed, or the killed/stopped router or restarted speaker taken out
 * (the same things no-dead-nexthop counts as dead). Only routers and bridges carry traffic
 * through, and a way counts only through a router; speaker and host nodes are ends. The link of the flow's source address down cuts it too (the
 * address goes with its link, so replies have nowhere to go). Loss cuts nothing.
 */
export function flowCut(topology: LabTopology, flow: ProbeFlow, fault: Fault): boolean {
  if (fault.kind === 'loss') return false;
  const gone = fault.kind === 'link-down' ? null : fault.node;
  if (gone === flow.source) return true;
  const isDown = (l: LabTopology['links'][number]) => fault.kind === 'link-down' && [l.a, l.b].some((e) => e.node === fault.node && e.ifname === fault.ifname);
  if (topology.links.some((l) => isDown(l) && [l.a, l.b].some((e) => e.node === flow.source && e.ifname === flow.sourceIfname))) return true;
  const receivers = new Set(flow.receivers.filter((r) => r !== gone));
  const kindOf = new Map(topology.nodes.map((n) => [n.name, n.kind]));
  // A speaker's traffic to another node goes through a router (its BGP next hop), never straight
  // across a shared bridge: a receiver counts only once a router is on the way. A host does not forward.
  const isRouter = (n: string) => isDaemonKind(kindOf.get(n) ?? '');
  const seen = new Set<string>();
  const queue: Array<[string, boolean]> = [[flow.source, isRouter(flow.source)]];
  for (let i = 0; i < queue.length; i++) {
    const [here, routed] = queue[i]!;
    if (routed && receivers.has(here)) return false;
    if (i > 0 && (kindOf.get(here) === 'speaker' || kindOf.get(here) === 'host')) continue; // an end; only the source sends on
    for (const l of topology.links) {
      const next = l.a.node === here ? l.b.node : l.b.node === here ? l.a.node : null;
      if (isDown(l) || next === null || next === gone) continue;
      const state: [string, boolean] = [next, routed || isRouter(next)];
      if (seen.has(state.join(' '))) continue;
      seen.add(state.join(' '));
      queue.push(state);
    }
  }
  return true;
}

/** The no-blackhole verdict of one fault over [from, to] (unix seconds). */
export function blackholeVerdict(
  topology: LabTopology,
  flows: readonly ProbeFlow[],
  repliesOf: (flow: ProbeFlow) => readonly number[],
  fault: Fault,
  window: { from: number; to: number },
  boundS: number,
): Verdict {
  const cut = flows.filter((f) => flowCut(topology, f, fault));
  const judged = flows.filter((f) => !cut.includes(f)).map((f) => ({ f, ...longestOutage(repliesOf(f), window.from, window.to) }));
  const over = judged.filter((j) => j.seconds > boundS).sort((a, b) => b.seconds - a.seconds);
  const seconds = Math.max(0, ...judged.map((j) => j.seconds));
  const notJudged = cut.length > 0 ? `; ${cut.length} cut off by the fault, not judged (${cut.map((f) => f.id).join(', ')})` : '';
  const detail =
    over.length === 0
      ? `longest time without a reply ${seconds}s over ${judged.length} flows (bound ${boundS}s)${notJudged}`
      : `black-holed past ${boundS}s: ${over.map((j) => `${j.f.id} ${j.seconds}s ${outageStart(j, window.from)}`).join('; ')}${notJudged}`;
  return { property: 'no-blackhole', faultId: fault.id, held: over.length === 0, detail, seconds };
}

export interface Probes {
  flows: ProbeFlow[];
  /** Flows that never answered before the first fault (not judged). */
  unanswered: string[];
  verdict(fault: Fault, window: { from: number; to: number }, boundS: number): Verdict;
  stop(): Promise<void>;
}

/** Addresses on `lo` of a node, IPv4, but 127/8: the VIPs the agent put there. */
async function loopbackVips(lab: Lab, node: string): Promise<string[]> {
  const r = await lab.node(node).exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo']);
  return [...r.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!).filter((a) => !a.startsWith('127.'));
}

/** Offset of the probe pod's address inside a node's pod prefix. */
const POD_OFFSET = 200;
const script = fileURLToPath(new URL('../traffic/udp-probe.ts', import.meta.url));

/**
 * Starts the probe flows on a converged lab. Targets: a pod in every agent node whose pod prefix
 * it announces, and every VIP the agents hold on lo, each with an echo responder. Sources: the
 * pods (east-west; their addresses are routed by BGP, so replies find their way back) when there
 * are any, else every fabric router from each of its IPv4 addresses. Waits up to `answerS` for
 * every flow's first reply; those that never answer are listed, not judged.
 */
export async function startProbes(lab: Lab, agents: string[], answerS: number): Promise<Probes> {
  const cluster = agents.length > 0 ? clusterView(lab) : null;
  const announced = new Map<string, Set<string>>();
  for (const s of speakerSessions(lab.topology))
    if (agents.includes(s.speakerNode)) for (const p of expectedRoutes(lab, s, true, cluster).prefixes) (announced.get(s.speakerNode) ?? announced.set(s.speakerNode, new Set()).get(s.speakerNode)!).add(p);
  const pods: Pod[] = [];
  const procs: BackendProcess[] = [];
  const flows: Array<ProbeFlow & { log: string; port: number }> = [];
  let nextPort = 40_000;
  try {
    for (const node of agents) {
      const prefix = podPrefixOf(lab, node, cluster);
      if (prefix && announced.get(node)?.has(prefix)) pods.push(await addPod(lab, node, addressIn(prefix, POD_OFFSET)));
    }
    const vipHolders = new Map<string, string[]>();
    for (const node of agents) for (const vip of await loopbackVips(lab, node)) vipHolders.set(vip, [...(vipHolders.get(vip) ?? []), node]);
    const echo = tsxCommand(script, ['echo', String(PROBE_PORT)]);
    for (const p of pods) procs.push(await lab.backend.spawn(p.podNode, echo, { label: 'probe-echo', logFile: join(lab.nodeDir(p.node), `probe-echo-${p.address}.log`) }));
    for (const node of new Set([...vipHolders.values()].flat())) procs.push(await lab.spawn(node, echo, { label: 'probe-echo', logFile: join(lab.nodeDir(node), 'probe-echo.log') }));
    const targets = [...pods.map((p) => ({ address: p.address, receivers: [p.node] })), ...[...vipHolders].map(([address, receivers]) => ({ address, receivers }))];
    // One prober per source (a pod, or a router's address) for all its targets, one log.
    const start = async (node: string, backendNode: string, name: string, to: typeof targets, from?: { address: string; ifname?: string }) => {
      if (to.length === 0) return;
      const first = nextPort;
      nextPort += FLOWS_PER_PAIR * to.length;
      const log = join(lab.nodeDir(node), `probe-${from?.address ?? name.replace(/^pod /, '')}.log`);
      const argv = tsxCommand(script, ['probe', String(PROBE_PORT), String(FLOWS_PER_PAIR), String(first), String(PROBE_INTERVAL_MS), from?.address ?? '-', ...to.map((t) => t.address)]);
      procs.push(await (backendNode === node ? lab.spawn(node, argv, { label: 'probe', logFile: log }) : lab.backend.spawn(backendNode, argv, { label: 'probe', logFile: log })));
      to.forEach((t, i) => {
        for (let port = first + i * FLOWS_PER_PAIR; port < first + (i + 1) * FLOWS_PER_PAIR; port++)
          flows.push({ id: `${name}:${port} -> ${t.address}`, source: node, ...(from?.ifname ? { sourceIfname: from.ifname } : {}), target: t.address, receivers: t.receivers, log, port });
      });
    };
    if (pods.length > 0) for (const p of pods) await start(p.node, p.podNode, `pod ${p.address}`, targets.filter((t) => t.address !== p.address));
    else
      for (const router of fabricRouters(lab.topology))
        for (const [ifname, cidrs] of [...Object.entries(nodeInterfaces(lab.spec(router))), ['', lab.spec(router).loopback] as const])
          for (const address of cidrs.map((c) => c.split('/')[0]!).filter(isIPv4)) await start(router, router, `${router} ${address}`, targets, { address, ...(ifname ? { ifname } : {}) });
  } catch (err) {
    await stopAll(procs, pods);
    throw err;
  }
  const readers = new Map([...new Set(flows.map((f) => f.log))].map((log) => [log, replyReader(log)]));
  const read = (f: ProbeFlow) => {
    const { log, port } = f as (typeof flows)[number];
    return readers.get(log)!().get(port) ?? [];
  };
  await pollUntil(() => flows.filter((f) => read(f).length > 0).length, (n) => n === flows.length, answerS * 1000, 500);
  const unanswered = flows.filter((f) => read(f).length === 0).map((f) => f.id);
  const judged = flows.filter((f) => !unanswered.includes(f.id));
  return {
    flows: judged,
    unanswered,
    verdict: (fault, window, boundS) => blackholeVerdict(lab.topology, judged, read, fault, window, boundS),
    stop: () => stopAll(procs, pods),
  };
}

/** Reply times per source port of a growing probe log, read on from where the last call stopped (whole lines only). */
function replyReader(file: string): () => Map<number, number[]> {
  const times = new Map<number, number[]>();
  let offset = 0;
  return () => {
    if (!existsSync(file)) return times;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
      const n = readSync(fd, buf, 0, buf.length, offset);
      const end = buf.subarray(0, n).lastIndexOf(10) + 1;
      offset += end;
      for (const [port, ts] of probeReplies(buf.subarray(0, end).toString('utf8'))) (times.get(port) ?? times.set(port, []).get(port)!).push(...ts);
    } finally {
      closeSync(fd);
    }
    return times;
  };
}

async function stopAll(procs: BackendProcess[], pods: Pod[]): Promise<void> {
  // The probes first: a pod's namespace is deleted by remove(), which would orphan what runs in it.
  await Promise.allSettled(procs.splice(0).map((p) => p.stop('SIGTERM', 2000)));
  await Promise.allSettled(pods.splice(0).map((p) => p.remove()));
}
