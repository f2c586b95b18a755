// Runs the flow generator inside a lab node, refusing targets outside the lab's own addresses
// (configured, announced, or placed by the cluster's IPAM: VIPs and pod addresses).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { nodeInterfaces, sameSubnet } from '../checks/sessions.ts';
import { helperFailure } from '../lab/harness-error.ts';
import { labClusterDir } from '../lab/speakers/reference.ts';
import type { Lab } from '../lab/lab.ts';
import type { FlowPlan } from './udp-flows.ts';

const script = fileURLToPath(new URL('./udp-flows.ts', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/**
 * Every address (without length) configured or announced anywhere in the lab's topology, plus
 * what the cluster puts inside the lab: the VIPs LB-IPAM gave services and the nodes' PodCIDRs
 * (from the agents' cluster copy when the reference runs, else the fixture's cluster/).
 */
export function labAddresses(lab: Lab): Set<string> {
  const out = new Set<string>();
  for (const n of lab.topology.nodes) {
    for (const a of [...Object.values(nodeInterfaces(n)).flat(), ...n.loopback, ...n.announce]) out.add(a.split('/')[0]!);
  }
  return out;
}

/** Prefixes inside which every address belongs to the lab: announced prefixes, PodCIDRs, LB pools' VIPs. */
export function labPrefixes(lab: Lab): string[] {
  const prefixes = lab.topology.nodes.flatMap((n) => n.announce);
  const clusterDir = labClusterDir(lab);
  if (clusterDir) {
    try {
      const model = loadClusterFolder(clusterDir);
      const ipam = allocateCluster(model);
      prefixes.push(...Object.values(ipam.podCidrs).flat(), ...model.nodes.flatMap((n) => n.podCIDRs));
      prefixes.push(...ipam.services.flatMap((s) => s.addresses.map((a) => a.address)));
    } catch {
      // a cluster folder the reference cannot read adds nothing (the lab's own addresses still count)
    }
  }
  return prefixes;
}

/** Whether traffic to `address` stays inside the lab (an address or prefix of it holds it). */
export function isLabAddress(lab: Lab, address: string): boolean {
  if (labAddresses(lab).has(address)) return true;
  return labPrefixes(lab).some((p) => (p.includes('/') ? sameSubnet(p, address) : p === address));
}

/** argv running one of the project's TypeScript programs (a lab node has no build of it). */
export function tsxCommand(file: string, args: readonly string[]): string[] {
  return [process.execPath, tsxCli, file, ...args];
}

/** The flow generator's argv (exported so a test can break it on purpose). */
export function flowsCommand(plan: FlowPlan): string[] {
  return tsxCommand(script, [plan.target, String(plan.port), String(plan.flows), String(plan.firstSourcePort), String(plan.rounds)]);
}

/**
 * Sends the plan's flows from `node`. The generator ignores send errors (a datagram the fabric
 * drops is counted by the receiver), so a non-zero exit or unreadable output is the harness's
 * fault: a HarnessError (the case is `broken`) with the generator's output in a log file.
 */
export async function runFlows(lab: Lab, node: string, plan: FlowPlan, argv: string[] = flowsCommand(plan)): Promise<number> {
  if (!isLabAddress(lab, plan.target)) throw new Error(`flow target ${plan.target} is not an address of lab ${lab.runId}`);
  const result = await lab.node(node).exec(argv);
  const logFile = join(lab.nodeDir(node), `udp-flows-${plan.firstSourcePort}.log`);
  const details = { argv, code: result.code, stdout: result.stdout, stderr: result.stderr };
  if (result.code !== 0) throw helperFailure(`flow generator in ${node} failed (exit ${result.code})`, logFile, details);
  try {
    return (JSON.parse(result.stdout.trim().split('\n').pop()!) as { sent: number }).sent;
  } catch {
    throw helperFailure(`flow generator in ${node} printed no result`, logFile, details);
  }
}
