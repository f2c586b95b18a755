// The oracle: what the codec says the RFCs prescribe for a message, and the finding a SUT's
// answer to a batch makes.
import { describe, expect, it } from 'vitest';
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import { asPath4, attribute, ipv4Nlri, nextHop, origin } from '../tester/bytes.ts';
import { expectationOf, judge, mustBeAbsentAfter } from './oracle.ts';

const ctx = { as4: true };
const valid = rawUpdate([...origin(), ...asPath4(65110), ...nextHop('127.0.0.10')], ipv4Nlri('100.64.1.0/24'));
const badCommunities = rawUpdate([...origin(), ...asPath4(65110), ...nextHop('127.0.0.10'), ...attribute(0xc0, 8, [1, 2, 3])], ipv4Nlri('100.64.2.0/24'));
const badOrigin = rawUpdate([...attribute(0x40, 1, [0, 0]), ...asPath4(65110), ...nextHop('127.0.0.10')], ipv4Nlri('100.64.3.0/24'));
const badMarker = Uint8Array.from([0, ...valid.subarray(1)]);
const otherFirstAs = rawUpdate([...origin(), ...asPath4(65999), ...nextHop('127.0.0.10')], ipv4Nlri('100.64.4.0/24'));

describe('expectationOf', () => {
  it('classifies as the codec does: accept, treat-as-withdraw (RFC 7606), session reset with code/subcode', () => {
    expect(expectationOf(valid, ctx, 65110)).toMatchObject({ action: 'accept', announces: ['100.64.1.0/24'] });
    expect(expectationOf(badCommunities, ctx, 65110)).toMatchObject({ action: 'treat-as-withdraw', mustBeAbsent: ['100.64.2.0/24'], error: { code: 3, attribute: 8 } });
    expect(expectationOf(badOrigin, ctx, 65110).action).toBe('treat-as-withdraw');
    expect(expectationOf(badMarker, ctx, 65110)).toMatchObject({ action: 'session-reset', error: { code: 1, subcode: 1 } });
  });

  it('LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST of a wrong length from an eBGP peer are discarded, not treat-as-withdraw (RFC 7606 7.5/7.9/7.10)', () => {
    for (const [code, value] of [[5, []], [9, [1]], [10, [1, 2, 3]]] as const) {
      const bytes = rawUpdate([...origin(), ...asPath4(65110), ...nextHop('127.0.0.10'), ...attribute(code === 5 ? 0x40 : 0x80, code, [...value])], ipv4Nlri('100.64.5.0/24'));
      expect(expectationOf(bytes, ctx, 65110), `attribute ${code}`).toMatchObject({ action: 'attribute-discard', mustBeAbsent: [], announces: ['100.64.5.0/24'] });
    }
  });

  it('allows 3/11 when the first AS is not the eBGP peer\'s (RFC 4271 6.3 MAY)', () => {
    expect(expectationOf(otherFirstAs, ctx, 65110).alsoAllowed).toEqual([{ code: 3, subcode: 11 }]);
    expect(expectationOf(valid, ctx, 65110).alsoAllowed).toEqual([]);
  });
});

describe('judge', () => {
  const ok = { closed: false, settled: true, silentMs: 0 };
  const accept = expectationOf(valid, ctx, 65110);
  const withdraw = expectationOf(badCommunities, ctx, 65110);
  const reset = expectationOf(badMarker, ctx, 65110);

  it('no finding when the SUT does what the RFC says', () => {
    expect(judge([accept, withdraw], ok, 9000)).toBeNull();
    expect(judge([accept, reset], { closed: true, settled: false, silentMs: 0, notification: { code: 1, subcode: 1 } }, 9000)).toBeNull();
    expect(judge([expectationOf(otherFirstAs, ctx, 65110)], { closed: true, settled: false, silentMs: 0, notification: { code: 3, subcode: 11 } }, 9000)).toBeNull();
  });

  it('each deviation is its own kind', () => {
    expect(judge([withdraw], { closed: true, settled: false, silentMs: 0, notification: { code: 3, subcode: 9 } }, 9000)?.kind).toBe('unexpected-reset');
    expect(judge([reset], { closed: true, settled: false, silentMs: 0, notification: { code: 1, subcode: 2 } }, 9000)?.kind).toBe('wrong-subcode');
    expect(judge([reset], { closed: true, settled: false, silentMs: 0, notification: { code: 3, subcode: 1 } }, 9000)?.kind).toBe('wrong-code');
    expect(judge([reset], ok, 9000)?.kind).toBe('missing-reset');
    expect(judge([withdraw], { closed: true, settled: false, silentMs: 0 }, 9000)?.kind).toBe('closed-without-notification');
    expect(judge([withdraw], { closed: true, settled: false, silentMs: 0, refusedAfter: true }, 9000)?.kind).toBe('sut-died');
    expect(judge([accept], { closed: false, settled: false, silentMs: 20_000 }, 9000)?.kind).toBe('unresponsive');
    expect(judge([withdraw], { ...ok, acceptedMalformed: ['100.64.2.0/24'] }, 9000)).toMatchObject({ kind: 'route-accepted', prefix: '100.64.2.0/24' });
  });

  it('a prefix also announced validly is not judged absent', () => {
    expect(mustBeAbsentAfter([withdraw])).toEqual(['100.64.2.0/24']);
    expect(mustBeAbsentAfter([withdraw, { ...accept, announces: ['100.64.2.0/24'] }])).toEqual([]);
  });
});
