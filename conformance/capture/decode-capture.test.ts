// The whole decode pipeline on damaged input: bytes flipped anywhere in a real capture, cut
// anywhere, or garbage in place of TCP payload never crash it; what is readable is still decoded.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCapture } from './decode-capture.ts';
import { NotACaptureError } from './pcap-reader.ts';
import { formatJsonl } from './format-jsonl.ts';
import { formatTableRow } from './format-table.ts';

const captures = ['frr-gobgp-as4-addpath.pcap', 'gobgp-bird-ipv6-addpath.pcapng', 'frr-bird-cooked-holdtimer.pcap', 'frr-bird-as2-as4path.pcap'].map(
  (name) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../pcaps/${name}`, import.meta.url)))),
);

/** Decodes and formats everything; returns the number of messages, or -1 when the file was refused. */
function decodeEverything(bytes: Uint8Array): number {
  try {
    let n = 0;
    decodeCapture(bytes, (m) => {
      JSON.parse(formatJsonl(m));
      formatTableRow(m);
      n++;
    });
    return n;
  } catch (err) {
    if (err instanceof NotACaptureError) return -1;
    throw err;
  }
}

describe('decode pipeline on damaged captures', () => {
  it('survives bytes overwritten anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: captures.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        (which, edits) => {
          const bytes = captures[which]!.slice();
          // keep the magic so the damage lands in records, blocks, headers and BGP bytes
          for (const [at, value] of edits) bytes[4 + (at % (bytes.length - 4))] = value;
          decodeEverything(bytes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('survives being cut anywhere, and decodes the messages before the cut', () => {
    const whole = decodeEverything(captures[0]!);
    for (let cut = 0; cut <= captures[0]!.length; cut += 13) {
      const n = decodeEverything(captures[0]!.subarray(0, cut));
      expect(n).toBeLessThanOrEqual(whole);
    }
    expect(decodeEverything(captures[0]!.subarray(0, captures[0]!.length - 1))).toBeGreaterThan(whole - 3);
  });

  it('reports BGP bytes that do not parse as an error line and goes on', () => {
    // Corrupt the attribute length of one UPDATE in place: the header stays valid, so framing
    // continues, and the contract wants an object with `error` for that message.
    const bytes = captures[0]!.slice();
    const marker = Buffer.from('ffffffffffffffffffffffffffffffff', 'hex');
    let at = Buffer.from(bytes).indexOf(marker);
    let updates = 0;
    while (at >= 0) {
      if (bytes[at + 18] === 2 && ++updates === 1) {
        bytes[at + 21] = 0xff; // total path attribute length high byte: far beyond the message
        break;
      }
      at = Buffer.from(bytes).indexOf(marker, at + 16);
    }
    const messages: Array<{ type: string; error?: string }> = [];
    decodeCapture(bytes, (m) => messages.push({ type: m.type, ...(m.error ? { error: m.error } : {}) }));
    const broken = messages.filter((m) => m.error !== undefined);
    expect(broken).toEqual([{ type: 'UPDATE', error: expect.stringMatching(/^UPDATE: malformed attribute list/) }]);
    expect(messages.length).toBe(decodeEverything(captures[0]!));
  });
});
