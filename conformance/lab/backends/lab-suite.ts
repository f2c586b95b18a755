// The lab tests every backend must pass, written once and run per backend (each backend's
// *.lab.test.ts calls describeBackendLab with its name and a way to list what a run left).
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCapture } from '../../capture/decode-capture.ts';
import type { DecodedMessage } from '../../capture/bgp-stream.ts';
import { startLab, type Lab } from '../lab.ts';
import { Ledger } from '../ledger.ts';
import { signal } from '../netns.ts';
import { pollHarness } from '../poll.ts';
import { emptyNode, type LabTopology } from '../model.ts';
import { downAll } from '../teardown.ts';
import { backendFactory } from './index.ts';

export interface BackendLabOptions {
  /** What of run `runId` still exists (containers, namespaces...); empty once it is torn down. */
  leftovers(runId: string): Promise<string[]>;
}

const holdLab = fileURLToPath(new URL('./testing/hold-lab.ts', import.meta.url));

/** FRR (AS 65001) and GoBGP (AS 65002) on one link; GoBGP originates 192.0.2.0/24. */
export function frrGobgpTopology(runId: string): LabTopology {
  // Interface names carry the run id, so a link that leaked into the host would be found by name.
  const ifA = `a${runId}`;
  const ifB = `b${runId}`;
  const r1 = emptyNode('r1', 'frr');
  Object.assign(r1, {
    asn: 65001,
    routerId: '10.255.0.1',
    interfaces: { [ifA]: ['10.0.0.1/30'] },
    neighbors: [{ address: '10.0.0.2', asn: 65002 }],
    expectRoutes: ['192.0.2.0/24'],
    capture: [ifA],
  });
  const r2 = emptyNode('r2', 'gobgp');
  Object.assign(r2, {
    asn: 65002,
    routerId: '10.255.0.2',
    interfaces: { [ifB]: ['10.0.0.2/30'] },
    neighbors: [{ address: '10.0.0.1', asn: 65001 }],
    announce: ['192.0.2.0/24'],
  });
  return { name: 'frr-gobgp', nodes: [r1, r2], links: [{ a: { node: 'r1', ifname: ifA }, b: { node: 'r2', ifname: ifB } }] };
}

const newRunId = () => randomBytes(3).toString('hex');

function hostLinksNaming(text: string): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => name.includes(text));
}

/** Processes whose command line mentions `text` (a run folder: every daemon of a run names it). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Polls `check` until it returns an empty list (or the deadline passes), then returns its last result. */
async function settled<T>(check: () => T[] | Promise<T[]>, timeoutMs = 5000): Promise<T[]> {
  return (await pollHarness(check, (left) => left.length === 0, timeoutMs, 50)).value;
}

function bgpMessages(pcap: string): DecodedMessage[] {
  const messages: DecodedMessage[] = [];
  decodeCapture(readFileSync(pcap), (m) => messages.push(m));
  return messages;
}

export function describeBackendLab(backend: string, opts: BackendLabOptions): void {
  const runsRoot = mkdtempSync(join(tmpdir(), `pp-lab-${backend}-`));
  // FRR drops to user frr and must reach its node folder: mkdtemp's 0700 would stop it.
  chmodSync(runsRoot, 0o755);
  const labs: Lab[] = [];
  const held: number[] = [];

  afterAll(async () => {
    for (const pid of held) signal(pid, 'SIGKILL');
    await Promise.allSettled(labs.map((l) => l.stop()));
    await downAll(runsRoot, { includeLive: true });
    rmSync(runsRoot, { recursive: true, force: true });
  });

  describe(`lab on the ${backend} backend`, () => {
    it('brings FRR and GoBGP to Established, installs the learned route, captures it, and leaves nothing', async () => {
      const runId = newRunId();
      const lab = await startLab(frrGobgpTopology(runId), { backend, runsRoot, runId, handleSignals: false });
      labs.push(lab);

      const sessions = await lab.sessions();
      expect(sessions.map((s) => [s.node, s.peer, s.state]).sort()).toEqual([
        ['r1', '10.0.0.2', 'Established'],
        ['r2', '10.0.0.1', 'Established'],
      ]);
      const learned = (await lab.node('r1').fib()).find((r) => r.prefix === '192.0.2.0/24');
      expect(learned?.nexthops).toEqual(['10.0.0.2']);
      // A real forwarding path: r1 reaches r2's address over the veth.
      expect((await lab.node('r1').exec(['ping', '-c', '1', '-W', '2', '10.0.0.2'])).code).toBe(0);
      // The links live only inside the lab's nodes.
      expect(hostLinksNaming(runId)).toEqual([]);

      // What `lab exec` does: a backend made from the ledger alone reaches the running node.
      const fromLedger = backendFactory(backend).create(new Ledger(lab.runDir));
      const ids = await fromLedger.exec('r2', ['gobgp', '-p', '50051', 'global', 'rib', '-j']);
      expect(ids.code, ids.stderr).toBe(0);
      expect(ids.stdout).toContain('192.0.2.0/24');

      const [capture] = lab.captures;
      const pcap = await capture!.stop();
      const messages = bgpMessages(pcap);
      const host = (endpoint: string) => endpoint.replace(/:\d+$/, '');
      const opens = messages.filter((m) => m.type === 'OPEN').map((m) => host(m.src)).sort();
      expect(opens).toEqual(['10.0.0.1', '10.0.0.2']);
      const announced = messages.flatMap((m) =>
        m.message?.type === 'UPDATE' && host(m.src) === '10.0.0.2' ? m.message.nlri.map((r) => r.prefix) : [],
      );
      expect(announced).toContain('192.0.2.0/24');

      await lab.stop();
      expect(await opts.leftovers(runId)).toEqual([]);
      expect(hostLinksNaming(runId)).toEqual([]);
      expect(await settled(() => processesMentioning(lab.runDir))).toEqual([]);
    });

    it('removes a crashed run (owner killed with SIGKILL) with lab down --all', async () => {
      const runId = newRunId();
      const topologyFile = join(runsRoot, `${runId}.json`);
      writeFileSync(topologyFile, JSON.stringify(frrGobgpTopology(runId)));
      const child = spawn(process.execPath, ['--import', 'tsx', holdLab, backend, runsRoot, topologyFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      held.push(child.pid!);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const crashedRun = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
        child.once('exit', (code) => reject(new Error(`hold-lab exited (${code}) before the lab was up:\n${stderr}`)));
      });
      expect(await opts.leftovers(crashedRun)).not.toEqual([]);

      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const results = await downAll(runsRoot);
      const mine = results.find((r) => r.runId === crashedRun);
      expect(mine?.skipped).toBeUndefined();
      expect(mine?.removed.length).toBeGreaterThan(0);
      expect(await opts.leftovers(crashedRun)).toEqual([]);
      expect(await settled(() => processesMentioning(join(runsRoot, crashedRun)))).toEqual([]);
    });
  });
}
