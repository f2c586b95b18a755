// The project's one bounded poll (FRR topotests' run_and_expect): read until a condition holds
// or the timeout passes, and account for the time as waiting on the protocol or as harness work.
// It lives in the lab stage so the lab and everything below it (checks, cases, benches, tests)
// use the same loop; conformance/checks/captured.ts exports pollUntil, pollHarness and timedWait
// from here, where the suite's timing reads them.

let waitedMs = 0;

/**
 * Polls `read` until `done` holds or the timeout passes; returns the last value either way.
 * `countWaited` receives the time until the last read began (that read, which found the
 * condition or met the deadline, is harness work), also when a read throws.
 */
export async function poll<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  everyMs: number,
  countWaited: (ms: number) => void,
): Promise<{ value: T; met: boolean }> {
  const start = performance.now();
  const deadline = Date.now() + timeoutMs;
  let lastReadAt = start;
  try {
    for (;;) {
      lastReadAt = performance.now();
      const value = await read();
      if (done(value)) return { value, met: true };
      if (Date.now() > deadline) return { value, met: false };
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    countWaited(lastReadAt - start);
  }
}

/**
 * A poll on the network or a daemon (a session, a route, a capture growing): counted as this
 * process's waiting on a protocol, up to the start of its last read, so a condition that already
 * holds costs no waiting at all.
 */
export function pollUntil<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 200): Promise<{ value: T; met: boolean }> {
  return poll(read, done, timeoutMs, everyMs, (ms) => (waitedMs += ms));
}

/**
 * The same bounded poll for the harness's own processes (a relay or a server a case started,
 * until it listens): their start-up is harness work, so it is not counted as waiting.
 */
export function pollHarness<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 200): Promise<{ value: T; met: boolean }> {
  return poll(read, done, timeoutMs, everyMs, () => undefined);
}

/**
 * Runs a protocol wait done elsewhere and counts its time with pollUntil's: a router reaching a
 * state (lab.waitForRoutes), a speaker's connect-retry or idle-hold timer bringing a session back.
 * Only for waits on the network or a daemon, never for work the harness does itself.
 */
export async function timedWait<T>(wait: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await wait();
  } finally {
    waitedMs += performance.now() - start;
  }
}

/** Milliseconds this process has waited on a protocol (pollUntil, timedWait): the suite benchmark's anchor. */
export function totalWaitedMs(): number {
  return waitedMs;
}
