// A typed-array column of the RIB (rib.ts) that grows without holding two copies of itself.
// A plain ArrayBuffer grows by copying into a bigger one, and until the old one is collected both
// are resident: at 4M paths that was the speaker's peak memory. Here the memory is a
// WebAssembly.Memory, whose grow() adds pages behind the present ones in address space V8
// reserved up front, so the contents stay in place and only pages written to are resident.
// Where that reservation is refused (a limit on address space, `ulimit -v`) the column falls
// back to copying.

const PAGE = 65536;

type ColumnArray = Int32Array | Uint32Array | Uint16Array | Uint8Array;
interface ColumnArrayClass<T extends ColumnArray> {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
}

export class Column<T extends ColumnArray> {
  private readonly memory: WebAssembly.Memory | null;
  /** The column's values; replaced by grow(), after which the previous view must not be used. */
  view: T;

  constructor(
    private readonly kind: ColumnArrayClass<T>,
    length: number,
    inPlace = true,
  ) {
    let memory: WebAssembly.Memory | null = null;
    if (inPlace) {
      try {
        memory = new WebAssembly.Memory({ initial: Math.ceil((length * kind.BYTES_PER_ELEMENT) / PAGE) });
      } catch {
        memory = null;
      }
    }
    this.memory = memory;
    this.view = new kind(memory?.buffer ?? new ArrayBuffer(length * kind.BYTES_PER_ELEMENT), 0, length);
  }

  /** Whether growth keeps the column in place (false: it copies). */
  get inPlace(): boolean {
    return this.memory !== null;
  }

  /** Grows the column to `length` values, keeping the present ones (new ones are 0); returns the new view. */
  grow(length: number): T {
    const bytes = length * this.kind.BYTES_PER_ELEMENT;
    if (this.memory !== null) {
      const more = Math.ceil(bytes / PAGE) - this.memory.buffer.byteLength / PAGE;
      if (more > 0) this.memory.grow(more);
      this.view = new this.kind(this.memory.buffer, 0, length);
      return this.view;
    }
    const old = this.view;
    this.view = new this.kind(new ArrayBuffer(bytes), 0, length);
    this.view.set(old);
    // Hands the old memory to a throwaway buffer that the next minor GC frees: the old array lives
    // in the old generation, where it would stay resident until a major GC.
    structuredClone(old.buffer, { transfer: [old.buffer] });
    return this.view;
  }
}
