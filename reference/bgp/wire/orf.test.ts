// ROUTE-REFRESH with ORFs (RFC 5291 4) and address-prefix ORF entries (RFC 5292 3), the ORF
// capability (RFC 5291 5, code 3 and FRR's pre-standard 130), and the per-direction negotiation.
import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, directionContext, encodeMessage } from './index.ts';
import { orfKey, type Capability, type CodecContext, type OpenMessage, type RouteRefreshMessage } from './types.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const MARKER = 'ff'.repeat(16);
/** A whole message from its type and body in hex, the header's length filled in. */
const message = (typeAndBody: string) => {
  const rest = bytesOf(typeAndBody);
  return bytesOf(MARKER + (19 + rest.length - 1).toString(16).padStart(4, '0') + hex(rest));
};
const ANY: CodecContext = { orf: 'any' };

const refresh: RouteRefreshMessage = {
  type: 'ROUTE-REFRESH',
  afi: 1,
  safi: 1,
  subtype: 0,
  whenToRefresh: 'immediate',
  orfs: [
    {
      type: 64,
      name: 'address-prefix',
      entries: [
        { action: 'add', match: 'permit', sequence: 5, minLength: 0, maxLength: 0, prefix: '203.0.113.0/24' },
        { action: 'add', match: 'deny', sequence: 10, minLength: 25, maxLength: 32, prefix: '198.51.100.0/23' },
        { action: 'remove', match: 'permit', sequence: 15, minLength: 0, maxLength: 0, prefix: '0.0.0.0/0' },
      ],
    },
  ],
};

describe('ROUTE-REFRESH with ORFs: RFC 5291 4 / RFC 5292 3 layout', () => {
  it('encodes every field where the RFCs put it', () => {
    const wire = encodeMessage(refresh);
    expect(hex(wire)).toBe(
      MARKER +
        '0039' + '05' + // length 57, type 5
        '0001' + '00' + '01' + // AFI 1, subtype 0, SAFI 1
        '01' + // When-to-refresh IMMEDIATE
        '40' + '001e' + // ORF type 64, 30 octets of entries
        '00' + '00000005' + '00' + '00' + '18' + 'cb0071' + // ADD PERMIT seq 5, 203.0.113.0/24
        '20' + '0000000a' + '19' + '20' + '17' + 'c63364' + // ADD DENY seq 10 ge 25 le 32, 198.51.100.0/23
        '40' + '0000000f' + '00' + '00' + '00', // REMOVE PERMIT seq 15, 0.0.0.0/0 (no prefix octets)
    );
    expect(wire.length).toBe(57);
  });

  it('decodes what it encodes (round trip), IPv4 and IPv6, IMMEDIATE and DEFER, REMOVE-ALL', () => {
    expect(decodeMessage(encodeMessage(refresh), ANY)).toEqual(refresh);
    const v6: RouteRefreshMessage = {
      type: 'ROUTE-REFRESH',
      afi: 2,
      safi: 1,
      subtype: 0,
      whenToRefresh: 'defer',
      orfs: [
        {
          type: 128,
          name: 'address-prefix',
          entries: [
            { action: 'remove-all', match: 'permit' },
            { action: 'add', match: 'permit', sequence: 4294967295, minLength: 48, maxLength: 64, prefix: '2001:db8::/32' },
            { action: 'remove-all', match: 'deny' },
          ],
        },
        { type: 3, hex: '01020304' }, // an ORF type without a decoder: raw, re-encoded byte-identical
      ],
    };
    const wire = encodeMessage(v6);
    expect(decodeMessage(wire, ANY)).toEqual(v6);
    expect(hex(wire).slice(46, 52)).toBe('02' + '80' + '0000'.slice(0, 2)); // DEFER, type 128, length high byte
    expect(hex(encodeMessage(decodeMessage(wire, ANY)))).toBe(hex(wire));
  });

  it('REMOVE-ALL is the common part alone (one octet: action 2, match bit)', () => {
    const wire = encodeMessage({ ...refresh, orfs: [{ type: 64, name: 'address-prefix', entries: [{ action: 'remove-all', match: 'deny' }] }] });
    expect(hex(wire.subarray(23))).toBe('01' + '40' + '0001' + 'a0');
  });

  it("FRR's REMOVE-ALL (0xC0: action 3, reserved by RFC 5291) decodes as remove-all marked wireAction 3 and re-encodes as sent", () => {
    const frr = bytesOf(MARKER + '001c050001000102400001c0'); // the 28-octet DEFER REMOVE-ALL of pcaps/frr-frr-orf.pcap
    const m = decodeMessage(frr, ANY) as RouteRefreshMessage;
    expect(m).toEqual({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, whenToRefresh: 'defer', orfs: [{ type: 64, name: 'address-prefix', entries: [{ action: 'remove-all', match: 'permit', wireAction: 3 }] }] });
    expect(hex(encodeMessage(m))).toBe(hex(frr));
    const { wireAction: _w, ...rfc } = (m.orfs![0] as { entries: object[] }).entries[0] as Record<string, unknown>;
    expect(hex(encodeMessage({ ...m, orfs: [{ type: 64, name: 'address-prefix', entries: [rfc as never] }] })).slice(-2)).toBe('80'); // the RFC value 2
  });

  it('masks prefix bits past the length, as for NLRI', () => {
    const wire = message('05 0001 00 01 01 40 000b 00 00000001 00 00 14 0a0b0c');
    const m = decodeMessage(wire, ANY) as RouteRefreshMessage;
    expect(m.orfs).toEqual([{ type: 64, name: 'address-prefix', entries: [{ action: 'add', match: 'permit', sequence: 1, minLength: 0, maxLength: 0, prefix: '10.11.0.0/20' }] }]);
  });

  it('a plain ROUTE-REFRESH keeps its 4-octet body and no ORF fields', () => {
    const plain: RouteRefreshMessage = { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 };
    expect(encodeMessage(plain).length).toBe(23);
    expect(decodeMessage(encodeMessage(plain), ANY)).toEqual(plain);
  });

  it.each([
    ['no ORF after When-to-refresh', '05 0001 00 01 01', 'When-to-refresh without an ORF'],
    ['ORF length past the end', '05 0001 00 01 01 40 0010 00 00', 'runs past the message'],
    ['entry shorter than 8 octets', '05 0001 00 01 01 40 0004 00 000000', 'shorter than the 8'],
    ['prefix length over 32', '05 0001 00 01 01 40 0008 00 00000001 00 00 21', 'prefix length 33 exceeds 32'],
    ['prefix octets missing', '05 0001 00 01 01 40 0009 00 00000001 00 00 18 0a', 'needs 3 octets, 1 left'],
  ])('malformed ORFs (%s) -> ROUTE-REFRESH Message Error 7/1 with the message as data', (_name, body, text) => {
    const wire = message(body);
    let error: unknown;
    try {
      decodeMessage(wire, ANY);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BgpError);
    expect(error).toMatchObject({ code: 7, subcode: 1, data: wire });
    expect((error as BgpError).message).toContain(text);
  });

  it('encoder refuses what the wire cannot carry', () => {
    const entries = refresh.orfs![0]!;
    expect(() => encodeMessage({ ...refresh, orfs: [] })).toThrow(RangeError);
    expect(() => encodeMessage({ ...refresh, subtype: 1 })).toThrow(/subtype 0/);
    expect(() => encodeMessage({ ...refresh, afi: 2 })).toThrow(/does not belong to AFI 2/);
    expect(() => encodeMessage({ ...refresh, orfs: [{ ...entries, entries: [{ action: 'add', match: 'permit', prefix: '10.0.0.0/8' }] }] } as RouteRefreshMessage)).toThrow(/sequence/);
    expect(() => encodeMessage({ ...refresh, orfs: undefined })).toThrow(/without ORFs/);
  });
});

describe('ORFs only where negotiated (RFC 2918 3: otherwise 4 octets of body)', () => {
  const wire = encodeMessage(refresh);

  it('without a context, a longer ROUTE-REFRESH is a header length error 1/2', () => {
    expect(() => decodeMessage(wire)).toThrow(expect.objectContaining({ code: 1, subcode: 2, message: expect.stringMatching(/ROUTE-REFRESH length 57; ORFs without the ORF capability/) }));
  });

  it('with the (AFI, SAFI, type) negotiated it decodes; another type or family is 1/2', () => {
    expect(decodeMessage(wire, { orf: new Set([orfKey(1, 1, 64)]) })).toEqual(refresh);
    expect(() => decodeMessage(wire, { orf: new Set([orfKey(1, 1, 128)]) })).toThrow(expect.objectContaining({ code: 1, subcode: 2, message: expect.stringMatching(/ORF type 64 for AFI 1 SAFI 1 was not negotiated/) }));
    expect(() => decodeMessage(wire, { orf: new Set([orfKey(2, 1, 64)]) })).toThrow(BgpError);
  });

  it('a BoRR/EoRR of the wrong length stays 7/1 (RFC 7313 5)', () => {
    const borr = encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 1 });
    const long = new Uint8Array([...borr, 0]);
    long[17] = 24;
    expect(() => decodeMessage(long, ANY)).toThrow(expect.objectContaining({ code: 7, subcode: 1 }));
  });
});

describe('ORF capability (RFC 5291 5) in OPEN', () => {
  const open = (capabilities: Capability[]): OpenMessage => ({ type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1', as4: null, capabilities });
  const orfCap = (code: 3 | 130, type: number, mode: 'send' | 'receive' | 'both'): Capability =>
    code === 3 ? { code, name: 'orf', entries: [{ afi: 1, safi: 1, types: [{ type, mode }] }] } : { code, name: 'orf-cisco', entries: [{ afi: 1, safi: 1, types: [{ type, mode }] }] };

  it('decodes the bytes FRR sends for `capability orf prefix-list both` (codes 130 and 3)', () => {
    // Capabilities parameter: code 130 len 7: AFI 1, res, SAFI 1, 1 ORF, type 128 both;
    // code 3 len 7: AFI 1, res, SAFI 1, 1 ORF, type 64 both.
    const params = '02 09 82 07 0001 00 01 01 80 03' + ' 02 09 03 07 0001 00 01 01 40 03';
    const wire = message('01 04 fde9 005a 0a000001 ' + bytesOf(params).length.toString(16).padStart(2, '0') + params);
    const decoded = decodeMessage(wire) as OpenMessage;
    expect(decoded.capabilities).toEqual([
      { code: 130, name: 'orf-cisco', entries: [{ afi: 1, safi: 1, types: [{ type: 128, mode: 'both' }] }] },
      { code: 3, name: 'orf', entries: [{ afi: 1, safi: 1, types: [{ type: 64, mode: 'both' }] }] },
    ]);
    expect(hex(encodeMessage(decoded))).toBe(hex(wire));
  });

  it('several families and types round-trip; malformed values are OPEN errors 2/0', () => {
    const cap: Capability = {
      code: 3,
      name: 'orf',
      entries: [
        { afi: 1, safi: 1, types: [{ type: 64, mode: 'send' }, { type: 3, mode: 'receive' }] },
        { afi: 2, safi: 1, types: [] },
      ],
    };
    const o = open([cap]);
    expect(decodeMessage(encodeMessage(o))).toEqual(o);
    const wire = encodeMessage(o);
    const bad = wire.slice();
    bad[bad.length - 1 - 5 - 4 + 4] = 0; // mode of the second type of the first family -> 0
    expect(() => decodeMessage(bad)).toThrow(expect.objectContaining({ code: 2, subcode: 0, message: expect.stringMatching(/capability 3: ORF type 3 send\/receive value 0/) }));
  });

  it.each([
    ['send', 'receive', true],
    ['both', 'both', true],
    ['both', 'receive', true],
    ['send', 'both', true],
    ['receive', 'send', false],
    ['receive', 'both', false],
    ['send', 'send', false],
  ] as const)('sender %s, receiver %s -> ORFs allowed %s', (senderMode, receiverMode, allowed) => {
    const ctx = directionContext(open([orfCap(3, 64, senderMode)]), open([orfCap(3, 64, receiverMode)]));
    expect(ctx.orf instanceof Set && ctx.orf.has(orfKey(1, 1, 64))).toBe(allowed);
  });

  it('the pre-standard code 130 negotiates its type 128 the same way, per type', () => {
    const ctx = directionContext(open([orfCap(130, 128, 'both'), orfCap(3, 64, 'send')]), open([orfCap(130, 128, 'both'), orfCap(3, 64, 'send')]));
    expect([...(ctx.orf as Set<string>)]).toEqual([orfKey(1, 1, 128)]);
  });

  it('without ORF negotiated, octets after the ROUTE-REFRESH body are a header length error (1/2), also when they do not parse as ORFs', () => {
    const ctx = directionContext(open([]), open([]));
    // ORF type 2 claiming 257 octets: malformed as ORF, but no ORF may be sent here at all (found by peerproof fuzz)
    const bad = message('05 0001 00 01 00 02 0101');
    for (const c of [ctx, {}]) {
      let error: unknown;
      try {
        decodeMessage(bad, c);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BgpError);
      expect([(error as BgpError).code, (error as BgpError).subcode]).toEqual([1, 2]);
    }
  });
});
