// The reference speaker under test: `peerproof agent` in each speaker node, driven by the
// fixture's cluster/ objects. Topology nodes map to Kubernetes nodes (see k8sNodeFor); all agents
// of a run share one copy of the cluster folder (tests edit the copy, never the fixture), one
// IPAM state folder and one L2 lease folder under <run>/agent/.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClusterFolder } from '../../../reference/k8s/load.ts';
import type { ClusterModel } from '../../../reference/k8s/model.ts';
import type { AgentStatus } from '../../../reference/agent/agent.ts';
import { fetchStatus } from '../../../reference/bgp/status.ts';
import { nodeAddresses } from '../exec-lines.ts';
import type { BackendProcess } from '../backend.ts';
import type { Lab, SpeakerHook } from '../lab.ts';
import type { LabNode } from '../model.ts';

const PEERPROOF_BIN = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));

/** Label on a Node object naming the topology node it runs as (when the names differ). */
export const LAB_NODE_LABEL = 'peerproof.io/lab-node';

export interface ReferenceSpeakerOptions {
  /** Cluster folder to copy into the run (default: the fixture's cluster/). */
  clusterDir?: string;
  /** Topology node -> Kubernetes node name, overriding the automatic mapping. */
  k8sNodes?: Record<string, string>;
  /** Peers' connect-retry in seconds (default 1, the lab's own timers). */
  connectRetrySeconds?: number;
}

/** The cluster folder the agents of a run watch (a copy; edit it to make them reconverge). */
export function agentClusterDir(runDir: string): string {
  return join(runDir, 'agent', 'cluster');
}

/**
 * The cluster folder the lab's speakers run from: the agents' copy when the reference runs, else
 * the fixture's cluster/ (a stand-in speaker's `announce:` was derived from it). A lab attached
 * from its run folder (as cases get it) has no Fixture object, only the topology's folder.
 */
export function labClusterDir(lab: Pick<Lab, 'runDir' | 'topology' | 'fixture'>): string | undefined {
  const copy = agentClusterDir(lab.runDir);
  if (existsSync(copy)) return copy;
  const dir = lab.fixture?.clusterDir ?? (lab.topology.dir ? join(lab.topology.dir, 'cluster') : undefined);
  return dir && existsSync(dir) ? dir : undefined;
}

/** The agent's status API socket for a node folder (`lab.nodeDir(name)`). */
export function agentStatusSocket(nodeDir: string): string {
  return join(nodeDir, 'agent.sock');
}

/** GET `path` from the reference agent of a lab node (its status API). */
export function agentStatus<T = unknown>(lab: Lab, node: string, path: string): Promise<T> {
  return fetchStatus({ socket: agentStatusSocket(lab.nodeDir(node)) }, path) as Promise<T>;
}

/** What the agent of a lab node wants on the wire and in the kernel (its /desired view). */
export function agentDesired(lab: Lab, node: string): Promise<AgentStatus & { node: string }> {
  return agentStatus(lab, node, '/desired');
}

/**
 * Which Kubernetes node a topology node is: an explicit mapping, else the Node labelled
 * `peerproof.io/lab-node: <topology name>`, else the node of that name, else the node (or BGP
 * instance node, Anthos names nodes by address) whose address the topology node carries.
 */
export function k8sNodeFor(model: ClusterModel, node: LabNode, explicit: Record<string, string> = {}): string {
  if (explicit[node.name]) return explicit[node.name]!;
  const labelled = model.nodes.filter((n) => n.labels[LAB_NODE_LABEL] === node.name);
  if (labelled.length === 1) return labelled[0]!.name;
  const names = new Set([...model.nodes.map((n) => n.name), ...model.bgpInstances.map((i) => i.node)]);
  if (names.has(node.name)) return node.name;
  const carried = new Set(Object.values(nodeAddresses(node)).flat().map((a) => a.split('/')[0]!));
  const byAddress = [...names].filter(
    (name) => carried.has(name) || model.nodes.some((n) => n.name === name && n.addresses.internalIPs.some((a) => carried.has(a))),
  );
  if (byAddress.length === 1) return byAddress[0]!;
  throw new Error(
    `topology node ${node.name}: no Kubernetes node maps to it (${byAddress.length > 1 ? `several match: ${byAddress.join(', ')}` : 'none matches'}); ` +
      `label a Node "${LAB_NODE_LABEL}: ${node.name}" or pass k8sNodes`,
  );
}

export function referenceSpeakerHook(options: ReferenceSpeakerOptions = {}): SpeakerHook {
  return async ({ backend, node, dir, runDir, topology }) => {
    const source = options.clusterDir ?? (topology.dir ? join(topology.dir, 'cluster') : undefined);
    if (!source || !existsSync(source)) throw new Error(`reference speaker on ${node.name}: no cluster folder (fixture ${topology.name} has no cluster/)`);
    const clusterDir = agentClusterDir(runDir);
    if (!existsSync(clusterDir)) cpSync(source, clusterDir, { recursive: true });
    const k8sNode = k8sNodeFor(loadClusterFolder(clusterDir), node, options.k8sNodes);
    const stateDir = join(runDir, 'agent', 'state');
    const leaseDir = join(runDir, 'agent', 'leases');
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(leaseDir, { recursive: true });
    const argv = [
      process.execPath, PEERPROOF_BIN, 'agent',
      '--cluster', clusterDir, '--node', k8sNode,
      '--state-dir', stateDir, '--lease-dir', leaseDir,
      '--status', agentStatusSocket(dir),
      '--connect-retry', String(options.connectRetrySeconds ?? 1),
      // a container is the node's own namespace, but not one the agent can recognise as a lab's
      ...(backend.name === 'netns' ? [] : ['--any-namespace']),
    ];
    return [await backend.spawn(node.name, argv, { label: 'agent', logFile: join(dir, 'agent.log') })];
  };
}

/**
 * Starts the standalone reference speaker (`peerproof speaker --config`) in a lab node, the lab
 * owning the process: `config` (speaker YAML) goes to `<node dir>/<label>.yaml`, its output to
 * `<label>.log`. For cases that configure the speaker under test themselves (peers, timers, TTL)
 * instead of from a cluster folder; `args` are extra command-line words (`--restarting`).
 */
export async function startReferenceSpeaker(lab: Lab, node: string, config: string, opts: { label?: string; args?: string[] } = {}): Promise<BackendProcess> {
  const label = opts.label ?? 'speaker';
  const dir = lab.ledger.nodeDir(node);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `${label}.yaml`);
  writeFileSync(configFile, config);
  return lab.spawn(node, [process.execPath, PEERPROOF_BIN, 'speaker', '--config', configFile, ...(opts.args ?? [])], { label, logFile: join(dir, `${label}.log`) });
}

