import { describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { Capability } from '../../reference/bgp/wire/index.ts';
import type { RouteEntry } from '../lab/kinds/index.ts';
import { allowedPeerLossOutcomes, bgpRibsOfPeers, missingPaths, pathsVia, restartOffer } from './peer-loss.ts';

const open = (ts: number, src: string, capabilities: Capability[]): DecodedMessage => ({
  ts,
  src: `${src}:179`,
  dst: '10.1.5.10:40000',
  stream: 0,
  type: 'OPEN',
  length: 60,
  message: { type: 'OPEN', version: 4, myAs: 65005, holdTime: 3, bgpId: src, as4: 65005, capabilities },
});
const gr = (families: Array<[number, number]>): Capability => ({
  code: 64,
  name: 'graceful-restart',
  restarting: false,
  notification: false,
  restartTime: 120,
  families: families.map(([afi, safi]) => ({ afi, safi, forwardingState: false })),
});

describe('restartOffer', () => {
  it('reads the graceful-restart capability of the last OPEN the peer sent', () => {
    const messages = [open(1, '10.1.5.1', []), open(2, '10.1.5.10', [gr([[1, 1]])]), open(3, '10.1.5.1', [gr([[1, 1], [2, 1]])])];
    expect(restartOffer(messages, '10.1.5.1')).toEqual({ restartTime: 120, families: ['1/1', '2/1'] });
  });

  it('is false for an OPEN without the capability and null when no OPEN of the peer was captured', () => {
    expect(restartOffer([open(1, '10.1.5.1', [{ code: 2, name: 'route-refresh' }])], '10.1.5.1')).toBe(false);
    expect(restartOffer([open(1, '10.1.5.10', [gr([[1, 1]])])], '10.1.5.1')).toBeNull();
  });
});

describe('allowedPeerLossOutcomes (RFC 4724 4.2)', () => {
  it('routes MUST go when the lost peer did not offer restart for the family', () => {
    expect(allowedPeerLossOutcomes(false)).toEqual(['withdrawn']);
    // helper-only capability: a restart time but no families
    expect(allowedPeerLossOutcomes({ restartTime: 120, families: [] })).toEqual(['withdrawn']);
    expect(allowedPeerLossOutcomes({ restartTime: 120, families: ['2/1'] })).toEqual(['withdrawn']);
  });

  it('stale routes are allowed when the family was offered, and when nothing is known', () => {
    expect(allowedPeerLossOutcomes({ restartTime: 120, families: ['1/1'] })).toContain('stale-kept');
    expect(allowedPeerLossOutcomes(null)).toContain('stale-kept');
  });
});

describe('paths via a lost peer', () => {
  const rib = (entries: Array<[string, string[]]>): RouteEntry[] => entries.map(([prefix, nexthops]) => ({ prefix, nexthops, table: 'rib' }));
  const ribs = new Map([
    ['spine0', rib([['10.98.0.0/24', ['10.1.10.2']], ['10.98.2.0/24', ['10.1.11.2']]])],
    ['leaf1', rib([['10.98.0.0/24', ['10.1.11.1', '10.1.34.1']]])],
  ]);

  it('finds the paths whose next hop is the lost peer', () => {
    expect(pathsVia(ribs, new Set(['10.1.10.2', '10.1.12.2']))).toEqual([{ node: 'spine0', prefix: '10.98.0.0/24' }]);
  });

  it("counts only routers with a session to the lost peer, without their statics (seed-004: peer2 reaches rack1 through peer1's kernel)", () => {
    const seen = new Map([
      ['peer2', rib([['10.0.0.8/32', ['10.8.0.10']], ['10.0.1.0/24', ['10.8.0.10']]])],
      ['spine0', rib([['10.98.0.0/24', ['10.1.10.2']], ['10.0.9.0/24', ['10.1.10.2']]])],
    ]);
    const statics = (node: string) => new Set(node === 'spine0' ? ['10.0.9.0/24'] : []);
    const bgp = bgpRibsOfPeers(seen, new Set(['spine0']), statics);
    expect([...bgp.keys()]).toEqual(['spine0']);
    expect(pathsVia(bgp, new Set(['10.8.0.10', '10.1.10.2']))).toEqual([{ node: 'spine0', prefix: '10.98.0.0/24' }]);
  });

  it('reports expected paths that are gone', () => {
    const expected = [
      { node: 'spine0', prefix: '10.98.2.0/24' },
      { node: 'leaf1', prefix: '10.98.2.0/24' },
    ];
    expect(missingPaths(ribs, expected)).toEqual([{ node: 'leaf1', prefix: '10.98.2.0/24' }]);
  });
});
