import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../reference/bgp/wire/index.ts';
import { findConversations, NoConversationError, recordingFromCapture, splitEndpoint } from './from-pcap.ts';
import { checkRecording, hexToBytes, openOf } from './recording.ts';

const pcap = (name: string) => readFileSync(join(import.meta.dirname, '../../pcaps', name));

describe('from-pcap on the golden captures', () => {
  it('finds every BGP conversation with its messages in order', () => {
    const conversations = findConversations(pcap('frr-gobgp-as4-addpath.pcap'));
    expect(conversations.map((c) => c.stream)).toEqual([0, 1]);
    expect(conversations[0]!.messages.filter((m) => m.type === 'OPEN')).toHaveLength(2);
    expect(conversations[1]!.endpoints.some((e) => e.startsWith('[fd00:0:1::'))).toBe(true);
    for (const c of conversations) expect(c.messages.map((m) => m.ts)).toEqual([...c.messages.map((m) => m.ts)].sort((a, b) => a - b));
  });

  it('plays the side that sent more UPDATEs and records both OPENs', () => {
    const rec = recordingFromCapture(pcap('frr-gobgp-as4-addpath.pcap'), { file: 'x.pcap' });
    expect(rec.source).toEqual({ kind: 'capture', file: 'x.pcap', stream: 0 });
    expect(rec.played).toMatchObject({ address: '10.0.0.2', asn: 4200000002, bgpId: '10.0.0.2', holdTime: 90 });
    expect(rec.peer).toMatchObject({ address: '10.0.0.1', asn: 4200000001 });
    expect(rec.played.capabilities.some((c) => c.name === 'add-path')).toBe(true);
    expect(rec.messages[0]!.t).toBe(0);
    expect(openOf(rec, 'played')?.bgpId).toBe('10.0.0.2');
    checkRecording(JSON.parse(JSON.stringify(rec)), 'round trip');
  });

  it('keeps each message byte for byte (the hex decodes to what was on the wire)', () => {
    const bytes = pcap('frr-bird-as2-as4path.pcap');
    const conversation = findConversations(bytes)[0]!;
    const rec = recordingFromCapture(bytes);
    expect(rec.messages).toHaveLength(conversation.messages.length);
    rec.messages.forEach((m, i) => {
      expect([...hexToBytes(m.hex)]).toEqual([...conversation.messages[i]!.bytes]);
      expect(decodeMessage(hexToBytes(m.hex), { as4: false }).type).toBe(m.type);
    });
    expect(rec.played.asn).toBe(23456); // a 2-octet session: My AS as sent
  });

  it('honours --stream and --side, IPv6 endpoints and pcapng', () => {
    const v6 = recordingFromCapture(pcap('frr-gobgp-as4-addpath.pcap'), { stream: 1, side: 'fd00:0:1::1' });
    expect(v6.played.address).toBe('fd00:0:1::1');
    expect(v6.peer.address).toBe('fd00:0:1::2');
    const ng = recordingFromCapture(pcap('gobgp-bird-ipv6-addpath.pcapng'));
    expect(ng.played.address).toContain(':');
    expect(ng.messages.some((m) => m.type === 'NOTIFICATION')).toBe(true);
  });

  it('says clearly what is missing', () => {
    expect(() => recordingFromCapture(pcap('frr-gobgp-as4-addpath.pcap'), { stream: 7 })).toThrow(/no BGP conversation with stream 7; streams: stream 0/);
    expect(() => recordingFromCapture(pcap('frr-gobgp-as4-addpath.pcap'), { side: '192.0.2.9' })).toThrow(NoConversationError);
    // A capture with only the second connection's lone OPEN of the holdtimer golden: stream 1 has no UPDATE but an OPEN.
    expect(recordingFromCapture(pcap('frr-bird-cooked-holdtimer.pcap'), { stream: 1 }).messages).toHaveLength(1);
    expect(() => recordingFromCapture(new Uint8Array([1, 2, 3, 4]))).toThrow();
  });

  it('splits endpoints of both families', () => {
    expect(splitEndpoint('10.0.0.1:179')).toEqual({ address: '10.0.0.1', port: 179 });
    expect(splitEndpoint('[fd00::1]:40000')).toEqual({ address: 'fd00::1', port: 40000 });
  });
});
