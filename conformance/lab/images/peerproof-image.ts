// The peerproof image: the lab's base image (built by build.ts from its debootstrap rootfs, so
// FRR, GoBGP, BIRD, OpenBGPD, tcpdump, iproute2 and nftables are the same Debian packages the
// router images carry) plus this machine's Node.js binary and the project (its tracked and new
// files, and node_modules). No registry or network is needed: the build context is made here and
// sent to the engine. The tag hashes the base tag, the Dockerfile, Node and every project file,
// so an unchanged checkout reuses the image (a few inspects) and any edit builds a new one.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { ensureImages, type BuildReport } from './build.ts';

const imagesDir = dirname(fileURLToPath(import.meta.url));
const projectRoot = realpathSync(join(imagesDir, '../../..'));
const dockerfile = join(imagesDir, 'peerproof.Dockerfile');

/** The repository of the image; `latest` always names the newest build. */
export const PEERPROOF_IMAGE = 'peerproof/peerproof';
export const PEERPROOF_IMAGE_LATEST = `${PEERPROOF_IMAGE}:latest`;

export interface PeerproofImageReport {
  tag: string;
  /** False when an image of this exact content was already in the engine. */
  built: boolean;
  /** The lab images' build (base and routers), which this one starts from. */
  lab: BuildReport;
  seconds: { context?: number; build?: number };
  /** Virtual size in bytes (base layer included). */
  size: number;
}

function git(args: string[]): string {
  const r = spawnSync('git', ['-C', projectRoot, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`the peerproof image is built from a git checkout: git ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

/** Project files that go into the image: tracked and new (not ignored) files that exist. */
export function projectFiles(): string[] {
  return [...new Set(git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean))]
    .filter((f) => existsSync(join(projectRoot, f)) && statSync(join(projectRoot, f)).isFile())
    .sort();
}

/** node_modules' real place (it may be a link to outside the checkout). */
function nodeModulesDir(): string {
  const dir = join(projectRoot, 'node_modules');
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`npm ci\` (scripts/bootstrap.sh) before building the peerproof image`);
  return realpathSync(dir);
}

/** `peerproof/peerproof:<hash of base tag, Dockerfile, Node, project files, installed packages>`. */
export function peerproofImageTag(baseTag: string, files: string[] = projectFiles()): string {
  const h = createHash('sha256');
  h.update(baseTag).update(readFileSync(dockerfile)).update(process.version).update(String(statSync(process.execPath).size));
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(projectRoot, f)));
  const installed = join(nodeModulesDir(), '.package-lock.json');
  if (existsSync(installed)) h.update(readFileSync(installed));
  return `${PEERPROOF_IMAGE}:${h.digest('hex').slice(0, 12)}`;
}

function must(argv: string[], what: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.error?.message}): ${argv.join(' ')}\n${(r.stderr ?? '').trim().split('\n').slice(-10).join('\n')}`);
}

/** The build context: Dockerfile, the Node binary, node_modules.tar and project.tar (ADD unpacks both). */
function makeContext(dir: string, files: string[]): void {
  copyFileSync(dockerfile, join(dir, 'Dockerfile'));
  copyFileSync(process.execPath, join(dir, 'node'));
  // The prebuilt decode bundle in node_modules/.cache names this checkout: the image builds its own.
  must(['tar', '-C', nodeModulesDir(), '--exclude=./.cache', '--transform', 's,^\\.,node_modules,', '-cf', join(dir, 'node_modules.tar'), '.'], 'tar of node_modules');
  const list = join(dir, 'files.txt');
  spawnSync('sh', ['-c', 'cat > "$1"', 'sh', list], { input: files.join('\n') + '\n' });
  must(['tar', '-C', projectRoot, '-cf', join(dir, 'project.tar'), '--verbatim-files-from', '-T', list], 'tar of the project');
  rmSync(list);
}

async function imageSize(docker: Docker, tag: string): Promise<number | null> {
  try {
    return (await docker.getImage(tag).inspect()).Size;
  } catch {
    return null;
  }
}

/** Waits for a build's progress stream; throws with the build's last lines on an error. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; stream?: string }>) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      const log = events.map((e) => (e.stream ?? '').trimEnd()).filter(Boolean);
      if (failed) reject(new Error(`docker build ${tag}: ${failed}\n${log.slice(-15).join('\n')}`));
      else resolve();
    });
  });
}

const since = (t: number) => Math.round((Date.now() - t) / 100) / 10;

/**
 * Makes sure the peerproof image of this checkout exists in the engine (building the lab's base
 * first if needed) and that `peerproof/peerproof:latest` names it.
 */
export async function ensurePeerproofImage(docker: Docker): Promise<PeerproofImageReport> {
  const lab = await ensureImages(docker);
  const files = projectFiles();
  const tag = peerproofImageTag(lab.images.base, files);
  const report: PeerproofImageReport = { tag, built: false, lab, seconds: {}, size: 0 };
  let size = await imageSize(docker, tag);
  if (size === null) {
    const work = mkdtempSync('/var/tmp/peerproof-image-');
    try {
      let t = Date.now();
      makeContext(work, files);
      report.seconds.context = since(t);
      t = Date.now();
      const tar = spawn('tar', ['-C', work, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const stream = await docker.buildImage(tar.stdout as unknown as NodeJS.ReadableStream, {
        t: tag,
        buildargs: { BASE: lab.images.base },
        networkmode: 'none',
        rm: true,
        forcerm: true,
      });
      await follow(docker, stream, tag);
      report.seconds.build = since(t);
      report.built = true;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    size = (await imageSize(docker, tag)) ?? 0;
  }
  await docker.getImage(tag).tag({ repo: PEERPROOF_IMAGE, tag: 'latest' });
  report.size = size;
  return report;
}

// Linux capability numbers (linux/capability.h), for naming what this host's bounding set lacks.
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** Capabilities (docker names) missing from this process's bounding set, read from /proc/self/status. */
export function missingCapabilities(status = readFileSync('/proc/self/status', 'utf8')): string[] {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!hex) return [];
  const bounding = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, bit) => (bounding & (1n << BigInt(bit))) === 0n);
}

/**
 * `docker run` flags the image needs: `--privileged` (labs make namespaces, veths, mounts and
 * set per-namespace sysctls). runc refuses `--privileged` where the engine's own bounding set
 * lacks a capability (this machine lacks SYS_RESOURCE); there the same rights are spelled out:
 * every capability the host has, no seccomp filter, /proc/sys writable.
 */
export function containerRunFlags(status?: string): string[] {
  const missing = missingCapabilities(status);
  if (missing.length === 0) return ['--privileged'];
  return ['--cap-add', 'ALL', ...missing.flatMap((c) => ['--cap-drop', c]), '--security-opt', 'seccomp=unconfined', '--security-opt', 'systempaths=unconfined'];
}
