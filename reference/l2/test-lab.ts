// A tiny namespace lab for the L2 and datapath lab tests and the L2 bench (test support only,
// never imported by runtime code, which must not depend on conformance/). It predates
// conformance/lab/netns.ts, whose ledger-backed API a later change could move these tests onto.
//
// Every name carries a per-run suffix. veth pairs are created straight inside their
// namespaces (the `netns` attribute of `ip link add`), so nothing ever lands in the host's
// namespace and interface names inside a namespace can be short and fixed (net0, eth1).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../conformance/capture/pcap-reader.ts';
import { bytesEqual } from './addresses.ts';
import { ARP_REQUEST, decodeArp } from './frames.ts';

const TSX_LOADER = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

/** The argv that runs a TypeScript entry point with Node and the tsx loader. */
export function typescriptCommand(script: string, args: string[]): string[] {
  return [process.execPath, '--import', TSX_LOADER, fileURLToPath(new URL(script, import.meta.url)), ...args];
}

export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface Capture {
  file: string;
  stop(): Promise<void>;
}

export class TestLab {
  readonly suffix = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  readonly directory: string;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<ChildProcess>();

  constructor(label: string) {
    this.directory = mkdtempSync(join(tmpdir(), `peerproof-${label}-`));
  }

  /** Creates namespace `<name>-<suffix>` with lo up and returns its full name. */
  namespace(name: string): string {
    const ns = `${name}-${this.suffix}`;
    this.namespaces.push(ns); // recorded first: cleanup covers a half-made namespace
    sh(['ip', 'netns', 'add', ns]);
    this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  exec(ns: string, argv: string[], input?: string): string {
    return sh(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** A veth pair between two namespaces, both ends up, optional addresses (CIDR) and MACs. */
  link(a: { ns: string; ifname: string; cidr?: string; mac?: string }, b: { ns: string; ifname: string; cidr?: string; mac?: string }): void {
    sh(['ip', 'link', 'add', a.ifname, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
    for (const end of [a, b]) {
      if (end.mac) sh(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'address', end.mac]);
      if (end.cidr) sh(['ip', '-n', end.ns, 'addr', 'add', end.cidr, 'dev', end.ifname, ...(end.cidr.includes(':') ? ['nodad'] : [])]);
      sh(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
  }

  /** A bridge `br0` inside `ns` with the given interfaces of `ns` as ports. */
  bridge(ns: string, ports: string[]): void {
    sh(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    for (const port of ports) sh(['ip', '-n', ns, 'link', 'set', port, 'master', 'br0']);
    sh(['ip', '-n', ns, 'link', 'set', 'br0', 'up']);
  }

  /** Starts `argv` inside `ns`; `ip netns exec` execs, so the child's pid is the program's. */
  spawn(ns: string, argv: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.add(child);
    child.on('exit', () => this.processes.delete(child));
    return child;
  }

  /** tcpdump writing a pcap of `ifname` in `ns`; resolves once it is listening. */
  async capture(ns: string, ifname: string, filter: string[] = []): Promise<Capture> {
    const file = join(this.directory, `${ns}-${ifname}.pcap`);
    const child = this.spawn(ns, ['tcpdump', '-i', ifname, '-n', '-U', '-w', file, ...filter]);
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump on ${ns}/${ifname} did not start: ${stderr}`)), 10_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`tcpdump on ${ns}/${ifname} exited: ${stderr}`)));
    });
    return { file, stop: () => stopProcess(child) };
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.processes].map((child) => stopProcess(child)));
    for (const ns of this.namespaces.splice(0)) {
      try {
        sh(['ip', 'netns', 'delete', ns]);
      } catch {
        // never created
      }
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Collects a child's stdout as JSON lines and lets a test wait for one that matches. */
export class JsonLines {
  readonly records: Array<Record<string, unknown>> = [];
  private waiters: Array<{ match: (r: Record<string, unknown>) => boolean; resolve: (r: Record<string, unknown>) => void }> = [];

  constructor(child: ChildProcess) {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.trim()) continue;
        const record = JSON.parse(line) as Record<string, unknown>;
        this.records.push(record);
        this.waiters = this.waiters.filter((w) => (w.match(record) ? (w.resolve(record), false) : true));
      }
    });
  }

  /** Resolves with the first record at index `fromIndex` or later that matches. */
  waitFor(match: (r: Record<string, unknown>) => boolean, timeoutMs = 15_000, fromIndex = 0): Promise<Record<string, unknown>> {
    const found = this.records.slice(fromIndex).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching record within ${timeoutMs} ms; saw ${JSON.stringify(this.records)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  }
}

export interface CapturedFrame {
  /** Seconds since the epoch. */
  ts: number;
  frame: Uint8Array;
}

/** Every frame of a capture file, read by the capture stage's reader. */
export function readPcap(file: string): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  const bytes = readFileSync(file);
  if (bytes.length < 24) return frames; // tcpdump has not written its file header yet
  readCapture(bytes, (frame, ts) => frames.push({ ts, frame }));
  return frames;
}

export interface FailoverMeasurement {
  /** Capture time of the last frame the old holder sent (ARP reply, echo reply, anything). */
  lastOldFrame: number;
  /** Capture time of the new holder's first gratuitous ARP for the VIP after that. */
  firstAnnouncement: number;
  milliseconds: number;
}

/**
 * Failover as seen on the client's link: last frame from the old holder's MAC to the first
 * gratuitous ARP for `vip` from the new holder's MAC. Null while the capture does not show both.
 */
export function failoverFromCapture(frames: CapturedFrame[], oldMac: Uint8Array, newMac: Uint8Array, vip: Uint8Array): FailoverMeasurement | null {
  const sentBy = (f: CapturedFrame, mac: Uint8Array) => bytesEqual(f.frame.subarray(6, 12), mac);
  const lastOld = frames.filter((f) => sentBy(f, oldMac)).at(-1);
  if (!lastOld) return null;
  const announcement = frames.find((f) => {
    if (f.ts <= lastOld.ts || !sentBy(f, newMac)) return false;
    const arp = decodeArp(f.frame);
    return arp !== null && arp.op === ARP_REQUEST && bytesEqual(arp.senderIp, vip) && bytesEqual(arp.targetIp, vip);
  });
  if (!announcement) return null;
  return { lastOldFrame: lastOld.ts, firstAnnouncement: announcement.ts, milliseconds: (announcement.ts - lastOld.ts) * 1000 };
}

/** Polls `condition` until it returns a value other than null. */
export async function eventually<T>(condition: () => T | null, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
