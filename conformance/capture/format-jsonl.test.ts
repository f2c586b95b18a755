// The hand-written JSONL writer must say exactly what JSON.stringify of the contract shape says,
// for every message of every golden capture and for shapes the captures do not contain.

import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCapture } from './decode-capture.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { formatJsonl } from './format-jsonl.ts';
import { formatTableRow } from './format-table.ts';
import type { BgpMessage } from '../../reference/bgp/wire/types.ts';
import { EVERY_ATTRIBUTE_UPDATE } from './testing/every-attribute.ts';

/** The contract's object for a message, built the slow, obvious way. */
function contractObject(m: DecodedMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { ts: Number(m.ts.toFixed(6)), src: m.src, dst: m.dst, stream: m.stream, type: m.type, length: m.length };
  const msg = m.message;
  const errors = m.errors ?? (msg === null ? [{ action: 'session-reset', code: 0, subcode: 0, message: m.error ?? 'undecodable' }] : undefined);
  const envelope = errors === undefined ? {} : { error: m.error ?? errors[0]!.message, errors };
  if (msg === null) return { ...o, ...envelope, ...(m.hex === undefined ? {} : { hex: m.hex }) };
  return { ...body(o, msg), ...envelope };
}

function body(o: Record<string, unknown>, msg: BgpMessage): Record<string, unknown> {
  switch (msg.type) {
    case 'OPEN': {
      const { type: _t, ...open } = msg;
      return { ...o, open };
    }
    case 'UPDATE':
      return {
        ...o,
        update: { withdrawn: msg.withdrawn, nlri: msg.nlri, attributes: msg.attributes },
        ...(msg.errors?.length ? { errors: msg.errors } : {}),
      };
    case 'NOTIFICATION':
      return { ...o, notification: { code: msg.code, subcode: msg.subcode, data: msg.data } };
    case 'ROUTE-REFRESH':
      return {
        ...o,
        routeRefresh: { afi: msg.afi, safi: msg.safi, subtype: msg.subtype, ...(msg.orfs === undefined ? {} : { whenToRefresh: msg.whenToRefresh, orfs: msg.orfs }) },
      };
    case 'UNKNOWN':
      return { ...o, unknown: { typeCode: msg.typeCode, hex: msg.hex } };
    case 'KEEPALIVE':
      return o;
  }
}

const pcapDir = fileURLToPath(new URL('../../pcaps/', import.meta.url));

function message(msg: BgpMessage | null, extra: Partial<DecodedMessage> = {}): DecodedMessage {
  return { ts: 1700000000.5, src: '10.0.0.1:179', dst: '[fd00::2]:40000', stream: 3, type: msg?.type ?? 'UPDATE', length: 99, message: msg, ...extra };
}

describe('JSONL writer', () => {
  it('matches the contract object for every golden message', () => {
    let checked = 0;
    for (const name of readdirSync(pcapDir).filter((f) => /\.pcap(ng)?$/.test(f))) {
      decodeCapture(readFileSync(pcapDir + name), (m) => {
        expect(JSON.parse(formatJsonl(m))).toEqual(JSON.parse(JSON.stringify(contractObject(m))));
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('writes every attribute kind, RFC 7606 outcomes, errors and rare message types', () => {
    const update: BgpMessage = {
      ...EVERY_ATTRIBUTE_UPDATE,
      errors: [{ action: 'attribute-discard', code: 3, subcode: 5, attribute: 7, message: 'UPDATE: attribute length error (AGGREGATOR)' }],
    };
    const cases: DecodedMessage[] = [
      message(update),
      message({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: {} }),
      message({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 2 }),
      message({ type: 'UNKNOWN', typeCode: 9, hex: 'abcd' }, { errors: [{ action: 'session-reset', code: 1, subcode: 3, message: 'header: bad message type (type 9)' }], error: 'header: bad message type (type 9)' }),
      message(
        { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, whenToRefresh: 'defer', orfs: [{ type: 64, name: 'address-prefix', entries: [{ action: 'remove-all', match: 'permit' }] }, { type: 3, hex: '00' }] },
        { errors: [{ action: 'session-reset', code: 1, subcode: 2, message: 'header: bad message length (ROUTE-REFRESH length 33; ...)' }] },
      ),
      message(null, { type: 'KEEPALIVE', length: 19, errors: [{ action: 'session-reset', code: 1, subcode: 1, message: 'header: connection not synchronized (marker is not all ones)' }], hex: 'fe'.padEnd(38, 'f') }),
      message({ type: 'NOTIFICATION', code: 6, subcode: 4, data: '0a' }),
      message(null, { type: 'OPEN', error: 'OPEN: unsupported version number ("5")' }),
    ];
    for (const m of cases) {
      expect(JSON.parse(formatJsonl(m))).toEqual(JSON.parse(JSON.stringify(contractObject(m))));
      expect(formatTableRow(m)).toContain(m.type);
    }
    expect(formatTableRow(cases[0]!)).toContain('+2 -2 10.1.0.0/16 ... nh=2001:db8::1,fe80::1 path=65001 4200000001 {1,2} (3) origin=egp');
    expect(formatTableRow(cases.find((m) => m.type === 'NOTIFICATION')!)).toContain('6/4 cease / administrative reset');
    expect(formatTableRow(cases.find((m) => m.type === 'UNKNOWN')!)).toContain('type 9, 2 bytes ERROR header: bad message type (type 9)');
  });
});
