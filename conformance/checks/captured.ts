// Reads a capture the lab is still writing (tcpdump -U): the BGP messages so far, and a bounded
// wait until a condition over them holds. A torn last packet is only a warning of the reader.
// It also keeps this process's time accounting for the suite benchmark: time spent waiting on a
// protocol (pollUntil, timedWait) apart from harness work (decoding captures).
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { decodeCapture } from '../capture/decode-capture.ts';
import { sentBy } from './update-encoding.ts';
import { prefixEvents, type PrefixEvent } from './withdrawals.ts';

let waitedMs = 0;
let decodedMs = 0;

/**
 * Decoded captures by file. A capture only grows, so the same size means the same bytes: checks
 * that read one file several times (and polls over a file that has not grown) decode it once.
 * Bounded: a worker serves many labs, each with captures of its own.
 */
const decodedByFile = new Map<string, { size: number; messages: DecodedMessage[] }>();
const DECODED_FILES_KEPT = 64;

export function capturedMessages(file: string): DecodedMessage[] {
  if (!existsSync(file)) return [];
  const size = statSync(file).size;
  if (size < 24) return [];
  const cached = decodedByFile.get(file);
  if (cached?.size === size) return [...cached.messages];
  const start = performance.now();
  try {
    const bytes = readFileSync(file);
    const out: DecodedMessage[] = [];
    decodeCapture(bytes, (m) => out.push(m));
    // Cached under the size actually read: tcpdump may have appended since the stat.
    decodedByFile.delete(file);
    decodedByFile.set(file, { size: bytes.length, messages: out });
    if (decodedByFile.size > DECODED_FILES_KEPT) decodedByFile.delete(decodedByFile.keys().next().value!);
    return [...out];
  } finally {
    decodedMs += performance.now() - start;
  }
}

/** Milliseconds this process has waited on a protocol (pollUntil, timedWait): the suite benchmark's anchor. */
export function totalWaitedMs(): number {
  return waitedMs;
}

/** Milliseconds this process has spent reading and decoding captures (harness work, not waiting). */
export function totalDecodeMs(): number {
  return decodedMs;
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

/**
 * Polls `read` until `done` holds or the timeout passes; returns the last value either way.
 * Counted as waiting: the time until the last read began. The last read (the one that found the
 * condition, or the final one at the deadline) is harness work, so a condition that already holds
 * costs no waiting at all.
 */
export async function pollUntil<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 200): Promise<{ value: T; met: boolean }> {
  return poll(read, done, timeoutMs, everyMs, true);
}

/**
 * The same bounded poll for the harness's own processes (a relay or a server a case started,
 * until it listens): their start-up is harness work, so it is not counted as waiting.
 */
export async function pollHarness<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 200): Promise<{ value: T; met: boolean }> {
  return poll(read, done, timeoutMs, everyMs, false);
}

async function poll<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs: number, counted: boolean): Promise<{ value: T; met: boolean }> {
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
    if (counted) waitedMs += lastReadAt - start;
  }
}

/** The prefix announcements and withdrawals one session's speaker sent, from its link capture. */
export function sentPrefixEvents(file: string, ends: { speakerAddress: string; peerAddress: string }): PrefixEvent[] {
  return prefixEvents(sentBy(capturedMessages(file), { speaker: ends.speakerAddress, peer: ends.peerAddress }));
}
