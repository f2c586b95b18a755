// The arguments of `peerproof decode`, without commander: the option value parsers (commander
// uses them too), and the plain command lines (`decode FILE [--format F] [--add-path S]
// [--stream N]`) the prebuilt entry runs without loading commander at all. Anything else (help,
// a bad value, an unknown option) is left to commander, which prints its usual messages.

import type { AddPathOverride } from '../../capture/bgp-stream.ts';
import type { DecodeOptions } from './decode-run.ts';

/** A value commander reports as an invalid option argument. */
export class DecodeArgumentError extends Error {}

export function parseAddPath(value: string): AddPathOverride {
  if (value === 'all') return 'all';
  const streams = new Set<number>();
  for (const part of value.split(',')) streams.add(parseStreamNumber(part.trim()));
  return streams;
}

export function parseStreamNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new DecodeArgumentError(`expected a stream number (as in the table's #N), got "${value}"`);
  return Number(value);
}

/**
 * `decode FILE` with each option at most once, as `--name value` or `--name=value`, every value
 * valid; null for anything else (commander then handles it, help and errors included).
 */
export function parsePlainDecode(args: readonly string[]): { file: string; opts: DecodeOptions } | null {
  if (args[0] !== 'decode') return null;
  let file: string | undefined;
  const values = new Map<string, string>();
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      if (file !== undefined) return null;
      file = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name !== '--format' && name !== '--add-path' && name !== '--stream') return null;
    if (values.has(name)) return null;
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return null;
    values.set(name, value);
  }
  if (file === undefined) return null;
  const format = values.get('--format') ?? 'table';
  if (format !== 'jsonl' && format !== 'table') return null;
  try {
    const addPath = values.has('--add-path') ? parseAddPath(values.get('--add-path')!) : undefined;
    const stream = values.has('--stream') ? parseStreamNumber(values.get('--stream')!) : undefined;
    return { file, opts: { format, ...(addPath === undefined ? {} : { addPath }), ...(stream === undefined ? {} : { stream }) } };
  } catch {
    return null;
  }
}
