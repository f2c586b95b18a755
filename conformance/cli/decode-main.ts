// Entry of the prebuilt `peerproof decode` (bin/prebuilt.js bundles it): the program of main.ts
// with only the decode command, so the bundle holds the decoder and commander and nothing else.

import { register } from './commands/decode.ts';
import { createProgram, runProgram } from './program.ts';

/** package.json's version, written in by the bundler (bin/prebuilt.js). */
declare const PEERPROOF_VERSION: string;

const program = createProgram(PEERPROOF_VERSION);
register(program);
await runProgram(program, process.argv);
