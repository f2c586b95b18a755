import { writeSync } from 'node:fs';

// Collects output and writes it to a file descriptor in large synchronous chunks: one write per
// megabyte instead of one per line, and nothing lost when the process exits at once. Text is
// encoded straight into a reused byte buffer (no megabyte-long intermediate string); a writer
// can also put a line together piece by piece (ascii, number) without building its string.

const CHUNK = 1 << 20;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

export class OutputBuffer {
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  /** The same memory as a plain Uint8Array: byte stores into it optimise better than into a Buffer. */
  private readonly bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, CHUNK);
  private used = 0;
  /** Bytes handed to the file descriptor so far. */
  written = 0;

  constructor(private readonly fd: number) {}

  line(text: string): void {
    this.text(text);
    this.newline();
  }

  /** Any text, UTF-8 encoded. */
  text(text: string): void {
    const worstCase = text.length * MAX_BYTES_PER_CHAR;
    if (this.used + worstCase > CHUNK) {
      this.flush();
      if (worstCase > CHUNK) {
        this.writeAll(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  /**
   * Text the caller knows to be ASCII (addresses, prefixes, names, JSON punctuation), copied a
   * character at a time: for the short pieces of a JSONL line that beats an encoder call.
   */
  ascii(text: string): void {
    const n = text.length;
    if (this.used + n > CHUNK) {
      this.flush();
      if (n > CHUNK) return this.text(text);
    }
    const bytes = this.bytes;
    let used = this.used;
    for (let i = 0; i < n; i++) bytes[used++] = text.charCodeAt(i);
    this.used = used;
  }

  /** Bytes prepared beforehand (a pre-encoded JSON fragment), copied in. */
  raw(data: Uint8Array): void {
    const n = data.length;
    if (this.used + n > CHUNK) {
      this.flush();
      if (n > CHUNK) return this.writeAll(data);
    }
    const bytes = this.bytes;
    let used = this.used;
    for (let i = 0; i < n; i++) bytes[used++] = data[i]!;
    this.used = used;
  }

  /** A number in JSON form; unsigned 32-bit integers (every number a BGP field holds) without a string. */
  number(value: number): void {
    if (value >>> 0 !== value) return this.ascii(String(value));
    if (this.used + 10 > CHUNK) this.flush();
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const bytes = this.bytes;
    let at = this.used + digits;
    this.used = at;
    let rest = value;
    do {
      const next = Math.floor(rest / 10);
      bytes[--at] = 48 + rest - next * 10;
      rest = next;
    } while (rest > 0);
  }

  newline(): void {
    if (this.used + 1 > CHUNK) this.flush();
    this.bytes[this.used++] = 0x0a;
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    this.written += bytes.length;
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
