// The root filesystem every lab image starts from: a minbase debootstrap of Debian bookworm with
// the routers' Debian packages, slimmed, with the daemon users' uid/gid made equal to the host's.
// The equal ids matter because the run folder is bind-mounted into every container and the lab
// chowns rendered configs to the host's `frr` user before FRR (in the container) reads them.
import { spawnSync } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RootfsRecipe {
  suite: string;
  variant: string;
  mirror: string;
  packages: string[];
  /** Paths (inside the rootfs) removed after the install: caches, docs, man pages, locales. */
  slim: string[];
  /** name -> host id, for the system users and groups shared with the host through the run folder. */
  users: Record<string, number>;
  groups: Record<string, number>;
}

const fallbackMirror = 'http://deb.debian.org/debian';

/**
 * The Debian mirror this machine's apt uses for `suite` (the archive, not the security one), so
 * the image comes from the same place as the host's own routers.
 */
export function hostDebianMirror(suite = 'bookworm', aptDir = '/etc/apt'): string {
  const files: string[] = [];
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  const dDir = join(aptDir, 'sources.list.d');
  if (existsSync(dDir)) for (const f of readdirSync(dDir).sort()) files.push(join(dDir, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const mirror = file.endsWith('.sources') ? mirrorFromDeb822(text, suite) : mirrorFromOneLine(text, suite);
    if (mirror) return mirror;
  }
  return fallbackMirror;
}

const isArchive = (uri: string) => /^https?:\/\//.test(uri) && /\/debian\/?$/.test(uri);

function mirrorFromOneLine(text: string, suite: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m && m[2] === suite && m[3]!.split(/\s+/).includes('main') && isArchive(m[1]!)) return m[1]!.replace(/\/$/, '');
  }
  return null;
}

function mirrorFromDeb822(text: string, suite: string): string | null {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) =>
      stanza
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('#'))
        .find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'))
        ?.slice(name.length + 1)
        .trim()
        .split(/\s+/) ?? [];
    if (!field('Types').includes('deb') || !field('Suites').includes(suite) || !field('Components').includes('main')) continue;
    const uri = field('URIs').find(isArchive);
    if (uri) return uri.replace(/\/$/, '');
  }
  return null;
}

/** Host ids of the named users/groups that exist on the host. */
export function hostIds(names: string[], database: 'passwd' | 'group'): Record<string, number> {
  const ids: Record<string, number> = {};
  for (const name of names) {
    const r = spawnSync('getent', [database, name], { encoding: 'utf8' });
    const id = Number(r.stdout.split(':')[2]);
    if (r.status === 0 && Number.isInteger(id)) ids[name] = id;
  }
  return ids;
}

function must(argv: string[], what: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${what} failed (exit ${r.status ?? r.error?.message}): ${argv.join(' ')}\n${tail}`);
  }
}

/** Runs debootstrap into `dir`, then slims it and aligns ids. `dir` must not exist yet. */
export function buildRootfs(recipe: RootfsRecipe, dir: string): void {
  must(
    ['debootstrap', `--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, dir, recipe.mirror],
    'debootstrap',
  );
  for (const path of recipe.slim) rmSync(join(dir, path), { recursive: true, force: true });
  alignIds(dir, recipe.users, recipe.groups);
}

interface IdMove {
  name: string;
  from: number;
  to: number;
}

/**
 * Gives the rootfs's users and groups the host's ids and re-owns their files. All moves apply
 * at once (one map per file walk), so swaps such as image frr = host bird cannot collide.
 */
export function alignIds(dir: string, users: Record<string, number>, groups: Record<string, number>): void {
  const uidMoves = rewriteIdFile(join(dir, 'etc/passwd'), users);
  const gidMoves = rewriteIdFile(join(dir, 'etc/group'), groups);
  // The primary group (passwd field 4) follows its group's move.
  rewritePrimaryGroups(join(dir, 'etc/passwd'), gidMoves);
  if (uidMoves.length === 0 && gidMoves.length === 0) return;
  const uidMap = new Map(uidMoves.map((m) => [m.from, m.to]));
  const gidMap = new Map(gidMoves.map((m) => [m.from, m.to]));
  walk(dir, (path) => {
    const st = lstatSync(path);
    const uid = uidMap.get(st.uid) ?? st.uid;
    const gid = gidMap.get(st.gid) ?? st.gid;
    if (uid !== st.uid || gid !== st.gid) {
      lchownSync(path, uid, gid);
      // chown clears setuid/setgid bits; put them back.
      if (!st.isSymbolicLink() && st.mode & 0o6000) must(['chmod', (st.mode & 0o7777).toString(8), path], 'chmod');
    }
  });
}

function walk(dir: string, visit: (path: string) => void): void {
  visit(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, visit);
    else visit(path);
  }
}

/** Sets the id field (3rd) of the named entries; returns the moves made. */
function rewriteIdFile(file: string, wanted: Record<string, number>): IdMove[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const rows = lines.map((l) => l.split(':'));
  const moves: IdMove[] = [];
  for (const row of rows) {
    const name = row[0]!;
    const to = wanted[name];
    if (to === undefined || row.length < 3) continue;
    const from = Number(row[2]);
    if (from !== to) moves.push({ name, from, to });
  }
  const movedFrom = new Set(moves.map((m) => m.from));
  for (const row of rows) {
    if (row.length < 3 || wanted[row[0]!] !== undefined) continue;
    const id = Number(row[2]);
    if (moves.some((m) => m.to === id) && !movedFrom.has(id)) {
      const wanted = moves.find((m) => m.to === id)!;
      throw new Error(`${file}: host id ${id} wanted for "${wanted.name}" is taken by "${row[0]}" in the image`);
    }
  }
  for (const row of rows) {
    const to = wanted[row[0]!];
    if (to !== undefined && row.length >= 3) row[2] = String(to);
  }
  writeFileSync(file, rows.map((r) => r.join(':')).join('\n'));
  return moves;
}

function rewritePrimaryGroups(passwd: string, gidMoves: IdMove[]): void {
  if (gidMoves.length === 0) return;
  const map = new Map(gidMoves.map((m) => [String(m.from), String(m.to)]));
  const rows = readFileSync(passwd, 'utf8').split('\n').map((l) => l.split(':'));
  for (const row of rows) if (row.length >= 4 && map.has(row[3]!)) row[3] = map.get(row[3]!)!;
  writeFileSync(passwd, rows.map((r) => r.join(':')).join('\n'));
}
