import { describe, expect, it } from 'vitest';
import { BgpError, encodeMessage, messageLengthAt, readIpv4Nlri, scanIpv4Nlri } from './index.ts';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

function scan(hex: string, addPath: boolean): Array<[number, number, number]> {
  const seen: Array<[number, number, number]> = [];
  const data = bytes(hex);
  scanIpv4Nlri(data, 0, data.length, addPath, (addr, len, pathId) => seen.push([addr, len, pathId]));
  return seen;
}

describe('scanIpv4Nlri', () => {
  it('reports each prefix as an unsigned number, length and path id', () => {
    expect(scan('00' + '08ff' + '18c00002' + '20ffffffff', false)).toEqual([
      [0, 0, 0],
      [0xff000000, 8, 0],
      [0xc0000200, 24, 0],
      [0xffffffff, 32, 0],
    ]);
    expect(scan('00000007' + '18c00002' + 'ffffffff' + '00', true)).toEqual([
      [0xc0000200, 24, 7],
      [0, 0, 0xffffffff],
    ]);
  });

  it('respects the start/end window', () => {
    const data = bytes('aa' + '18c00002' + 'bb');
    const seen: number[] = [];
    scanIpv4Nlri(data, 1, 5, false, (addr) => seen.push(addr));
    expect(seen).toEqual([0xc0000200]);
  });

  it('refuses a range outside the buffer', () => {
    expect(() => scanIpv4Nlri(bytes('18c00002'), 0, 5, false, () => {})).toThrow(RangeError);
    expect(() => scanIpv4Nlri(bytes('18c00002'), 3, 2, false, () => {})).toThrow(RangeError);
  });

  it.each([
    ['prefix length 33', '210a000000', false],
    ['prefix overruns', '180a00', false],
    ['path id truncated', '000000', true],
  ])('%s: BgpError 3/10 after the good prefixes', (_, tail, addPath) => {
    const seen: number[] = [];
    const data = bytes((addPath ? '00000001' : '') + '080a' + tail);
    let thrown: unknown;
    try {
      scanIpv4Nlri(data, 0, data.length, addPath, (addr) => seen.push(addr));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BgpError);
    expect((thrown as BgpError).code).toBe(3);
    expect((thrown as BgpError).subcode).toBe(10);
    expect(seen).toEqual([0x0a000000]);
  });
});

describe('readIpv4Nlri', () => {
  const read = (hex: string, addPath: boolean, start = 0, end?: number) => {
    const data = bytes(hex);
    const keys = new Float64Array(data.length);
    const pathIds = new Uint32Array(data.length);
    const count = readIpv4Nlri(data, start, end ?? data.length, addPath, keys, pathIds);
    return { keys: [...keys.subarray(0, count)], pathIds: [...pathIds.subarray(0, count)] };
  };

  it('gives the keys scanIpv4Nlri gives (address * 64 + length, host bits cleared) and the path ids', () => {
    const hex = '00' + '08ff' + '18c00002' + '20ffffffff' + '17c00003';
    const expected = scan(hex, false).map(([addr, len]) => (len === 0 ? 0 : (addr & (-1 << (32 - len))) >>> 0) * 64 + len);
    expect(read(hex, false).keys).toEqual(expected);
    expect(read(hex, false).keys).toEqual([0, 0xff000000 * 64 + 8, 0xc0000200 * 64 + 24, 0xffffffff * 64 + 32, 0xc0000200 * 64 + 23]);
    expect(read('00000007' + '18c00002' + 'ffffffff' + '00', true)).toEqual({ keys: [0xc0000200 * 64 + 24, 0], pathIds: [7, 0xffffffff] });
    expect(read('aa' + '18c00002' + 'bb', false, 1, 5).keys).toEqual([0xc0000200 * 64 + 24]);
  });

  it('refuses a range outside the buffer or columns too short', () => {
    const data = bytes('18c00002');
    expect(() => readIpv4Nlri(data, 0, 5, false, new Float64Array(8), new Uint32Array(8))).toThrow(RangeError);
    expect(() => readIpv4Nlri(data, 0, 4, false, new Float64Array(3), new Uint32Array(8))).toThrow(RangeError);
  });

  it.each([
    ['prefix length 33', '210a000000', false],
    ['prefix overruns', '180a00', false],
    ['path id truncated', '000000', true],
  ])('%s: BgpError 3/10', (_, tail, addPath) => {
    const data = bytes((addPath ? '00000001' : '') + '080a' + tail);
    let thrown: unknown;
    try {
      readIpv4Nlri(data, 0, data.length, addPath, new Float64Array(data.length), new Uint32Array(data.length));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BgpError);
    expect((thrown as BgpError).code).toBe(3);
    expect((thrown as BgpError).subcode).toBe(10);
  });
});

describe('messageLengthAt', () => {
  const keepalive = encodeMessage({ type: 'KEEPALIVE' });
  const refresh = encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 });
  const stream = new Uint8Array([0x00, 0x01, ...keepalive, ...refresh]);

  it('finds headers at their offsets', () => {
    expect(messageLengthAt(stream, 2)).toBe(19);
    expect(messageLengthAt(stream, 21)).toBe(23);
  });

  it('null where no valid header starts, or fewer than 19 bytes remain', () => {
    expect(messageLengthAt(stream, 0)).toBeNull();
    expect(messageLengthAt(stream, 3)).toBeNull();
    expect(messageLengthAt(stream, 30)).toBeNull();
    expect(messageLengthAt(keepalive.subarray(0, 18), 0)).toBeNull();
    const badType = keepalive.slice();
    badType[18] = 9;
    expect(messageLengthAt(badType, 0)).toBeNull();
    const longKeepalive = new Uint8Array(200);
    longKeepalive.set(keepalive);
    longKeepalive[17] = 200; // a KEEPALIVE is exactly 19 bytes
    expect(messageLengthAt(longKeepalive, 0)).toBeNull();
    const shortOpen = keepalive.slice();
    shortOpen[18] = 1; // an OPEN needs at least 29 bytes
    expect(messageLengthAt(shortOpen, 0)).toBeNull();
  });
});
