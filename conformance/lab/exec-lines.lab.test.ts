import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLab } from './lab.ts';
import { emptyNode, type LabTopology } from './model.ts';
import { leftovers } from './teardown.ts';

// containerlab exec lines as users write them (issues 13 and 19), run in real namespaces: `ip -6`
// options, a default route right after the address that makes its gateway reachable, and an
// address the overlay also gives.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-exec-'));
chmodSync(runsRoot, 0o755);
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

function pair(): LabTopology {
  const gw = emptyNode('gw', 'host');
  gw.exec = ['ip addr add 192.0.2.1/24 dev eth1', 'ip -6 addr add fd00:255:11::/127 dev eth1'];
  const h = emptyNode('h', 'host');
  h.interfaces = { eth1: ['192.0.2.10/24'] }; // also in exec: taken once
  h.exec = [
    'ip addr add 192.0.2.10/24 dev eth1',
    'ip route replace default via 192.0.2.1',
    'ip -6 address add fd00:255:11::1/127 dev eth1',
    'ip -6 route replace default via fd00:255:11::',
    'ip link set eth1 mtu 1400',
  ];
  return { name: 'exec', nodes: [gw, h], links: [{ a: { node: 'gw', ifname: 'eth1' }, b: { node: 'h', ifname: 'eth1' } }] };
}

describe('exec lines in a lab', () => {
  it('run after the links are addressed, in order, each address once', async () => {
    const lab = await startLab(pair(), { runsRoot, handleSignals: false });
    try {
      const h = lab.node('h');
      const addrs = JSON.parse((await h.exec(['ip', '-j', 'addr', 'show', 'dev', 'eth1'])).stdout) as Array<{ mtu: number; addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>;
      expect(addrs[0]!.mtu).toBe(1400);
      expect(addrs[0]!.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['192.0.2.10/24', 'fd00:255:11::1/127']);
      expect((await h.exec(['ip', '-4', 'route', 'show', 'default'])).stdout).toMatch(/^default via 192\.0\.2\.1 dev eth1/);
      expect((await h.exec(['ip', '-6', 'route', 'show', 'default'])).stdout).toMatch(/^default via fd00:255:11:: dev eth1/);
      expect((await h.exec(['ping', '-6', '-c', '1', '-W', '2', 'fd00:255:11::'])).code).toBe(0);
    } finally {
      await lab.stop();
    }
    expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  }, 60_000);
});
