// bin/prebuilt.js: `peerproof decode` and `peerproof speaker` from a bundle each that is built on
// demand, rebuilt whenever one of its inputs changed, and replaced by the tsx path when it cannot
// be built. Output must be the same either way.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/peerproof.js', import.meta.url));
const golden = fileURLToPath(new URL('../../pcaps/frr-gobgp-as4-addpath.pcap', import.meta.url));

let dir: string;
let cache: string;
let throughTsx: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'peerproof-prebuilt-'));
  cache = join(dir, 'cache');
  throughTsx = decode({ PEERPROOF_PREBUILT: '0' }).stdout;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decode(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'decode', golden, '--format', 'jsonl', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r;
}

interface Manifest {
  started: number;
  inputs: string[];
}
const manifestFile = () => join(cache, readdirSync(cache).find((f) => /^decode-cli-\w+\.json$/.test(f))!);
const readManifest = () => JSON.parse(readFileSync(manifestFile(), 'utf8')) as Manifest;

// Each case starts the CLI (a few seconds on a loaded machine).
describe('prebuilt peerproof decode', { timeout: 60_000 }, () => {
  it('builds the bundle on first use and prints exactly what the tsx path prints', () => {
    expect(throughTsx.split('\n').length).toBeGreaterThan(20);
    expect(decode({ PEERPROOF_PREBUILT_DIR: cache }).stdout).toBe(throughTsx);
    expect(readdirSync(cache).filter((f) => /^decode-cli-\w+\.cjs$/.test(f))).toHaveLength(1);
    const manifest = readManifest();
    for (const module of ['conformance/cli/decode-main.ts', 'conformance/capture/format-jsonl.ts', 'reference/bgp/wire/update.ts', 'package.json']) {
      expect(manifest.inputs).toContain(fileURLToPath(new URL(`../../${module}`, import.meta.url)));
    }
  });

  it('reuses a fresh bundle and rebuilds it when an input is newer than its build', () => {
    const first = readManifest();
    decode({ PEERPROOF_PREBUILT_DIR: cache });
    expect(readManifest().started).toBe(first.started);

    // An input edited after the build (a scratch file stands in for a source file).
    const edited = join(dir, 'edited.ts');
    writeFileSync(edited, '');
    const later = new Date(first.started + 60_000);
    utimesSync(edited, later, later);
    writeFileSync(manifestFile(), JSON.stringify({ ...first, inputs: [...first.inputs, edited] }));
    expect(decode({ PEERPROOF_PREBUILT_DIR: cache }).stdout).toBe(throughTsx);
    const rebuilt = readManifest();
    expect(rebuilt.started).toBeGreaterThan(first.started);
    expect(rebuilt.inputs).not.toContain(edited);
  });

  it('rebuilds when an input no longer exists', () => {
    const before = readManifest();
    writeFileSync(manifestFile(), JSON.stringify({ ...before, inputs: [...before.inputs, join(dir, 'removed.ts')] }));
    expect(decode({ PEERPROOF_PREBUILT_DIR: cache }).stdout).toBe(throughTsx);
    expect(readManifest().started).toBeGreaterThan(before.started);
  });

  it('keeps V8 code cache beside the bundle, and a damaged cache is refused and replaced', () => {
    const cacheFile = () => join(cache, readdirSync(cache).find((f) => /^decode-cli-\w+\.v8cache$/.test(f))!);
    expect(decode({ PEERPROOF_PREBUILT_DIR: cache }).stdout).toBe(throughTsx);
    const made = readFileSync(cacheFile());
    expect(made.length).toBeGreaterThan(10_000);
    writeFileSync(cacheFile(), made.subarray(0, 100)); // V8 rejects it: same output, a good cache written again
    expect(decode({ PEERPROOF_PREBUILT_DIR: cache }).stdout).toBe(throughTsx);
    expect(readFileSync(cacheFile()).length).toBeGreaterThan(10_000);
  });

  it('a command line commander must see (help, a bad value) still gets commander', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, 'decode', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PEERPROOF_PREBUILT_DIR: cache } });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: peerproof decode \[options\] <file>/);
    const bad = run(golden, '--stream', 'x');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/expected a stream number/);
    // --name=value, options before the file: the plain path, same output
    expect(run('--format=jsonl', golden).stdout).toBe(throughTsx);
  });

  it('falls back to tsx when the bundle cannot be written', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    expect(decode({ PEERPROOF_PREBUILT_DIR: join(blocker, 'cache') }).stdout).toBe(throughTsx);
  });
});

/** A speaker daemon on loopback: its sessions table (`speaker status`) while up, its exit code and stderr after SIGTERM. */
async function speakerRun(env: Record<string, string>) {
  const socket = join(dir, 'status.sock');
  const config = join(dir, 'speaker.yaml');
  writeFileSync(config, `routerId: 10.0.0.1\nlocalAs: 65001\nlisten: { address: 127.0.0.1, port: 0 }\nstatus: { socket: ${socket} }\npeers:\n  - { name: tor-a, address: 127.0.0.9, asn: 65002, passive: true }\n`);
  const options = { env: { ...process.env, ...env } };
  const daemon = spawn(process.execPath, [bin, 'speaker', '--config', config], { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => daemon.on('exit', (code) => done(code)));
  let table: string;
  try {
    while (!stderr.includes('speaker up')) {
      if (daemon.exitCode !== null) throw new Error(`speaker exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const status = spawnSync(process.execPath, [bin, 'speaker', 'status', '--socket', socket], { ...options, encoding: 'utf8', timeout: 60_000 });
    expect(status.stderr).toBe('');
    table = status.stdout;
  } catch (err) {
    daemon.kill('SIGKILL');
    throw err;
  }
  daemon.kill('SIGTERM');
  return { table, code: await exited, stderr };
}

describe('prebuilt peerproof speaker', { timeout: 60_000 }, () => {
  it('runs from its own bundle (speaker code only) and serves the same status as through tsx', async () => {
    const throughTsx = await speakerRun({ PEERPROOF_PREBUILT: '0' });
    const bundled = await speakerRun({ PEERPROOF_PREBUILT_DIR: cache });
    expect(throughTsx.table).toMatch(/\ntor-a\s+65001\s+65002\s+-\s+127\.0\.0\.9\s+Active\s/);
    expect(bundled.table).toBe(throughTsx.table);
    expect(bundled.code).toBe(0);
    expect(bundled.stderr).toContain('SIGTERM: stopping');

    const files = readdirSync(cache).filter((f) => f.startsWith('speaker-cli-'));
    // runBundle writes the code cache, so the daemon ran from the bundle
    expect(files.map((f) => f.replace(/^speaker-cli-\w+/, ''))).toEqual(expect.arrayContaining(['.cjs', '.json', '.v8cache']));
    const manifest = JSON.parse(readFileSync(join(cache, files.find((f) => f.endsWith('.json'))!), 'utf8')) as Manifest;
    const inputs = manifest.inputs.map((input) => input.slice(fileURLToPath(new URL('../../', import.meta.url)).length));
    expect(inputs).toEqual(expect.arrayContaining(['conformance/cli/speaker-main.ts', 'reference/bgp/speaker.ts', 'reference/bgp/rib.ts']));
    // the speaker alone: no other command, no decoder of captures
    expect(inputs.filter((input) => input.startsWith('conformance/') && !input.startsWith('conformance/cli/'))).toEqual([]);
    expect(inputs).not.toContain('conformance/cli/main.ts');
  });
});
