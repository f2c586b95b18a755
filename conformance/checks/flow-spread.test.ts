import { describe, expect, it } from 'vitest';
import { writePcap } from '../capture/testing/capture-writer.ts';
import { LinkType } from '../../reference/net/numbers.ts';
import { spreadOf, udpSourcePorts } from './flow-spread.ts';

function udpFrame(src: string, dst: string, sport: number, dport: number, protocol = 17): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 4);
  f.set([0x08, 0x00], 12);
  f[14] = 0x45;
  f[14 + 9] = protocol;
  f.set(src.split('.').map(Number), 14 + 12);
  f.set(dst.split('.').map(Number), 14 + 16);
  const v = new DataView(f.buffer);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  return f;
}

describe('udpSourcePorts', () => {
  it('counts distinct source ports of UDP to the VIP and port only', () => {
    const frames = [
      udpFrame('10.0.3.10', '192.0.2.0', 20000, 9),
      udpFrame('10.0.3.10', '192.0.2.0', 20000, 9), // the same flow again
      udpFrame('10.0.3.10', '192.0.2.0', 20001, 9),
      udpFrame('10.0.3.10', '192.0.2.1', 20002, 9), // other address
      udpFrame('10.0.3.10', '192.0.2.0', 20003, 53), // other port
      udpFrame('10.0.3.10', '192.0.2.0', 20004, 9, 6), // TCP
    ].map((data, i) => ({ data, ts: i, linkType: LinkType.ETHERNET }));
    expect([...udpSourcePorts(writePcap(frames, 'us'), '192.0.2.0', 9)]).toEqual([20000, 20001]);
  });

  it('survives a torn capture (tcpdump still writing)', () => {
    const bytes = writePcap([{ data: udpFrame('10.0.3.10', '192.0.2.0', 20000, 9), ts: 0, linkType: LinkType.ETHERNET }], 'us');
    expect(udpSourcePorts(bytes.subarray(0, bytes.length - 5), '192.0.2.0', 9).size).toBe(0);
  });
});

describe('spreadOf', () => {
  it('measures the deviation from a fair share and flows split across links', () => {
    const s = spreadOf([new Set([1, 2, 3]), new Set([4, 3])]);
    expect(s).toEqual({ perLink: [3, 2], total: 4, maxDeviation: 0.25, split: 1 });
  });
  it('an empty result is the worst spread', () => {
    expect(spreadOf([new Set(), new Set()]).maxDeviation).toBe(1);
  });
});
