import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers } from '../../lab/teardown.ts';

// `peerproof lab up` leaves a real lab running after the command returns; `exec` reaches its
// nodes; `down` removes it to nothing.

const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url).pathname;
const runsRoot = mkdtempSync(join(tmpdir(), 'pp-cli-lab-'));
chmodSync(runsRoot, 0o755);
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

const peerproof = (...args: string[]) => run(process.execPath, [join(repo, 'bin/peerproof.js'), ...args], { encoding: 'utf8' });

describe('peerproof lab', () => {
  it('up --json, exec, ls, down', async () => {
    const up = await peerproof('lab', 'up', join(repo, 'fixtures/seed-000-cilium-two-subnets'), '--json', '--runs-dir', runsRoot);
    const d = JSON.parse(up.stdout) as {
      runId: string;
      runDir: string;
      nodes: Array<{ name: string; addresses: Array<{ ifname: string; address: string }> }>;
      sessions: Array<{ node: string; peer: string; state: string }>;
      pcaps: string[];
    };
    try {
      expect(d.nodes.find((n) => n.name === 'router')?.addresses).toEqual(
        expect.arrayContaining([{ ifname: 'eth1', address: '10.0.1.2/24' }, { ifname: 'lo', address: '192.168.121.16/32' }]),
      );
      expect(d.sessions.filter((s) => s.state === 'Established')).toHaveLength(4);
      expect(d.pcaps).toHaveLength(2);
      // The command has returned; the lab is still up and reachable by exec.
      const exec = await peerproof('lab', 'exec', d.runId, 'node1', '--runs-dir', runsRoot, '--', 'ip', '-4', 'route', 'show', 'default');
      expect(exec.stdout).toContain('default via 10.0.1.2 dev eth1');
      const ls = await peerproof('lab', 'ls', '--runs-dir', runsRoot);
      expect(ls.stdout).toMatch(new RegExp(`${d.runId}\\s+up \\(detached or crashed\\)`));
    } finally {
      const down = await peerproof('lab', 'down', d.runId, '--runs-dir', runsRoot);
      expect(down.stdout).toContain(`${d.runId}: down (removed netns pp-${d.runId}-router`);
    }
    expect(leftovers(d.runDir)).toEqual({ namespaces: [], pids: [] });
  });

  it('exec names a missing run', async () => {
    const err = await peerproof('lab', 'exec', 'nope00', 'x', '--runs-dir', runsRoot, '--', 'true').catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toContain('no run "nope00"');
  });
});
