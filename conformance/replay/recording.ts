// A recording: one BGP conversation as it crossed the wire, both sides' messages in order with
// their relative times and raw bytes (hex), so malformed messages survive unchanged. The replay
// engine plays one side (`played`) back against a live peer; the other side's messages are kept
// for comparison with what the live peer answers.

import { readFileSync } from 'node:fs';
import { decodeMessage } from '../../reference/bgp/wire/index.ts';
import type { Capability, OpenMessage } from '../../reference/bgp/wire/types.ts';

export const RECORDING_VERSION = 1;

export interface RecordedEndpoint {
  address: string;
  port: number;
  /** From the endpoint's OPEN; null when the capture did not hold it. */
  asn: number | null;
  bgpId: string | null;
  holdTime: number | null;
  capabilities: Capability[];
}

export interface RecordedMessage {
  /** Seconds since the conversation's first message. */
  t: number;
  /** Which endpoint sent it. */
  from: 'played' | 'peer';
  type: string;
  hex: string;
}

export interface Recording {
  version: typeof RECORDING_VERSION;
  /** Where it came from: a capture file and stream, or a synthesised scenario. */
  source: { kind: 'capture'; file: string; stream: number } | { kind: 'synthesised'; by: string };
  played: RecordedEndpoint;
  peer: RecordedEndpoint;
  /** Which side opened the TCP connection (sent the SYN), when the capture held the SYN; absent otherwise and in older recordings. */
  opener?: 'played' | 'peer';
  messages: RecordedMessage[];
}

export class RecordingError extends Error {}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RecordingError(`not a hex string: "${hex.slice(0, 40)}"`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** What an OPEN says about its sender; null fields when the bytes do not decode. */
export function endpointFromOpen(address: string, port: number, open: OpenMessage | null): RecordedEndpoint {
  return {
    address,
    port,
    asn: open ? open.as4 ?? open.myAs : null,
    bgpId: open?.bgpId ?? null,
    holdTime: open?.holdTime ?? null,
    capabilities: open?.capabilities ?? [],
  };
}

/** The OPEN a side sent in the recording, decoded; null if it did not send one that decodes. */
export function openOf(recording: Recording, side: 'played' | 'peer'): OpenMessage | null {
  const first = recording.messages.find((m) => m.from === side && m.type === 'OPEN');
  if (!first) return null;
  try {
    const msg = decodeMessage(hexToBytes(first.hex));
    return msg.type === 'OPEN' ? msg : null;
  } catch {
    return null;
  }
}

/** Reads and checks a recording file; errors name the file and the field. */
export function readRecording(file: string): Recording {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RecordingError(`${file}: not a readable JSON recording (${(err as Error).message})`);
  }
  return checkRecording(data, file);
}

export function checkRecording(data: unknown, where: string): Recording {
  const fail = (path: string, expected: string): never => {
    throw new RecordingError(`${where}: ${path}: expected ${expected}`);
  };
  if (typeof data !== 'object' || data === null) fail('(top)', 'an object');
  const r = data as Partial<Recording>;
  if (r.version !== RECORDING_VERSION) fail('version', String(RECORDING_VERSION));
  for (const side of ['played', 'peer'] as const) {
    const e = r[side];
    if (typeof e !== 'object' || e === null) fail(side, 'an endpoint object');
    if (typeof e!.address !== 'string') fail(`${side}.address`, 'an IP address string');
  }
  if (r.opener !== undefined && r.opener !== 'played' && r.opener !== 'peer') fail('opener', '"played" or "peer" (the side that sent the SYN)');
  if (!Array.isArray(r.messages)) fail('messages', 'a list');
  r.messages!.forEach((m, i) => {
    if (typeof m?.t !== 'number' || !(m.t >= 0)) fail(`messages[${i}].t`, 'seconds >= 0');
    if (m.from !== 'played' && m.from !== 'peer') fail(`messages[${i}].from`, '"played" or "peer"');
    if (typeof m.hex !== 'string' || m.hex.length < 38 || m.hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(m.hex))
      fail(`messages[${i}].hex`, 'the hex of one BGP message (at least the 19-byte header)');
  });
  if (!r.messages!.some((m) => m.from === 'played' && m.type === 'OPEN')) fail('messages', 'an OPEN sent by the played side');
  return r as Recording;
}
