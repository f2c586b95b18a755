import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { bgpIdOf, mapNextHops, withBgpId } from './rewrite.ts';

const open = encodeMessage({ type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1', as4: null, capabilities: [{ code: 2, name: 'route-refresh' }] });
const v4: UpdateMessage = { type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '10.9.0.0/24' }], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.0.1' } };
const v6: UpdateMessage = {
  type: 'UPDATE',
  withdrawn: [],
  nlri: [],
  attributes: { origin: 'igp', asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:9::/48' }] } },
};

describe('rewrite', () => {
  it('replaces only the BGP identifier of an OPEN', () => {
    const out = withBgpId(open, '10.77.255.1');
    expect(bgpIdOf(out)).toBe('10.77.255.1');
    expect(out.length).toBe(open.length);
    expect([...out].filter((b, i) => b !== open[i]).length).toBeLessThanOrEqual(4);
    expect(bgpIdOf(open)).toBe('10.0.0.1');
  });

  it('maps NEXT_HOP and both MP_REACH next hops, nothing else', () => {
    const bytes = encodeMessage(v4);
    const out = mapNextHops(bytes, new Map([['10.0.0.1', '10.77.0.1']]));
    expect((decodeMessage(out) as UpdateMessage).attributes.nextHop).toBe('10.77.0.1');
    expect(out.length).toBe(bytes.length);
    const six = mapNextHops(encodeMessage(v6), new Map([['2001:db8::1', 'fd00:77::1'], ['fe80::1', 'fe80::77']]));
    expect((decodeMessage(six) as UpdateMessage).attributes.mpReach!.nextHops).toEqual(['fd00:77::1', 'fe80::77']);
  });

  it('returns the same bytes when nothing maps, across families, or the message is malformed', () => {
    const bytes = encodeMessage(v4);
    expect(mapNextHops(bytes, new Map([['10.0.0.9', '10.77.0.1']]))).toBe(bytes);
    expect(mapNextHops(bytes, new Map([['10.0.0.1', 'fd00::1']]))).toBe(bytes);
    const broken = bytes.slice();
    broken[19 + 3] = 0xff; // attribute length beyond the message
    expect(mapNextHops(broken, new Map([['10.0.0.1', '10.77.0.1']]))).toBe(broken);
    expect(mapNextHops(bytes.slice(0, 20), new Map([['10.0.0.1', '10.77.0.1']]))).toHaveLength(20);
  });
});
