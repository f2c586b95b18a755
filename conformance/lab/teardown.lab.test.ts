import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabNotReadyError, startLab } from './lab.ts';
import { Ledger } from './ledger.ts';
import { emptyNode, type LabTopology } from './model.ts';
import { leftovers } from './teardown.ts';

// Teardown under stress: a `lab up` killed mid-way (SIGTERM cleans itself; SIGKILL is cleaned
// by `lab down --all`), a lab that never gets ready, two labs at once, and on-demand captures.

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-teardown-'));
chmodSync(runsRoot, 0o755);
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

const repo = new URL('../../', import.meta.url).pathname;
const seed000 = join(repo, 'fixtures/seed-000-cilium-two-subnets');

function cli(args: string[]) {
  return spawn(process.execPath, [join(repo, 'bin/peerproof.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits until a child's run has started at least one daemon (so it is killed mid-way). */
async function waitForFirstDaemon(root: string, before: Set<string>): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const run = readdirSync(root).find((d) => !before.has(d) && existsSync(join(root, d, 'ledger.jsonl')));
    if (run && new Ledger(join(root, run)).entries().some((e) => e.t === 'proc' && e.pid !== undefined)) return join(root, run);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the child never started a daemon');
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

describe('a lab killed mid-way', () => {
  it('SIGTERM: `lab up` removes everything it had created before exiting', async () => {
    const before = new Set(readdirSync(runsRoot));
    const child = cli(['lab', 'up', seed000, '--runs-dir', runsRoot]);
    const exited = exitOf(child);
    const runDir = await waitForFirstDaemon(runsRoot, before);
    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).toBe(143);
    const entries = new Ledger(runDir).entries();
    expect(entries.filter((e) => e.t === 'netns').length).toBeGreaterThan(0);
    expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
    expect(entries.at(-1)?.t).toBe('down');
  });

  it('SIGKILL: nothing can run in the child, and `lab down --all` removes what its ledger lists', async () => {
    const before = new Set(readdirSync(runsRoot));
    const child = cli(['lab', 'up', seed000, '--runs-dir', runsRoot]);
    const exited = exitOf(child);
    const runDir = await waitForFirstDaemon(runsRoot, before);
    child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 300)); // let any in-flight `ip` of the dead child finish
    expect(leftovers(runDir).namespaces.length).toBeGreaterThan(0);
    const down = cli(['lab', 'down', '--all', '--runs-dir', runsRoot]);
    let out = '';
    down.stdout!.on('data', (d) => (out += d));
    expect((await exitOf(down)).code).toBe(0);
    expect(out).toContain(`${runDir.split('/').at(-1)}: down (removed netns`);
    expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
  });
});

function pair(name: string): LabTopology {
  const a = emptyNode('a', 'frr');
  a.asn = 65001;
  a.routerId = '10.0.0.1';
  a.interfaces = { eth1: ['10.0.0.1/24'] };
  a.neighbors = [{ address: '10.0.0.2', asn: 65002 }];
  const b = emptyNode('b', 'gobgp');
  b.asn = 65003; // wrong on purpose: a expects 65002
  b.routerId = '10.0.0.2';
  b.interfaces = { eth1: ['10.0.0.2/24'] };
  b.neighbors = [{ address: '10.0.0.1', asn: 65001 }];
  return { name, nodes: [a, b], links: [{ a: { node: 'a', ifname: 'eth1' }, b: { node: 'b', ifname: 'eth1' } }] };
}

describe('readiness', () => {
  it('times out naming each missing session, attaches configs and logs, and still cleans up', async () => {
    const error = await startLab(pair('asn-mismatch'), { runsRoot, timeoutMs: 4000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabNotReadyError);
    const e = error as LabNotReadyError;
    expect(e.missing).toEqual(expect.arrayContaining([expect.stringMatching(/^session a -> 10\.0\.0\.2: (Idle|Active|Connect|OpenSent)/)]));
    expect(e.missing.some((m) => m.startsWith('session b -> 10.0.0.1'))).toBe(true);
    const report = readFileSync(e.reportFile, 'utf8');
    expect(report).toContain('bgpd.conf');
    expect(report).toContain('neighbor 10.0.0.2 remote-as 65002');
    expect(report).toContain('gobgpd.toml');
    const runDir = join(e.reportFile, '..');
    expect(leftovers(runDir)).toEqual({ namespaces: [], pids: [] });
  });
});

function hosts(name: string): LabTopology {
  const server = emptyNode('server', 'host');
  server.interfaces = { eth1: ['10.9.0.1/24'] };
  server.httpPort = 8080;
  const client = emptyNode('client', 'host');
  client.interfaces = { eth1: ['10.9.0.2/24'] };
  return { name, nodes: [server, client], links: [{ a: { node: 'server', ifname: 'eth1' }, b: { node: 'client', ifname: 'eth1' } }] };
}

const fetchScript = (url: string) => `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(e.message); process.exit(1); })`;

describe('hosts, captures and concurrency', () => {
  it('two labs of the same topology run at once without clashing, each with its own HTTP server', async () => {
    const [one, two] = await Promise.all([startLab(hosts('h'), { runsRoot }), startLab(hosts('h'), { runsRoot })]);
    try {
      expect(one.runId).not.toBe(two.runId);
      for (const lab of [one, two]) {
        // The server may need a moment to listen; the capture starts before the request.
        const capture = await lab.capture('client', 'eth1');
        let body = '';
        for (let i = 0; i < 50 && !body; i++) {
          const r = await lab.node('client').exec([process.execPath, '-e', fetchScript('http://10.9.0.1:8080/')]);
          body = r.code === 0 ? r.stdout : '';
          if (!body) await new Promise((res) => setTimeout(res, 50));
        }
        expect(body).toBe('server 10.9.0.1\n');
        const pcap = await capture.stop();
        const text = execFileSync('tcpdump', ['-r', pcap, '-n', 'tcp port 8080'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        expect(text).toContain('10.9.0.2');
        expect(text).toContain('10.9.0.1.8080');
      }
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
    expect(leftovers(one.runDir)).toEqual({ namespaces: [], pids: [] });
    expect(leftovers(two.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});
