import { Command } from 'commander';

/** The `peerproof` program without subcommands; main.ts and the prebuilt entries (decode, speaker) add theirs. */
export function createProgram(version: string): Command {
  return new Command()
    .name('peerproof')
    .description('Proves on the wire whose side of a Kubernetes <-> fabric BGP/ARP peering is wrong')
    .version(version);
}

/** Runs the command named in argv; an error becomes one line on stderr and exit code 1. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    process.stderr.write(`peerproof: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = process.exitCode || 1;
  }
}
