// Where a case's ladder comes from: its decoded captures (.jsonl artifacts, decode-jsonl
// contract) and its raw captures (.pcap/.pcapng), decoded here with the capture stage when no
// decoded twin (same path, .jsonl) is among the artifacts. A capture that cannot be read
// becomes a problem shown on the case page, never a failed report.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCapture } from '../capture/decode-capture.ts';
import { formatJsonl } from '../capture/format-jsonl.ts';
import { parseLadderJsonl, toLadderMessage, type LadderMessage } from './ladder.ts';
import { caseKey, type RunSummary } from './summary.ts';

export interface CaseLadder {
  messages: LadderMessage[];
  /** Artifacts the ladder was read from. */
  sources: string[];
  problems: string[];
}

/** Captures above this size are not drawn (the case page points at `peerproof decode`). */
export const MAX_CAPTURE_BYTES = 64 * 1024 * 1024;

const CAPTURE = /\.(pcap|pcapng)$/i;
const DECODED = /\.jsonl$/i;

function decodedPcap(bytes: Uint8Array, source: string): { messages: LadderMessage[]; problems: string[] } {
  const messages: LadderMessage[] = [];
  const problems: string[] = [];
  decodeCapture(
    bytes,
    (m) => {
      // Through the contract's JSON shape, so a live decode and a .jsonl file draw alike.
      const message = toLadderMessage(JSON.parse(formatJsonl(m)));
      if (typeof message === 'string') problems.push(`${source}: ${message}`);
      else messages.push(message);
    },
    { onWarning: (text) => problems.push(`${source}: ${text}`) },
  );
  return { messages, problems };
}

/** The same message seen in two captures (both ends of a link) is drawn once. */
function dedupe(messages: LadderMessage[]): LadderMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const key = `${m.ts.toFixed(6)} ${m.src} ${m.dst} ${m.type} ${m.summary}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function loadCaseLadder(dir: string, artifacts: readonly string[]): Promise<CaseLadder | undefined> {
  const decoded = artifacts.filter((a) => DECODED.test(a));
  const raw = artifacts.filter((a) => CAPTURE.test(a) && !decoded.includes(a.replace(CAPTURE, '.jsonl')));
  if (decoded.length + raw.length === 0) return undefined;
  const ladder: CaseLadder = { messages: [], sources: [], problems: [] };
  for (const src of [...decoded, ...raw]) {
    const path = join(dir, src);
    try {
      if (DECODED.test(src)) {
        const parsed = parseLadderJsonl(await readFile(path, 'utf8'), src);
        ladder.messages.push(...parsed.messages);
        ladder.problems.push(...parsed.problems);
      } else {
        const { size } = await stat(path);
        if (size > MAX_CAPTURE_BYTES) {
          ladder.problems.push(`${src}: ${size} bytes is too large to draw here; read it with \`peerproof decode ${src}\``);
          continue;
        }
        const parsed = decodedPcap(await readFile(path), src);
        ladder.messages.push(...parsed.messages);
        ladder.problems.push(...parsed.problems);
      }
      ladder.sources.push(src);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      ladder.problems.push(`${src}: cannot read (${code ?? (err as Error).message})`);
    }
  }
  ladder.messages = dedupe(ladder.messages);
  return ladder;
}

/** Ladders of every case of a summary whose artifacts are under `dir`, by caseKey. */
export async function loadLadders(dir: string, summary: RunSummary): Promise<Map<string, CaseLadder>> {
  const ladders = new Map<string, CaseLadder>();
  for (const c of summary.cases) {
    const ladder = await loadCaseLadder(dir, c.artifacts);
    if (ladder) ladders.set(caseKey(c), ladder);
  }
  return ladders;
}
