import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

// Probes and process figures shared by the speaker benchmarks (speaker.bench.ts, bgperf.bench.ts):
// our speaker's status API and BIRD's control socket each over one open connection (one round
// trip per probe, no process), CPU time of all of a process's threads, its RSS and peak RSS.

/** The speaker's status API over one kept-alive connection, so a probe is one round trip like BIRD's. */
export function statusProbe(socketPath: string): { get(path: string): Promise<unknown>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = http.get({ socketPath, path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            try {
              resolve(JSON.parse(body));
            } catch (err) {
              reject(err);
            }
          });
        });
        req.on('error', reject);
      }),
    close: () => agent.destroy(),
  };
}

/** BIRD's control socket kept open: one round trip per query instead of a birdc process. */
export class BirdControl {
  private buffer = '';
  private waiting: ((reply: string) => void) | null = null;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      // A reply ends with a line whose 4-digit code is followed by a space (not "-").
      const end = this.buffer.search(/(^|\n)\d{4} [^\n]*\n/);
      if (end < 0 || !this.waiting) return;
      const lineEnd = this.buffer.indexOf('\n', end + 1) + 1;
      const reply = this.buffer.slice(0, lineEnd);
      this.buffer = this.buffer.slice(lineEnd);
      const resolve = this.waiting;
      this.waiting = null;
      resolve(reply);
    });
  }

  static async open(path: string): Promise<BirdControl> {
    const socket = net.connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const control = new BirdControl(socket);
    await control.reply(); // "0001 BIRD ... ready."
    return control;
  }

  private reply(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.emit('data', '');
    });
  }

  query(command: string): Promise<string> {
    const reply = this.reply();
    this.socket.write(`${command}\n`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** CPU time of every thread of a process so far, in ns (schedstat: not the 10 ms ticks of stat). */
export function cpuNanoseconds(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return total;
}

export function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? Number(match[1]) * 1024 : 0;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
