import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers } from '../lab/teardown.ts';

// End to end: `peerproof replay GOLDEN --against frr` makes a temporary fixture from the capture,
// replays FRR's side of a 2-octet session (AS_TRANS + AS4_PATH UPDATEs) against a live FRR, and
// prints the live session in the decode table format with the verdict.

const repo = resolve(import.meta.dirname, '../..');
const runsDir = mkdtempSync(join(tmpdir(), 'pp-replay-cli-'));
chmodSync(runsDir, 0o755);
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

describe.skipIf(process.getuid?.() !== 0)('peerproof replay', () => {
  it('replays pcaps/frr-bird-as2-as4path.pcap against FRR and reports what it did', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(repo, 'bin/peerproof.js'), 'replay', join(repo, 'pcaps/frr-bird-as2-as4path.pcap'), '--against', 'frr', '--runs-dir', runsDir],
      { cwd: repo, timeout: 90_000 },
    );
    const lines = stdout.split('\n');
    expect(lines.some((l) => l.startsWith('time (UTC)'))).toBe(true);
    // Our OPEN is the recorded one: 2-octet My AS 23456, no capabilities.
    expect(stdout).toMatch(/10\.0\.4\.1 \(replay\) -> 10\.0\.4\.2 \(frr\)\s+OPEN\s+AS 23456 id 10\.0\.4\.1 hold 180s caps none/);
    // The recorded UPDATEs went out and decode with the AS4_PATH merged back.
    expect(stdout).toMatch(/\(replay\) -> .*UPDATE\s+\+1 -0 198\.51\.100\.0\/23 nh=10\.0\.4\.1 path=4200000001/);
    // FRR accepted them and advertised them back with the 4-octet path intact.
    expect(stdout).toMatch(/\(frr\) -> .*UPDATE\s+\+1 -0 198\.51\.100\.0\/23 nh=10\.0\.4\.2 path=65002 4200000001/);
    expect(stdout).toContain('against FRR 8.4.4: PASS (healthy behaviour)');
    // 10.0.4.1 sent the SYN in the capture: the replay opened the session itself.
    expect(stdout).toContain('session opened by: the replay');
    const [run] = readdirSync(runsDir);
    expect(run).toBeDefined();
    expect(readdirSync(join(runsDir, run!, 'pcaps'))).toContain('peer-eth1.pcap');
    expect(leftovers(join(runsDir, run!))).toEqual({ namespaces: [], pids: [] });
  });
});
