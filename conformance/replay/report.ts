// What a replay run prints: every message of the live session in `peerproof decode`'s table
// format (decoded with the state the two live OPENs negotiated), then the verdict and each check.

import { BgpSessionTracker } from '../capture/bgp-stream.ts';
import { formatTableHeader, formatTableRow } from '../capture/format-table.ts';
import type { TcpDirection } from '../capture/tcp-reassembly.ts';
import { hexToBytes } from './recording.ts';
import type { ReplayRun } from './run.ts';

export function sessionTable(run: ReplayRun, startEpoch = 0): string[] {
  const tracker = new BgpSessionTracker(() => {});
  const us = `${run.recording.played.address}`;
  const them = `${run.recording.peer.address}`;
  const out: TcpDirection = { connection: 0, src: `${us} (replay)`, dst: `${them} (${run.against})`, sawSyn: true };
  const back: TcpDirection = { connection: 0, src: out.dst, dst: out.src, sawSyn: true };
  const lines = [formatTableHeader()];
  for (const e of run.observation.events) {
    if (e.kind !== 'sent' && e.kind !== 'received') continue;
    const bytes = hexToBytes(e.hex);
    if (bytes.length < 19) continue;
    lines.push(formatTableRow(tracker.decode(e.kind === 'sent' ? out : back, bytes, startEpoch + e.t)));
  }
  return lines;
}

export function verdictLines(run: ReplayRun): string[] {
  const ev = run.evaluation;
  if (!ev) return [`${run.fixture} against ${run.version}: no expect.yaml symptoms to judge`];
  const word = {
    pass: 'PASS (healthy behaviour)',
    'bug-present': 'FAIL: the field bug is present',
    fail: 'FAIL: neither healthy nor the recorded symptom',
    undecided: 'UNDECIDED: the checks that would decide could not be judged',
  }[ev.verdict];
  const lines = [`${run.fixture} against ${run.version}: ${word}`];
  if (ev.reason) lines.push(`  ${ev.verdict === 'undecided' ? 'why' : 'note'}: ${ev.reason}`);
  if (run.expect) lines.push(`  bug: ${run.expect.bug}`);
  const block = (title: string, results: typeof ev.healthy) => {
    if (results.length === 0) return;
    lines.push(`  ${title}:`);
    // [x] holds, [ ] does not, [?] not judged (the detail says why).
    for (const r of results) lines.push(`    [${!r.judged ? '?' : r.holds ? 'x' : ' '}] ${r.symptom} — ${r.detail}`);
  };
  block('healthy (all must hold to pass)', ev.healthy);
  block('field symptoms (all hold = bug present)', ev.symptoms);
  block('observed', ev.observed);
  for (const e of run.observation.events) if (e.kind === 'error') lines.push(`  replay error: ${e.message}`);
  lines.push(`  session opened by: ${run.mode === 'active' ? 'the replay (--connect, or as recorded)' : 'the peer (the replay listened)'}`);
  lines.push(`  run folder: ${run.runDir}${run.capture ? ` (capture ${run.capture})` : ''}`);
  return lines;
}
