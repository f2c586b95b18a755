// An UPDATE carrying every attribute kind the decoder names, for the tests of the two JSONL
// writers and the table format.
import type { UpdateMessage } from '../../../reference/bgp/wire/types.ts';

export const EVERY_ATTRIBUTE_UPDATE: UpdateMessage = {
  type: 'UPDATE',
  withdrawn: [{ prefix: '10.9.0.0/16', pathId: 7 }],
  nlri: [{ prefix: '10.1.0.0/16' }],
  attributes: {
    origin: 'egp',
    asPath: [
      { type: 'sequence', asns: [65001, 4200000001] },
      { type: 'set', asns: [1, 2] },
      { type: 'confed-sequence', asns: [3] },
    ],
    nextHop: '10.0.0.1',
    med: 0,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 65001, address: '10.0.0.9' },
    communities: ['65000:1', '65535:65281'],
    originatorId: '1.1.1.1',
    clusterList: ['2.2.2.2', '3.3.3.3'],
    mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48', pathId: 1 }] },
    mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
    extendedCommunities: ['0002fde800000064'],
    largeCommunities: ['65000:1:2'],
    unknown: [{ code: 99, flags: 0xc0, hex: '0102"' }],
  },
};
