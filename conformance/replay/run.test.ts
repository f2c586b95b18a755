import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingFromCapture } from './from-pcap.ts';
import { readRecording } from './recording.ts';
import { openerOf } from './run.ts';

const pcap = (name: string) => readFileSync(join(import.meta.dirname, '../../pcaps', name));

describe('openerOf: who opened the recorded session decides whether the replay connects', () => {
  it('is the SYN sender the capture recorded, played or peer', () => {
    const played = recordingFromCapture(pcap('frr-bird-as2-as4path.pcap'));
    expect(played.opener).toBe('played'); // 10.0.4.1:56782 -> 10.0.4.2:179
    expect(openerOf(played)).toBe('played');
    // The played side (more UPDATEs) is the one that accepted: the replay listens.
    const peer = recordingFromCapture(pcap('frr-gobgp-as4-addpath.pcap'));
    expect([peer.played.port, peer.opener]).toEqual([179, 'peer']);
    expect(openerOf(peer)).toBe('peer');
  });

  it('without a recorded SYN, the ephemeral port tells; synthesised recordings (179 both ways) cannot tell', () => {
    const { opener: _, ...older } = recordingFromCapture(pcap('gobgp-bird-ipv6-addpath.pcapng'));
    expect(older.played.port).not.toBe(179);
    expect(openerOf(older)).toBe('played');
    expect(openerOf({ ...older, played: { ...older.played, port: 179 }, peer: { ...older.peer, port: 40000 } })).toBe('peer');
    const synthesised = readRecording(join(import.meta.dirname, '../../fixtures/field-extended-nexthop-one-side/recording.json'));
    expect(synthesised.opener).toBeUndefined();
    expect(openerOf(synthesised)).toBeNull();
  });
});
