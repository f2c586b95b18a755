// `peerproof demo` end to end (root): a real FRR <-> GoBGP session captured and decoded, and
// nothing of it left behind.

import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'peerproof-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('peerproof demo', () => {
  it('captures and decodes a real FRR <-> GoBGP session, then removes its lab', () => {
    const r = spawnSync(process.execPath, [bin, 'demo', '--out', out], { encoding: 'utf8', timeout: 110_000 });
    expect(r.stderr).toMatch(/session Established/);
    expect(r.status).toBe(0);

    expect(statSync(join(out, 'session.pcap')).size).toBeGreaterThan(500);
    const lines = readFileSync(join(out, 'session.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const opens = lines.filter((l) => l.type === 'OPEN');
    expect(opens.map((o) => o.open.as4).sort((a: number, b: number) => a - b)).toEqual([65001, 4200000002]);
    const prefixes = lines.filter((l) => l.type === 'UPDATE').flatMap((l) => l.update.nlri.map((n: { prefix: string }) => n.prefix));
    expect(prefixes).toEqual(expect.arrayContaining(['198.51.100.0/24', '198.51.101.0/24', '203.0.113.0/24']));
    expect(lines.at(-1)).toMatchObject({ type: 'NOTIFICATION', notification: { code: 6, subcode: 2 } });
    // the table on stdout shows the same messages
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(lines.length + 1);

    const runId = /run folder .*\/runs\/([0-9a-z]+)/.exec(r.stderr)![1]!;
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(namespaces).not.toContain(`pp-${runId}-`);
    expect(existsSync(join(out, 'session.jsonl'))).toBe(true);
  });
});
