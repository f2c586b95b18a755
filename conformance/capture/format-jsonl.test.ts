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

/** The contract's object for a message, built the slow, obvious way. */
function contractObject(m: DecodedMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { ts: Number(m.ts.toFixed(6)), src: m.src, dst: m.dst, stream: m.stream, type: m.type, length: m.length };
  const msg = m.message;
  if (msg === null) return { ...o, error: m.error };
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
      return { ...o, routeRefresh: { afi: msg.afi, safi: msg.safi, subtype: msg.subtype } };
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
      type: 'UPDATE',
      withdrawn: [{ prefix: '10.9.0.0/16', pathId: 7 }],
      nlri: [{ prefix: '10.1.0.0/16' }],
      attributes: {
        origin: 'egp',
        asPath: [
          { type: 'sequence', asns: [65001, 4200000001] },
          { type: 'set', asns: [1, 2] },
          { type: 'confed-sequence', asns: [3] },
        ],
        nextHop: '10.0.0.1',
        med: 0,
        localPref: 200,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: '10.0.0.9' },
        communities: ['65000:1', '65535:65281'],
        originatorId: '1.1.1.1',
        clusterList: ['2.2.2.2', '3.3.3.3'],
        mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48', pathId: 1 }] },
        mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
        extendedCommunities: ['0002fde800000064'],
        largeCommunities: ['65000:1:2'],
        unknown: [{ code: 99, flags: 0xc0, hex: '0102"' }],
      },
      errors: [{ action: 'attribute-discard', code: 3, subcode: 5, attribute: 7, message: 'UPDATE: attribute length error (AGGREGATOR)' }],
    };
    const cases: DecodedMessage[] = [
      message(update),
      message({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: {} }),
      message({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 2 }),
      message({ type: 'UNKNOWN', typeCode: 9, hex: 'abcd' }),
      message({ type: 'NOTIFICATION', code: 6, subcode: 4, data: '0a' }),
      message(null, { type: 'OPEN', error: 'OPEN: unsupported version number ("5")' }),
    ];
    for (const m of cases) {
      expect(JSON.parse(formatJsonl(m))).toEqual(JSON.parse(JSON.stringify(contractObject(m))));
      expect(formatTableRow(m)).toContain(m.type);
    }
    expect(formatTableRow(cases[0]!)).toContain('+2 -2 10.1.0.0/16 ... nh=2001:db8::1,fe80::1 path=65001 4200000001 {1,2} (3) origin=egp');
    expect(formatTableRow(cases[4]!)).toContain('6/4 cease / administrative reset');
  });
});
