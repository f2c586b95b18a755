// `peerproof decode` as a user runs it: exit codes, what goes to stdout and what to stderr.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCapture } from '../../capture/decode-capture.ts';
import { readCapture } from '../../capture/pcap-reader.ts';
import { parseTcpSegment } from '../../capture/link.ts';
import { writePcap, type Frame } from '../../capture/testing/capture-writer.ts';

const bin = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));
const golden = (name: string) => fileURLToPath(new URL(`../../../pcaps/${name}`, import.meta.url));

function peerproof(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'decode', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'peerproof-decode-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each case starts the CLI (a few seconds on a loaded machine), hence the longer timeout.
describe('peerproof decode', { timeout: 60_000 }, () => {
  it('prints the contract JSON Lines on stdout and nothing on stderr for a clean capture', () => {
    const r = peerproof(golden('frr-gobgp-as4-addpath.pcap'), '--format', 'jsonl');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.find((l) => l.type === 'OPEN' && l.src === '10.0.0.2:179')).toMatchObject({ open: { myAs: 23456, as4: 4200000002 } });
    const refresh = lines.find((l) => l.type === 'ROUTE-REFRESH');
    expect(refresh).toMatchObject({ routeRefresh: { afi: 1, safi: 1, subtype: 0 } });
    const withdrawal = lines.find((l) => l.src === '10.0.0.2:179' && (l.update as { withdrawn?: unknown[] } | undefined)?.withdrawn?.length);
    expect(withdrawal).toMatchObject({ update: { withdrawn: [{ prefix: '203.0.113.128/25', pathId: 1 }] } });
  });

  it('--stream keeps one TCP connection; the table is the default format', () => {
    const streams: number[] = [];
    decodeCapture(readFileSync(golden('frr-gobgp-as4-addpath.pcap')), (m) => {
      if (m.src.startsWith('[')) streams.push(m.stream);
    });
    const ipv6Stream = streams[0]!;
    const r = peerproof(golden('frr-gobgp-as4-addpath.pcap'), '--stream', String(ipv6Stream));
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^time \(UTC\)/);
    expect(rows.length).toBe(streams.length + 1);
    for (const row of rows.slice(1)) expect(row).toMatch(new RegExp(` #${ipv6Stream} \\[fd00:0:1::[12]\\]:\\d+ -> \\[fd00:0:1::[12]\\]:\\d+ `));
    expect(r.stdout).toMatch(/NOTIFICATION|UPDATE\s+\+1 -0 2001:db8:200::\/48 nh=fd00:0:1::2 path=4200000002/);
  });

  it('--add-path gives path ids to a stream whose OPENs were not captured, and says so otherwise', () => {
    // The IPv6 ADD-PATH golden capture from its first UPDATE on: no OPEN in it.
    const frames: Frame[] = [];
    let sawUpdate = false;
    readCapture(readFileSync(golden('gobgp-bird-ipv6-addpath.pcapng')), (data, ts, linkType) => {
      const segment = parseTcpSegment(data, linkType);
      // BGP type byte 2 right after a marker at the start of the payload: the first UPDATE
      if (segment && segment.payload.length > 19 && segment.payload[18] === 2) sawUpdate = true;
      if (sawUpdate) frames.push({ data: data.slice(), ts, linkType });
    });
    const file = join(dir, 'no-open.pcap');
    writeFileSync(file, writePcap(frames, 'us'));

    const plain = peerproof(file, '--format', 'jsonl');
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/OPEN messages not captured; .*pass --add-path 0/);
    expect(plain.stdout).not.toMatch(/pathId/);

    const told = peerproof(file, '--format', 'jsonl', '--add-path', 'all');
    expect(told.code).toBe(0);
    expect(told.stderr).toMatch(/--add-path\)/);
    expect(told.stdout).toMatch(/"prefix":"2001:db8:a::\/48","pathId":\d+/);

    const bad = peerproof(file, '--stream', 'first');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/expected a stream number/);
  });

  it('a truncated capture decodes up to the damage, warns with the byte offset and exits 0', () => {
    const whole = readFileSync(golden('frr-gobgp-as4-addpath.pcap'));
    const cutAt = Math.floor(whole.length * 0.6);
    const file = join(dir, 'truncated.pcap');
    writeFileSync(file, whole.subarray(0, cutAt));
    const r = peerproof(file, '--format', 'jsonl');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/capture damaged at byte offset \d+: truncated packet/);
    const offset = Number(/byte offset (\d+)/.exec(r.stderr)![1]);
    expect(offset).toBeLessThan(cutAt);
    expect(offset).toBeGreaterThan(cutAt - 200);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) JSON.parse(line); // stdout holds only output
  });

  it('a file that is not a capture exits non-zero with one clear line', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'these are not packets\n'.repeat(20));
    const r = peerproof(file);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([`peerproof decode: ${file} is not a capture: not a pcap or pcapng file (unknown magic number)`]);
  });

  it('a missing file exits non-zero with one line', () => {
    const r = peerproof(join(dir, 'absent.pcap'));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot read .*absent\.pcap: ENOENT/);
  });
});
