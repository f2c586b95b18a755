import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineUsers, handLeaseToRun, releaseEngine, sweepLeases, takeLease, withFileLock, type EnginePaths } from './docker-engine.ts';
import { tempDirs } from '../../reference/testing/temp-dirs.ts';

const tempDir = tempDirs();
function lockPath(): string {
  const dir = tempDir('pp-lock-test-');
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

describe('engine leases: the engine is stopped only by its last live user', () => {
  // No dockerd runs under these paths: a release that decides to stop finds nothing to stop.
  function enginePaths(): EnginePaths {
    const dir = tempDir('pp-lease-test-');
    return { dataRoot: join(dir, 'data'), runDir: join(dir, 'run') };
  }
  const leases = (paths: EnginePaths) => readdirSync(join(paths.runDir, 'leases')).sort();

  it('keeps the engine while another live process holds a lease; the last user stops it', async () => {
    const paths = enginePaths();
    // Another peerproof run: a live process of its own.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      takeLease(paths, other.pid!);
      takeLease(paths);
      expect(engineUsers(paths)).toEqual([other.pid!, process.pid].sort((a, b) => a - b));
      const first = await releaseEngine(paths);
      expect(first).toEqual({ outcome: 'in-use', users: [other.pid!], restored: [] });
      expect(leases(paths)).toEqual([`${other.pid}.process`]);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // The other run died without giving its lease back: it no longer counts, and goes.
    takeLease(paths);
    expect(await releaseEngine(paths)).toMatchObject({ outcome: 'stopped', users: [] });
    expect(existsSync(join(paths.runDir, 'leases'))).toBe(false);
  });

  it('a lease whose PID now belongs to another process (reused) is not a user', () => {
    const paths = enginePaths();
    mkdirSync(join(paths.runDir, 'leases'), { recursive: true });
    writeFileSync(join(paths.runDir, 'leases', `${process.ppid}.process`), '1'); // started at tick 1: not the live parent
    writeFileSync(join(paths.runDir, 'leases', 'junk'), 'x');
    expect(engineUsers(paths)).toEqual([]);
    expect(leases(paths)).toEqual([]);
    expect(() => takeLease(paths, 999_999_999)).toThrow(/does not exist/);
  });

  it('two holders in one process: releasing one keeps the engine for the other', async () => {
    const paths = enginePaths();
    takeLease(paths);
    takeLease(paths, process.pid, 'container-speakers');
    expect(await releaseEngine(paths, 'container-speakers')).toEqual({ outcome: 'in-use', users: [process.pid], restored: [] });
    expect(await releaseEngine(paths)).toMatchObject({ outcome: 'stopped' });
    expect(() => takeLease(paths, process.pid, '../x')).toThrow(/lease holder/);
  });

  it('an engine kept on purpose (peerproof docker start) survives its last user', async () => {
    const paths = enginePaths();
    takeLease(paths);
    writeFileSync(join(paths.runDir, 'kept'), String(process.pid));
    expect(await releaseEngine(paths)).toEqual({ outcome: 'kept', users: [], restored: [] });
    expect(existsSync(join(paths.runDir, 'kept'))).toBe(true);
  });

  it('a lab left up (lab up) keeps the engine through its run lease until lab down gives it back', async () => {
    const paths = enginePaths();
    takeLease(paths, process.pid, 'lab-abc123');
    handLeaseToRun(paths, 'abc123', 'lab-abc123');
    expect(leases(paths)).toEqual(['run.abc123']);
    // The process that brought it up exits: the run's lease is not tied to it.
    expect(await releaseEngine(paths, null)).toMatchObject({ outcome: 'in-use', users: [], runs: ['abc123'] });
    expect(await releaseEngine(paths, { runId: 'abc123' })).toMatchObject({ outcome: 'stopped', users: [] });
    expect(() => handLeaseToRun(paths, '../x')).toThrow(/expected letters/);
  });

  it('a sweep (lab down --all) releases the leases of gone processes and stops the engine they held', async () => {
    const paths = enginePaths();
    const killed = spawn('sleep', ['30'], { stdio: 'ignore' });
    takeLease(paths, killed.pid!);
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    expect(sweepLeases(paths)).toEqual({ users: [], runs: [], stale: [`${killed.pid}.process`] });
    takeLease(paths, process.pid, 'x');
    mkdirSync(join(paths.runDir, 'leases'), { recursive: true });
    writeFileSync(join(paths.runDir, 'leases', '999999999.process'), '5');
    expect(await releaseEngine(paths, null)).toEqual({ outcome: 'in-use', users: [process.pid], restored: [], stale: ['999999999.process'] });
    expect(await releaseEngine(paths, 'x')).toMatchObject({ outcome: 'stopped' });
  });
});
