// Crash and restart one router node's daemon in a running lab: SIGKILL by the PIDs its ledger
// recorded (never by name: other labs run the same daemons), then start it again from the
// configs already rendered in its node folder. Works on a lab this process only attached to
// (a case): the new processes go into the ledger, so the owning lab's teardown removes them too.
import type { BackendProcess } from './backend.ts';
import { daemonKinds } from './kinds/index.ts';
import type { Lab } from './lab.ts';
import type { LedgerEntry } from './ledger.ts';
import { routerKindOf } from './model.ts';
import { signal, waitForExit } from './netns.ts';
import { ownProcessAlive } from './proc.ts';

export interface DaemonProcess {
  pid: number;
  label: string;
  /** Its start time as the ledger recorded it (ownProcessAlive tells a recycled PID apart with it). */
  start?: string;
}

/** Ledger labels of the routing daemons the lab kinds start (captures, relays and hooks are not). */
const DAEMON_LABELS = new Set(['zebra', 'bgpd', 'staticd', 'gobgpd', 'bird']);

/** Live daemon processes of `node` according to the ledger (captures and helpers excluded). */
export function daemonProcesses(entries: readonly LedgerEntry[], node: string, alive: (pid: number, start?: string) => boolean = ownProcessAlive): DaemonProcess[] {
  const out: DaemonProcess[] = [];
  for (const e of entries) {
    if (e.t !== 'proc' || e.node !== node || e.pid === undefined) continue;
    if (!DAEMON_LABELS.has(e.label)) continue;
    if (alive(e.pid, e.start) && !out.some((p) => p.pid === e.pid)) out.push({ pid: e.pid, label: e.label, start: e.start });
  }
  return out;
}

function daemonKindOf(lab: Lab, node: string) {
  const kind = routerKindOf(lab.spec(node));
  if (!kind) throw new Error(`node ${node} runs no routing daemon (kind ${lab.spec(node).kind})`);
  return daemonKinds[kind];
}

/** SIGKILLs every daemon process of `node` and waits until they are gone; returns what it killed. */
export async function killDaemon(lab: Lab, node: string): Promise<DaemonProcess[]> {
  daemonKindOf(lab, node);
  const victims = daemonProcesses(lab.ledger.entries(), node);
  if (victims.length === 0) throw new Error(`node ${node}: the ledger lists no live daemon process to kill`);
  for (const p of victims) signal(p.pid, 'SIGKILL');
  const stuck = await waitForExit(victims.map((p) => p.pid), 5000);
  if (stuck.length > 0) throw new Error(`node ${node}: pids ${stuck.join(', ')} survived SIGKILL for 5 s`);
  return victims;
}

/**
 * Starts `node`'s daemon again with the configs rendered at bring-up (not re-rendered: a case
 * may have changed nothing, and a restarted router keeps its configuration). The processes are
 * detached from this process, so a case worker can exit while the lab's owner keeps them; a lab
 * being stopped refuses the restart (Lab.startLate).
 */
export async function restartDaemon(lab: Lab, node: string): Promise<BackendProcess[]> {
  const kind = daemonKindOf(lab, node);
  const ctx = lab.kindContext(lab.spec(node));
  const started = await lab.startLate(async () => {
    const running = daemonProcesses(lab.ledger.entries(), node);
    if (running.length > 0) throw new Error(`node ${node}: daemon still running (${running.map((p) => `${p.label} ${p.pid}`).join(', ')}); kill it first`);
    return kind.start(ctx);
  });
  for (const p of started) p.detach();
  await kind.afterStart?.(ctx);
  return started;
}
