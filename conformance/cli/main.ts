import { readFileSync } from 'node:fs';
import { registerCommands } from './commands/index.ts';
import { createProgram, runProgram } from './program.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = createProgram(pkg.version);
await registerCommands(program);
await runProgram(program, process.argv);
