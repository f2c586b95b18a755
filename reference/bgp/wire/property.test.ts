// Property: decode(encode(x)) deep-equals x for generated UPDATEs and OPENs, across 2- and
// 4-octet sessions and ADD-PATH on or off per family.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4ToString, ipv6ToString } from './addr.ts';
import {
  decodeMessage,
  encodeMessage,
  familyKey,
  type AsPathSegment,
  type Capability,
  type CodecContext,
  type OpenMessage,
  type PathAttributes,
  type Route,
  type UpdateMessage,
} from './index.ts';

// Deeper, unseeded runs: CODEC_PROPERTY_RUNS=20000 npx vitest run reference/bgp/wire/property.test.ts
const DEEP_RUNS = process.env.CODEC_PROPERTY_RUNS ? Number(process.env.CODEC_PROPERTY_RUNS) : undefined;
const runs = (numRuns: number) => (DEEP_RUNS ? { numRuns: DEEP_RUNS } : { numRuns, seed: 20261122 });

const KNOWN_ATTRIBUTE_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
// RFC 7607: AS 0 never appears in a valid path, aggregator or OPEN.
const asn32 = fc.integer({ min: 1, max: 0xffffffff });
const asn16 = fc.integer({ min: 1, max: 0xffff });
const hex = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b));
const hostIpv4 = ipv4.filter((a) => a !== '0.0.0.0' && Number(a.split('.')[0]) < 224);
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b));

/** Prefix text as the decoder prints it: bytes past the prefix length are not on the wire. */
function prefixOf(size: 4 | 16) {
  return fc.tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.integer({ min: 0, max: size * 8 })).map(([bytes, length]) => {
    bytes.fill(0, (length + 7) >> 3);
    return (size === 4 ? ipv4ToString(bytes) : ipv6ToString(bytes)) + '/' + length;
  });
}

function routes(size: 4 | 16, addPath: boolean, max: number): fc.Arbitrary<Route[]> {
  const route = addPath ? fc.record({ prefix: prefixOf(size), pathId: u32 }) : fc.record({ prefix: prefixOf(size) });
  return fc.array(route, { maxLength: max });
}

/** Confederation segments only lead the path (where RFC 5065 puts them), with 2-octet ASNs on 2-octet sessions. */
function asPath(as4: boolean): fc.Arbitrary<AsPathSegment[]> {
  const asn = fc.oneof(asn16, asn32);
  const confedAsn = as4 ? asn : asn16;
  const confed = fc.record({ type: fc.constantFrom('confed-sequence' as const, 'confed-set' as const), asns: fc.array(confedAsn, { minLength: 1, maxLength: 4 }) });
  const plain = fc.record({ type: fc.constantFrom('sequence' as const, 'set' as const), asns: fc.array(asn, { minLength: 1, maxLength: 12 }) });
  return fc.tuple(fc.array(confed, { maxLength: 2 }), fc.array(plain, { maxLength: 4 })).map(([c, p]) => mergeAdjacentSequences([...c, ...p]));
}

/** Two sequences in a row read back as one after an AS4_PATH merge only when split; keep them apart by type. */
function mergeAdjacentSequences(segments: AsPathSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.type === s.type && s.type === 'sequence') last.asns.push(...s.asns);
    else out.push(s);
  }
  return out;
}

const contextArb = fc.record({ as4: fc.boolean(), v4: fc.boolean(), v6: fc.boolean() });

function updateArb(c: { as4: boolean; v4: boolean; v6: boolean }): fc.Arbitrary<UpdateMessage> {
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const mpReach = fc.oneof(
    fc.record({ afi: fc.constant(2), safi: fc.constantFrom(1, 2), nextHops: fc.oneof(fc.tuple(ipv6), fc.tuple(ipv6, ipv6)), nlri: routes(16, c.v6, 8) }),
    fc.record({ afi: fc.constant(1), safi: fc.constant(1), nextHops: fc.oneof(fc.tuple(hostIpv4), fc.tuple(ipv6, ipv6)), nlri: routes(4, c.v4, 8) }),
  );
  const unknownCode = fc.integer({ min: 19, max: 255 }).filter((code) => !KNOWN_ATTRIBUTE_CODES.has(code));
  const unknown = fc
    .uniqueArray(fc.record({ code: unknownCode, flags: fc.integer({ min: 0, max: 0x7f }).map((f) => 0x80 | (f & 0x70)), hex: hex(0, 300) }), {
      selector: (u) => u.code,
      maxLength: 3,
    })
    .map((list) => list.sort((x, y) => x.code - y.code));
  return fc
    .record({
      withdrawn: routes(4, c.v4, 10),
      nlri: routes(4, c.v4, 10),
      mpReach: optional(mpReach),
      mpUnreach: optional(fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: routes(16, c.v6, 8) })),
      origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
      asPath: asPath(c.as4),
      nextHop: hostIpv4,
      med: optional(u32),
      localPref: optional(u32),
      atomicAggregate: optional(fc.constant(true as const)),
      aggregator: optional(fc.record({ asn: fc.oneof(asn16, asn32), address: ipv4 })),
      communities: optional(fc.array(fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`), { minLength: 1, maxLength: 70 })),
      originatorId: optional(ipv4),
      clusterList: optional(fc.array(ipv4, { minLength: 1, maxLength: 4 })),
      extendedCommunities: optional(fc.array(hex(8, 8), { minLength: 1, maxLength: 4 })),
      largeCommunities: optional(fc.array(fc.tuple(u32, u32, u32).map((t) => t.join(':')), { minLength: 1, maxLength: 4 })),
      unknown: optional(unknown.filter((l) => l.length > 0)),
    })
    .map(({ withdrawn, nlri, ...fields }) => {
      const attributes: PathAttributes = {};
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) (attributes as Record<string, unknown>)[key] = value;
      // Mandatory attributes only matter when something is announced; drop them otherwise half the time.
      if (nlri.length === 0 && !attributes.mpReach && fields.med === undefined) {
        delete attributes.origin;
        delete attributes.asPath;
        delete attributes.nextHop;
      }
      return { type: 'UPDATE' as const, withdrawn, attributes, nlri };
    });
}

describe('property: UPDATE round trip', () => {
  it('decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(
        contextArb.chain((c) => fc.tuple(fc.constant(c), updateArb(c))),
        ([c, update]) => {
          const ctx: CodecContext = { as4: c.as4, addPath: new Set([...(c.v4 ? [familyKey(1, 1)] : []), ...(c.v6 ? [familyKey(2, 1), familyKey(2, 2)] : [])]) };
          let bytes: Uint8Array;
          try {
            bytes = encodeMessage(update, ctx);
          } catch (error) {
            // The only refusal allowed here: a generated message larger than BGP allows.
            expect(String(error)).toMatch(/exceeds the 4096-byte/);
            return;
          }
          const decoded = decodeMessage(bytes, ctx) as UpdateMessage;
          expect(decoded.errors).toBeUndefined();
          delete decoded.layout;
          expect(decoded).toEqual(update);
        },
      ),
      runs(250),
    );
  });
});

describe('property: OPEN round trip', () => {
  const family = fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }) });
  const capability: fc.Arbitrary<Capability> = fc.oneof(
    family.map((f) => ({ code: 1 as const, name: 'multiprotocol' as const, ...f })),
    fc.constant({ code: 2 as const, name: 'route-refresh' as const }),
    fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { minLength: 1, maxLength: 3 }).map((entries) => ({ code: 5 as const, name: 'extended-nexthop' as const, entries })),
    fc
      .record({ restarting: fc.boolean(), notification: fc.boolean(), restartTime: fc.integer({ min: 0, max: 4095 }), families: fc.array(fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), forwardingState: fc.boolean() }), { maxLength: 3 }) })
      .map((g) => ({ code: 64 as const, name: 'graceful-restart' as const, ...g })),
    fc
      .array(fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), mode: fc.constantFrom('receive' as const, 'send' as const, 'both' as const) }), { minLength: 1, maxLength: 3 })
      .map((entries) => ({ code: 69 as const, name: 'add-path' as const, entries })),
    fc.constant({ code: 70 as const, name: 'enhanced-route-refresh' as const }),
    fc
      .array(fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), forwardingState: fc.boolean(), staleTime: fc.integer({ min: 0, max: 0xffffff }) }), { maxLength: 3 })
      .map((families) => ({ code: 71 as const, name: 'long-lived-graceful-restart' as const, families })),
    fc.record({ hostname: fc.string({ maxLength: 20 }), domain: fc.string({ maxLength: 20 }) }).map((f) => ({ code: 73 as const, name: 'fqdn' as const, ...f })),
    fc
      .array(
        fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), types: fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), mode: fc.constantFrom('receive' as const, 'send' as const, 'both' as const) }), { maxLength: 3 }) }),
        { minLength: 1, maxLength: 3 },
      )
      .chain((entries) => fc.constantFrom({ code: 3 as const, name: 'orf' as const, entries }, { code: 130 as const, name: 'orf-cisco' as const, entries })),
    fc.record({ code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 3, 5, 64, 65, 69, 70, 71, 73, 130].includes(c)), hex: hex(0, 40) }),
  );
  it('decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(
        fc.record({
          myAs: asn16,
          holdTime: fc.integer({ min: 0, max: 0xffff }).filter((h) => h !== 1 && h !== 2),
          bgpId: ipv4.filter((a) => a !== '0.0.0.0'),
          as4: fc.option(asn32, { nil: null }),
          capabilities: fc.array(capability, { maxLength: 30 }),
        }),
        ({ as4, capabilities, ...rest }) => {
          const open: OpenMessage = {
            type: 'OPEN',
            version: 4,
            ...rest,
            as4,
            capabilities: as4 === null ? capabilities : [{ code: 65, name: 'as4', asn: as4 }, ...capabilities],
          };
          expect(decodeMessage(encodeMessage(open))).toEqual(open);
        },
      ),
      runs(200),
    );
  });
});
