import { describe, expect, it } from 'vitest';
import { addressesConfiguredOn, matchingInterfaces } from './links.ts';
import { parseVip } from './responder.ts';

// Reads (never changes) the namespace the test runs in: every namespace has lo with 127.0.0.1.
describe('interface discovery', () => {
  it('finds VIPs already configured on an interface', () => {
    expect(addressesConfiguredOn(['lo'], ['127.0.0.1', '10.255.255.254'])).toEqual([{ address: '127.0.0.1', interfaceName: 'lo' }]);
    expect(addressesConfiguredOn(['no-such-if'], ['127.0.0.1'])).toEqual([]);
  });

  it('never offers loopback, which has no Ethernet header to answer on', () => {
    expect(matchingInterfaces([/^lo$/])).toEqual([]);
  });

  it('writes IPv6 VIPs the way ip prints them', () => {
    expect(parseVip('FD00:5:0:0::0100').text).toBe('fd00:5::100');
  });
});
