// Entry of the prebuilt `peerproof speaker` (bin/prebuilt.js bundles it as CommonJS): the program
// of main.ts with the speaker command alone (`speaker --config FILE`, `speaker status`), so the
// daemon carries neither tsx nor the other commands' modules.

import { register } from './commands/speaker.ts';
import { createProgram, runProgram } from './program.ts';

/** package.json's version, written in by the bundler (bin/prebuilt.js). */
declare const PEERPROOF_VERSION: string;

const program = createProgram(PEERPROOF_VERSION);
register(program);
void runProgram(program, process.argv);
