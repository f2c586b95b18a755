import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../lab/teardown.ts';
import { defaultExpect } from './default-expect.ts';
import { writeReplayFixture } from './fixture.ts';
import { recordingFromCapture } from './from-pcap.ts';
import { runReplayFixture } from './run.ts';

// A capture of an IPv6 session (GoBGP <-> BIRD, ADD-PATH both ways) made into a fixture the way
// `peerproof fixture from-pcap` does, replayed against a live FRR: the session runs over IPv6
// between the recorded addresses, FRR is configured as the recorded peer offered itself.

const repo = resolve(import.meta.dirname, '../..');
let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pp-pcap6-'));
  chmodSync(tmp, 0o755); // FRR runs as user frr
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('a fixture from a capture of an IPv6 session', () => {
  it('replays over IPv6 against FRR: Established between the recorded addresses, every recorded UPDATE sent, no NOTIFICATION', async () => {
    const capture = 'gobgp-bird-ipv6-addpath.pcapng';
    const recording = recordingFromCapture(readFileSync(join(repo, 'pcaps', capture)), { file: capture });
    const fixture = join(tmp, 'from-ipv6-capture');
    writeReplayFixture(fixture, recording, { peerKind: 'frr', title: 'IPv6 capture', expect: defaultExpect(recording) });

    const run = await runReplayFixture(fixture, { against: 'frr', runsRoot: tmp });
    expect(run.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
    expect(run.evaluation?.verdict).toBe('pass');
    // FRR's session to the recorded address (it ends Idle: the recording closes with the played side's Cease).
    expect(run.peerSessions.map((s) => s.peer)).toEqual([recording.played.address]);
    expect(run.observation.events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    const sentUpdates = run.observation.events.filter((e) => e.kind === 'sent' && e.type === 'UPDATE');
    expect(sentUpdates).toHaveLength(recording.messages.filter((m) => m.from === 'played' && m.type === 'UPDATE').length);
    // The capture of the live session is IPv6 TCP between the recorded addresses.
    const frames = readFileSync(run.capture!);
    expect(frames.includes(Buffer.from([0x86, 0xdd]))).toBe(true);
    expect(leftovers(run.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});
