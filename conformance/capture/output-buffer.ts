import { writeSync } from 'node:fs';

// Collects output lines and writes them to a file descriptor in large synchronous chunks: one
// write per megabyte instead of one per line, and nothing lost when the process exits at once.
// Lines are encoded straight into a reused byte buffer (no megabyte-long intermediate string).

const CHUNK = 1 << 20;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

export class OutputBuffer {
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;

  constructor(private readonly fd: number) {}

  line(text: string): void {
    const worstCase = text.length * MAX_BYTES_PER_CHAR + 1;
    if (this.used + worstCase > CHUNK) {
      this.flush();
      if (worstCase > CHUNK) {
        this.writeAll(Buffer.from(text + '\n', 'utf8'));
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
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
