import { describe, expect, it } from 'vitest';
import { addressIn } from './pods.ts';

describe('addressIn', () => {
  it('offsets inside the prefix', () => {
    expect(addressIn('10.1.0.0/24', 10)).toBe('10.1.0.10');
    expect(addressIn('10.98.3.0/24', 255)).toBe('10.98.3.255');
    expect(addressIn('172.31.254.64/26', 1)).toBe('172.31.254.65');
  });

  it('refuses an offset outside the prefix or a prefix that is not IPv4', () => {
    expect(() => addressIn('10.1.0.0/24', 256)).toThrow(/outside 10\.1\.0\.0\/24/);
    expect(() => addressIn('2001:db8::/64', 1)).toThrow(/not an IPv4 prefix/);
    expect(() => addressIn('10.1.0.0', 1)).toThrow(/not an IPv4 prefix/);
  });
});
