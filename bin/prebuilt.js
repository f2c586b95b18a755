// `peerproof decode` from one prebuilt JavaScript file instead of through tsx: loading tsx and
// transforming a few dozen TypeScript modules costs more CPU than decoding 200,000 UPDATEs.
//
// The bundle (esbuild, which tsx already depends on) lives in node_modules/.cache/peerproof/ with
// a manifest of every file that went into it. It is used only when each of those files is older
// than the start of its build, so it is never stale: after any edit the next run builds it again
// (a fraction of a second), and when it cannot be built the caller falls back to tsx.
//
//   node bin/prebuilt.js      builds it now (what an install step would run)
//
// PEERPROOF_PREBUILT=0 turns it off; PEERPROOF_PREBUILT_DIR puts it elsewhere (tests).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = 'conformance/cli/decode-main.ts';

function cacheDir() {
  return process.env.PEERPROOF_PREBUILT_DIR || join(root, 'node_modules', '.cache', 'peerproof');
}

// Named after the checkout, so checkouts sharing one node_modules never run each other's code.
const name = `decode-cli-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
const bundlePath = () => join(cacheDir(), `${name}.mjs`);
const manifestPath = () => join(cacheDir(), `${name}.json`);

/** The bundle's path when it exists and every input is older than its build; otherwise null. */
export function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(), 'utf8'));
    statSync(bundlePath());
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
  return bundlePath();
}

/** Builds the bundle and its manifest; returns the bundle's path, or null when it cannot be built. */
export function buildBundle() {
  const started = Date.now();
  const require = createRequire(import.meta.url);
  const dir = cacheDir();
  const suffix = `.${process.pid}.tmp`;
  try {
    const esbuild = require('esbuild');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    mkdirSync(dir, { recursive: true });
    const result = esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: [ENTRY],
      outfile: bundlePath() + suffix,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      metafile: true,
      logLevel: 'silent',
      define: { PEERPROOF_VERSION: JSON.stringify(pkg.version) },
      // Bundled CommonJS dependencies (commander) call require() for Node's own modules.
      banner: { js: "import { createRequire as __peerproofRequire } from 'node:module'; const require = __peerproofRequire(import.meta.url);" },
    });
    const inputs = Object.keys(result.metafile.inputs).map((input) => (isAbsolute(input) ? input : join(root, input)));
    inputs.push(join(root, 'package.json'), fileURLToPath(import.meta.url));
    writeFileSync(manifestPath() + suffix, JSON.stringify({ started, inputs }, null, 1));
    // Renames are atomic: a concurrent run sees the old pair or the new bundle with either manifest.
    renameSync(bundlePath() + suffix, bundlePath());
    renameSync(manifestPath() + suffix, manifestPath());
    return bundlePath();
  } catch (err) {
    if (process.env.PEERPROOF_DEBUG) process.stderr.write(`peerproof: no prebuilt decode (${err instanceof Error ? err.message : err}); using tsx\n`);
    for (const leftover of [bundlePath() + suffix, manifestPath() + suffix]) {
      try {
        rmSync(leftover, { force: true });
      } catch {
        // nothing was written there
      }
    }
    return null;
  }
}

/** The bundle to run `peerproof decode` with, built when missing or stale; null: run through tsx. */
export function prebuiltDecode() {
  if (process.env.PEERPROOF_PREBUILT === '0') return null;
  return freshBundle() ?? buildBundle();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = buildBundle();
  if (built === null) {
    process.stderr.write('peerproof: could not build the decode bundle; `peerproof decode` runs through tsx\n');
    process.exitCode = 1;
  } else process.stdout.write(`${built}\n`);
}
