import { describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { decodeMessage, encodeMessage, endOfRib, type BgpMessage, type OpenMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { checkUpdateEncoding, hostOf, sentBy, type SessionEnds } from './update-encoding.ts';

const ctx = { as4: true };
const ends: SessionEnds = { speaker: '10.0.1.10', peer: '10.0.1.2', speakerAsn: 65010, peerAsn: 65100, directEbgp: true };

function open(asn: number): OpenMessage {
  return { type: 'OPEN', version: 4, myAs: asn, holdTime: 3, bgpId: '10.0.1.10', as4: asn, capabilities: [{ code: 65, name: 'as4', asn }] };
}

/** Through the real codec: bytes on the wire, then decoded the way a capture is. */
function wire(message: BgpMessage, patch?: (bytes: Uint8Array) => void, src = '10.0.1.10:179', dst = '10.0.1.2:40000'): DecodedMessage {
  const bytes = encodeMessage(message, ctx);
  patch?.(bytes);
  return { ts: 1, src, dst, stream: 0, type: message.type, length: bytes.length, message: decodeMessage(bytes, ctx) };
}

const good: UpdateMessage = {
  type: 'UPDATE',
  withdrawn: [],
  attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65010] }], nextHop: '10.0.1.10' },
  nlri: [{ prefix: '172.31.254.0/26' }, { prefix: '192.0.2.0/32' }],
};
const received = [wire(open(65100), undefined, '10.0.1.2:40000', '10.0.1.10:179')];

describe('checkUpdateEncoding', () => {
  it('accepts a well-formed initial update followed by End-of-RIB', () => {
    const verdict = checkUpdateEncoding([wire(open(65010)), wire(good), wire(endOfRib(1, 1))], received, ends);
    expect(verdict.findings).toEqual([]);
    expect(verdict).toMatchObject({ updates: 2, prefixes: 2, endOfRib: true });
  });

  it('flags wrong attribute flags (ORIGIN sent as optional) as a MUST finding', () => {
    // Path attributes start after header(19) + withdrawn length(2) + total attribute length(2).
    const verdict = checkUpdateEncoding([wire(good, (b) => (b[23] = 0xc0)), wire(endOfRib(1, 1))], received, ends);
    expect(verdict.findings).toContainEqual(expect.objectContaining({ level: 'MUST', rfc: 'RFC 4271 4.3', text: expect.stringContaining('attribute 1 flags 0xc0') }));
  });

  it('requires the local AS first in AS_PATH on eBGP and NEXT_HOP on the shared subnet', () => {
    const bad: UpdateMessage = { ...good, attributes: { ...good.attributes, asPath: [{ type: 'sequence', asns: [65999] }], nextHop: '10.0.1.99' } };
    const rfcs = checkUpdateEncoding([wire(bad), wire(endOfRib(1, 1))], received, ends).findings.map((f) => f.rfc);
    expect(rfcs).toEqual(['RFC 4271 5.1.2', 'RFC 4271 5.1.3']);
  });

  it('reports a missing End-of-RIB and unpacked identical attributes as SHOULD findings only', () => {
    const one = { ...good, nlri: [good.nlri[0]!] };
    const two = { ...good, nlri: [good.nlri[1]!] };
    const findings = checkUpdateEncoding([wire(one), wire(two)], received, ends).findings;
    expect(findings.map((f) => `${f.level} ${f.rfc}`)).toEqual(['SHOULD RFC 4271 9.2', 'SHOULD RFC 4724 2']);
  });

  it('flags an UPDATE that did not parse and messages above 4096 octets', () => {
    const broken: DecodedMessage = { ts: 2, src: '10.0.1.10:179', dst: '10.0.1.2:40000', stream: 0, type: 'UPDATE', length: 5000, message: null, error: 'bad length' };
    const texts = checkUpdateEncoding([broken], received, ends).findings.filter((f) => f.level === 'MUST').map((f) => f.rfc);
    expect(texts).toEqual(['RFC 4271 4.1', 'RFC 4271 4.3']);
  });

  it('checks LOCAL_PREF and AS_PATH per RFC 4271 5.1.2/5.1.5: present and unprepended in iBGP, absent in eBGP', () => {
    const ibgp: SessionEnds = { speaker: '192.168.1.4', peer: '192.168.1.1', speakerAsn: 1111111, peerAsn: 1111111, directEbgp: false };
    const fromNode = (attributes: UpdateMessage['attributes']) => wire({ type: 'UPDATE', withdrawn: [], attributes, nlri: [{ prefix: '1.1.1.0/29' }] });
    const own = { origin: 'igp' as const, asPath: [], nextHop: '192.168.1.4', localPref: 100 };
    const findings = (ends: SessionEnds, attributes: UpdateMessage['attributes']) =>
      checkUpdateEncoding([fromNode(attributes), wire(endOfRib(1, 1))], received, ends).findings.map((f) => `${f.level} ${f.rfc}`);
    expect(findings(ibgp, own)).toEqual([]);
    expect(findings(ibgp, { ...own, localPref: undefined })).toEqual(['MUST RFC 4271 5.1.5']);
    expect(findings(ibgp, { ...own, asPath: [{ type: 'sequence', asns: [1111111] }] })).toEqual(['MUST RFC 4271 5.1.2']);
    expect(findings(ibgp, { ...own, asPath: [{ type: 'sequence', asns: [65001] }] })).toEqual(['SHOULD RFC 4271 5.1.2']);
    expect(findings(ends, { ...good.attributes, localPref: 100 })).toEqual(['MUST RFC 4271 5.1.5']);
  });
});

describe('sentBy', () => {
  it('selects one direction by address, ignoring ports', () => {
    const ms = [wire(good), ...received];
    expect(sentBy(ms, { speaker: '10.0.1.10', peer: '10.0.1.2' })).toHaveLength(1);
    expect(hostOf('[2001:db8::1]:179')).toBe('2001:db8::1');
  });
});
