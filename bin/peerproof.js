#!/usr/bin/env node
// `peerproof decode` runs from a prebuilt bundle when one is fresh (bin/prebuilt.js builds it on
// demand); every other command, and decode when no bundle can be built, runs the TypeScript CLI
// through tsx, so the installed package needs no build step.
import { prebuiltDecode, runBundle } from './prebuilt.js';

const bundle = process.argv[2] === 'decode' ? prebuiltDecode() : null;
if (bundle !== null) {
  runBundle(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../conformance/cli/main.ts');
}
