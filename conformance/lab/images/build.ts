// Local images for the docker backend. No registry is reachable, so one base image is made from
// a debootstrap rootfs (`docker import`) holding FRR, GoBGP and BIRD from Debian, and each router
// gets a thin image built FROM it that proves its daemon is there. Images are tagged with a hash
// of everything that shapes them, so a run reuses what an earlier run built and a changed recipe
// builds anew.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { defaultEnginePaths, ensureDebianPackages, unmountUnder, withFileLock } from '../docker-engine.ts';
import { buildRootfs, hostDebianMirror, hostIds, type RootfsRecipe } from './rootfs.ts';

const imagesDir = dirname(fileURLToPath(import.meta.url));

export const routerImages = ['frr', 'gobgp', 'bird'] as const;
export type RouterImage = (typeof routerImages)[number];

export interface LabImages {
  base: string;
  frr: string;
  gobgp: string;
  bird: string;
}

export interface BuildReport {
  images: LabImages;
  /** Images that had to be built in this call (empty when everything came from the cache). */
  built: string[];
  seconds: { rootfs?: number; import?: number; routers?: number };
}

const sharedUsers = ['frr', 'bird', 'tcpdump'];
const sharedGroups = ['frr', 'frrvty', 'bird', 'tcpdump'];

export function defaultRecipe(): RootfsRecipe {
  return {
    suite: 'bookworm',
    variant: 'minbase',
    mirror: hostDebianMirror('bookworm'),
    // Only what a node runs: the four daemons, the tools the lab drives them with (ip, sysctl,
    // ps, ping), tcpdump for captures, and what cases and the reference agent run in nodes:
    // nft (the agent's DSR datapath), curl (dsr.return-path, podcidr.export), arping (l2.*).
    packages: ['frr', 'gobgpd', 'bird2', 'openbgpd', 'iproute2', 'tcpdump', 'procps', 'iputils-ping', 'nftables', 'curl', 'iputils-arping'],
    slim: ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale'],
    users: hostIds(sharedUsers, 'passwd'),
    groups: hostIds(sharedGroups, 'group'),
  };
}

function dockerfileOf(router: RouterImage): string {
  return join(imagesDir, `${router}.Dockerfile`);
}

const shortHash = (...parts: Array<string | Buffer>) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
};

/**
 * Cache keys: the base's tag hashes the recipe and the code that applies it; a router's tag
 * hashes the base's tag and its Dockerfile, so editing one Dockerfile rebuilds only that image.
 */
export function imageTags(recipe: RootfsRecipe): LabImages {
  const base = `peerproof/base:${shortHash(JSON.stringify(recipe), readFileSync(join(imagesDir, 'rootfs.ts')))}`;
  const router = (name: RouterImage) => `peerproof/${name}:${shortHash(base, readFileSync(dockerfileOf(name)))}`;
  return { base, frr: router('frr'), gobgp: router('gobgp'), bird: router('bird') };
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Waits for a Docker progress stream; throws on the first error message it carries. */
function followProgress(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; stream?: string; status?: string }>) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      const log = events.map((e) => (e.stream ?? e.status ?? '').trimEnd()).filter(Boolean);
      if (failed) reject(new Error(`${what}: ${failed}\n${log.slice(-15).join('\n')}`));
      else resolve(log);
    });
  });
}

const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;

async function buildBase(docker: Docker, recipe: RootfsRecipe, tag: string, seconds: BuildReport['seconds']): Promise<void> {
  ensureDebianPackages(['debootstrap']);
  const work = mkdtempSync('/var/tmp/peerproof-rootfs-');
  try {
    const rootfs = join(work, 'rootfs');
    let t = Date.now();
    buildRootfs(recipe, rootfs);
    seconds.rootfs = since(t);
    t = Date.now();
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tarErr = '';
    tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
    const tarDone = new Promise<number | null>((r) => tar.once('close', r));
    const [repo, version] = tag.split(':') as [string, string];
    const response = await docker.importImage(tar.stdout, { repo, tag: version, changes: ['CMD ["sleep", "infinity"]'] } as object);
    await followProgress(docker, response, `docker import ${tag}`);
    const tarCode = await tarDone;
    if (tarCode !== 0) throw new Error(`tar of ${rootfs} failed (exit ${tarCode}): ${tarErr.trim()}`);
    seconds.import = since(t);
  } finally {
    unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildRouter(docker: Docker, router: RouterImage, base: string, tag: string): Promise<void> {
  const dockerfile = `${router}.Dockerfile`;
  const stream = await docker.buildImage(
    { context: imagesDir, src: [dockerfile] },
    { t: tag, dockerfile, buildargs: { BASE: base }, networkmode: 'none', rm: true, forcerm: true },
  );
  await followProgress(docker, stream, `docker build ${tag}`);
}

/**
 * Makes sure the base and router images of the current recipe exist in the engine, building
 * what is missing. Cached by tag: a second call costs a few inspects.
 */
export async function ensureImages(docker: Docker, recipe: RootfsRecipe = defaultRecipe()): Promise<BuildReport> {
  mkdirSync(defaultEnginePaths.runDir, { recursive: true });
  // A build takes minutes on a fresh machine: a second caller waits for it instead of building too.
  return withFileLock(join(defaultEnginePaths.runDir, 'images.lock'), () => buildMissing(docker, recipe), 30 * 60_000);
}

async function buildMissing(docker: Docker, recipe: RootfsRecipe): Promise<BuildReport> {
  const images = imageTags(recipe);
  const report: BuildReport = { images, built: [], seconds: {} };
  if (!(await imageExists(docker, images.base))) {
    await buildBase(docker, recipe, images.base, report.seconds);
    report.built.push(images.base);
  }
  const t = Date.now();
  for (const router of routerImages) {
    if (await imageExists(docker, images[router])) continue;
    await buildRouter(docker, router, images.base, images[router]);
    report.built.push(images[router]);
  }
  if (report.built.length > 0) report.seconds.routers = since(t);
  return report;
}

/** Virtual size in bytes of each image (the base layer is shared by the router images). */
export async function imageSizes(docker: Docker, images: LabImages): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const tag of Object.values(images)) sizes[tag] = (await docker.getImage(tag).inspect()).Size;
  return sizes;
}

/**
 * Removes peerproof images of older recipes (not in `keep`), so the engine's disk does not grow
 * with every recipe change. Images still used by a container are left alone.
 */
export async function pruneStaleImages(docker: Docker, keep: LabImages): Promise<string[]> {
  const current = new Set(Object.values(keep));
  const removed: string[] = [];
  const routerFirst = (await docker.listImages({ filters: { reference: ['peerproof/*'] } })).sort(
    (a, b) => Number(a.RepoTags?.some((t) => t.startsWith('peerproof/base:'))) - Number(b.RepoTags?.some((t) => t.startsWith('peerproof/base:'))),
  );
  for (const image of routerFirst) {
    for (const tag of image.RepoTags ?? []) {
      // The peerproof image (peerproof-image.ts) is the user's build, not a lab recipe's.
      if (current.has(tag) || tag.startsWith('peerproof/peerproof:')) continue;
      try {
        await docker.getImage(tag).remove();
        removed.push(tag);
      } catch {
        // in use by a container of a running lab, or a child image still exists: keep it
      }
    }
  }
  return removed;
}
