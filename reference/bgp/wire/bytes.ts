// Big-endian reads, a growable writer, and hex conversion shared by the codec modules.

export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('hex');
}

export function fromHex(hex: string, what = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError(`${what}: not an even-length hex string: "${hex}"`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export class ByteWriter {
  private buffer: Uint8Array;
  length = 0;

  constructor(initialSize = 256) {
    this.buffer = new Uint8Array(initialSize);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buffer[this.length++] = value & 255;
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.buffer[this.length++] = (value >>> 8) & 255;
    this.buffer[this.length++] = value & 255;
    return this;
  }

  u24(value: number): this {
    this.ensure(3);
    this.buffer[this.length++] = (value >>> 16) & 255;
    this.buffer[this.length++] = (value >>> 8) & 255;
    this.buffer[this.length++] = value & 255;
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.buffer[this.length++] = (value >>> 24) & 255;
    this.buffer[this.length++] = (value >>> 16) & 255;
    this.buffer[this.length++] = (value >>> 8) & 255;
    this.buffer[this.length++] = value & 255;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
    return this;
  }

  setU8(offset: number, value: number): void {
    this.buffer[offset] = value & 255;
  }

  setU16(offset: number, value: number): void {
    this.buffer[offset] = (value >>> 8) & 255;
    this.buffer[offset + 1] = value & 255;
  }

  getU8(offset: number): number {
    return this.buffer[offset];
  }

  /** Removes `count` bytes at `offset`, shifting what follows down. */
  remove(offset: number, count: number): void {
    this.buffer.copyWithin(offset, offset + count, this.length);
    this.length -= count;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** A number that must fit an unsigned field of `bits`; throws RangeError naming the field. */
export function checkUint(value: number, bits: number, field: string): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${field}: ${value} does not fit ${bits} bits`);
  return value;
}
