// Bring-up and teardown of seed-002-spine-leaf on the netns backend (2 spines, 2 leaves,
// 2 bridges, 4 nodes, 16 sessions on real FRR and GoBGP), five rounds, medians.
//
//   npx tsx bench/lab.bench.ts [--rounds N]      (root)
//
// Bring-up: from nothing to every fabric session Established (startLab without its route wait,
// then waitForSessions). Teardown: lab.stop() until no namespace, link or process is left.
// Targets: bring-up < 5 s, teardown < 2 s. Anchor, timed in the same run, alternating with the
// lab: the bare `ip` work of the same topology (namespaces, veth links, bridges, addresses,
// then `ip netns del`) with no daemons, so the ratio shows what the daemons and readiness add.

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadFixture } from '../conformance/lab/fixture/load.ts';
import { startLab } from '../conformance/lab/lab.ts';
import { leftovers } from '../conformance/lab/teardown.ts';

const exec = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/seed-002-spine-leaf', import.meta.url));
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
const targets = { up: 5, down: 2 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const secs = (ms: number) => (ms / 1000).toFixed(3);

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-bench-lab-'));
chmodSync(runsRoot, 0o755); // FRR drops to user frr and must reach its node folders

async function labOnce(): Promise<{ up: number; down: number; sessions: number }> {
  const t0 = performance.now();
  const lab = await startLab(fixture, { runsRoot, wait: false, timeoutMs: 30_000 });
  const sessions = (await lab.waitForSessions()).filter((s) => s.state === 'Established').length;
  const up = performance.now() - t0;
  const t1 = performance.now();
  await lab.stop();
  const down = performance.now() - t1;
  const left = leftovers(lab.runDir);
  if (left.namespaces.length || left.pids.length) throw new Error(`teardown left ${JSON.stringify(left)}`);
  return { up, down, sessions };
}

/** The anchor: the same namespaces, links, bridges and addresses with plain `ip`, no daemons. */
async function bareOnce(round: number): Promise<{ up: number; down: number }> {
  const { topology } = loadFixture(fixture);
  const ns = (node: string) => `ppb${process.pid}-${round}-${node}`;
  const ip = (...args: string[]) => exec('ip', args);
  const created: string[] = [];
  const t0 = performance.now();
  try {
    for (const n of topology.nodes) {
      created.push(ns(n.name));
      await ip('netns', 'add', ns(n.name));
      await ip('-n', ns(n.name), 'link', 'set', 'lo', 'up');
    }
    for (const l of topology.links) {
      await ip('-n', ns(l.a.node), 'link', 'add', l.a.ifname, 'type', 'veth', 'peer', 'name', l.b.ifname, 'netns', ns(l.b.node));
      await ip('-n', ns(l.a.node), 'link', 'set', l.a.ifname, 'up');
      await ip('-n', ns(l.b.node), 'link', 'set', l.b.ifname, 'up');
    }
    for (const n of topology.nodes) {
      if (n.kind === 'bridge') {
        await ip('-n', ns(n.name), 'link', 'add', n.name, 'type', 'bridge');
        await ip('-n', ns(n.name), 'link', 'set', n.name, 'up');
        for (const l of topology.links)
          for (const end of [l.a, l.b]) if (end.node === n.name) await ip('-n', ns(n.name), 'link', 'set', end.ifname, 'master', n.name);
      }
      for (const [ifname, addrs] of Object.entries(n.interfaces)) for (const a of addrs) await ip('-n', ns(n.name), 'addr', 'add', a, 'dev', ifname);
      for (const command of n.exec) await ip('-n', ns(n.name), ...command.split(/\s+/).slice(1));
    }
  } catch (err) {
    await Promise.all(created.map((n) => ip('netns', 'del', n).catch(() => undefined)));
    throw err;
  }
  const up = performance.now() - t0;
  const t1 = performance.now();
  for (const n of created) await ip('netns', 'del', n);
  return { up, down: performance.now() - t1 };
}

const lab: Array<{ up: number; down: number; sessions: number }> = [];
const bare: Array<{ up: number; down: number }> = [];
try {
  for (let round = 0; round < rounds; round++) {
    bare.push(await bareOnce(round));
    lab.push(await labOnce());
    const l = lab.at(-1)!;
    const b = bare.at(-1)!;
    console.log(`round ${round + 1}: lab up ${secs(l.up)} s (${l.sessions} sessions Established), down ${secs(l.down)} s | bare ip up ${secs(b.up)} s, down ${secs(b.down)} s`);
  }
} finally {
  rmSync(runsRoot, { recursive: true, force: true });
}

const upMedian = median(lab.map((r) => r.up)) / 1000;
const downMedian = median(lab.map((r) => r.down)) / 1000;
const bareUp = median(bare.map((r) => r.up)) / 1000;
const bareDown = median(bare.map((r) => r.down)) / 1000;
console.log('');
console.log(`seed-002-spine-leaf, netns backend, ${rounds} rounds, medians:`);
console.log(`  bring-up  ${upMedian.toFixed(3)} s   target < ${targets.up} s   ratio to target ${(upMedian / targets.up).toFixed(2)}   ratio to bare ip (${bareUp.toFixed(3)} s) ${(upMedian / bareUp).toFixed(1)}x`);
console.log(`  teardown  ${downMedian.toFixed(3)} s   target < ${targets.down} s   ratio to target ${(downMedian / targets.down).toFixed(2)}   ratio to bare ip (${bareDown.toFixed(3)} s) ${(downMedian / bareDown).toFixed(1)}x`);
console.log(`  ${upMedian < targets.up && downMedian < targets.down ? 'both targets met' : 'TARGET MISSED'}`);
