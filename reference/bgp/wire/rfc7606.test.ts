// RFC 7606 (and RFC 4271 section 6 where 7606 defers to it): for each attribute a malformed case
// and the action/code/subcode the decoder reports.
import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, type CodecContext, type UpdateMessage } from './index.ts';

const MARKER = 'ff'.repeat(16);
const hexLength = (hex: string, digits: number) => (hex.length / 2).toString(16).padStart(digits, '0');

function message(type: number, bodyHex: string): Uint8Array {
  return new Uint8Array(Buffer.from(MARKER + (19 + bodyHex.length / 2).toString(16).padStart(4, '0') + type.toString(16).padStart(2, '0') + bodyHex, 'hex'));
}

function update(attributesHex: string, nlriHex = '18c00002', withdrawnHex = ''): Uint8Array {
  return message(2, hexLength(withdrawnHex, 4) + withdrawnHex + hexLength(attributesHex, 4) + attributesHex + nlriHex);
}

const ORIGIN = '40010100';
const AS_PATH_4 = '4002060201' + '0000fde9';
const AS_PATH_2 = '4002040201' + 'fde9';
const NEXT_HOP = '4003040a000001';
const AS4: CodecContext = { as4: true };
const AS2: CodecContext = { as4: false };

interface Case {
  name: string;
  attributes: string;
  ctx?: CodecContext;
  nlri?: string;
  action: 'treat-as-withdraw' | 'attribute-discard';
  subcode: number;
  attribute?: number;
  message: RegExp;
}

const base = ORIGIN + AS_PATH_4 + NEXT_HOP;
const cases: Case[] = [
  // RFC 7606 7.1
  { name: 'ORIGIN length 2', attributes: '4001020000' + AS_PATH_4 + NEXT_HOP, action: 'treat-as-withdraw', subcode: 5, attribute: 1, message: /attribute length error/ },
  { name: 'ORIGIN value 3', attributes: '40010103' + AS_PATH_4 + NEXT_HOP, action: 'treat-as-withdraw', subcode: 6, attribute: 1, message: /invalid ORIGIN/ },
  // RFC 7606 7.2
  { name: 'AS_PATH unknown segment type', attributes: ORIGIN + '4002060501' + '0000fde9' + NEXT_HOP, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /malformed AS_PATH/ },
  { name: 'AS_PATH segment overrun', attributes: ORIGIN + '4002060202' + '0000fde9' + NEXT_HOP, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /overruns/ },
  { name: 'AS_PATH segment of length 0', attributes: ORIGIN + '4002020200' + NEXT_HOP, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /length 0/ },
  { name: 'AS_PATH one byte left over', attributes: ORIGIN + '4002070201' + '0000fde9' + '02' + NEXT_HOP, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /single byte/ },
  { name: 'AS_PATH 4-octet bytes on a 2-octet session', attributes: ORIGIN + AS_PATH_4 + NEXT_HOP, ctx: AS2, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /malformed AS_PATH/ },
  // RFC 7607 2
  { name: 'AS_PATH with AS 0', attributes: ORIGIN + '4002060201' + '00000000' + NEXT_HOP, action: 'treat-as-withdraw', subcode: 11, attribute: 2, message: /AS 0 in the path/ },
  { name: 'AGGREGATOR with AS 0', attributes: base + 'c00708000000000a000001', action: 'attribute-discard', subcode: 9, attribute: 7, message: /AGGREGATOR with AS 0/ },
  { name: 'AS4_PATH with AS 0', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c01106020100000000', ctx: AS2, action: 'attribute-discard', subcode: 9, attribute: 17, message: /AS 0/ },
  { name: 'AS4_AGGREGATOR with AS 0', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c007065ba00a000001' + 'c01208000000000a000001', ctx: AS2, action: 'attribute-discard', subcode: 9, attribute: 18, message: /AS4_AGGREGATOR with AS 0/ },
  // RFC 7606 7.3
  { name: 'NEXT_HOP length 5', attributes: ORIGIN + AS_PATH_4 + '4003050a00000100', action: 'treat-as-withdraw', subcode: 5, attribute: 3, message: /NEXT_HOP length 5/ },
  { name: 'NEXT_HOP 0.0.0.0', attributes: ORIGIN + AS_PATH_4 + '40030400000000', action: 'treat-as-withdraw', subcode: 8, attribute: 3, message: /invalid NEXT_HOP attribute \(NEXT_HOP 0.0.0.0\)/ },
  { name: 'NEXT_HOP multicast', attributes: ORIGIN + AS_PATH_4 + '400304e0000005', action: 'treat-as-withdraw', subcode: 8, attribute: 3, message: /224.0.0.5/ },
  { name: 'NEXT_HOP broadcast', attributes: ORIGIN + AS_PATH_4 + '400304ffffffff', action: 'treat-as-withdraw', subcode: 8, attribute: 3, message: /255.255.255.255/ },
  // RFC 7606 7.4
  { name: 'MED length 3', attributes: base + '800403000000', action: 'treat-as-withdraw', subcode: 5, attribute: 4, message: /MED length 3/ },
  // RFC 7606 7.5
  { name: 'LOCAL_PREF length 2', attributes: base + '4005020064', action: 'treat-as-withdraw', subcode: 5, attribute: 5, message: /LOCAL_PREF length 2/ },
  // RFC 7606 7.6
  { name: 'ATOMIC_AGGREGATE length 1', attributes: base + '40060100', action: 'attribute-discard', subcode: 5, attribute: 6, message: /ATOMIC_AGGREGATE length 1/ },
  // RFC 7606 7.7
  { name: 'AGGREGATOR length 6 on a 4-octet session', attributes: base + 'c00706fde90a000001', action: 'attribute-discard', subcode: 5, attribute: 7, message: /expected 8/ },
  { name: 'AGGREGATOR length 8 on a 2-octet session', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c007080000fde90a000001', ctx: AS2, action: 'attribute-discard', subcode: 5, attribute: 7, message: /expected 6/ },
  // RFC 7606 7.8
  { name: 'COMMUNITIES length 3', attributes: base + 'c00803fde800', action: 'treat-as-withdraw', subcode: 5, attribute: 8, message: /COMMUNITIES length 3/ },
  { name: 'COMMUNITIES length 0', attributes: base + 'c00800', action: 'treat-as-withdraw', subcode: 5, attribute: 8, message: /COMMUNITIES length 0/ },
  // RFC 7606 7.9
  { name: 'ORIGINATOR_ID length 3', attributes: base + '8009030a0000', action: 'treat-as-withdraw', subcode: 5, attribute: 9, message: /ORIGINATOR_ID length 3/ },
  // RFC 7606 7.10
  { name: 'CLUSTER_LIST length 6', attributes: base + '800a060a0000010a00', action: 'treat-as-withdraw', subcode: 5, attribute: 10, message: /CLUSTER_LIST length 6/ },
  // RFC 7606 7.14
  { name: 'EXTENDED_COMMUNITIES length 7', attributes: base + 'c0100700020000000000', action: 'treat-as-withdraw', subcode: 5, attribute: 16, message: /EXTENDED_COMMUNITIES length 7/ },
  // RFC 8092 6
  { name: 'LARGE_COMMUNITIES length 8', attributes: base + 'c020080000000100000002', action: 'treat-as-withdraw', subcode: 5, attribute: 32, message: /LARGE_COMMUNITIES length 8/ },
  // RFC 6793 6
  { name: 'AS4_PATH malformed on a 2-octet session', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c011060203000000fa', ctx: AS2, action: 'attribute-discard', subcode: 9, attribute: 17, message: /AS4_PATH/ },
  { name: 'AS4_PATH with a confederation segment', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c01106030100000001', ctx: AS2, action: 'attribute-discard', subcode: 9, attribute: 17, message: /confederation/ },
  { name: 'AS4_AGGREGATOR length 6', attributes: ORIGIN + AS_PATH_2 + NEXT_HOP + 'c00706' + '5ba00a000001' + 'c0120600010a000001', ctx: AS2, action: 'attribute-discard', subcode: 5, attribute: 18, message: /AS4_AGGREGATOR length 6/ },
  // RFC 7606 3(c)
  { name: 'ORIGIN flagged optional', attributes: 'c0010100' + AS_PATH_4 + NEXT_HOP, action: 'treat-as-withdraw', subcode: 4, attribute: 1, message: /attribute flags error/ },
  { name: 'MED flagged well-known', attributes: base + '40040400000001', action: 'treat-as-withdraw', subcode: 4, attribute: 4, message: /attribute flags error/ },
  { name: 'AGGREGATOR flagged non-transitive (its own rule: discard)', attributes: base + '8007080000fde90a000001', action: 'attribute-discard', subcode: 4, attribute: 7, message: /attribute flags error/ },
  // RFC 7606 3(g)
  { name: 'COMMUNITIES twice: later copy discarded', attributes: base + 'c00804fde80064' + 'c00804fde80065', action: 'attribute-discard', subcode: 1, attribute: 8, message: /repeated/ },
  // RFC 7606 3(d)
  { name: 'ORIGIN missing', attributes: AS_PATH_4 + NEXT_HOP, action: 'treat-as-withdraw', subcode: 3, attribute: 1, message: /missing well-known attribute \(ORIGIN/ },
  { name: 'AS_PATH missing', attributes: ORIGIN + NEXT_HOP, action: 'treat-as-withdraw', subcode: 3, attribute: 2, message: /AS_PATH missing/ },
  { name: 'NEXT_HOP missing with IPv4 NLRI', attributes: ORIGIN + AS_PATH_4, action: 'treat-as-withdraw', subcode: 3, attribute: 3, message: /NEXT_HOP missing/ },
  // RFC 7606 4
  { name: 'last attribute overruns the total attribute length', attributes: base + 'c00808fde80064', action: 'treat-as-withdraw', subcode: 5, attribute: 8, message: /overruns/ },
  { name: 'two stray bytes after the last attribute', attributes: base + 'c008', action: 'treat-as-withdraw', subcode: 1, message: /stray bytes/ },
];

describe('non-fatal outcomes land in UpdateMessage.errors', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const decoded = decodeMessage(update(c.attributes, c.nlri), c.ctx ?? AS4) as UpdateMessage;
    expect(decoded.type).toBe('UPDATE');
    expect(decoded.errors).toHaveLength(1);
    const [error] = decoded.errors!;
    expect(error).toMatchObject({ action: c.action, code: 3, subcode: c.subcode });
    expect(error.attribute).toBe(c.attribute);
    expect(error.message).toMatch(/^UPDATE: /);
    expect(error.message).toMatch(c.message);
    expect(decoded.nlri).toEqual([{ prefix: '192.0.2.0/24' }]); // the NLRI are still reported, to be withdrawn
  });

  it('a malformed attribute is left out of the attributes; the rest survive', () => {
    const decoded = decodeMessage(update(base + '800403000000' + 'c00804fde80064'), AS4) as UpdateMessage;
    expect(decoded.attributes.med).toBeUndefined();
    expect(decoded.attributes.communities).toEqual(['65000:100']);
    expect(decoded.layout?.map((l) => l.code)).toEqual([1, 2, 3, 4, 8]);
  });

  it('a repeated attribute keeps its first copy', () => {
    const decoded = decodeMessage(update(base + 'c00804fde80064' + 'c00804fde80065'), AS4) as UpdateMessage;
    expect(decoded.attributes.communities).toEqual(['65000:100']);
  });

  it('an UPDATE with only withdrawals needs no mandatory attributes', () => {
    const decoded = decodeMessage(update('', '', '080a'), AS4) as UpdateMessage;
    expect(decoded.errors).toBeUndefined();
    expect(decoded.withdrawn).toEqual([{ prefix: '10.0.0.0/8' }]);
  });

  it('IPv6 announcements need ORIGIN and AS_PATH but no NEXT_HOP', () => {
    const mpReach = '800e1a' + '000201' + '10' + '20010db8000000000000000000000001' + '00' + '2020010db8';
    expect((decodeMessage(update(ORIGIN + AS_PATH_4 + mpReach, ''), AS4) as UpdateMessage).errors).toBeUndefined();
    expect((decodeMessage(update(AS_PATH_4 + mpReach, ''), AS4) as UpdateMessage).errors).toMatchObject([{ subcode: 3, attribute: 1 }]);
  });

  it('AS4_PATH and AS4_AGGREGATOR between 4-octet speakers are discarded without error (RFC 6793 4.1)', () => {
    const decoded = decodeMessage(update(base + 'c01106020100000001' + 'c012080000fde90a000001'), AS4) as UpdateMessage;
    expect(decoded.errors).toBeUndefined();
    expect(decoded.attributes.asPath).toEqual([{ type: 'sequence', asns: [65001] }]);
    expect(decoded.layout?.map((l) => l.code)).toEqual([1, 2, 3, 17, 18]);
  });

  it('an AGGREGATOR from a 2-octet speaker (not AS_TRANS) voids AS4_PATH (RFC 6793 4.2.3)', () => {
    const asPath = '4002040201' + '5ba0';
    const decoded = decodeMessage(update(ORIGIN + asPath + NEXT_HOP + 'c00706fde90a000001' + 'c0110602010000fde8'), AS2) as UpdateMessage;
    expect(decoded.attributes.asPath).toEqual([{ type: 'sequence', asns: [23456] }]);
    expect(decoded.attributes.aggregator).toEqual({ asn: 65001, address: '10.0.0.1' });
  });

  it('an AS4_PATH longer than AS_PATH is ignored (RFC 6793 4.2.3)', () => {
    const decoded = decodeMessage(update(ORIGIN + AS_PATH_2 + NEXT_HOP + 'c0110a0202fa56ea01fa56ea02'), AS2) as UpdateMessage;
    expect(decoded.attributes.asPath).toEqual([{ type: 'sequence', asns: [65001] }]);
  });

  it('ASNs prepended by a 2-octet speaker stay in front of AS4_PATH (RFC 6793 4.2.3)', () => {
    const asPath = '4002080203' + 'fdea' + 'fde9' + '5ba0'; // 65002 65001 AS_TRANS
    const as4Path = 'c0110a0202' + '0000fde9' + 'fa56ea01'; // 65001 4200000001
    const decoded = decodeMessage(update(ORIGIN + asPath + NEXT_HOP + as4Path), AS2) as UpdateMessage;
    expect(decoded.attributes.asPath).toEqual([{ type: 'sequence', asns: [65002, 65001, 4200000001] }]);
  });
});

interface ResetCase {
  name: string;
  bytes: Uint8Array;
  ctx?: CodecContext;
  code: number;
  subcode: number;
  message: RegExp;
  data?: string;
}

const mpReachV6 = (nextHopLengthHex: string, nextHopHex: string, nlriHex: string) => {
  const value = '000201' + nextHopLengthHex + nextHopHex + '00' + nlriHex;
  return '800e' + hexLength(value, 2) + value;
};
const goodMpReach = mpReachV6('10', '20010db8000000000000000000000001', '2020010db8');

const resets: ResetCase[] = [
  // RFC 4271 6.1
  { name: 'marker not all ones', bytes: new Uint8Array([...new Uint8Array(16).fill(0xff).fill(0, 3, 4), 0, 19, 4]), code: 1, subcode: 1, message: /connection not synchronized/ },
  { name: 'length 18', bytes: new Uint8Array([...new Uint8Array(16).fill(0xff), 0, 18, 4]), code: 1, subcode: 2, message: /bad message length/ },
  { name: 'length above 4096', bytes: new Uint8Array([...new Uint8Array(16).fill(0xff), 0x10, 0x01, 4]), code: 1, subcode: 2, message: /length 4097/, data: '1001' },
  { name: 'KEEPALIVE of 20 bytes', bytes: message(4, '00'), code: 1, subcode: 2, message: /bad message length/, data: '0014' },
  { name: 'fewer bytes than the header says', bytes: message(4, '').subarray(0, 18), code: 1, subcode: 2, message: /shorter than the header/ },
  { name: 'OPEN shorter than 29 bytes', bytes: message(1, '04fde900b40a000001'), code: 1, subcode: 2, message: /bad message length/ },
  // RFC 4271 6.2 / RFC 5492 / RFC 9072
  { name: 'OPEN version 3', bytes: message(1, '03fde900b40a00000100'), code: 2, subcode: 1, message: /unsupported version number/, data: '0004' },
  { name: 'OPEN hold time 2', bytes: message(1, '04fde900020a00000100'), code: 2, subcode: 6, message: /unacceptable hold time/ },
  { name: 'OPEN from AS 0 (RFC 7607 2)', bytes: message(1, '04000000b40a00000100'), code: 2, subcode: 2, message: /bad peer AS/ },
  { name: 'OPEN with a 4-octet AS capability of 0 (RFC 7607 2)', bytes: message(1, '045ba000b40a000001080206410400000000'), code: 2, subcode: 2, message: /bad peer AS/ },
  { name: 'OPEN BGP identifier 0.0.0.0', bytes: message(1, '04fde900b40000000000'), code: 2, subcode: 3, message: /bad BGP identifier/ },
  { name: 'OPEN parameters length beyond the message', bytes: message(1, '04fde900b40a0000010802'), code: 2, subcode: 0, message: /optional parameters length/ },
  { name: 'OPEN capability overruns its parameter', bytes: message(1, '04fde900b40a0000010402024104'), code: 2, subcode: 0, message: /overruns/ },
  { name: 'OPEN 4-octet AS capability of length 3', bytes: message(1, '04fde900b40a00000107020541030000fd'), code: 2, subcode: 0, message: /capability 65: length 3/ },
  { name: 'OPEN ADD-PATH mode 4', bytes: message(1, '04fde900b40a0000010802064504000101' + '04'), code: 2, subcode: 0, message: /send\/receive value 4/ },
  { name: 'OPEN RFC 9072 length truncated', bytes: message(1, '04fde900b40a000001ffff00'), code: 2, subcode: 0, message: /extended optional parameters length/ },
  // RFC 4271 6.3 / RFC 7606 4, 5.3
  { name: 'withdrawn routes length beyond the message', bytes: message(2, '00100000'), code: 3, subcode: 1, message: /withdrawn routes length 16/ },
  { name: 'total attribute length beyond the message', bytes: message(2, '00000010'), code: 3, subcode: 1, message: /total path attribute length 16/ },
  { name: 'NLRI prefix length 33', bytes: update(ORIGIN + AS_PATH_4 + NEXT_HOP, '210a000000'), code: 3, subcode: 10, message: /invalid network field.*length 33/ },
  { name: 'NLRI prefix overruns the message', bytes: update(ORIGIN + AS_PATH_4 + NEXT_HOP, '180a00'), code: 3, subcode: 10, message: /overruns/ },
  { name: 'withdrawn prefix length 40', bytes: update('', '', '280a000000'), code: 3, subcode: 10, message: /withdrawn routes.*length 40/ },
  { name: 'ADD-PATH NLRI with a truncated path id', bytes: update(ORIGIN + AS_PATH_4 + NEXT_HOP, '000001'), ctx: { as4: true, addPath: new Set(['1/1']) }, code: 3, subcode: 10, message: /path identifier truncated/ },
  // RFC 4271 6.3
  { name: 'unrecognized well-known attribute', bytes: update(base + '40630100'), code: 3, subcode: 2, message: /unrecognized well-known attribute/, data: '40630100' },
  // RFC 7606 3(g)
  { name: 'MP_REACH_NLRI twice', bytes: update(ORIGIN + AS_PATH_4 + goodMpReach + goodMpReach, ''), code: 3, subcode: 1, message: /MP_REACH_NLRI appears twice/ },
  { name: 'MP_UNREACH_NLRI twice', bytes: update('800f03000201800f03000201', ''), code: 3, subcode: 1, message: /MP_UNREACH_NLRI appears twice/ },
  // RFC 7606 7.11 / 5.3, RFC 4760 7
  { name: 'MP_REACH_NLRI next hop length 5 for IPv6', bytes: update(ORIGIN + AS_PATH_4 + mpReachV6('05', '0a00000100', ''), ''), code: 3, subcode: 9, message: /next hop length 5/, data: mpReachV6('05', '0a00000100', '') },
  { name: 'MP_REACH_NLRI next hop longer than the attribute', bytes: update(ORIGIN + AS_PATH_4 + '800e05' + '0002012000', ''), code: 3, subcode: 9, message: /next hop length 32/ },
  { name: 'MP_REACH_NLRI prefix length 129', bytes: update(ORIGIN + AS_PATH_4 + mpReachV6('10', '20010db8000000000000000000000001', '81'), ''), code: 3, subcode: 9, message: /IPv6 prefix length 129/ },
  { name: 'MP_REACH_NLRI overruns the attributes', bytes: update(ORIGIN + AS_PATH_4 + '800e40000201', ''), code: 3, subcode: 9, message: /MP_REACH_NLRI overruns/ },
  { name: 'MP_UNREACH_NLRI of 2 bytes', bytes: update('800f020002', ''), code: 3, subcode: 9, message: /MP_UNREACH_NLRI length 2/ },
  { name: 'MP_UNREACH_NLRI withdrawn prefix overruns', bytes: update('800f05000201' + '4020', ''), code: 3, subcode: 9, message: /overruns/ },
  // RFC 7313 5
  { name: 'BoRR of 24 bytes', bytes: message(5, '0001010100'), code: 7, subcode: 1, message: /ROUTE-REFRESH: invalid message length/ },
  { name: 'ROUTE-REFRESH of 22 bytes', bytes: message(5, '000101'), code: 1, subcode: 2, message: /bad message length/ },
];

describe('session-reset errors throw BgpError', () => {
  it.each(resets.map((c) => [c.name, c] as const))('%s', (_, c) => {
    let thrown: unknown;
    try {
      decodeMessage(c.bytes, c.ctx ?? AS4);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BgpError);
    const error = thrown as BgpError;
    expect({ code: error.code, subcode: error.subcode, action: error.action }).toEqual({ code: c.code, subcode: c.subcode, action: 'session-reset' });
    expect(error.message).toMatch(c.message);
    if (c.data !== undefined) expect(Buffer.from(error.data).toString('hex')).toBe(c.data);
  });

  it('an unknown message type is returned, not thrown, for the caller to answer with 1/3', () => {
    expect(decodeMessage(message(9, 'abcd'))).toEqual({ type: 'UNKNOWN', typeCode: 9, hex: 'abcd' });
  });
});
