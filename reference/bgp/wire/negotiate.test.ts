import { describe, expect, it } from 'vitest';
import { directionContext, familyKey, type AddPathMode, type Capability, type OpenMessage } from './index.ts';

const open = (capabilities: Capability[]): OpenMessage => ({ type: 'OPEN', version: 4, myAs: 65001, holdTime: 90, bgpId: '10.0.0.1', as4: null, capabilities });
const addPath = (entries: Array<[number, number, AddPathMode]>): Capability => ({
  code: 69,
  name: 'add-path',
  entries: entries.map(([afi, safi, mode]) => ({ afi, safi, mode })),
});
const as4: Capability = { code: 65, name: 'as4', asn: 65001 };

describe('directionContext', () => {
  it('4-octet AS only when both sides offer capability 65', () => {
    expect(directionContext(open([as4]), open([as4])).as4).toBe(true);
    expect(directionContext(open([as4]), open([])).as4).toBe(false);
    expect(directionContext(open([]), open([as4])).as4).toBe(false);
  });

  it.each([
    ['send', 'receive', true],
    ['both', 'both', true],
    ['send', 'both', true],
    ['both', 'receive', true],
    ['receive', 'send', false],
    ['receive', 'both', false],
    ['both', 'send', false],
    ['send', 'send', false],
  ] as const)('sender %s, receiver %s -> path ids %s (RFC 7911 4)', (senderMode, receiverMode, expected) => {
    const ctx = directionContext(open([addPath([[1, 1, senderMode]])]), open([addPath([[1, 1, receiverMode]])]));
    expect(ctx.addPath?.has(familyKey(1, 1))).toBe(expected);
  });

  it('per family: only families both sides list', () => {
    const sender = open([addPath([[1, 1, 'both'], [2, 1, 'receive']])]);
    const receiver = open([addPath([[1, 1, 'receive']]), addPath([[2, 1, 'send']])]);
    expect([...(directionContext(sender, receiver).addPath ?? [])]).toEqual([familyKey(1, 1)]);
    expect([...(directionContext(receiver, sender).addPath ?? [])]).toEqual([familyKey(2, 1)]);
  });
});
