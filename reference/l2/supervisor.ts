// Keeps the announcer running across native aborts. The libpcap binding (`cap`) asserts, and so
// aborts the whole process, when a captured interface goes down; the announcer therefore runs as
// a child that this supervisor starts again, backing off while the interface stays down (opening
// a down interface fails). The child runs the same entry point with SUPERVISED_ENV set and exits
// when its stdin closes, so it never outlives the supervisor (killed or not).
import { spawn, type ChildProcess } from 'node:child_process';

export const SUPERVISED_ENV = 'PEERPROOF_L2_SUPERVISED';
/** Set by a parent that holds the supervisor's stdin (the agent): its death ends the announcer. */
export const EXIT_WITH_PARENT_ENV = 'PEERPROOF_L2_EXIT_WITH_PARENT';
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;
/** A child that ran this long is considered healthy again: the backoff starts over. */
const HEALTHY_AFTER_MS = 10_000;

export function isSupervisedChild(): boolean {
  return process.env[SUPERVISED_ENV] === '1';
}

/** In the child: stop (without handing the lease over) when the supervisor goes away. */
export function exitWithSupervisor(stop: () => void): void {
  process.stdin.on('close', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

export interface SupervisorOptions {
  /** Command line of the child: this same program. */
  argv: string[];
  print: (record: object) => void;
}

export function supervise({ argv, print }: SupervisorOptions): void {
  let child: ChildProcess | null = null;
  let stopping = false;
  let backoffMs = FIRST_BACKOFF_MS;

  const start = () => {
    const startedAt = Date.now();
    child = spawn(argv[0], argv.slice(1), { env: { ...process.env, [SUPERVISED_ENV]: '1' }, stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) process.exit(0);
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) backoffMs = FIRST_BACKOFF_MS;
      print({ event: 'restart', reason: signal ? `announcer killed by ${signal}` : `announcer exited with ${code}`, inMs: backoffMs });
      setTimeout(start, backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    });
  };

  const stop = () => {
    stopping = true;
    if (child) child.kill('SIGTERM'); // the child hands its leases over, then exits
    else process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.env[EXIT_WITH_PARENT_ENV] === '1') {
    // The parent died (even by SIGKILL): a dead node does not hand its leases over, so close the
    // child's stdin (it stops without releasing) rather than SIGTERM it.
    const orphaned = () => {
      stopping = true;
      if (child) child.stdin?.end();
      else process.exit(0);
    };
    process.stdin.on('end', orphaned);
    process.stdin.on('close', orphaned);
    process.stdin.resume();
  }
  start();
}
