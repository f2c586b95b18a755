import { describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { firstWithdrawalAfter, isAnnounced, prefixEvents } from './withdrawals.ts';

const update = (ts: number, u: Partial<UpdateMessage>): DecodedMessage => ({
  ts,
  src: '10.0.5.11:179',
  dst: '10.0.5.1:40000',
  stream: 0,
  type: 'UPDATE',
  length: 50,
  message: { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [], ...u },
});

describe('prefix events from a session', () => {
  const vip = '20.0.0.100/32';
  const messages = [
    update(10, { nlri: [{ prefix: vip }, { prefix: '10.1.0.0/24' }] }),
    update(20, { withdrawn: [{ prefix: vip }] }),
    update(30, { attributes: { mpReach: { afi: 1, safi: 1, nextHops: ['10.0.5.11'], nlri: [{ prefix: vip }] } } }),
    update(40, { nlri: [{ prefix: '10.1.0.0/24' }], errors: [{ action: 'treat-as-withdraw', code: 3, subcode: 1, message: 'bad' }] }),
  ];

  it('follows announce / withdraw, including MP_REACH and RFC 7606 treat-as-withdraw', () => {
    const events = prefixEvents(messages);
    expect(isAnnounced(events, vip)).toBe(true);
    expect(isAnnounced(events, '10.1.0.0/24')).toBe(false);
    expect(isAnnounced(events, '192.0.2.0/32')).toBe(false);
  });

  it('finds the first withdrawal after a moment', () => {
    const events = prefixEvents(messages);
    expect(firstWithdrawalAfter(events, vip, 15)?.ts).toBe(20);
    expect(firstWithdrawalAfter(events, vip, 25)).toBeNull();
  });

  it('skips messages that did not parse', () => {
    expect(prefixEvents([{ ...update(1, {}), message: null, error: 'x' }])).toEqual([]);
  });
});
