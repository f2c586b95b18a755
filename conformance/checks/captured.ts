// Reads a capture the lab is still writing (tcpdump -U): the BGP messages so far, and a bounded
// wait until a condition over them holds. A torn last packet is only a warning of the reader.
import { existsSync, readFileSync } from 'node:fs';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { decodeCapture } from '../capture/decode-capture.ts';
import { sentBy } from './update-encoding.ts';
import { prefixEvents, type PrefixEvent } from './withdrawals.ts';

export function capturedMessages(file: string): DecodedMessage[] {
  if (!existsSync(file)) return [];
  const bytes = readFileSync(file);
  if (bytes.length < 24) return [];
  const out: DecodedMessage[] = [];
  decodeCapture(bytes, (m) => out.push(m));
  return out;
}

let waitedMs = 0;
/** Milliseconds this process has spent inside pollUntil (the suite benchmark's wait anchor). */
export function totalWaitedMs(): number {
  return waitedMs;
}

/** Runs a wait done elsewhere (e.g. lab.waitForRoutes) and counts its time with pollUntil's. */
export async function timedWait<T>(wait: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await wait();
  } finally {
    waitedMs += Date.now() - start;
  }
}

/** Polls `read` until `done` holds or the timeout passes; returns the last value either way. */
export async function pollUntil<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 200): Promise<{ value: T; met: boolean }> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  try {
    for (;;) {
      const value = await read();
      if (done(value)) return { value, met: true };
      if (Date.now() > deadline) return { value, met: false };
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    waitedMs += Date.now() - start;
  }
}

/** The prefix announcements and withdrawals one session's speaker sent, from its link capture. */
export function sentPrefixEvents(file: string, ends: { speakerAddress: string; peerAddress: string }): PrefixEvent[] {
  return prefixEvents(sentBy(capturedMessages(file), { speaker: ends.speakerAddress, peer: ends.peerAddress }));
}
