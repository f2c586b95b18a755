import { Command, InvalidArgumentError, Option } from 'commander';
import type { AddPathOverride, DecodedMessage } from '../../capture/bgp-stream.ts';

// The decoder's modules load when the command runs, so other subcommands do not pay for them.

export function register(program: Command): void {
  program
    .command('decode')
    .description('Decode the BGP messages of a pcap/pcapng capture (JSON Lines or a readable table)')
    .argument('<file>', 'capture file (pcap, nanosecond pcap or pcapng)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'table']).default('table'))
    .option(
      '--add-path <streams>',
      'decode these TCP streams ("all" or comma-separated numbers) with ADD-PATH path ids when their OPENs were not captured',
      parseAddPath,
    )
    .option('--stream <n>', 'only the messages of this TCP stream', parseStreamNumber)
    .action(async (file: string, opts: { format: 'jsonl' | 'table'; addPath?: AddPathOverride; stream?: number }) => {
      const [{ decodeCaptureFile }, { NotACaptureError }, { writeJsonl }, { formatTableHeader, formatTableRow }, { OutputBuffer }] = await Promise.all([
        import('../../capture/decode-capture.ts'),
        import('../../capture/pcap-reader.ts'),
        import('../../capture/jsonl-writer.ts'),
        import('../../capture/format-table.ts'),
        import('../../capture/output-buffer.ts'),
      ]);
      const out = new OutputBuffer(1);
      // The table header waits for the first message: a file that is not a capture prints nothing.
      let needsHeader = opts.format === 'table';
      const write =
        opts.format === 'jsonl'
          ? (m: DecodedMessage) => writeJsonl(m, out)
          : (m: DecodedMessage) => {
              if (needsHeader) {
                out.line(formatTableHeader());
                needsHeader = false;
              }
              out.line(formatTableRow(m));
            };
      try {
        const summary = decodeCaptureFile(file, write, {
          addPath: opts.addPath,
          stream: opts.stream,
          onWarning: (text) => process.stderr.write(`peerproof decode: ${file}: ${text}\n`),
        });
        if (summary.messages === 0) {
          const where = opts.stream === undefined ? '' : ` in stream ${opts.stream}`;
          process.stderr.write(
            `peerproof decode: ${file}: no BGP messages${where} (${summary.packets} packets read; BGP is recognised on TCP port 179)\n`,
          );
        }
      } catch (err) {
        if (err instanceof NotACaptureError) return fail(`${file} is not a capture: ${err.message}`);
        const code = (err as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && code.startsWith('E')) return fail(`cannot read ${file}: ${code}`);
        throw err;
      } finally {
        out.flush();
      }
    });
}

function fail(line: string): void {
  process.stderr.write(`peerproof decode: ${line}\n`);
  process.exitCode = 2;
}

function parseAddPath(value: string): AddPathOverride {
  if (value === 'all') return 'all';
  const streams = new Set<number>();
  for (const part of value.split(',')) streams.add(parseStreamNumber(part.trim()));
  return streams;
}

function parseStreamNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a stream number (as in the table's #N), got "${value}"`);
  return Number(value);
}
