import { describe, expect, it } from 'vitest';
import { formatPrefix, ipv4NumberToString, ipv6ToString, parseIpv4, parseIpv6, parsePrefix } from './addr.ts';

describe('IPv6 text (RFC 5952)', () => {
  const cases: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // 4.2.1 shortest form, 4.3 lowercase
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // 5: IPv4-mapped in mixed notation
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['1:0:0:0:0:0:0:0', '1::'],
  ];
  it.each(cases)('%s -> %s', (input, expected) => {
    expect(ipv6ToString(parseIpv6(input))).toBe(expected);
  });

  it.each(['', ':', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1.2.3.256', '1:2:3:4:5:6:7::8'])(
    'rejects "%s" with a RangeError naming it',
    (bad) => {
      expect(() => parseIpv6(bad)).toThrow(RangeError);
      expect(() => parseIpv6(bad)).toThrow(`"${bad}"`);
    },
  );
});

describe('IPv4 text', () => {
  it('round-trips through numbers', () => {
    for (const text of ['0.0.0.0', '10.0.1.10', '255.255.255.255', '192.0.2.100']) {
      expect(ipv4NumberToString(parseIpv4(text))).toBe(text);
    }
  });
  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.x', ' 1.2.3.4', '1..2.3'])('rejects "%s"', (bad) => {
    expect(() => parseIpv4(bad)).toThrow(RangeError);
  });
});

describe('prefixes', () => {
  it('parses and formats both families', () => {
    expect(formatPrefix(parsePrefix('10.0.0.0/8').bytes, 8)).toBe('10.0.0.0/8');
    const v6 = parsePrefix('2001:db8:1::/48');
    expect(v6.length).toBe(48);
    expect(formatPrefix(v6.bytes, v6.length)).toBe('2001:db8:1::/48');
  });
  it.each(['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/-1', 'x/8', '10.0.0.0/8/8'])('rejects "%s"', (bad) => {
    expect(() => parsePrefix(bad)).toThrow(RangeError);
  });
});
