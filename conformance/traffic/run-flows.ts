// Runs the flow generator inside a lab node, refusing targets outside the lab's own addresses.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nodeInterfaces } from '../checks/sessions.ts';
import type { Lab } from '../lab/lab.ts';
import type { FlowPlan } from './udp-flows.ts';

const script = fileURLToPath(new URL('./udp-flows.ts', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/** Every address (without length) configured or announced anywhere in the lab's topology. */
export function labAddresses(lab: Lab): Set<string> {
  const out = new Set<string>();
  for (const n of lab.topology.nodes) {
    for (const a of [...Object.values(nodeInterfaces(n)).flat(), ...n.loopback, ...n.announce]) out.add(a.split('/')[0]!);
  }
  return out;
}

export async function runFlows(lab: Lab, node: string, plan: FlowPlan): Promise<number> {
  if (!labAddresses(lab).has(plan.target)) throw new Error(`flow target ${plan.target} is not an address of lab ${lab.runId}`);
  const argv = [process.execPath, tsxCli, script, plan.target, String(plan.port), String(plan.flows), String(plan.firstSourcePort), String(plan.rounds)];
  const result = await lab.node(node).exec(argv);
  if (result.code !== 0) throw new Error(`flow generator in ${node} failed (${result.code}): ${result.stderr.trim()}`);
  return (JSON.parse(result.stdout.trim().split('\n').pop()!) as { sent: number }).sent;
}
