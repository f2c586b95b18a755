import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFixture } from '../lab/fixture/load.ts';
import { defaultExpect } from './default-expect.ts';
import { planLink, writeReplayFixture } from './fixture.ts';
import { fieldScenarios } from './field/scenarios.ts';
import { recordingFromCapture } from './from-pcap.ts';
import { readRecording, type Recording } from './recording.ts';
import { readExpect } from './symptoms.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pp-replay-fixture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const golden = (name: string) => readFileSync(join(import.meta.dirname, '../../pcaps', name));
const withEndpoints = (a: string, b: string) => ({ played: { address: a }, peer: { address: b } }) as Recording;

describe('replay fixtures', () => {
  it('keeps recorded addresses that share a subnet, moves the others and maps them', () => {
    expect(planLink(withEndpoints('10.0.0.2', '10.0.0.1'))).toEqual({ played: '10.0.0.2/24', peer: '10.0.0.1/24', addressMap: {} });
    expect(planLink(withEndpoints('192.0.2.1', '198.51.100.1'))).toEqual({
      played: '10.77.0.1/30',
      peer: '10.77.0.2/30',
      addressMap: { '192.0.2.1': '10.77.0.1', '198.51.100.1': '10.77.0.2' },
    });
    // IPv6 endpoints: the session runs over IPv6; a link-local or a far-apart pair moves to fd00:77::/64.
    expect(planLink(withEndpoints('fd00:0:2::2', 'fd00:0:2::1'))).toEqual({ played: 'fd00:0:2::2/64', peer: 'fd00:0:2::1/64', addressMap: {} });
    expect(planLink(withEndpoints('fe80::1', 'fe80::2'))).toEqual({ played: 'fd00:77::1/64', peer: 'fd00:77::2/64', addressMap: { 'fe80::1': 'fd00:77::1', 'fe80::2': 'fd00:77::2' } });
    expect(planLink(withEndpoints('2001:db8:1::1', '2001:db8:2::1')).addressMap).toEqual({ '2001:db8:1::1': 'fd00:77::1', '2001:db8:2::1': 'fd00:77::2' });
    expect(() => planLink(withEndpoints('10.0.0.1', 'fd00::1'))).toThrow(/different families/);
  });

  it('a capture of an IPv6 session makes a fixture whose session runs over IPv6, the peer set up as the recorded one offered', () => {
    const recording = recordingFromCapture(golden('gobgp-bird-ipv6-addpath.pcapng'), { file: 'gobgp-bird-ipv6-addpath.pcapng' });
    const dir = join(tmp, 'from-ipv6');
    writeReplayFixture(dir, recording, { peerKind: 'bird', title: 't', expect: defaultExpect(recording) });
    const { nodes } = loadFixture(dir).topology;
    const [replay, peer] = ['replay', 'peer'].map((name) => nodes.find((n) => n.name === name)!);
    expect(replay!.interfaces.eth1).toEqual(['fd00:0:2::2/64']);
    expect(replay!.neighbors[0]).toMatchObject({ address: 'fd00:0:2::1' });
    expect(peer!.interfaces.eth1).toEqual(['fd00:0:2::1/64']);
    // The recorded peer's OPEN offered IPv6 unicast with ADD-PATH both ways, and no extended next hop.
    expect(peer!.neighbors[0]).toEqual({ address: 'fd00:0:2::2', asn: 65020, families: ['ipv6-unicast'], addPath: true, expectEstablished: false });
    expect(peer!.routerId).toBe(recording.peer.bgpId);
    const sidecar = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar.addressMap).toEqual({});
    expect(sidecar.linkIpv6).toBeUndefined();
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('the session runs over IPv6');
  });

  it('writes a fixture from a golden capture that the lab loader accepts', () => {
    const recording = recordingFromCapture(golden('frr-bird-as2-as4path.pcap'), { file: 'frr-bird-as2-as4path.pcap' });
    const dir = join(tmp, 'from-golden');
    writeReplayFixture(dir, recording, { peerKind: 'bird', title: 't', expect: defaultExpect(recording) });
    const fixture = loadFixture(dir);
    const peer = fixture.topology.nodes.find((n) => n.name === 'peer')!;
    expect(peer).toMatchObject({ kind: 'bird', asn: recording.peer.asn, capture: ['eth1'] });
    expect(peer.neighbors[0]).toMatchObject({ address: recording.played.address, asn: recording.played.asn });
    expect(fixture.topology.nodes.find((n) => n.name === 'replay')!.kind).toBe('speaker');
    expect(readRecording(join(dir, 'recording.json')).messages).toHaveLength(recording.messages.length);
    // The recorded peer ended the session with a NOTIFICATION: that is the default symptom.
    expect(readExpect(join(dir, 'expect.yaml')).symptoms[0]).toHaveProperty('peer-sends-notification');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('`frr-bird-as2-as4path.pcap`, TCP stream 0');
  });

  it('every field scenario makes a loadable fixture with a valid expect.yaml and cited reports', () => {
    const scenarios = fieldScenarios();
    expect(scenarios.length).toBeGreaterThanOrEqual(20);
    for (const s of scenarios) {
      const dir = join(tmp, s.name);
      writeReplayFixture(dir, s.recording, s.fixture);
      expect(() => loadFixture(dir), s.name).not.toThrow();
      expect(readExpect(join(dir, 'expect.yaml')).healthy.length, s.name).toBeGreaterThan(0);
      expect(readFileSync(join(dir, 'README.md'), 'utf8'), s.name).toMatch(/https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(issues|pull)\/\d+/);
    }
  });

  it('the committed fixtures/field-* are what make-fixtures writes (regenerate after changing a scenario)', () => {
    for (const s of fieldScenarios()) {
      const committed = join(import.meta.dirname, '../../fixtures', s.name);
      for (const file of ['recording.json', 'expect.yaml', 'topology.clab.yml']) {
        expect(readFileSync(join(committed, file), 'utf8'), `${s.name}/${file}`).toBe(readFileSync(join(tmp, s.name, file), 'utf8'));
      }
    }
  });
});
