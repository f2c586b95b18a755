// Bring-up and teardown of seed-002-spine-leaf (2 spines, 2 leaves, 2 bridges, 4 nodes, 16
// sessions) on the docker backend, with the netns backend measured in the same run as the
// anchor. Rounds alternate netns and docker so machine load hits both alike; medians.
//
//   npx tsx bench/lab-docker.bench.ts [--rounds N]      (root; starts peerproof's dockerd)
//
// Bring-up: from nothing to every fabric session Established and every expected route in the
// routers' FIBs (startLab's readiness wait). Teardown: lab.stop() until every container or
// namespace, link and daemon is gone.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEngine, releaseEngine } from '../conformance/lab/docker-engine.ts';
import { ensureImages, imageSizes } from '../conformance/lab/images/build.ts';
import { startLab } from '../conformance/lab/lab.ts';

const fixture = fileURLToPath(new URL('../fixtures/seed-002-spine-leaf', import.meta.url));
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function once(backend: string, runsRoot: string): Promise<{ up: number; down: number; established: number }> {
  const t0 = performance.now();
  const lab = await startLab(fixture, { backend, runsRoot, timeoutMs: 60_000 });
  const up = performance.now() - t0;
  const established = (await lab.sessions()).filter((s) => s.state === 'Established').length;
  const t1 = performance.now();
  await lab.stop();
  return { up, down: performance.now() - t1, established };
}

const runsRoot = mkdtempSync(join(tmpdir(), 'pp-bench-lab-'));
// FRR drops to user frr and must reach its node folder: mkdtemp's 0700 would stop it.
chmodSync(runsRoot, 0o755);
let t = performance.now();
const engine = await ensureEngine();
const engineStart = performance.now() - t;
t = performance.now();
const build = await ensureImages(engine.docker);
const imagesTime = performance.now() - t;
const sizes = await imageSizes(engine.docker, build.images);
console.log(`engine: ${engine.started ? `dockerd started in ${secs(engineStart)} s` : 'reused a running dockerd'}`);
console.log(
  build.built.length
    ? `images: built ${build.built.join(', ')} in ${secs(imagesTime)} s (debootstrap ${build.seconds.rootfs ?? 0} s, import ${build.seconds.import ?? 0} s, router images ${build.seconds.routers ?? 0} s)`
    : `images: cached (${Object.values(build.images).join(', ')})`,
);
console.log(`image size: ${(sizes[build.images.base]! / 1e6).toFixed(0)} MB base, router images add ${Object.values(build.images).slice(1).map((tag) => `${((sizes[tag]! - sizes[build.images.base]!) / 1e3).toFixed(0)} kB`).join(' / ')}`);

const results: Record<string, { up: number[]; down: number[] }> = { netns: { up: [], down: [] }, docker: { up: [], down: [] } };
try {
  for (let round = 0; round < rounds; round++) {
    for (const backend of ['netns', 'docker']) {
      const r = await once(backend, runsRoot).catch((err: Error) => {
        throw new Error(`${backend}, round ${round + 1} (run folders kept in ${runsRoot}): ${err.message}`);
      });
      if (r.established !== 16) throw new Error(`${backend}: ${r.established} of 16 sessions Established`);
      results[backend]!.up.push(r.up);
      results[backend]!.down.push(r.down);
    }
  }
  rmSync(runsRoot, { recursive: true, force: true });
} finally {
  await releaseEngine(); // stops it only if no other peerproof process uses it
}

const n = results.netns!;
const d = results.docker!;
console.log(`seed-002-spine-leaf, ${rounds} rounds, median seconds:`);
console.log(`  bring-up  netns ${secs(median(n.up))}   docker ${secs(median(d.up))}   docker/netns ${(median(d.up) / median(n.up)).toFixed(2)}x`);
console.log(`  teardown  netns ${secs(median(n.down))}   docker ${secs(median(d.down))}   docker/netns ${(median(d.down) / median(n.down)).toFixed(2)}x`);
