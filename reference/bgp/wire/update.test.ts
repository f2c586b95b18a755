import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeUpdates,
  endOfRib,
  endOfRibFamily,
  familyKey,
  isEndOfRib,
  type CodecContext,
  type PathAttributes,
  type Route,
  type UpdateMessage,
} from './index.ts';

const attributes: PathAttributes = {
  origin: 'igp',
  asPath: [{ type: 'sequence', asns: [65005] }],
  nextHop: '10.1.5.10',
  communities: ['65005:1'],
};
const v4Routes = (count: number, length: 24 | 32 = 32): Route[] =>
  Array.from({ length: count }, (_, i) =>
    length === 32 ? { prefix: `20.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` } : { prefix: `20.${(i >> 8) & 255}.${i & 255}.0/24` },
  );
const v6Routes = (count: number): Route[] => Array.from({ length: count }, (_, i) => ({ prefix: `2001:db8:${(i + 1).toString(16)}::/48` }));

function decodeAll(messages: Uint8Array[], ctx: CodecContext): UpdateMessage[] {
  return messages.map((m) => {
    expect(m.length).toBeLessThanOrEqual(4096);
    const decoded = decodeMessage(m, ctx) as UpdateMessage;
    expect(decoded.errors).toBeUndefined();
    return decoded;
  });
}

describe('encodeUpdates packs routes into 4096-byte UPDATEs', () => {
  it('IPv4 /32s: every message but the last is nearly full, nothing lost, order kept', () => {
    const routes = v4Routes(5000);
    const messages = encodeUpdates({ withdrawn: [], attributes, nlri: routes }, { as4: true });
    const decoded = decodeAll(messages, { as4: true });
    expect(decoded.flatMap((u) => u.nlri)).toEqual(routes);
    for (const m of messages.slice(0, -1)) expect(m.length).toBeGreaterThan(4096 - 5);
    for (const u of decoded) expect(u.attributes).toEqual(attributes);
    // 4096 - 23 header/length bytes - attributes, 5 bytes per /32
    const attributeBytes = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes, nlri: [] }, { as4: true }).length - 23;
    expect(messages).toHaveLength(Math.ceil(5000 / Math.floor((4096 - 23 - attributeBytes) / 5)));
  });

  it('withdrawals in the Withdrawn Routes field and MP_UNREACH_NLRI, with ADD-PATH path ids', () => {
    const ctx: CodecContext = { as4: true, addPath: new Set([familyKey(1, 1), familyKey(2, 1)]) };
    const withdrawn = [...v4Routes(1500, 24).map((r, i) => ({ ...r, pathId: i })), ...v6Routes(700).map((r) => ({ ...r, pathId: 9 }))];
    const messages = encodeUpdates({ withdrawn, attributes: {}, nlri: [] }, ctx);
    const decoded = decodeAll(messages, ctx);
    expect(decoded.flatMap((u) => u.withdrawn)).toEqual(withdrawn.slice(0, 1500));
    expect(decoded.flatMap((u) => u.attributes.mpUnreach?.withdrawn ?? [])).toEqual(withdrawn.slice(1500));
    expect(messages.length).toBeGreaterThan(2);
  });

  it('IPv6 announcements in MP_REACH_NLRI with global and link-local next hops', () => {
    const routes = v6Routes(2000);
    const reach = { afi: 2, safi: 1, nextHops: ['2001:db8::10', 'fe80::1'], nlri: [] };
    const messages = encodeUpdates({ withdrawn: [], attributes: { ...attributes, mpReach: reach }, nlri: routes }, { as4: true });
    const decoded = decodeAll(messages, { as4: true });
    expect(decoded.flatMap((u) => u.attributes.mpReach!.nlri)).toEqual(routes);
    for (const u of decoded) {
      expect(u.attributes.mpReach!.nextHops).toEqual(['2001:db8::10', 'fe80::1']);
      expect(u.nlri).toEqual([]);
      expect(u.layout![0].code).toBe(14);
    }
    for (const m of messages.slice(0, -1)) expect(m.length).toBeGreaterThan(4096 - 8);
  });

  it('IPv4 routes with an IPv6 next hop go into MP_REACH_NLRI (RFC 8950)', () => {
    const routes = v4Routes(3);
    const [message, ...rest] = encodeUpdates(
      { withdrawn: [], attributes: { origin: 'igp', asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::10'], nlri: [] } }, nlri: routes },
      { as4: true },
    );
    expect(rest).toEqual([]);
    const decoded = decodeMessage(message, { as4: true }) as UpdateMessage;
    expect(decoded.nlri).toEqual([]);
    expect(decoded.attributes.mpReach).toEqual({ afi: 1, safi: 1, nextHops: ['2001:db8::10'], nlri: routes });
  });

  it('a mix of everything, on a 2-octet session with a big ASN', () => {
    const ctx: CodecContext = { as4: false };
    const attrs: PathAttributes = {
      ...attributes,
      asPath: [{ type: 'sequence', asns: [4200000000, 65001] }],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [] },
    };
    const messages = encodeUpdates({ withdrawn: [...v4Routes(2), ...v6Routes(2)], attributes: attrs, nlri: [...v4Routes(3, 24), ...v6Routes(3)] }, ctx);
    const decoded = decodeAll(messages, ctx);
    expect(decoded.map((u) => [u.withdrawn.length, u.attributes.mpUnreach?.withdrawn.length ?? 0, u.nlri.length, u.attributes.mpReach?.nlri.length ?? 0])).toEqual([
      [2, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 3],
    ]);
    expect(decoded[2].attributes.asPath).toEqual([{ type: 'sequence', asns: [4200000000, 65001] }]);
    expect(decoded[2].attributes.mpReach).toBeUndefined();
  });

  it('nothing to send gives no messages', () => {
    expect(encodeUpdates({ withdrawn: [], attributes, nlri: [] })).toEqual([]);
  });

  it('refuses IPv6 routes without next hops, and path ids without ADD-PATH, with clear errors', () => {
    expect(() => encodeUpdates({ withdrawn: [], attributes, nlri: v6Routes(1) })).toThrow(/need attributes.mpReach/);
    expect(() => encodeUpdates({ withdrawn: [], attributes, nlri: [{ prefix: '10.0.0.0/8', pathId: 1 }] })).toThrow(/ADD-PATH is not negotiated/);
    expect(() => encodeUpdates({ withdrawn: [], attributes, nlri: [{ prefix: '10.0.0.0/33' }] })).toThrow(/bad length/);
  });

  it('encodeMessage refuses an UPDATE over 4096 bytes', () => {
    expect(() => encodeMessage({ type: 'UPDATE', withdrawn: [], attributes, nlri: v4Routes(1000) })).toThrow(/exceeds the 4096-byte/);
  });
});

describe('End-of-RIB (RFC 4724 2)', () => {
  it('IPv4 unicast: an empty UPDATE, 23 bytes on the wire', () => {
    const bytes = encodeMessage(endOfRib(1, 1));
    expect(bytes.length).toBe(23);
    const decoded = decodeMessage(bytes) as UpdateMessage;
    expect(isEndOfRib(decoded)).toBe(true);
    expect(endOfRibFamily(decoded)).toEqual({ afi: 1, safi: 1 });
  });

  it('other families: only an empty MP_UNREACH_NLRI', () => {
    for (const [afi, safi] of [
      [2, 1],
      [25, 70],
    ]) {
      const decoded = decodeMessage(encodeMessage(endOfRib(afi, safi))) as UpdateMessage;
      expect(endOfRibFamily(decoded)).toEqual({ afi, safi });
    }
  });

  it('an UPDATE whose only attribute was discarded as malformed is not End-of-RIB', () => {
    const bytes = new Uint8Array(Buffer.from('ff'.repeat(16) + '001b' + '02' + '0000' + '0004' + '40060100', 'hex'));
    const decoded = decodeMessage(bytes) as UpdateMessage;
    expect(decoded.attributes).toEqual({});
    expect(decoded.errors).toMatchObject([{ action: 'attribute-discard', attribute: 6 }]);
    expect(isEndOfRib(decoded)).toBe(false);
  });

  it('ordinary UPDATEs are not End-of-RIB', () => {
    expect(isEndOfRib({ type: 'UPDATE', withdrawn: [{ prefix: '10.0.0.0/8' }], attributes: {}, nlri: [] })).toBe(false);
    expect(isEndOfRib({ type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '::/0' }] } }, nlri: [] })).toBe(false);
    expect(isEndOfRib({ type: 'UPDATE', withdrawn: [], attributes: { origin: 'igp', mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] })).toBe(false);
  });
});
