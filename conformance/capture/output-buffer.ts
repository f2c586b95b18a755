import { writeSync } from 'node:fs';

// Collects output lines and writes them to a file descriptor in large synchronous chunks: one
// write per megabyte instead of one per line, and nothing lost when the process exits at once.

const CHUNK = 1 << 20;

export class OutputBuffer {
  private pending = '';

  constructor(private readonly fd: number) {}

  line(text: string): void {
    this.pending += text + '\n';
    if (this.pending.length >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (err) {
        // stdout as a non-blocking pipe: wait for the reader instead of losing output
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return; // reader went away (| head)
        throw err;
      }
    }
  }
}
