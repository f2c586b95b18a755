import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LbIpamState } from './lb-ipam.ts';
import type { PodCidrState } from './pod-cidr.ts';
import type { CalicoBlocksState } from './calico-blocks.ts';

// All IPAM state of one agent in one JSON file. Writes are atomic (temp file in the same
// directory, fsync, rename, fsync of the directory): after a crash the file holds either the
// old or the new state, never a mix.

export interface IpamState {
  version: 1;
  lb?: LbIpamState;
  podCidrs?: PodCidrState;
  calico?: CalicoBlocksState;
}

export class IpamStateError extends Error {}

export function writeIpamState(path: string, state: IpamState): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The saved state; an empty state when the file does not exist; a clear error when it is not ours. */
export function readIpamState(path: string): IpamState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1 };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IpamStateError(`${path}: not valid JSON (${(error as Error).message}); refusing to start from an empty state over it`);
  }
  const problem = describeInvalidState(parsed);
  if (problem) throw new IpamStateError(`${path}: ${problem}; refusing to start from an empty state over it`);
  return parsed as IpamState;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeInvalidState(value: unknown): string | null {
  if (!isObject(value)) return 'top level is not an object';
  if (value.version !== 1) return `unsupported state version ${JSON.stringify(value.version)} (expected 1)`;
  const checkList = (section: string, key: string, fields: string[]): string | null => {
    const part = value[section];
    if (part === undefined) return null;
    if (!isObject(part) || part.version !== 1 || !Array.isArray(part[key])) return `${section} is not a version 1 section with a "${key}" list`;
    for (const [i, entry] of (part[key] as unknown[]).entries()) {
      if (!isObject(entry)) return `${section}.${key}[${i}] is not an object`;
      for (const field of fields) if (entry[field] === undefined) return `${section}.${key}[${i}].${field} is missing`;
    }
    return null;
  };
  return (
    checkList('lb', 'allocations', ['service', 'pool', 'address']) ??
    checkList('podCidrs', 'nodes', ['node', 'cidrs']) ??
    checkList('calico', 'blocks', ['cidr', 'pool', 'affinity', 'allocations'])
  );
}
