#!/usr/bin/env node
// `peerproof decode` and `peerproof speaker` run from a prebuilt bundle each when it is fresh
// (bin/prebuilt.js builds it on demand); every other command, and those two when no bundle can be
// built, runs the TypeScript CLI through tsx, so the installed package needs no build step.
import { prebuilt, runBundle } from './prebuilt.js';

const bundle = prebuilt(process.argv[2]);
if (bundle !== null) {
  runBundle(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../conformance/cli/main.ts');
}
