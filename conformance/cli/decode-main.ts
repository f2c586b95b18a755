// Entry of the prebuilt `peerproof decode` (bin/prebuilt.js bundles it as CommonJS). A plain
// command line (`decode FILE [--format F] [--add-path S] [--stream N]`) runs the decoder at once:
// no commander, no module loader work beyond this one file. Anything else (help, --version, a bad
// value) goes through the program of main.ts with only the decode command, as before.

import { parsePlainDecode } from './commands/decode-args.ts';
import { runDecode } from './commands/decode-run.ts';

/** package.json's version, written in by the bundler (bin/prebuilt.js). */
declare const PEERPROOF_VERSION: string;

const plain = parsePlainDecode(process.argv.slice(2));
if (plain !== null) {
  try {
    runDecode(plain.file, plain.opts);
  } catch (err) {
    // what runProgram does with an error
    process.stderr.write(`peerproof: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = process.exitCode || 1;
  }
} else {
  void (async () => {
    const [{ register }, { createProgram, runProgram }] = await Promise.all([import('./commands/decode.ts'), import('./program.ts')]);
    const program = createProgram(PEERPROOF_VERSION);
    register(program);
    await runProgram(program, process.argv);
  })();
}
