import { Command, InvalidArgumentError, Option } from 'commander';
import type { AddPathOverride } from '../../capture/bgp-stream.ts';
import { DecodeArgumentError, parseAddPath, parseStreamNumber } from './decode-args.ts';

// The decoder's modules (decode-run.ts) load when the command runs, so other subcommands do not
// pay for them. The prebuilt entry (../decode-main.ts) runs plain decode command lines without
// commander and comes here for the rest.

export function register(program: Command): void {
  program
    .command('decode')
    .description('Decode the BGP messages of a pcap/pcapng capture (JSON Lines or a readable table)')
    .argument('<file>', 'capture file (pcap, nanosecond pcap or pcapng)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'table']).default('table'))
    .option(
      '--add-path <streams>',
      'decode these TCP streams ("all" or comma-separated numbers) with ADD-PATH path ids when their OPENs were not captured',
      (value: string) => commanderError(() => parseAddPath(value)),
    )
    .option('--stream <n>', 'only the messages of this TCP stream', (value: string) => commanderError(() => parseStreamNumber(value)))
    .action(async (file: string, opts: { format: 'jsonl' | 'table'; addPath?: AddPathOverride; stream?: number }) => {
      (await import('./decode-run.ts')).runDecode(file, opts);
    });
}

function commanderError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof DecodeArgumentError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}
