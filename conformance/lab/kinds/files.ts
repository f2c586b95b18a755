import { chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pollHarness } from '../poll.ts';

let frrIds: { uid: number; gid: number } | null | undefined;

/** uid/gid of the `frr` user, which FRR daemons drop privileges to. */
export function frrOwner(): { uid: number; gid: number } | null {
  if (frrIds !== undefined) return frrIds;
  try {
    const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
    frrIds = { uid, gid };
  } catch {
    frrIds = null;
  }
  return frrIds;
}

export function ensureDir(dir: string, owner?: { uid: number; gid: number } | null): string {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

export function writeConfig(dir: string, name: string, text: string, owner?: { uid: number; gid: number } | null): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  if (owner) chownSync(path, owner.uid, owner.gid);
  return path;
}

/** Whether `path` appeared within the timeout (a daemon's socket: harness start-up, not waiting). */
export async function waitForFile(path: string, timeoutMs: number): Promise<boolean> {
  return (await pollHarness(() => existsSync(path), (exists) => exists, timeoutMs, 10)).met;
}

/**
 * Daemons that drop privileges (FRR runs as user frr) must be able to reach their folder:
 * every ancestor needs the "others may traverse" bit. Says which one lacks it.
 */
export function assertTraversableByOthers(dir: string, who: string): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0)
      throw new Error(`${who} cannot reach ${dir}: ${d} is mode ${(mode & 0o777).toString(8)} (needs o+x); put the runs folder under a world-traversable path`);
    if (d === dirname(d)) return;
  }
}
