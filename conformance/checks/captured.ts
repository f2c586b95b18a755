// Reads a capture the lab is still writing (tcpdump -U): the BGP messages so far, and a bounded
// wait until a condition over them holds. A torn last packet is only a warning of the reader.
// It also keeps this process's time accounting for the suite benchmark: time spent waiting on a
// protocol (pollUntil, timedWait) apart from harness work (decoding captures).
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { decodeCapture } from '../capture/decode-capture.ts';
import { sentBy } from './update-encoding.ts';
import { prefixEvents, type PrefixEvent } from './withdrawals.ts';

// The one bounded poll and its waiting account live in the lab stage (lab/poll.ts), which the lab's
// own readiness waits use too; checks, cases and benches take them from here.
export { pollHarness, pollUntil, timedWait, totalWaitedMs } from '../lab/poll.ts';

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

/** Milliseconds this process has spent reading and decoding captures (harness work, not waiting). */
export function totalDecodeMs(): number {
  return decodedMs;
}

/** The prefix announcements and withdrawals one session's speaker sent, from its link capture. */
export function sentPrefixEvents(file: string, ends: { speakerAddress: string; peerAddress: string }): PrefixEvent[] {
  return prefixEvents(sentBy(capturedMessages(file), { speaker: ends.speakerAddress, peer: ends.peerAddress }));
}
