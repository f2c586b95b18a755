import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withFileLock } from './docker-engine.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-lock-test-'));
  dirs.push(dir);
  return join(dir, 'x.lock');
}

describe('withFileLock', () => {
  it('runs holders one after the other and removes the lock after', async () => {
    const lock = lockPath();
    const events: string[] = [];
    const holder = (name: string) => async () => {
      events.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 30));
      events.push(`${name} out`);
      return name;
    };
    const results = await Promise.all([withFileLock(lock, holder('a')), withFileLock(lock, holder('b'))]);
    expect(results).toEqual(['a', 'b']);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose holder process is gone', async () => {
    const lock = lockPath();
    writeFileSync(lock, '999999999');
    expect(await withFileLock(lock, async () => 'ran')).toBe('ran');
  });

  it('releases the lock when the holder throws', async () => {
    const lock = lockPath();
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('gives up after its timeout, naming the live holder', async () => {
    const lock = lockPath();
    writeFileSync(lock, String(process.ppid));
    await expect(withFileLock(lock, async () => 'never', 300)).rejects.toThrow(`held by pid ${process.ppid}`);
  });
});
