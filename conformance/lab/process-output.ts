import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './poll.ts';

// Helpers for lab tests and benches that run TypeScript programs in nodes and follow what they
// print: an argv that runs a .ts entry point with plain Node, JSON-lines records, and polling.

const TSX_LOADER = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

/** The argv that runs a TypeScript entry point (a file URL or path) with Node and the tsx loader. */
export function typescriptCommand(script: URL | string, args: string[]): string[] {
  return [process.execPath, '--import', TSX_LOADER, script instanceof URL ? fileURLToPath(script) : script, ...args];
}

export type JsonRecord = Record<string, unknown>;

/** Collects a stream of JSON lines (a child's stdout) and lets a caller wait for one that matches. */
export class JsonLines {
  readonly records: JsonRecord[] = [];
  private waiters: Array<{ match: (r: JsonRecord) => boolean; resolve: (r: JsonRecord) => void }> = [];

  constructor(stream: Readable) {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.trim()) continue;
        const record = JSON.parse(line) as JsonRecord;
        this.records.push(record);
        this.waiters = this.waiters.filter((w) => (w.match(record) ? (w.resolve(record), false) : true));
      }
    });
  }

  /** Resolves with the first record at index `fromIndex` or later that matches. */
  waitFor(match: (r: JsonRecord) => boolean, timeoutMs = 15_000, fromIndex = 0): Promise<JsonRecord> {
    const found = this.records.slice(fromIndex).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching record within ${timeoutMs} ms; saw ${JSON.stringify(this.records)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  }
}

/** Polls `condition` every 100 ms (pollUntil) until it returns a value other than null. */
export async function eventually<T>(condition: () => T | null | Promise<T | null>, what: string, timeoutMs = 15_000): Promise<T> {
  const { value, met } = await pollUntil(condition, (v) => v !== null, timeoutMs, 100);
  if (!met) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return value as T;
}
