// The fuzz run's report folder: summary.json (the run and every finding), and for each shrunk
// finding a replay fixture folder (recording.json, expect.yaml stating the symptom, topology,
// README) that `peerproof fixture run` replays against a lab daemon.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_KINDS, type DaemonKindName } from '../lab/model.ts';
import { writeReplayFixture } from '../replay/fixture.ts';
import { RECORDING_VERSION, endpointFromOpen, type Recording } from '../replay/recording.ts';
import type { Symptom } from '../replay/symptoms.ts';
import type { Sut } from '../tester/sut.ts';
import { decodeMessage, type OpenMessage } from '../../reference/bgp/wire/index.ts';
import type { Finding, FuzzResult } from './fuzzer.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const KEEPALIVE = 'ff'.repeat(16) + '001304';

function openOf(h: string): OpenMessage | null {
  try {
    const m = decodeMessage(Uint8Array.from(Buffer.from(h, 'hex')));
    return m.type === 'OPEN' ? m : null;
  } catch {
    return null;
  }
}

/** The symptom (bug present) and healthy checks of a finding; null when the replay cannot judge it. */
export function expectOf(f: Finding): { symptoms: Symptom[]; healthy: Symptom[] } | null {
  const v = f.verdict;
  const rfcOutcome: Symptom[] = v.expected ? [{ 'peer-sends-notification': { code: v.expected.code, ...(v.expected.subcode !== undefined ? { subcode: v.expected.subcode } : {}) } }] : [{ 'peer-keeps-session': null }];
  switch (v.kind) {
    case 'sut-died':
    case 'closed-without-notification':
      return { symptoms: [{ 'peer-closes-without-notification': null }], healthy: f.mode === 'open' ? [{ 'peer-sends-no-notification': null }] : rfcOutcome };
    case 'unexpected-reset':
      // The RFC keeps the session here (v.expected is the error RFC 7606 handles without a reset).
      return { symptoms: [{ 'peer-sends-notification': { code: v.observed!.code, subcode: v.observed!.subcode! } }], healthy: [{ 'peer-keeps-session': null }] };
    case 'wrong-code':
    case 'wrong-subcode':
      return { symptoms: [{ 'peer-sends-notification': { code: v.observed!.code, subcode: v.observed!.subcode! } }], healthy: rfcOutcome };
    case 'missing-reset':
      return { symptoms: [{ 'peer-keeps-session': null }], healthy: rfcOutcome };
    case 'route-accepted':
      return { symptoms: [{ 'route-present': { prefix: v.prefix! } }], healthy: [{ 'route-absent': { prefix: v.prefix! } }] };
    default:
      return null;
  }
}

/** The finding's shortest sequence as a recording: the tester slot is the played side, the SUT the peer. */
export function recordingOf(f: Finding, sut: Sut): Recording | null {
  const e = f.evidence;
  if (!e || !f.shrunk) return null;
  const messages: Recording['messages'] = [];
  let t = 0;
  const add = (from: 'played' | 'peer', type: string, h: string) => messages.push({ t: Number((t += 0.05).toFixed(3)), from, type, hex: h });
  const sutAddress = e.slot.sutAddress;
  const ours = f.mode === 'open' ? hex(f.shrunk[0]!) : e.ourOpen;
  add('played', 'OPEN', ours);
  if (e.theirOpen) add('peer', 'OPEN', e.theirOpen);
  if (f.mode === 'session') {
    add('played', 'KEEPALIVE', KEEPALIVE);
    add('peer', 'KEEPALIVE', KEEPALIVE);
    for (const m of f.shrunk) add('played', ['', 'OPEN', 'UPDATE', 'NOTIFICATION', 'KEEPALIVE', 'ROUTE-REFRESH'][m[18]!] ?? 'UNKNOWN', hex(m));
  }
  const played = endpointFromOpen(e.slot.address, 179, openOf(ours));
  const theirs = openOf(e.theirOpen);
  const peer = endpointFromOpen(sutAddress, 179, theirs);
  return {
    version: RECORDING_VERSION,
    source: { kind: 'synthesised', by: `peerproof fuzz --against ${sut.info.name}` },
    played: { ...played, asn: e.slot.asn, bgpId: played.bgpId ?? e.slot.address, holdTime: played.holdTime ?? 9 },
    peer: { ...peer, asn: peer.asn ?? sut.info.asn, bgpId: peer.bgpId ?? sut.info.routerId, holdTime: peer.holdTime ?? sut.info.holdTime },
    messages,
  };
}

export interface FindingSummary {
  id: string;
  kind: string;
  text: string;
  count: number;
  mode: string;
  role: string;
  guilty: string;
  originalMessages: number;
  shrunkMessages: number | null;
  reproduced: boolean | null;
  tries: number | null;
  /** the fixture folder (relative to the report folder), when one was written */
  fixture: string | null;
  shrunkHex: string[] | null;
}

/** Writes summary.json and the fixtures; returns the summary. */
export function writeFuzzReport(dir: string, result: FuzzResult, sut: Sut, against: string): { summary: Record<string, unknown>; lines: string[] } {
  mkdirSync(dir, { recursive: true });
  const peerKind: DaemonKindName = (DAEMON_KINDS as readonly string[]).includes(sut.info.name) ? (sut.info.name as DaemonKindName) : 'frr';
  const findings: FindingSummary[] = result.findings.map((f) => {
    let fixture: string | null = null;
    const expect = expectOf(f);
    const recording = recordingOf(f, sut);
    if (expect && recording) {
      fixture = `fuzz-${f.id}`;
      writeReplayFixture(join(dir, fixture), recording, {
        peerKind,
        title: `fuzz finding ${f.id} against ${sut.info.name}: ${f.verdict.kind}`,
        expect: { bug: f.verdict.text, ...expect, replay: { settle: 3 } },
        playedAsn: f.evidence!.slot.asn,
        readme: [
          `Found by \`peerproof fuzz --against ${against} --seed ${result.seed}\` (${f.count} batch(es) showed it), shrunk from ${f.original.length} to ${f.shrunk!.length} message(s) in ${f.tries} re-runs.`,
          '',
          `What the fuzzer saw: ${f.verdict.text}.`,
          '',
          `First guilty message: ${f.labels[f.labels.length - 1] ?? '?'}`,
          '',
          sut.info.name === peerKind ? '' : `The SUT was ${sut.info.name}; the fixture's peer node defaults to ${peerKind} (pick the daemon with --against).`,
        ].join('\n'),
      });
    }
    return {
      id: f.id,
      kind: f.verdict.kind,
      text: f.verdict.text,
      count: f.count,
      mode: f.mode,
      role: f.role,
      guilty: f.labels[f.labels.length - 1] ?? '',
      originalMessages: f.original.length,
      shrunkMessages: f.shrunk?.length ?? null,
      reproduced: f.reproduced ?? null,
      tries: f.tries ?? null,
      fixture,
      shrunkHex: f.shrunk?.map(hex) ?? null,
    };
  });
  const summary = {
    tool: 'peerproof fuzz',
    against,
    sut: sut.info.name,
    seed: result.seed,
    messagesSent: result.messagesSent,
    messagesJudged: result.messagesJudged,
    sessions: result.sessions,
    openCases: result.openCases,
    restarts: result.restarts,
    durationMs: result.durationMs,
    fuzzMs: result.fuzzMs,
    shrinkMs: result.shrinkMs,
    /** sent and judged per second of the fuzzing phase (shrinking excluded) */
    messagesPerSecond: result.fuzzMs > 0 ? Math.round(result.messagesJudged / (result.fuzzMs / 1000)) : null,
    verdict: findings.length === 0 ? 'no-finding' : 'findings',
    findings,
    notes: result.notes,
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
  const lines = findings.map(
    (f) => `finding ${f.id} ${f.kind} x${f.count}: ${f.text}; ${f.shrunkMessages !== null ? `shrunk to ${f.shrunkMessages} message(s)` : f.reproduced === false ? 'not reproduced' : 'not shrunk'}${f.fixture ? `; fixture ${join(dir, f.fixture)}` : ''}`,
  );
  lines.push(`fuzz ${against} seed ${result.seed}: ${result.messagesJudged} messages sent and judged in ${result.sessions} sessions + ${result.openCases} OPEN cases, ${(result.fuzzMs / 1000).toFixed(1)} s (${summary.messagesPerSecond ?? 0} msgs/s) + ${(result.shrinkMs / 1000).toFixed(1)} s shrinking, ${findings.length} finding(s); report ${join(dir, 'summary.json')}`);
  return { summary, lines };
}
