import { describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announcedPaths, birdPaths, mostPathsPrefix, multiPathFindings } from './add-path.ts';

const update = (ts: number, u: Partial<UpdateMessage>): DecodedMessage => ({
  ts,
  src: '10.0.1.100:41000',
  dst: '10.8.0.10:179',
  stream: 0,
  type: 'UPDATE',
  length: 60,
  message: { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [], ...u },
});
const vip = '10.0.0.1/32';
const lbs = ['10.0.1.20', '10.0.2.20'];

describe('announcedPaths', () => {
  it('keeps one path per prefix and path id; a withdrawal removes only the path it names', () => {
    const paths = announcedPaths([
      update(1, { attributes: { nextHop: '10.0.1.20' }, nlri: [{ prefix: vip, pathId: 1 }] }),
      update(2, { attributes: { nextHop: '10.0.2.20' }, nlri: [{ prefix: vip, pathId: 2 }, { prefix: '10.0.0.2/32', pathId: 1 }] }),
      update(3, { withdrawn: [{ prefix: '10.0.0.2/32', pathId: 1 }, { prefix: vip, pathId: 7 }] }),
    ]);
    expect(paths).toEqual([
      { prefix: vip, pathId: 1, nextHop: '10.0.1.20' },
      { prefix: vip, pathId: 2, nextHop: '10.0.2.20' },
    ]);
    expect(mostPathsPrefix(paths)).toBe(vip);
  });

  it('re-announcing a path id replaces its next hop; treat-as-withdraw removes it; MP_REACH counts', () => {
    const paths = announcedPaths([
      update(1, { attributes: { nextHop: '10.0.1.20' }, nlri: [{ prefix: vip, pathId: 1 }] }),
      update(2, { attributes: { nextHop: '10.0.9.9' }, nlri: [{ prefix: vip, pathId: 1 }] }),
      update(3, { attributes: { mpReach: { afi: 1, safi: 1, nextHops: ['10.0.2.20'], nlri: [{ prefix: vip, pathId: 2 }] } } }),
      update(4, { nlri: [{ prefix: vip, pathId: 2 }], errors: [{ action: 'treat-as-withdraw', code: 3, subcode: 1, message: 'bad' }] }),
    ]);
    expect(paths).toEqual([{ prefix: vip, pathId: 1, nextHop: '10.0.9.9' }]);
  });
});

describe('multiPathFindings', () => {
  it('accepts one path per load-balancer node with distinct ids', () => {
    const paths = [
      { prefix: vip, pathId: 1, nextHop: '10.0.1.20' },
      { prefix: vip, pathId: 2, nextHop: '10.0.2.20' },
    ];
    expect(multiPathFindings(paths, vip, lbs)).toEqual([]);
  });

  it('names a single path without ids (no ADD-PATH) and the missing next hop', () => {
    expect(multiPathFindings([{ prefix: vip, nextHop: '10.0.1.20' }], vip, lbs)).toEqual([
      '1 path(s) of 10.0.0.1/32 carry no path identifier',
      'no path of 10.0.0.1/32 with next hop 10.0.2.20',
    ]);
  });

  it('names the same next hop under two ids, a stranger next hop and an absent prefix', () => {
    const paths = [
      { prefix: vip, pathId: 1, nextHop: '10.0.1.20' },
      { prefix: vip, pathId: 2, nextHop: '10.0.1.20' },
      { prefix: vip, pathId: 3, nextHop: '10.0.1.100' },
    ];
    expect(multiPathFindings(paths, vip, lbs)).toEqual([
      'next hop 10.0.1.20 announced under several path ids',
      'no path of 10.0.0.1/32 with next hop 10.0.2.20',
      'unexpected next hop 10.0.1.100 for 10.0.0.1/32',
    ]);
    expect(multiPathFindings(paths, '10.0.0.2/32', lbs)).toEqual(['10.0.0.2/32 is not announced on this session']);
  });
});

describe('birdPaths', () => {
  // birdc show route for 10.0.0.1/32 all on a BIRD receiver of two ADD-PATH sessions (trimmed)
  const text = [
    'BIRD 2.0.12 ready.',
    'Table master4:',
    '10.0.0.1/32          unicast [peer3 03:37:34.966 from 10.0.1.100] * (100) [AS65001i]',
    '\tvia 10.0.1.20 on eth1',
    '\tType: BGP univ',
    '\tBGP.next_hop: 10.0.1.20',
    '                     unreachable [peer3 03:37:34.966 from 10.0.1.100] (100) [AS65001i]',
    '\tType: BGP univ',
    '\tBGP.next_hop: 10.0.2.20',
    '                     unicast [peer4 03:37:35.900 from 10.0.2.100] (100) [AS65001i]',
    '\tvia 10.0.1.20 on eth1',
    '\tBGP.next_hop: 10.0.1.20',
  ].join('\n');

  it('lists the paths of one protocol, an unreachable one marked unresolved', () => {
    expect(birdPaths(text, 'peer3')).toEqual([{ nextHop: '10.0.1.20' }, { nextHop: '10.0.2.20', unresolved: true }]);
    expect(birdPaths(text, 'peer4')).toEqual([{ nextHop: '10.0.1.20' }]);
    expect(birdPaths(text, 'peer9')).toEqual([]);
  });
});
