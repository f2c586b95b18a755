import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readCapture } from '../capture/pcap-reader.ts';
import type { Backend, BackendProcess } from './backend.ts';
import { pollHarness } from './poll.ts';

// tcpdump on one interface of one node, writing a classic pcap into the run folder. Started
// before the daemons so the first SYN and OPEN are on file; stopped with SIGINT and awaited so
// tcpdump flushes its buffer before anyone reads the file.

export interface Capture {
  node: string;
  ifname: string;
  file: string;
  /** Stops tcpdump (SIGINT), waits until it has flushed and exited; returns the pcap path. */
  stop(): Promise<string>;
  /** Leaves tcpdump running after this process exits (the lab's teardown stops it later). */
  detach(): void;
}

/** Kernel capture ring per tcpdump, KiB (about 250 packets in 64 KiB slots). */
const CAPTURE_BUFFER_KIB = 16 * 1024;

export function captureFileName(runDir: string, node: string, ifname: string): string {
  return join(runDir, 'pcaps', `${node}-${ifname}.pcap`);
}

/** `filter`: a tcpdump filter expression as words (e.g. ['arp', 'or', 'icmp']); default everything. */
export async function startCapture(backend: Backend, runDir: string, node: string, ifname: string, logDir: string, filter: string[] = []): Promise<Capture> {
  const file = captureFileName(runDir, node, ifname);
  mkdirSync(dirname(file), { recursive: true });
  const log = join(logDir, `tcpdump-${ifname}.log`);
  // -U: write each packet as it arrives; -s 0: whole frames (BGP UPDATEs can be 4096 B).
  // -B: in immediate mode a ring slot holds one frame of up to 64 KiB (veth offloads), so the
  // default 2 MiB ring holds about 30 packets and a burst of test traffic (ecmp.spread sends
  // 1,000 flows) overflowed it: "packets dropped by kernel", counted as lost flows.
  const proc: BackendProcess = await backend.spawn(
    node,
    ['tcpdump', '-Z', 'root', '-i', ifname, '-n', '-U', '-s', '0', '--immediate-mode', '-B', String(CAPTURE_BUFFER_KIB), '-w', file, ...filter],
    { label: `tcpdump:${ifname}`, logFile: log },
  );
  await waitUntilListening(log, proc, node, ifname);
  let stopped: Promise<string> | null = null;
  return {
    node,
    ifname,
    file,
    stop() {
      stopped ??= proc.stop('SIGINT', 3000).then(() => file);
      return stopped;
    },
    detach: () => proc.detach(),
  };
}

async function waitUntilListening(log: string, proc: BackendProcess, node: string, ifname: string): Promise<void> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const listening = (text: string) => text.includes('listening on');
  const { value: text } = await pollHarness(() => (existsSync(log) && statSync(log).size > 0 ? readFileSync(log, 'utf8') : ''), (t) => listening(t) || exited, 5000, 10);
  if (listening(text)) return;
  await proc.stop('SIGKILL', 100);
  throw new Error(`tcpdump on ${node}:${ifname} did not start: ${text.trim() || '(no output)'}`);
}

export interface CapturedFrame {
  /** Seconds since the epoch. */
  ts: number;
  frame: Uint8Array;
}

/**
 * Every frame of a capture file so far, also while tcpdump still writes it (-U): a file without
 * its header yet reads as no frames.
 */
export function readCapturedFrames(file: string): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  const bytes = readFileSync(file);
  if (bytes.length < 24) return frames;
  readCapture(bytes, (frame, ts) => frames.push({ ts, frame }));
  return frames;
}
