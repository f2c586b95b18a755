// Applying and undoing one chaos fault on a running lab, through the lab's own means: `ip link`
// and nftables inside the node's namespace, signals to the PIDs its ledger recorded (never by
// name), restartDaemon for routers and the reference speaker hook for agents.
import { computeDesiredState } from '../../reference/agent/desired.ts';
import { clusterView } from '../checks/expected-routes.ts';
import { nodeInterfaces } from '../checks/sessions.ts';
import type { Lab } from '../lab/lab.ts';
import type { LedgerEntry } from '../lab/ledger.ts';
import { routerKindOf, type LabTopology } from '../lab/model.ts';
import { signal, waitForExit } from '../lab/netns.ts';
import { ownProcessAlive, procStatFields } from '../lab/proc.ts';
import { daemonProcesses, killDaemon, restartDaemon } from '../lab/restart.ts';
import { k8sNodeFor, referenceSpeakerHook } from '../lab/speakers/reference.ts';
import type { Fault, FaultTargets } from './schedule.ts';

/** Fabric routers: nodes whose own daemon answers state queries (not speaker nodes). */
export function fabricRouters(topology: LabTopology): string[] {
  return topology.nodes.filter((n) => n.kind !== 'speaker' && routerKindOf(n) !== null).map((n) => n.name);
}

/** What `lab` offers to break. `agents`: speaker nodes running the reference agent. */
export function faultTargets(lab: Lab, agents: string[]): FaultTargets {
  const { topology } = lab;
  const kindOf = (node: string) => topology.nodes.find((n) => n.name === node)?.kind;
  const links: FaultTargets['links'] = [];
  for (const l of topology.links)
    for (const end of [l.a, l.b])
      if (kindOf(end.node) !== 'bridge' && !links.some((x) => x.node === end.node && x.ifname === end.ifname)) links.push({ node: end.node, ifname: end.ifname });
  const cluster = agents.length > 0 ? clusterView(lab) : null;
  const speakers = agents.map((node) => {
    let gr = false;
    try {
      if (cluster) gr = computeDesiredState(cluster.model, cluster.ipam, k8sNodeFor(cluster.model, lab.spec(node))).bgp?.peers.some((p) => p.gracefulRestart !== undefined) ?? false;
    } catch {
      gr = false; // a node the cluster does not map: the agent would not have started either
    }
    return { node, gr };
  });
  return { links, routers: fabricRouters(topology), speakers };
}

/** Addresses of a node (link interfaces, exec-line addresses and loopback), without prefix length. */
export function nodeAddressList(topology: LabTopology, node: string, ifname?: string): string[] {
  const spec = topology.nodes.find((n) => n.name === node);
  if (!spec) return [];
  const ifs = nodeInterfaces(spec);
  const cidrs = ifname ? (ifs[ifname] ?? []) : [...Object.values(ifs).flat(), ...spec.loopback];
  return cidrs.map((c) => c.split('/')[0]!);
}

/** The other end of a link end, or null. */
export function otherEnd(topology: LabTopology, node: string, ifname: string): { node: string; ifname: string } | null {
  for (const l of topology.links) {
    if (l.a.node === node && l.a.ifname === ifname) return l.b;
    if (l.b.node === node && l.b.ifname === ifname) return l.a;
  }
  return null;
}

/**
 * Next hops the fault makes dead, as seen by `observer` (a router): paths through them must be
 * gone within the dead-next-hop bound. A link down kills both ends' addresses on that link; a
 * link to a bridge also cuts the node off from the bridge's other members. Loss kills nothing.
 */
export function deadNextHops(topology: LabTopology, fault: Fault, observer: string): Set<string> {
  if (observer === fault.node && fault.kind !== 'link-down') return new Set();
  if (fault.kind === 'loss') return new Set();
  if (fault.kind !== 'link-down') return new Set(nodeAddressList(topology, fault.node));
  const far = otherEnd(topology, fault.node, fault.ifname);
  const farIsBridge = far && topology.nodes.find((n) => n.name === far.node)?.kind === 'bridge';
  const dead = new Set(nodeAddressList(topology, fault.node, fault.ifname));
  if (far && !farIsBridge) for (const a of nodeAddressList(topology, far.node, far.ifname)) dead.add(a);
  if (far && farIsBridge && observer === fault.node) {
    dead.clear();
    for (const l of topology.links)
      for (const [end, other] of [[l.a, l.b], [l.b, l.a]] as const)
        if (end.node === far.node && other.node !== fault.node) for (const a of nodeAddressList(topology, other.node, other.ifname)) dead.add(a);
  }
  return dead;
}

/** A fault in force: undo() puts things back; residue() says what of it is still there after. */
export interface AppliedFault {
  fault: Fault;
  undo(): Promise<void>;
  residue(): Promise<string[]>;
  /** Puts things back as far as possible without waiting (SIGCONT), for an aborted run. */
  release(): void;
}

const agentPids = (entries: readonly LedgerEntry[], node: string) =>
  entries.flatMap((e) => (e.t === 'proc' && e.node === node && e.label === 'agent' && e.pid !== undefined && ownProcessAlive(e.pid, e.start) ? [e.pid] : []));

function processState(pid: number): string | null {
  return procStatFields(pid)?.[0] ?? null;
}

async function execChecked(lab: Lab, node: string, argv: string[], input?: string): Promise<string> {
  const r = await lab.backend.exec(node, argv, input === undefined ? undefined : { input });
  if (r.code !== 0) throw new Error(`on ${node}: ${argv.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const lossTable = (ifname: string) => `pp_chaos_loss_${ifname.replace(/[^A-Za-z0-9_]/g, '_')}`;

export async function applyFault(lab: Lab, fault: Fault): Promise<AppliedFault> {
  const { topology } = lab;
  const nothingToRelease = () => undefined;
  switch (fault.kind) {
    case 'link-down': {
      const { node, ifname } = fault;
      // Routes the fixture added (`ip route`, proto boot) through this interface go with it when
      // it is set down; the kernel does not bring them back, so they are put back on undo.
      const saved = [
        ...(await execChecked(lab, node, ['ip', '-o', '-4', 'route', 'show', 'proto', 'boot'])).split('\n').map((l) => ['-4', l] as const),
        ...(await execChecked(lab, node, ['ip', '-o', '-6', 'route', 'show', 'proto', 'boot'])).split('\n').map((l) => ['-6', l] as const),
      ].filter(([, l]) => l.trim() && new RegExp(`\\bdev ${ifname}\\b`).test(l));
      // Manually added IPv6 addresses are flushed on link down unless kept.
      await lab.backend.exec(node, ['sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.keep_addr_on_down=1`]);
      await execChecked(lab, node, ['ip', 'link', 'set', 'dev', ifname, 'down']);
      return {
        fault,
        release: nothingToRelease,
        undo: async () => {
          await execChecked(lab, node, ['ip', 'link', 'set', 'dev', ifname, 'up']);
          for (const [family, line] of saved) {
            const words = line.trim().split(/\s+/).filter((w) => w !== 'linkdown' && w !== 'dead');
            await execChecked(lab, node, ['ip', family, 'route', 'replace', ...words]);
          }
        },
        residue: async () => {
          const link = JSON.parse(await execChecked(lab, node, ['ip', '-j', 'link', 'show', 'dev', ifname])) as Array<{ flags?: string[] }>;
          const out = link[0]?.flags?.includes('UP') ? [] : [`${node}:${ifname} still down`];
          const now = (await execChecked(lab, node, ['ip', '-o', '-4', 'route', 'show', 'proto', 'boot'])) + (await execChecked(lab, node, ['ip', '-o', '-6', 'route', 'show', 'proto', 'boot']));
          for (const [, line] of saved) {
            const dest = line.trim().split(/\s+/)[0]!;
            if (!now.split('\n').some((l) => l.trim().split(/\s+/)[0] === dest)) out.push(`${node}: route ${line.trim()} not restored`);
          }
          return out;
        },
      };
    }
    case 'loss': {
      const far = otherEnd(topology, fault.node, fault.ifname);
      const ends = [{ node: fault.node, ifname: fault.ifname }];
      if (far && topology.nodes.find((n) => n.name === far.node)?.kind !== 'bridge') ends.push(far);
      // Ingress on both ends: the loss hits both directions (this kernel has no netem).
      for (const end of ends) {
        const rules = `table netdev ${lossTable(end.ifname)} {\n  chain loss {\n    type filter hook ingress device "${end.ifname}" priority 0;\n    numgen random mod 100 < ${fault.percent} drop\n  }\n}\n`;
        await execChecked(lab, end.node, ['nft', '-f', '-'], rules);
      }
      const present = async () => {
        const out: string[] = [];
        for (const end of ends) {
          const tables = await execChecked(lab, end.node, ['nft', 'list', 'tables', 'netdev']);
          if (tables.includes(lossTable(end.ifname))) out.push(`${end.node}: nftables table netdev ${lossTable(end.ifname)} still there`);
        }
        return out;
      };
      return {
        fault,
        release: nothingToRelease,
        undo: async () => {
          for (const end of ends) await execChecked(lab, end.node, ['nft', 'delete', 'table', 'netdev', lossTable(end.ifname)]);
        },
        residue: present,
      };
    }
    case 'daemon-kill': {
      const before = (await killDaemon(lab, fault.node)).map((p) => p.label).sort();
      return {
        fault,
        release: nothingToRelease,
        undo: async () => void (await restartDaemon(lab, fault.node)),
        residue: async () => {
          const now = daemonProcesses(lab.ledger.entries(), fault.node).map((p) => p.label).sort();
          return now.join() === before.join() ? [] : [`${fault.node}: daemons running ${now.join(', ') || 'none'}, before the kill ${before.join(', ')}`];
        },
      };
    }
    case 'daemon-stop': {
      const procs = daemonProcesses(lab.ledger.entries(), fault.node);
      if (procs.length === 0) throw new Error(`node ${fault.node}: the ledger lists no live daemon process to stop`);
      for (const p of procs) signal(p.pid, 'SIGSTOP');
      const cont = () => {
        for (const p of procs) if (ownProcessAlive(p.pid, p.start)) signal(p.pid, 'SIGCONT');
      };
      return {
        fault,
        release: cont,
        undo: async () => cont(),
        residue: async () => procs.flatMap((p) => (processState(p.pid) === 'T' ? [`${fault.node}: ${p.label} pid ${p.pid} still stopped`] : [])),
      };
    }
    case 'speaker-restart': {
      const pids = agentPids(lab.ledger.entries(), fault.node);
      if (pids.length === 0) throw new Error(`node ${fault.node}: the ledger lists no live agent process`);
      // SIGTERM: the agent sends Cease and removes what it added. SIGKILL: a crash, its sockets
      // closed by the kernel; peers that negotiated graceful restart keep its routes stale.
      for (const pid of pids) signal(pid, fault.graceful ? 'SIGKILL' : 'SIGTERM');
      const stuck = await waitForExit(pids, 10_000);
      for (const pid of stuck) signal(pid, 'SIGKILL');
      if (stuck.length > 0 && (await waitForExit(stuck, 5000)).length > 0) throw new Error(`node ${fault.node}: agent pids ${stuck.join(', ')} survived SIGKILL`);
      return {
        fault,
        release: nothingToRelease,
        undo: async () => {
          const spec = lab.spec(fault.node);
          const started = await referenceSpeakerHook()({ ...lab.kindContext(spec), runDir: lab.runDir, topology });
          for (const p of started) p.detach();
        },
        residue: async () => (agentPids(lab.ledger.entries(), fault.node).length === 1 ? [] : [`${fault.node}: ${agentPids(lab.ledger.entries(), fault.node).length} agent processes running, expected 1`]),
      };
    }
  }
}
