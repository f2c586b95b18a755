import { describe, expect, it } from 'vitest';
import { parseFlowArgs } from './udp-flows.ts';

describe('parseFlowArgs', () => {
  it('reads target, port, flows, first source port, rounds', () => {
    expect(parseFlowArgs(['192.0.2.0', '9', '1000'])).toEqual({ target: '192.0.2.0', port: 9, flows: 1000, firstSourcePort: 20000, rounds: 2 });
  });
  it('refuses unbounded or malformed plans', () => {
    expect(() => parseFlowArgs(['example.com', '9', '10'])).toThrow(/IPv4 address/);
    expect(() => parseFlowArgs(['192.0.2.0', '0', '10'])).toThrow(/port must be/);
    expect(() => parseFlowArgs(['192.0.2.0', '9', '1000000'])).toThrow(/flows must be 1..20000/);
    expect(() => parseFlowArgs(['192.0.2.0', '9', '100', '65500'])).toThrow(/do not fit/);
    expect(() => parseFlowArgs(['192.0.2.0', '9', '100', '20000', '9'])).toThrow(/rounds must be/);
  });
});
