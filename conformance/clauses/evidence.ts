// The evidence a clause test leaves in the report: its transcript as a text ladder (time,
// direction, message, bytes), the frames of its own tester addresses cut from the SUT link's
// capture (the case page draws its ladder from that pcap), and its Allure result.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseResult } from '../report/summary.ts';
import type { ClauseResult } from './run.ts';

export function transcriptText(r: ClauseResult, title: string): string {
  const lines = [`${r.id}: ${title}`, `status ${r.status}${r.reason ? `: ${r.reason}` : ''}`, ''];
  if (r.sessions.length === 0) lines.push('(no tester session was opened)');
  for (const s of r.sessions) {
    lines.push(`== ${s.label}`, '   time(s)  dir        message');
    for (const e of s.transcript) {
      const dir = e.dir === 'sent' ? '-> sent' : e.dir === 'received' ? '<- recv' : e.dir === 'closed' ? 'xx closed' : '   note';
      lines.push(`${(e.at / 1000).toFixed(3).padStart(10)}  ${dir.padEnd(9)}  ${e.what}`);
      if (e.hex) for (let i = 0; i < e.hex.length; i += 64) lines.push(`${' '.repeat(23)}${e.hex.slice(i, i + 64).replace(/(..)/g, '$1 ').trimEnd()}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** The tester addresses a result's sessions used (their labels end in "(ADDRESS)"). */
export function sessionAddresses(r: ClauseResult): string[] {
  return [...new Set(r.sessions.map((s) => /\(([^()]+)\)$/.exec(s.label)?.[1]).filter((a): a is string => !!a))];
}

/**
 * Copies the records of a classic pcap (Ethernet) whose IPv4 source or destination is one of
 * `addresses` and whose time is within [fromS, toS] into a new pcap; returns how many.
 */
export function slicePcap(source: Uint8Array, addresses: readonly string[], fromS: number, toS: number): { bytes: Uint8Array; frames: number } {
  if (source.length < 24) return { bytes: new Uint8Array(0), frames: 0 };
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const linkType = view.getUint32(20, little);
  const wanted = new Set(addresses.map((a) => a.split('.').map(Number).join('.')));
  const out: Uint8Array[] = [source.subarray(0, 24)];
  let frames = 0;
  for (let at = 24; at + 16 <= source.length; ) {
    const ts = view.getUint32(at, little) + view.getUint32(at + 4, little) / (nanos ? 1e9 : 1e6);
    const caplen = view.getUint32(at + 8, little);
    const end = at + 16 + caplen;
    if (end > source.length) break;
    const frame = source.subarray(at + 16, end);
    if (linkType === 1 && ts >= fromS && ts <= toS && frame.length >= 34 && frame[12] === 0x08 && frame[13] === 0x00) {
      const ip = (o: number) => `${frame[o]}.${frame[o + 1]}.${frame[o + 2]}.${frame[o + 3]}`;
      if (wanted.has(ip(26)) || wanted.has(ip(30))) {
        out.push(source.subarray(at, end));
        frames++;
      }
    }
    at = end;
  }
  const bytes = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of out) {
    bytes.set(b, o);
    o += b.length;
  }
  return { bytes, frames };
}

export interface TimedResult extends ClauseResult {
  /** Epoch ms the test ended. */
  endedAt: number;
}

/**
 * Writes the per-test evidence into `dir` (a folder of the report dir) and returns its paths
 * relative to `reportDir`'s parent-free form: `<relDir>/<id>.transcript.txt` and `<relDir>/<id>.pcap`.
 */
export function writeEvidence(r: TimedResult, title: string, pcap: Uint8Array | null, dir: string, relDir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  writeFileSync(join(dir, `${r.id}.transcript.txt`), transcriptText(r, title));
  files.push(`${relDir}/${r.id}.transcript.txt`);
  const addresses = sessionAddresses(r);
  if (pcap && addresses.length > 0) {
    const slice = slicePcap(pcap, addresses, (r.endedAt - r.durationMs) / 1000 - 0.05, r.endedAt / 1000 + 0.3);
    if (slice.frames > 0) {
      writeFileSync(join(dir, `${r.id}.pcap`), slice.bytes);
      files.push(`${relDir}/${r.id}.pcap`);
    }
  }
  return files;
}

/** One Allure result (allure-results/<uuid>-result.json) for a clause result, its transcript attached. */
export function writeAllureResult(resultsDir: string, c: CaseResult, transcriptFile: string | null, endedAt: number, level: string): void {
  mkdirSync(resultsDir, { recursive: true });
  const uuid = randomUUID();
  const attachments: Array<{ name: string; source: string; type: string }> = [];
  if (transcriptFile) {
    const source = `${uuid}-attachment.txt`;
    writeFileSync(join(resultsDir, source), readFileSync(transcriptFile));
    attachments.push({ name: 'transcript', source, type: 'text/plain' });
  }
  const status = c.status === 'failed' && c.deviation ? 'failed' : c.status;
  const result = {
    uuid,
    historyId: `${c.id}|${c.speaker}`,
    name: c.id,
    fullName: `clauses/${c.speaker}/${c.id}`,
    status,
    statusDetails: { message: c.deviation ? `known deviation: ${c.deviation.reason} (${c.deviation.reference}); ${c.reason}` : c.reason, known: c.deviation !== undefined },
    stage: 'finished',
    start: endedAt - Math.round(c.durationS * 1000),
    stop: endedAt,
    labels: [
      { name: 'parentSuite', value: 'clauses' },
      { name: 'suite', value: c.speaker },
      { name: 'feature', value: c.rfc.join(', ') },
      { name: 'severity', value: level === 'MUST' ? 'critical' : level === 'SHOULD' ? 'normal' : 'minor' },
      ...c.rfc.map((r) => ({ name: 'tag', value: r })),
    ],
    attachments,
  };
  writeFileSync(join(resultsDir, `${uuid}-result.json`), JSON.stringify(result));
}
