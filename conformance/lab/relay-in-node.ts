// Starting our TCP relay (tcp-relay.ts) inside a lab node, as negative.malformed-update does to
// take a router's place: a relay that cannot start, exits before it listens or never listens is
// the harness's failure (HarnessError with the relay's log), never the speaker's.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pollHarness } from '../checks/captured.ts';
import type { BackendProcess } from './backend.ts';
import { helperFailure } from './harness-error.ts';
import type { Lab } from './lab.ts';
import { typescriptCommand } from './process-output.ts';

const RELAY = fileURLToPath(new URL('./tcp-relay.ts', import.meta.url));

export interface RelayInNode {
  process: BackendProcess;
  /** How it ended ("exit N") when it exited before it was stopped, else null. */
  exit(): string | null;
  stop(): Promise<void>;
}

/**
 * The relay's arguments for standing in for `local` (a router's address) toward `remote` (a speaker)
 * both ways: it accepts `remote`'s connections to `local`:179 and hands each to the next client of
 * `acceptSocket`, and gives each client of `dialSocket` a new connection from `local` to
 * `remote`:179. Wait for `dialSocket` (the last one it creates) to know both listen.
 */
export function relayArgs(local: string, remote: string, acceptSocket: string, dialSocket: string): string[] {
  return ['--to', `${remote}:179`, '--from', remote, '--in', `${local}:179=${acceptSocket}`, '--out', `${local}=${dialSocket}`];
}

/** Starts the relay in `node` with `args` and waits (harness time) until its socket exists. */
export async function startRelay(lab: Lab, node: string, args: string[], socketPath: string, logFile: string): Promise<RelayInNode> {
  const started = await lab.backend.spawn(node, typescriptCommand(RELAY, args), { label: 'tcp-relay', logFile }).catch((err: Error) => {
    throw helperFailure(`TCP relay could not be started in ${node}: ${err.message}`, logFile);
  });
  let exit: string | null = null;
  let stopped = false;
  void started.exited.then((code) => {
    if (!stopped) exit = `exit ${code}`;
  });
  const listening = await pollHarness(() => exit !== null || existsSync(socketPath), (x) => x, 15_000, 50);
  if (exit !== null) throw helperFailure(`TCP relay in ${node} exited before listening (${exit})`, logFile);
  if (!listening.met) {
    await started.stop('SIGTERM', 2000);
    throw helperFailure(`TCP relay in ${node} did not start listening within 15 s`, logFile);
  }
  return {
    process: started,
    exit: () => exit,
    stop: async () => {
      stopped = true;
      await started.stop('SIGTERM', 2000);
    },
  };
}
