import { describe, expect, it } from 'vitest';
import { parseProbeArgs, probeReplies } from './udp-probe.ts';

describe('udp-probe', () => {
  it('reads the reply times per source port, skipping a line torn by a read mid-write', () => {
    const text = '1765140000.100 40000\n1765140000.102 40001\n1765140000.300 40000\n1765140000.5';
    expect(probeReplies(text)).toEqual(
      new Map([
        [40000, [1765140000.1, 1765140000.3]],
        [40001, [1765140000.102]],
      ]),
    );
  });

  it('checks its arguments, naming the wrong one', () => {
    expect(parseProbeArgs(['9797', '6', '40000', '200', '10.8.0.10', '10.0.0.1', '10.0.0.8'])).toEqual({
      targets: ['10.0.0.1', '10.0.0.8'],
      port: 9797,
      flows: 6,
      firstSourcePort: 40000,
      intervalMs: 200,
      from: '10.8.0.10',
    });
    expect(parseProbeArgs(['9797', '6', '40000', '200', '-', '10.0.0.1']).from).toBeUndefined();
    expect(() => parseProbeArgs(['9797', '6', '40000', '200', '-'])).toThrow('no target');
    expect(() => parseProbeArgs(['9797', '6', '40000', '200', '-', 'vip'])).toThrow('target must be an IPv4 address, got "vip"');
    expect(() => parseProbeArgs(['9797', '6', '65525', '200', '-', '10.0.0.1', '10.0.0.8'])).toThrow('source ports 65525.. do not fit 12 flows');
    expect(() => parseProbeArgs(['9797', '6', '40000', '5', '-', '10.0.0.1'])).toThrow('interval must be 50..10000 ms, got "5"');
  });
});
