// The part of the `cap` package (libpcap bindings, CommonJS, ships no types) that the announcer uses.
declare module 'cap' {
  import type { EventEmitter } from 'node:events';

  export class Cap extends EventEmitter {
    /** Opens `device` in the caller's network namespace; returns the link type, e.g. 'ETHERNET'. */
    open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
    close(): void;
    send(buffer: Buffer, length?: number): void;
    static deviceList(): Array<{ name: string; addresses: Array<{ addr: string }> }>;
  }

  const cap: { Cap: typeof Cap };
  export default cap;
}
