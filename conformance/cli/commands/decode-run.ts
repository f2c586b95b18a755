// What `peerproof decode` does once its command line is parsed (by commander in decode.ts, or by
// decode-args.ts in the prebuilt entry): no commander here.

import type { AddPathOverride, DecodedMessage } from '../../capture/bgp-stream.ts';
import { decodeCaptureFile } from '../../capture/decode-capture.ts';
import { NotACaptureError } from '../../capture/pcap-reader.ts';
import { writeJsonl } from '../../capture/jsonl-writer.ts';
import { formatTableHeader, formatTableRow } from '../../capture/format-table.ts';
import { OutputBuffer } from '../../capture/output-buffer.ts';

export interface DecodeOptions {
  format: 'jsonl' | 'table';
  addPath?: AddPathOverride;
  stream?: number;
}

export function runDecode(file: string, opts: DecodeOptions): void {
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
      process.stderr.write(`peerproof decode: ${file}: no BGP messages${where} (${summary.packets} packets read; BGP is recognised on TCP port 179)\n`);
    }
  } catch (err) {
    if (err instanceof NotACaptureError) return fail(`${file} is not a capture: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) return fail(`cannot read ${file}: ${code}`);
    throw err;
  } finally {
    out.flush();
  }
}

function fail(line: string): void {
  process.stderr.write(`peerproof decode: ${line}\n`);
  process.exitCode = 2;
}
