// Two subcommands run from one prebuilt JavaScript file each instead of through tsx:
// - `peerproof decode`: loading tsx and transforming a few dozen TypeScript modules costs more CPU
//   than decoding 200,000 UPDATEs;
// - `peerproof speaker`: a daemon, whose memory is the point. tsx's loader runs its hooks on a
//   second thread with its own V8 isolate; with 50 sessions the speaker's peak RSS was 98.4 MB
//   through tsx, 63.9 MB from the bundle (bench/RESULTS.md, "The bgperf2 shape").
//
// Each bundle (esbuild, which tsx already depends on) lives in node_modules/.cache/peerproof/ with
// a manifest of every file that went into it. It is used only when each of those files is older
// than the start of its build, so it is never stale: after any edit the next run builds it again
// (a fraction of a second), and when it cannot be built the caller falls back to tsx.
//
//   node bin/prebuilt.js      builds both now (what an install step would run)
//
// PEERPROOF_PREBUILT=0 turns them off; PEERPROOF_PREBUILT_DIR puts them elsewhere (tests).
//
// A bundle is CommonJS, run by runBundle with V8's code cache beside it (`.v8cache`): the
// bytecode of every function the last run compiled, so the next run skips parsing and compiling
// them (the v8-compile-cache technique; Node 20 has no module.enableCompileCache). V8 refuses a
// cache made for other source, flags or version, and a refused or missing one is written anew.

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The subcommands that run from a bundle, and the entry each is bundled from. */
const ENTRIES = { decode: 'conformance/cli/decode-main.ts', speaker: 'conformance/cli/speaker-main.ts' };

/**
 * Where the bundle may live, in order: node_modules/.cache/peerproof of this checkout, then the
 * user's own cache folder, for an install whose node_modules the user cannot write (a global or
 * root-owned install would otherwise run every decode through tsx, about 0.3 s more start-up).
 * Not a shared temporary folder: whoever can write there could put code in our place.
 * PEERPROOF_PREBUILT_DIR names the only one.
 */
function cacheDirs() {
  if (process.env.PEERPROOF_PREBUILT_DIR) return [process.env.PEERPROOF_PREBUILT_DIR];
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, '.cache') : null);
  return [join(root, 'node_modules', '.cache', 'peerproof'), ...(home ? [join(home, 'peerproof')] : [])];
}

/** FNV-1a, 2 x 32 bits: enough to tell checkouts apart, without loading node:crypto on every run. */
function checkoutHash(text) {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ text.charCodeAt(i), 0x811c9dc5) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

// Named after the checkout, so checkouts sharing one node_modules never run each other's code.
const checkout = checkoutHash(root);
const bundlePath = (dir, command) => join(dir, `${command}-cli-${checkout}.cjs`);
const manifestPath = (dir, command) => join(dir, `${command}-cli-${checkout}.json`);
const codeCachePath = (bundle) => bundle.replace(/\.cjs$/, '.v8cache');

/** The path of `command`'s bundle when one exists and every input is older than its build; otherwise null. */
export function freshBundle(command) {
  return firstInCacheDirs((dir) => freshBundleIn(dir, command));
}

/** What `attempt` gives in the first cache folder where it gives anything (not null). */
function firstInCacheDirs(attempt) {
  for (const dir of cacheDirs()) {
    const result = attempt(dir);
    if (result !== null) return result;
  }
  return null;
}

function freshBundleIn(dir, command) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(dir, command), 'utf8'));
    statSync(bundlePath(dir, command));
  } catch {
    return null;
  }
  if (typeof manifest.started !== 'number' || !Array.isArray(manifest.inputs) || manifest.inputs.length === 0) return null;
  for (const input of manifest.inputs) {
    try {
      if (statSync(input).mtimeMs >= manifest.started) return null;
    } catch {
      return null; // an input was removed or renamed
    }
  }
  return bundlePath(dir, command);
}

/** Builds `command`'s bundle and its manifest in the first folder that takes it; returns its path, or null. */
export function buildBundle(command) {
  return firstInCacheDirs((dir) => buildBundleIn(dir, command));
}

function buildBundleIn(dir, command) {
  const bundle = bundlePath(dir, command);
  const manifest = manifestPath(dir, command);
  const started = Date.now();
  const require = createRequire(import.meta.url);
  const suffix = `.${process.pid}.tmp`;
  try {
    const esbuild = require('esbuild');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    mkdirSync(dir, { recursive: true });
    const result = esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: [ENTRIES[command]],
      outfile: bundle + suffix,
      bundle: true,
      platform: 'node',
      // CommonJS: loaded with require(), which costs less start-up than the ESM loader, and lets
      // bin/peerproof.js keep V8's compiled code for it (see runBundle).
      format: 'cjs',
      target: 'node20',
      metafile: true,
      logLevel: 'silent',
      define: { PEERPROOF_VERSION: JSON.stringify(pkg.version) },
    });
    const inputs = Object.keys(result.metafile.inputs).map((input) => (isAbsolute(input) ? input : join(root, input)));
    inputs.push(join(root, 'package.json'), fileURLToPath(import.meta.url));
    writeFileSync(manifest + suffix, JSON.stringify({ started, inputs }, null, 1));
    // Renames are atomic: a concurrent run sees the old pair or the new bundle with either manifest.
    rmSync(codeCachePath(bundle), { force: true }); // made for the old bundle (V8 would refuse it anyway)
    renameSync(bundle + suffix, bundle);
    renameSync(manifest + suffix, manifest);
    return bundle;
  } catch (err) {
    if (process.env.PEERPROOF_DEBUG) process.stderr.write(`peerproof: no prebuilt ${command} (${err instanceof Error ? err.message : err}); using tsx\n`);
    for (const leftover of [bundle + suffix, manifest + suffix]) {
      try {
        rmSync(leftover, { force: true });
      } catch {
        // nothing was written there
      }
    }
    return null;
  }
}

/** The bundle to run `peerproof <command>` with, built when missing or stale; null: run it through tsx. */
export function prebuilt(command) {
  if (process.env.PEERPROOF_PREBUILT === '0' || !Object.hasOwn(ENTRIES, command)) return null;
  return freshBundle(command) ?? buildBundle(command);
}

/**
 * Runs the bundle as require() would, compiled with the code cache when there is a usable one.
 * After its top level has run (a plain decode has finished by then; the speaker has started) the
 * cache is written when it was missing or refused, so it holds the functions compiled so far.
 */
export function runBundle(path) {
  const source = readFileSync(path, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(codeCachePath(path));
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(source), { filename: path, cachedData });
  const module = { exports: {}, filename: path, id: path, loaded: false };
  script.runInThisContext().call(module.exports, module.exports, createRequire(path), module, path, dirname(path));
  module.loaded = true;
  if (cachedData === undefined || script.cachedDataRejected) {
    const tmp = `${codeCachePath(path)}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, codeCachePath(path));
    } catch {
      rmSync(tmp, { force: true }); // read-only cache folder: run without a code cache
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const command of Object.keys(ENTRIES)) {
    const built = buildBundle(command);
    if (built === null) {
      process.stderr.write(`peerproof: could not build the ${command} bundle; \`peerproof ${command}\` runs through tsx\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${built}\n`);
  }
}
