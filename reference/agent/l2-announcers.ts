// The node's L2 announcers: one supervised `reference/l2/main.ts` process per group of services
// sharing the interface patterns of an L2 policy. A group whose arguments change is restarted
// (its leases are released on SIGTERM, so another node may take them meanwhile); the others run on.
// An announcer that dies on its own is started again; one whose agent dies (even by SIGKILL)
// exits too, without releasing its leases, as on a dead node.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../bgp/speaker.ts';
import { FAST_FAILOVER_TIMING } from '../l2/election.ts';
import { formatCommand } from '../l2/main.ts';
import { EXIT_WITH_PARENT_ENV } from '../l2/supervisor.ts';
import { parseVip } from '../l2/responder.ts';
import type { DesiredL2Group } from './desired.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ANNOUNCER_MAIN = fileURLToPath(new URL('../l2/main.ts', import.meta.url));
const RESTART_AFTER_MS = 1000;

export function announcerArguments(identity: string, leaseDirectory: string, group: DesiredL2Group): string[] {
  return formatCommand({
    identity,
    leaseDirectory,
    services: group.services.map((s) => ({ lease: s.lease, vips: s.addresses.map(parseVip) })),
    interfacePatterns: group.interfaces.map((pattern) => new RegExp(pattern)),
    timing: FAST_FAILOVER_TIMING,
  });
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

export class L2Announcers {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly identity: string,
    private readonly leaseDirectory: string,
    private readonly log: Logger,
  ) {}

  get pids(): number[] {
    return [...this.running.values()].map((r) => r.child.pid!).filter(Boolean);
  }

  async sync(groups: DesiredL2Group[]): Promise<void> {
    const wanted = new Map(groups.map((g) => [JSON.stringify(announcerArguments(this.identity, this.leaseDirectory, g)), g]));
    for (const [key, running] of [...this.running]) {
      if (wanted.has(key)) continue;
      this.running.delete(key);
      await stopChild(running);
    }
    for (const key of wanted.keys()) {
      if (this.running.has(key)) continue;
      this.running.set(key, this.startChild(key));
    }
  }

  private startChild(key: string): Running {
    const args = JSON.parse(key) as string[];
    const child = spawn(process.execPath, ['--import', 'tsx', ANNOUNCER_MAIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, [EXIT_WITH_PARENT_ENV]: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const relay = (level: 'info' | 'warn') => (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.log(level, `l2: ${line.trim()}`);
    };
    child.stdout!.on('data', relay('info'));
    child.stderr!.on('data', relay('warn'));
    const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
      resolve();
      if (this.running.get(key)?.child !== child) return; // stopped by sync/stopAll
      this.log('warn', `l2 announcer pid ${child.pid} exited (${signal ?? code}): starting it again in ${RESTART_AFTER_MS} ms`);
      setTimeout(() => {
        if (this.running.get(key)?.child === child) this.running.set(key, this.startChild(key));
      }, RESTART_AFTER_MS).unref();
    }));
    this.log('info', `l2 announcer pid ${child.pid}: ${args.join(' ')}`);
    return { child, exited };
  }

  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map(stopChild));
  }
}

async function stopChild(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 3000);
  await running.exited;
  clearTimeout(timer);
}
