// The private engine shared by two peerproof processes: the one that is done first must not stop
// it under the other; the last user's release stops it. Real dockerd, two real processes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { engineUsers, ensureDebianPackages, ensureEngine, releaseEngine, type ReleaseResult } from './docker-engine.ts';
import { typescriptCommand } from './process-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'pp-engine-share-'));
/** This process's lease is still held (a failed assertion must not leave the engine running). */
let holding = false;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (holding) await releaseEngine();
});

describe.skipIf(process.getuid?.() !== 0)('the shared docker engine', () => {
  it('another run releasing leaves the engine to this one; the last user stops it', async () => {
    ensureDebianPackages(['docker.io']);
    const engine = await ensureEngine();
    holding = true;
    expect(engineUsers()).toContain(process.pid);
    // Another peerproof process: uses the engine, is done, releases.
    const script = join(dir, 'other-run.mts'); // .mts: an ES module outside the package (top-level await)
    writeFileSync(
      script,
      `import { ensureEngine, releaseEngine } from ${JSON.stringify(join(import.meta.dirname, 'docker-engine.ts'))};\n` +
        'const engine = await ensureEngine();\nconst released = await releaseEngine();\nprocess.stdout.write(JSON.stringify({ pid: engine.pid, released }));\n',
    );
    const [cmd, ...args] = typescriptCommand(script, []);
    const { stdout } = await promisify(execFile)(cmd!, args, { timeout: 120_000 });
    const other = JSON.parse(stdout) as { pid: number; released: ReleaseResult };
    expect(other.pid).toBe(engine.pid);
    expect(other.released.outcome).toBe('in-use');
    expect(other.released.users).toContain(process.pid);
    // Still up for this process.
    expect(await engine.docker.ping()).toBeTruthy();

    const mine = await releaseEngine();
    holding = false;
    // Other engineers' runs may hold leases too, or an engine kept by `docker start`: then it stays.
    if (mine.outcome === 'stopped') {
      await expect(engine.docker.ping()).rejects.toThrow();
      expect(existsSync('/run/peerproof-docker/dockerd.pid')).toBe(false);
    }
    else expect(mine.outcome === 'kept' || mine.users.length > 0).toBe(true);
  }, 180_000);
});

