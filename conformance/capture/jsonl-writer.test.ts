// writeJsonl must put exactly formatJsonl(m) + "\n" into the output, byte for byte, for every
// message of every golden capture, every attribute kind, odd numbers, and lines that straddle
// the output buffer's flushes.

import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BgpMessage, UpdateMessage } from '../../reference/bgp/wire/types.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { decodeCapture } from './decode-capture.ts';
import { formatJsonl } from './format-jsonl.ts';
import { writeJsonl } from './jsonl-writer.ts';
import { OutputBuffer } from './output-buffer.ts';
import { EVERY_ATTRIBUTE_UPDATE } from './testing/every-attribute.ts';

const pcapDir = fileURLToPath(new URL('../../pcaps/', import.meta.url));

/** What writeJsonl puts into a file, next to what formatJsonl says it should be. */
function writtenAndExpected(messages: readonly DecodedMessage[]): { written: string; expected: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peerproof-jsonl-writer-'));
  try {
    const file = join(dir, 'out.jsonl');
    const fd = openSync(file, 'w');
    const out = new OutputBuffer(fd);
    for (const m of messages) writeJsonl(m, out);
    out.flush();
    closeSync(fd);
    return { written: readFileSync(file, 'utf8'), expected: messages.map((m) => formatJsonl(m) + '\n').join('') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function message(msg: BgpMessage | null, extra: Partial<DecodedMessage> = {}): DecodedMessage {
  return { ts: 1700000000.5, src: '10.0.0.1:179', dst: '[fd00::2]:40000', stream: 3, type: msg?.type ?? 'UPDATE', length: 99, message: msg, ...extra };
}

/** The shared sample with edge values: 4-octet extremes, an empty segment, a default route with path id 0. */
const everyAttribute: UpdateMessage = {
  ...EVERY_ATTRIBUTE_UPDATE,
  withdrawn: [...EVERY_ATTRIBUTE_UPDATE.withdrawn, { prefix: '0.0.0.0/0', pathId: 0 }],
  nlri: [...EVERY_ATTRIBUTE_UPDATE.nlri, { prefix: '10.2.0.0/16' }],
  attributes: {
    ...EVERY_ATTRIBUTE_UPDATE.attributes,
    asPath: [
      { type: 'sequence', asns: [65001, 4294967295, 0] },
      { type: 'set', asns: [1, 2] },
      { type: 'confed-sequence', asns: [] },
    ],
    localPref: 4294967295,
    largeCommunities: ['65000:1:2', '4200000000:0:4294967295'],
  },
  errors: [{ action: 'attribute-discard', code: 3, subcode: 5, attribute: 7, message: 'UPDATE: "quoted" münchen ✓' }],
};

describe('writeJsonl', () => {
  it('writes what formatJsonl says for every message of every golden capture', () => {
    const messages: DecodedMessage[] = [];
    for (const name of readdirSync(pcapDir).filter((f) => /\.pcap(ng)?$/.test(f))) {
      decodeCapture(readFileSync(pcapDir + name), (m) => messages.push(m));
    }
    expect(messages.filter((m) => m.message?.type === 'UPDATE').length).toBeGreaterThan(20);
    const { written, expected } = writtenAndExpected(messages);
    expect(written).toBe(expected);
  });

  it('writes every attribute kind, empty shapes, odd numbers and non-UPDATE messages the same way', () => {
    const cases: DecodedMessage[] = [
      message(everyAttribute),
      message({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: {} }),
      message({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: { asPath: [], communities: [], med: 1.5 } }),
      message({ type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '10.0.0.0/8' }], attributes: { med: 10 } }, { ts: 1.0000004, stream: 0 }),
      message({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: { med: 4294967296 } }, { src: '[2001:db8::1]:179', length: 4096 }),
      message({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 2 }),
      message({ type: 'KEEPALIVE' }, { length: 19 }),
      message(null, { type: 'OPEN', error: 'OPEN: unsupported version number ("5")' }),
    ];
    const { written, expected } = writtenAndExpected(cases);
    expect(written).toBe(expected);
  });

  it('keeps lines whole across the output buffer\'s 1 MB flushes', () => {
    const big: UpdateMessage = {
      type: 'UPDATE',
      withdrawn: [],
      nlri: Array.from({ length: 900 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24`, pathId: i })),
      attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.0.1' },
    };
    const messages = Array.from({ length: 80 }, (_, i) => message(big, { ts: 1700000000 + i }));
    const { written, expected } = writtenAndExpected(messages);
    expect(expected.length).toBeGreaterThan(2 << 20);
    expect(written).toBe(expected);
  });
});
