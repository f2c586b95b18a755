// decode(encode(x)) deep-equals x for every message and attribute shape.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './index.ts';
import { familyKey, type BgpMessage, type CodecContext, type OpenMessage, type PathAttributes, type UpdateMessage } from './types.ts';

function roundTrip(message: BgpMessage, ctx: CodecContext = {}): BgpMessage {
  const decoded = decodeMessage(encodeMessage(message, ctx), ctx);
  if (decoded.type === 'UPDATE') {
    expect(decoded.errors).toBeUndefined();
    delete decoded.layout;
  }
  return decoded;
}

const baseOpen: OpenMessage = {
  type: 'OPEN',
  version: 4,
  myAs: 65001,
  holdTime: 90,
  bgpId: '192.168.121.16',
  as4: 65001,
  capabilities: [{ code: 65, name: 'as4', asn: 65001 }],
};

describe('OPEN', () => {
  const opens: Array<[string, OpenMessage]> = [
    ['no capabilities', { ...baseOpen, as4: null, capabilities: [] }],
    [
      'every typed capability',
      {
        ...baseOpen,
        myAs: 23456,
        as4: 4200000001,
        capabilities: [
          { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
          { code: 1, name: 'multiprotocol', afi: 2, safi: 1 },
          { code: 2, name: 'route-refresh' },
          { code: 5, name: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }, { afi: 1, safi: 128, nextHopAfi: 2 }] },
          {
            code: 64,
            name: 'graceful-restart',
            restarting: true,
            notification: true,
            restartTime: 120,
            families: [{ afi: 1, safi: 1, forwardingState: true }, { afi: 2, safi: 1, forwardingState: false }],
          },
          { code: 65, name: 'as4', asn: 4200000001 },
          { code: 69, name: 'add-path', entries: [{ afi: 1, safi: 1, mode: 'both' }, { afi: 2, safi: 1, mode: 'receive' }, { afi: 1, safi: 2, mode: 'send' }] },
          { code: 70, name: 'enhanced-route-refresh' },
          { code: 71, name: 'long-lived-graceful-restart', families: [{ afi: 1, safi: 1, forwardingState: true, staleTime: 0xfffffe }] },
          { code: 73, name: 'fqdn', hostname: 'router-1', domain: 'lab.example' },
        ],
      },
    ],
    ['empty graceful restart and LLGR', { ...baseOpen, as4: null, capabilities: [{ code: 64, name: 'graceful-restart', restarting: false, notification: false, restartTime: 0, families: [] }, { code: 71, name: 'long-lived-graceful-restart', families: [] }] }],
    ['unknown capabilities kept raw', { ...baseOpen, as4: null, capabilities: [{ code: 128, hex: '' }, { code: 200, hex: '0102030405' }] }],
    ['other optional parameters', { ...baseOpen, otherParameters: [{ type: 1, hex: '00aabb' }] }],
    [
      'RFC 9072 extended optional parameters (more than 255 bytes)',
      { ...baseOpen, capabilities: [...baseOpen.capabilities, ...Array.from({ length: 40 }, (_, i) => ({ code: 200 + (i % 50), hex: '0011223344556677' }))] },
    ],
  ];
  it.each(opens)('%s', (_, open) => {
    expect(roundTrip(open)).toEqual(open);
  });
  it('refuses an as4 field the capabilities do not carry', () => {
    expect(() => encodeMessage({ ...baseOpen, as4: 4200000000 })).toThrow(/as4 is 4200000000 but the 4-octet AS capability says 65001/);
    expect(() => encodeMessage({ ...baseOpen, as4: null })).toThrow(RangeError);
  });
  it('refuses a capability value longer than its 1-byte length field', () => {
    const open: OpenMessage = { ...baseOpen, as4: null, capabilities: [{ code: 250, hex: 'ab'.repeat(300) }] };
    expect(() => encodeMessage(open)).toThrow(/capability 250 length: 300/);
  });
});

describe('UPDATE', () => {
  const as4: CodecContext = { as4: true };
  const as2: CodecContext = { as4: false };
  const attributes: PathAttributes = {
    origin: 'igp',
    asPath: [
      { type: 'sequence', asns: [65001, 65002] },
      { type: 'set', asns: [65010, 65011] },
    ],
    nextHop: '10.0.1.10',
  };
  const update = (a: PathAttributes, nlri = [{ prefix: '192.0.2.0/24' }], withdrawn: UpdateMessage['withdrawn'] = []): UpdateMessage => ({
    type: 'UPDATE',
    withdrawn,
    attributes: a,
    nlri,
  });

  const shapes: Array<[string, UpdateMessage, CodecContext]> = [
    ['empty (IPv4 End-of-RIB)', update({}, []), as4],
    ['withdrawals only', update({}, [], [{ prefix: '10.0.0.0/8' }, { prefix: '0.0.0.0/0' }, { prefix: '10.1.2.3/32' }]), as2],
    ['origin egp and incomplete', update({ ...attributes, origin: 'egp' }), as4],
    ['origin incomplete', update({ ...attributes, origin: 'incomplete' }), as4],
    [
      'all four segment types, 4-octet',
      update({
        ...attributes,
        asPath: [
          { type: 'confed-sequence', asns: [64512, 64513] },
          { type: 'confed-set', asns: [64514] },
          { type: 'sequence', asns: [4200000000, 65001] },
          { type: 'set', asns: [4200000001, 7] },
        ],
      }),
      as4,
    ],
    ['all four segment types, 2-octet', update({ ...attributes, asPath: [{ type: 'confed-sequence', asns: [1] }, { type: 'confed-set', asns: [2] }, { type: 'sequence', asns: [3] }, { type: 'set', asns: [4] }] }), as2],
    ['empty AS_PATH (iBGP)', update({ ...attributes, asPath: [] }), as4],
    [
      'MED, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR 4-octet',
      update({ ...attributes, med: 0xffffffff, localPref: 100, atomicAggregate: true, aggregator: { asn: 4200000000, address: '10.0.0.1' } }),
      as4,
    ],
    ['AGGREGATOR 2-octet', update({ ...attributes, aggregator: { asn: 65001, address: '10.0.0.1' } }), as2],
    [
      '2-octet session with ASNs above 65535 (AS_TRANS + AS4_PATH/AS4_AGGREGATOR)',
      update({
        ...attributes,
        asPath: [
          { type: 'sequence', asns: [65001, 4200000000, 65002, 4200000001] },
          { type: 'set', asns: [4200000002, 65003] },
        ],
        aggregator: { asn: 4200000003, address: '192.0.2.1' },
      }),
      as2,
    ],
    [
      '2-octet session: a 2-octet aggregator next to a path needing AS4_PATH',
      update({ ...attributes, asPath: [{ type: 'sequence', asns: [4200000000] }], aggregator: { asn: 65001, address: '192.0.2.1' } }),
      as2,
    ],
    [
      '2-octet session: confederation segments ahead of 4-octet ASNs',
      update({ ...attributes, asPath: [{ type: 'confed-sequence', asns: [64512] }, { type: 'sequence', asns: [65001, 4200000000] }] }),
      as2,
    ],
    [
      'communities (incl. well-known), large, extended',
      update({
        ...attributes,
        communities: ['65000:100', '65535:65281', '65535:65282', '0:0'],
        largeCommunities: ['4200000000:1:2', '65000:4294967295:0'],
        extendedCommunities: ['0002fde800000064', '000300000000000a'],
      }),
      as4,
    ],
    ['route reflection: ORIGINATOR_ID, CLUSTER_LIST', update({ ...attributes, localPref: 100, originatorId: '10.0.0.9', clusterList: ['10.0.0.1', '192.168.1.1'] }), as4],
    [
      'unknown attributes with their flags (incl. partial and extended length)',
      update({
        ...attributes,
        unknown: [
          { code: 40, flags: 0xc0, hex: '00000001' },
          { code: 99, flags: 0xe0, hex: 'deadbeef' },
          { code: 120, flags: 0x90, hex: 'ab' },
          { code: 200, flags: 0x80, hex: '' },
        ],
      }),
      as4,
    ],
    ['extended length: AS_PATH longer than 255 bytes', update({ ...attributes, asPath: [{ type: 'sequence', asns: Array.from({ length: 100 }, (_, i) => 4200000000 + i) }] }), as4],
    ['extended length: many communities', update({ ...attributes, communities: Array.from({ length: 200 }, (_, i) => `65000:${i}`) }), as4],
    [
      'IPv6 MP_REACH with global + link-local next hops',
      update(
        { origin: 'igp', asPath: [{ type: 'sequence', asns: [65100] }], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::a8c1:abff:fe00:1'], nlri: [{ prefix: '2001:db8:100::/48' }, { prefix: '::/0' }, { prefix: '2001:db8::1/128' }] } },
        [],
      ),
      as4,
    ],
    ['IPv6 MP_REACH with a global next hop only', update({ origin: 'igp', asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:100::/56' }] } }, []), as4],
    ['IPv4 NLRI with an IPv6 next hop (RFC 8950)', update({ origin: 'igp', asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '10.98.0.0/16' }] } }, []), as4],
    ['IPv4 in MP_REACH with an IPv4 next hop', update({ origin: 'igp', asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['10.0.0.1'], nlri: [{ prefix: '10.98.0.0/16' }] } }, []), as4],
    ['MP_UNREACH IPv6', update({ mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:100::/48' }] } }, []), as4],
    ['MP_UNREACH End-of-RIB of an undecoded family', update({ mpUnreach: { afi: 25, safi: 70, withdrawn: [] } }, []), as4],
    ['MP_REACH of an undecoded family kept raw', update({ origin: 'igp', asPath: [], unknown: [{ code: 14, flags: 0x90, hex: '00194604c0000201001122' }] }, []), as4],
    ['IPv4 prefix with host bits past its length, as sent', update(attributes, [{ prefix: '10.0.0.129/25' }, { prefix: '172.31.254.0/23' }]), as4],
  ];
  it.each(shapes)('%s', (_, message, ctx) => {
    expect(roundTrip(message, ctx)).toEqual(message);
  });

  describe('ADD-PATH per family', () => {
    const v4 = familyKey(1, 1);
    const v6 = familyKey(2, 1);
    const message = update(
      { ...attributes, mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::/32' }] } },
      [{ prefix: '192.0.2.0/24' }],
      [{ prefix: '198.51.100.0/24' }],
    );
    const withIds = (m: UpdateMessage, onV4: boolean, onV6: boolean): UpdateMessage => ({
      ...m,
      withdrawn: m.withdrawn.map((r) => (onV4 ? { ...r, pathId: 3 } : r)),
      nlri: m.nlri.map((r) => (onV4 ? { ...r, pathId: 0xffffffff } : r)),
      attributes: { ...m.attributes, mpReach: { ...m.attributes.mpReach!, nlri: m.attributes.mpReach!.nlri.map((r) => (onV6 ? { ...r, pathId: 1 } : r)) } },
    });
    it.each([
      ['none', false, false],
      ['IPv4 only', true, false],
      ['IPv6 only', false, true],
      ['both', true, true],
    ] as const)('%s', (_, onV4, onV6) => {
      const addPath = new Set<string>([...(onV4 ? [v4] : []), ...(onV6 ? [v6] : [])]);
      const m = withIds(message, onV4, onV6);
      expect(roundTrip(m, { as4: true, addPath })).toEqual(m);
    });
  });
});

describe('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH, unknown types', () => {
  const messages: BgpMessage[] = [
    { type: 'NOTIFICATION', code: 6, subcode: 2, data: '' },
    { type: 'NOTIFICATION', code: 3, subcode: 5, data: '4003050a00000102' },
    { type: 'NOTIFICATION', code: 6, subcode: 4, data: '0d' + Buffer.from('admin shutdown').toString('hex') },
    { type: 'KEEPALIVE' },
    { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 },
    { type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 },
    { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 2 },
    { type: 'UNKNOWN', typeCode: 6, hex: '0102' },
    { type: 'UNKNOWN', typeCode: 200, hex: '' },
  ];
  it.each(messages.map((m) => [JSON.stringify(m), m] as const))('%s', (_, message) => {
    expect(roundTrip(message)).toEqual(message);
  });
});
