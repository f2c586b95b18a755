import { describe, expect, it } from 'vitest';
import { canonicalIp, parseCidr, parseIp, parseRange, formatCidr } from './address.ts';
import { AddressSpace } from './address-space.ts';

describe('address parsing', () => {
  it('parses and canonicalises IPv4 and IPv6', () => {
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('::ffff:a00:1');
    expect(canonicalIp('fe80::')).toBe('fe80::');
    expect(canonicalIp('1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
  });
  it('rejects malformed addresses', () => {
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'x', '', '1.2.3.4.5', ':::']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
  it('parses CIDRs and ranges', () => {
    expect(formatCidr(parseCidr('172.31.254.77/23')!)).toBe('172.31.254.0/23');
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    const range = parseRange('10.0.0.1-10.0.0.4')!;
    expect(range.last - range.first).toBe(3n);
    expect(parseRange('10.0.0.4-10.0.0.1')).toBeNull();
    expect(parseRange('10.0.0.1-2001:db8::1')).toBeNull();
  });
});

describe('AddressSpace', () => {
  it('numbers addresses across ranges and back', () => {
    const space = new AddressSpace([parseRange('10.0.0.254/31')!, parseRange('10.0.1.0-10.0.1.2')!]);
    expect(space.size).toBe(5);
    expect([0, 1, 2, 3, 4].map((o) => space.addressAt(o))).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1', '10.0.1.2']);
    expect(space.offsetOf('10.0.1.2')).toBe(4);
    expect(space.offsetOf('10.0.1.3')).toBeNull();
  });
  it('handles a /64 without materialising it, carrying across words', () => {
    const space = new AddressSpace([parseRange('2001:db8:0:1::/64')!]);
    expect(space.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(space.addressAt(0x10000)).toBe('2001:db8:0:1::1:0');
    expect(space.addressAt(0xffff)).toBe('2001:db8:0:1::ffff');
    expect(space.offsetOf('2001:db8:0:1::1:0')).toBe(0x10000);
    const edge = new AddressSpace([parseRange('2001:db8::fffe-2001:db8::1:1')!]);
    expect(edge.addressAt(2)).toBe('2001:db8::1:0');
  });
});
