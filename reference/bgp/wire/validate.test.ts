import { describe, expect, it } from 'vitest';
import { ErrorCode, HeaderSubcode, OpenSubcode } from './errors.ts';
import type { OpenMessage } from './types.ts';
import { classifyHeader, commonFamilies, validateOpen, type OpenExpectations } from './validate.ts';

const open = (over: Partial<OpenMessage> = {}): OpenMessage => ({
  type: 'OPEN',
  version: 4,
  myAs: 23456,
  holdTime: 9,
  bgpId: '10.0.0.2',
  as4: 4200000002,
  capabilities: [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }],
  ...over,
});
const expect4: OpenExpectations = { peerAs: 4200000002, ebgp: true, localRouterId: '10.0.0.1', localHoldTime: 9, localFamilies: [{ afi: 1, safi: 1, name: 'ipv4-unicast' }] };

function header(marker: number, length: number, type: number): Uint8Array {
  return new Uint8Array([...new Array(16).fill(marker), length >> 8, length & 255, type]);
}

describe('classifyHeader (RFC 4271 6.1)', () => {
  it('names the header error and carries the data the RFC asks for', () => {
    expect(classifyHeader(header(0xfe, 19, 4))).toMatchObject({ code: ErrorCode.MESSAGE_HEADER, subcode: HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED });
    expect(classifyHeader(header(0xff, 19, 9))).toEqual({ code: 1, subcode: 3, data: new Uint8Array([9]), reason: 'header: bad message type 9' });
    expect(classifyHeader(header(0xff, 20, 4))).toEqual({ code: 1, subcode: 2, data: new Uint8Array([0, 20]), reason: 'header: bad message length 20 for type 4' });
  });
});

describe('validateOpen (RFC 4271 6.2, RFC 5492, RFC 6793)', () => {
  it('accepts a matching OPEN', () => expect(validateOpen(open(), expect4)).toBeNull());

  it('refuses in the order the session checks', () => {
    expect(validateOpen(open({ otherParameters: [{ type: 3, hex: '00' }] }), expect4)?.subcode).toBe(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER);
    expect(validateOpen(open({ as4: 4200000009 }), expect4)).toMatchObject({ subcode: OpenSubcode.BAD_PEER_AS, data: new Uint8Array([0x5b, 0xa0]) });
    expect(validateOpen(open({ bgpId: '10.0.0.1' }), { ...expect4, ebgp: false })?.subcode).toBe(OpenSubcode.BAD_BGP_IDENTIFIER);
    expect(validateOpen(open({ bgpId: '10.0.0.1' }), expect4)).toBeNull(); // same id is fine on eBGP
    for (const holdTime of [1, 2]) expect(validateOpen(open({ holdTime }), expect4)?.subcode).toBe(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
    const v6only = validateOpen(open({ capabilities: [{ code: 1, name: 'multiprotocol', afi: 2, safi: 1 }] }), expect4);
    expect(v6only).toMatchObject({ subcode: OpenSubcode.UNSUPPORTED_CAPABILITY, data: new Uint8Array([1, 4, 0, 1, 0, 1]) });
    expect(v6only?.reason).toContain('(ipv4-unicast)');
  });

  it('a peer without multiprotocol capabilities carries IPv4 unicast (RFC 4760 8)', () => {
    expect(commonFamilies(open({ capabilities: [] }), [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }])).toEqual(['1/1']);
  });
});
