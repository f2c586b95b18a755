import { describe, expect, it } from 'vitest';
import { addPathRequest, parseListPeerResponse, pbBytes, pbFields, pbVarint } from './gobgp-api.ts';

// The hand-encoded GoBGP API messages: what addPathRequest writes decodes back to the fields
// GoBGP 3.x reads (AddPathRequest.path -> nlri Any, pattrs Any, family), and a ListPeerResponse
// built field by field decodes to address, AS and state. The lab tests run them against gobgpd.

const anyOf = (buf: Buffer) => {
  const f = pbFields(buf);
  return { type: (f.get(1)![0] as Buffer).toString(), value: pbFields(f.get(2)?.[0] as Buffer ?? Buffer.alloc(0)) };
};

describe('gobgp-api', () => {
  it('encodes AddPath for an IPv4 prefix: IPAddressPrefix NLRI, origin IGP, next hop 0.0.0.0, family ipv4-unicast', () => {
    const path = pbFields(pbFields(addPathRequest('10.128.3.0/24')).get(3)![0] as Buffer);
    const nlri = anyOf(path.get(1)![0] as Buffer);
    expect(nlri.type).toBe('type.googleapis.com/apipb.IPAddressPrefix');
    expect(nlri.value.get(1)).toEqual([24]);
    expect((nlri.value.get(2)![0] as Buffer).toString()).toBe('10.128.3.0');
    const attrs = path.get(2)!.map((a) => anyOf(a as Buffer));
    expect(attrs.map((a) => a.type)).toEqual(['type.googleapis.com/apipb.OriginAttribute', 'type.googleapis.com/apipb.NextHopAttribute']);
    expect((attrs[1]!.value.get(1)![0] as Buffer).toString()).toBe('0.0.0.0');
    const family = pbFields(path.get(9)![0] as Buffer);
    expect([family.get(1), family.get(2)]).toEqual([[1], [1]]);
  });

  it('refuses an IPv6 prefix (the CLI path originates those)', () => {
    expect(() => addPathRequest('fd00::/64')).toThrow(/IPv4 prefixes only/);
  });

  it('decodes a ListPeerResponse, 4-octet AS and all', () => {
    const conf = Buffer.concat([pbVarint(3, 4_210_000_001), pbBytes(4, '10.2.0.0'), pbVarint(5, 4_200_000_100)]);
    const state = Buffer.concat([pbBytes(5, '10.2.0.0'), pbVarint(6, 4_200_000_100), pbVarint(13, 6)]);
    const message = pbBytes(1, Buffer.concat([pbBytes(2, conf), pbBytes(5, state)]));
    expect(parseListPeerResponse(message)).toEqual({ address: '10.2.0.0', asn: 4_200_000_100, state: 6 });
  });

  it('reads a peer without state as unknown (proto3 leaves zero out)', () => {
    const message = pbBytes(1, pbBytes(2, pbBytes(4, '192.0.2.1')));
    expect(parseListPeerResponse(message)).toEqual({ address: '192.0.2.1', asn: undefined, state: 0 });
  });
});
