import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRecipe, imageTags } from './build.ts';
import { alignIds, hostDebianMirror, type RootfsRecipe } from './rootfs.ts';
import { tempDirs } from '../../../reference/testing/temp-dirs.ts';

const newTempDir = tempDirs();
const tempDir = (): string => newTempDir('pp-rootfs-test-');

function aptDir(files: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('hostDebianMirror', () => {
  it('takes the archive stanza of a deb822 file, not the security one', () => {
    const dir = aptDir({
      'sources.list.d/debian.sources': [
        'Types: deb',
        'URIs: http://deb.debian.org/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
        'URIs: http://mirror.example.net/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
      ].join('\n'),
    });
    expect(hostDebianMirror('bookworm', dir)).toBe('http://mirror.example.net/debian');
  });

  it('reads one-line sources with options and skips comments and other suites', () => {
    const dir = aptDir({
      'sources.list': [
        '# deb http://commented.example/debian bookworm main',
        'deb http://old.example/debian bullseye main',
        'deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://local.example/debian bookworm main non-free',
      ].join('\n'),
    });
    expect(hostDebianMirror('bookworm', dir)).toBe('http://local.example/debian');
  });

  it('ignores third-party repositories and falls back to deb.debian.org', () => {
    const dir = aptDir({ 'sources.list.d/node.list': 'deb https://deb.nodesource.com/node_20.x nodistro main\n' });
    expect(hostDebianMirror('bookworm', dir)).toBe('http://deb.debian.org/debian');
  });
});

function fakeRootfs(passwd: string[], group: string[]): string {
  const root = tempDir();
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), passwd.join('\n') + '\n');
  writeFileSync(join(root, 'etc/group'), group.join('\n') + '\n');
  return root;
}

describe('alignIds', () => {
  // The image's ids as debootstrap made them, and the host's (taken from this machine).
  const imagePasswd = ['root:x:0:0:root:/root:/bin/bash', 'tcpdump:x:100:102::/nonexistent:/usr/sbin/nologin', 'bird:x:101:103:BIRD:/run/bird:/usr/sbin/nologin', 'frr:x:102:105:FRR:/nonexistent:/usr/sbin/nologin'];
  const imageGroup = ['root:x:0:', 'users:x:100:', 'tcpdump:x:102:', 'bird:x:103:', 'frrvty:x:104:frr', 'frr:x:105:'];
  const hostUsers = { frr: 104, bird: 102, tcpdump: 103 };
  const hostGroups = { frr: 108, frrvty: 107, bird: 105, tcpdump: 106 };

  it('gives users and groups the host ids at once, so swapped ids (image frr = host bird) do not clash', () => {
    const root = fakeRootfs(imagePasswd, imageGroup);
    alignIds(root, hostUsers, hostGroups);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').filter(Boolean)).toEqual([
      'root:x:0:0:root:/root:/bin/bash',
      'tcpdump:x:103:106::/nonexistent:/usr/sbin/nologin',
      'bird:x:102:105:BIRD:/run/bird:/usr/sbin/nologin',
      'frr:x:104:108:FRR:/nonexistent:/usr/sbin/nologin',
    ]);
    expect(readFileSync(join(root, 'etc/group'), 'utf8').split('\n').filter(Boolean)).toEqual([
      'root:x:0:',
      'users:x:100:',
      'tcpdump:x:106:',
      'bird:x:105:',
      'frrvty:x:107:frr',
      'frr:x:108:',
    ]);
  });

  it('refuses to give a host id that another image user holds, naming both', () => {
    const root = fakeRootfs(imagePasswd, imageGroup);
    expect(() => alignIds(root, { frr: 101 }, {})).toThrow(/id 101 wanted for "frr" is taken by "bird"/);
  });

  it.skipIf(process.getuid?.() !== 0)('re-owns files of moved ids and keeps their setuid bits', () => {
    const root = fakeRootfs(imagePasswd, imageGroup);
    const file = join(root, 'etc/frr.conf');
    writeFileSync(file, 'x');
    chownSync(file, 102, 105);
    chmodSync(file, 0o4750);
    const untouched = join(root, 'etc/other');
    writeFileSync(untouched, 'y');
    chownSync(untouched, 0, 100);
    alignIds(root, hostUsers, hostGroups);
    const st = lstatSync(file);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([104, 108, 0o4750]);
    const other = lstatSync(untouched);
    expect([other.uid, other.gid]).toEqual([0, 100]);
  });
});

describe('imageTags', () => {
  const recipe: RootfsRecipe = { ...defaultRecipe(), mirror: 'http://deb.debian.org/debian', users: { frr: 104 }, groups: { frr: 108 } };

  it('is stable for the same recipe', () => {
    expect(imageTags(recipe)).toEqual(imageTags({ ...recipe }));
  });

  it('changes every tag when the rootfs recipe changes', () => {
    const a = imageTags(recipe);
    const b = imageTags({ ...recipe, packages: [...recipe.packages, 'iputils-arping'] });
    for (const key of ['base', 'frr', 'gobgp', 'bird'] as const) expect(b[key]).not.toBe(a[key]);
    expect(a.frr).toMatch(/^peerproof\/frr:[0-9a-f]{12}$/);
  });

  it('changes with the host ids, since the image bakes them in', () => {
    expect(imageTags({ ...recipe, users: { frr: 105 } }).base).not.toBe(imageTags(recipe).base);
  });
});
