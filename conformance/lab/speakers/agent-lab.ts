// Lab test support for the reference agent's own tests: bring a fixture up with `peerproof agent`
// on chosen speaker nodes, wait for the agents, poll until a condition holds. Tests only.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDesired, agentStatus, referenceSpeakerHook, type ReferenceSpeakerOptions } from './reference.ts';
import type { BackendProcess } from '../backend.ts';
import { startLab, type Lab, type SpeakerHook } from '../lab.ts';
import { expect } from 'vitest';
import { pollUntil } from '../poll.ts';
import { leftovers } from '../teardown.ts';

export const fixturePath = (name: string): string => new URL(`../../../fixtures/${name}/`, import.meta.url).pathname;

export { agentDesired, agentStatus };

export function makeRunsRoot(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'pp-agent-'));
  chmodSync(path, 0o755); // FRR runs as user frr and must reach its node folders
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Starts a fixture with the reference agent on `nodes` (the other speaker nodes keep their
 * stand-in). `processes`, when given, receives each node's agent process (to signal it).
 */
export async function startAgentLab(
  fixture: string,
  nodes: string[],
  runsRoot: string,
  options: ReferenceSpeakerOptions = {},
  processes?: Map<string, BackendProcess>,
): Promise<Lab> {
  const inner = referenceSpeakerHook(options);
  const hook: SpeakerHook = async (ctx) => {
    const started = await inner(ctx);
    processes?.set(ctx.node.name, started[0]!);
    return started;
  };
  return startLab(fixturePath(fixture), { runsRoot, wait: false, timeoutMs: 30_000, speakers: Object.fromEntries(nodes.map((n) => [n, hook])) });
}

/** Waits until each agent has applied the cluster folder once (its status socket answers). */
export async function waitForAgents(lab: Lab, nodes: string[]): Promise<void> {
  for (const node of nodes) {
    await eventually(`agent on ${node} reconciled (log: ${join(lab.nodeDir(node), 'agent.log')})`, async () => {
      const status = await agentDesired(lab, node);
      return status.generation > 0 ? status : undefined;
    });
  }
}

export function agentLog(lab: Lab, node: string): string {
  const file = join(lab.nodeDir(node), 'agent.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '(no agent log)';
}

/** Polls `probe` every 250 ms (pollUntil) until it returns a value that is not undefined; throws with `what` and the last error. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const { value, met } = await pollUntil(() => probe().catch((err: Error) => err), (v) => v !== undefined && !(v instanceof Error), timeoutMs, 250);
  if (!met) throw new Error(`timed out waiting for ${what}${value instanceof Error ? `: ${value.message}` : ''}`);
  return value as T;
}

/** Next hops of a prefix in a node's kernel FIB (empty when absent). */
export async function fibNexthops(lab: Lab, node: string, prefix: string): Promise<string[]> {
  const route = (await lab.node(node).fib()).find((r) => r.prefix === prefix);
  return route ? [...route.nexthops].sort() : [];
}

/** Stops a lab of agents, proves nothing of it is left, and removes its runs folder. */
export async function stopAgentLab(lab: Lab | undefined, nodes: readonly string[], runs: { remove: () => void }): Promise<void> {
  if (process.env.PP_AGENT_LOGS && lab) for (const n of nodes) console.log(n, agentLog(lab, n));
  const runDir = lab?.runDir;
  try {
    await lab?.stop();
    if (runDir) expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
  } finally {
    runs.remove();
  }
}
