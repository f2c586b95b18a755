import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerCommands } from './commands/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('peerproof')
  .description('Proves on the wire whose side of a Kubernetes <-> fabric BGP/ARP peering is wrong')
  .version(pkg.version);

await registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`peerproof: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
}
