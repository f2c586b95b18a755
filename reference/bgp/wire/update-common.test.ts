// The one-pass UPDATE decoder (update-common.ts) either declines a message (null) or returns
// exactly what the general decoder returns: on the shapes it exists for, on every UPDATE real
// daemons sent, and on thousands of mutations of them.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeMessage } from './message.ts';
import { CAPTURED } from './testdata/captured.ts';
import { decodeCommonUpdate } from './update-common.ts';
import { decodeAnyUpdate } from './update.ts';
import { familyKey, type CodecContext, type UpdateMessage } from './types.ts';

const ADD_PATH_V4 = new Set([familyKey(1, 1)]);
const contextOf = (as4: boolean, addPath: boolean): CodecContext => (addPath ? { as4, addPath: ADD_PATH_V4 } : { as4 });

/** What the general decoder says: a message, or that it threw. */
function general(bytes: Uint8Array, as4: boolean, addPath: boolean): UpdateMessage | 'threw' {
  try {
    return decodeAnyUpdate(bytes, contextOf(as4, addPath), addPath);
  } catch {
    return 'threw';
  }
}

function expectAgreement(bytes: Uint8Array, as4: boolean, addPath: boolean): UpdateMessage | null {
  const fast = decodeCommonUpdate(bytes, as4, addPath);
  if (fast !== null) expect(fast).toEqual(general(bytes, as4, addPath));
  return fast;
}

/** An UPDATE from raw attribute bytes and NLRI bytes (no withdrawn routes). */
function rawUpdate(attributes: number[], nlri: number[]): Uint8Array {
  const length = 19 + 2 + 2 + attributes.length + nlri.length;
  return new Uint8Array([...new Array<number>(16).fill(0xff), length >> 8, length & 255, 2, 0, 0, attributes.length >> 8, attributes.length & 255, ...attributes, ...nlri]);
}

const update = (u: Omit<UpdateMessage, 'type'>, as4: boolean, addPath = false) =>
  encodeMessage({ type: 'UPDATE', ...u }, contextOf(as4, addPath));

const common: Array<{ name: string; bytes: Uint8Array; as4: boolean; addPath: boolean }> = [
  {
    name: 'BIRD: one /32 with its own MED',
    as4: true,
    addPath: false,
    bytes: update({ withdrawn: [], nlri: [{ prefix: '10.0.1.7/32' }], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '172.31.9.1', med: 7 } }, true),
  },
  {
    name: 'iBGP with LOCAL_PREF, communities and ADD-PATH',
    as4: true,
    addPath: true,
    bytes: update(
      {
        withdrawn: [{ prefix: '10.9.0.0/16', pathId: 2 }],
        nlri: [{ prefix: '192.0.2.0/24', pathId: 1 }, { prefix: '0.0.0.0/0', pathId: 9 }],
        attributes: { origin: 'incomplete', asPath: [], nextHop: '10.0.0.1', localPref: 200, communities: ['65000:1', '65535:65281'] },
      },
      true,
      true,
    ),
  },
  {
    name: '2-octet session, AS_SET and AS_SEQUENCE',
    as4: false,
    addPath: false,
    bytes: update(
      { withdrawn: [], nlri: [{ prefix: '198.51.100.0/23' }], attributes: { origin: 'egp', asPath: [{ type: 'sequence', asns: [65002, 65003] }, { type: 'set', asns: [1, 2] }], nextHop: '10.0.4.2' } },
      false,
    ),
  },
  { name: 'withdrawals only', as4: true, addPath: false, bytes: update({ withdrawn: [{ prefix: '10.0.0.0/8' }], nlri: [], attributes: {} }, true) },
  { name: 'IPv4 End-of-RIB', as4: true, addPath: false, bytes: update({ withdrawn: [], nlri: [], attributes: {} }, true) },
];

describe('decodeCommonUpdate', () => {
  it('decodes the common shapes itself, exactly as the general decoder does', () => {
    for (const c of common) expect(expectAgreement(c.bytes, c.as4, c.addPath), c.name).not.toBeNull();
  });

  it('declines what it does not cover, leaving it to the general decoder', () => {
    const declined = [
      update({ withdrawn: [], nlri: [{ prefix: '10.0.0.0/8' }], attributes: { origin: 'igp', asPath: [], nextHop: '10.0.0.1', atomicAggregate: true } }, true),
      update({ withdrawn: [], nlri: [], attributes: { origin: 'igp', asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32' }] } } }, true),
    ];
    for (const bytes of declined) expect(decodeCommonUpdate(bytes, true, false)).toBeNull();
  });

  it('declines every message the general decoder reports an RFC 7606 outcome for or rejects', () => {
    const ORIGIN = [0x40, 1, 1, 0];
    const AS_PATH = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9];
    const NEXT_HOP = [0x40, 3, 4, 10, 0, 0, 1];
    const MED = [0x80, 4, 4, 0, 0, 0, 7];
    const NLRI = [24, 192, 0, 2];
    const cases: Record<string, number[][]> = {
      'ORIGIN value 3': [[0x40, 1, 1, 3], AS_PATH, NEXT_HOP],
      'ORIGIN twice': [ORIGIN, ORIGIN, AS_PATH, NEXT_HOP],
      'ORIGIN flagged optional': [[0xc0, 1, 1, 0], AS_PATH, NEXT_HOP],
      'AS 0 in AS_PATH': [ORIGIN, [0x40, 2, 6, 2, 1, 0, 0, 0, 0], NEXT_HOP],
      'AS_PATH segment overrun': [ORIGIN, [0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe9], NEXT_HOP],
      'NEXT_HOP 0.0.0.0': [ORIGIN, AS_PATH, [0x40, 3, 4, 0, 0, 0, 0]],
      'NEXT_HOP multicast': [ORIGIN, AS_PATH, [0x40, 3, 4, 224, 0, 0, 1]],
      'NEXT_HOP missing': [ORIGIN, AS_PATH],
      'MED length 3': [ORIGIN, AS_PATH, NEXT_HOP, [0x80, 4, 3, 0, 0, 7]],
      'MED flagged transitive': [ORIGIN, AS_PATH, NEXT_HOP, [0xc0, 4, 4, 0, 0, 0, 7]],
      'COMMUNITIES length 3': [ORIGIN, AS_PATH, NEXT_HOP, [0xc0, 8, 3, 0, 0, 1]],
      'stray byte after the attributes': [ORIGIN, AS_PATH, NEXT_HOP, [0x40]],
    };
    for (const [name, attributes] of Object.entries(cases)) {
      const bytes = rawUpdate(attributes.flat(), NLRI);
      expect(decodeCommonUpdate(bytes, true, false), name).toBeNull();
      const reference = general(bytes, true, false);
      expect(reference === 'threw' || (reference.errors?.length ?? 0) > 0, name).toBe(true);
    }
    // ... and the same message without the defect is taken.
    expect(expectAgreement(rawUpdate([ORIGIN, AS_PATH, NEXT_HOP, MED].flat(), NLRI), true, false)).not.toBeNull();
  });

  it('agrees with the general decoder on every UPDATE real daemons sent', () => {
    let decoded = 0;
    for (const c of CAPTURED) {
      const bytes = new Uint8Array(Buffer.from(c.hex, 'hex'));
      if (bytes[18] !== 2) continue;
      const addPath = c.ctx.addPath?.has(familyKey(1, 1)) ?? false;
      if (expectAgreement(bytes, c.ctx.as4 === true, addPath) !== null) decoded++;
    }
    expect(decoded).toBeGreaterThan(0);
  });

  it('never disagrees with the general decoder on mutated messages', () => {
    const seeds = [
      ...common,
      ...CAPTURED.filter((c) => c.hex.slice(36, 38) === '02').map((c) => ({
        bytes: new Uint8Array(Buffer.from(c.hex, 'hex')),
        as4: c.ctx.as4 === true,
        addPath: c.ctx.addPath?.has(familyKey(1, 1)) ?? false,
      })),
    ];
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 14, 32, 0x40, 0x50, 0x80, 0xc0, 0xe0, 0xff), fc.integer({ min: 0, max: 255 }))), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.boolean(),
        fc.boolean(),
        (seedIndex, edits, as4, addPath) => {
          const bytes = seeds[seedIndex]!.bytes.slice();
          // Body bytes only: the header was checked before an UPDATE body is decoded.
          for (const [at, value] of edits) bytes[19 + (at % (bytes.length - 19))] = value;
          expectAgreement(bytes, as4, addPath);
          expectAgreement(bytes, seeds[seedIndex]!.as4, seeds[seedIndex]!.addPath);
        },
      ),
      { numRuns: 4000, seed: 7 },
    );
  });
});
