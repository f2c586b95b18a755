// In the lab project although it needs no root: it starts three Node processes (seconds each here).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, JsonLines, typescriptCommand } from '../../conformance/lab/process-output.ts';
import { EXIT_WITH_PARENT_ENV } from './supervisor.ts';

const directory = mkdtempSync(join(tmpdir(), 'peerproof-supervisor-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

// A stand-in announcer: crashes on its first run, then runs until its supervisor goes away.
const script = `
import { existsSync, writeFileSync } from 'node:fs';
import { exitWithSupervisor, isSupervisedChild, supervise } from ${JSON.stringify(new URL('./supervisor.ts', import.meta.url).href)};
const print = (record) => console.log(JSON.stringify(record));
const crashedOnce = ${JSON.stringify(join(directory, 'crashed'))};
if (isSupervisedChild()) {
  if (!existsSync(crashedOnce)) {
    writeFileSync(crashedOnce, '');
    process.kill(process.pid, 'SIGKILL');
  }
  print({ event: 'child', pid: process.pid });
  exitWithSupervisor(() => process.exit(0));
  setInterval(() => {}, 1000);
} else {
  supervise({ argv: [process.execPath, ...process.execArgv, ...process.argv.slice(1)], print });
}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('announcer supervisor', () => {
  it('restarts a crashed announcer, and the announcer never outlives the supervisor', async () => {
    const file = join(directory, 'stand-in.mts');
    writeFileSync(file, script);
    const [node, ...args] = typescriptCommand(file, []);
    const supervisor = spawn(node, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = new JsonLines(supervisor.stdout);
    try {
      const restart = await lines.waitFor((r) => r.event === 'restart');
      expect(restart).toMatchObject({ reason: 'announcer killed by SIGKILL', inMs: 250 });
      const child = Number((await lines.waitFor((r) => r.event === 'child')).pid);
      expect(alive(child)).toBe(true);
      supervisor.kill('SIGKILL'); // no chance to stop the child: it must notice by itself
      await eventually(() => (alive(child) ? null : true), 'the announcer to exit after its supervisor died', 10_000);
    } finally {
      supervisor.kill('SIGKILL');
    }
  });

  it('with its parent holding stdin, supervisor and announcer exit when the parent dies', async () => {
    const file = join(directory, 'stand-in.mts');
    writeFileSync(file, script);
    writeFileSync(join(directory, 'crashed'), ''); // no crash this time
    const [node, ...args] = typescriptCommand(file, []);
    // stdin is a pipe the test holds, as the agent does; ending it is what the parent's death does.
    const supervisor = spawn(node, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, [EXIT_WITH_PARENT_ENV]: '1' } });
    const lines = new JsonLines(supervisor.stdout);
    try {
      const child = Number((await lines.waitFor((r) => r.event === 'child')).pid);
      supervisor.stdin.end();
      await eventually(() => (alive(child) || alive(supervisor.pid!) ? null : true), 'supervisor and announcer to exit with their parent', 10_000);
      expect(supervisor.signalCode).toBeNull(); // exited by itself, not killed
    } finally {
      supervisor.kill('SIGKILL');
    }
  });
});
