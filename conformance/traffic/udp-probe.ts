// Long-running probe flows, run INSIDE a lab node (namespace), for as long as a chaos run lasts
// (the lab's stop() ends them). `echo PORT`: sends every datagram back to its sender. `probe PORT
// FLOWS FIRST_SOURCE_PORT INTERVAL_MS FROM|- TARGET...`: FLOWS UDP flows to each target (one
// source port each, so ECMP hashes them apart, which ICMP echo is not; target i's flows take the
// ports from FIRST + i * FLOWS), each sending one datagram per interval; every reply prints
// "<unix seconds> <source port>", the line the judge reads.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface ProbePlan {
  targets: string[];
  port: number;
  flows: number;
  firstSourcePort: number;
  intervalMs: number;
  from?: string;
}

export function parseProbeArgs(argv: readonly string[]): ProbePlan {
  const [port, flows, first, interval, from, ...targets] = argv;
  const plan: ProbePlan = { targets, port: Number(port), flows: Number(flows), firstSourcePort: Number(first), intervalMs: Number(interval), ...(from && from !== '-' ? { from } : {}) };
  if (targets.length === 0) throw new Error('no target');
  for (const t of targets) if (!isIPv4(t)) throw new Error(`target must be an IPv4 address, got "${t}"`);
  if (plan.from !== undefined && !isIPv4(plan.from)) throw new Error(`from must be an IPv4 address or -, got "${from}"`);
  if (!Number.isInteger(plan.port) || plan.port < 1 || plan.port > 65535) throw new Error(`port must be 1..65535, got "${port}"`);
  if (!Number.isInteger(plan.flows) || plan.flows < 1 || plan.flows > 64) throw new Error(`flows must be 1..64, got "${flows}"`);
  const ports = plan.flows * targets.length;
  if (!Number.isInteger(plan.firstSourcePort) || plan.firstSourcePort < 1024 || plan.firstSourcePort + ports > 65536) throw new Error(`source ports ${first}.. do not fit ${ports} flows`);
  if (!Number.isInteger(plan.intervalMs) || plan.intervalMs < 50 || plan.intervalMs > 10_000) throw new Error(`interval must be 50..10000 ms, got "${interval}"`);
  return plan;
}

/** Reply times (unix seconds) per source port in the probe's output; a torn last line is skipped. */
export function probeReplies(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of text.matchAll(/^(\d+\.\d+) (\d+)$/gm)) {
    const port = Number(m[2]);
    (out.get(port) ?? out.set(port, []).get(port)!).push(Number(m[1]));
  }
  return out;
}

async function bound(port: number, address?: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, ...(address ? { address } : {}) }, resolve);
  });
  socket.on('error', () => undefined); // an unreachable target while a fault is in force
  return socket;
}

async function probe(plan: ProbePlan): Promise<void> {
  const flows: Array<{ socket: Socket; target: string }> = [];
  for (const [i, target] of plan.targets.entries())
    for (let j = 0; j < plan.flows; j++) {
      const port = plan.firstSourcePort + i * plan.flows + j;
      const socket = await bound(port, plan.from);
      socket.on('message', () => process.stdout.write(`${(Date.now() / 1000).toFixed(3)} ${port}\n`));
      flows.push({ socket, target });
    }
  setInterval(() => {
    for (const f of flows) f.socket.send('peerproof probe', plan.port, f.target, () => undefined);
  }, plan.intervalMs);
}

async function echo(port: number): Promise<void> {
  const s = await bound(port);
  s.on('message', (msg, from) => s.send(msg, from.port, from.address, () => undefined));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [mode, ...rest] = process.argv.slice(2);
  try {
    if (mode === 'echo') await echo(Number(rest[0]));
    else if (mode === 'probe') await probe(parseProbeArgs(rest));
    else throw new Error(`mode must be echo or probe, got "${mode}"`);
  } catch (err) {
    console.error(`udp-probe: ${(err as Error).message}`);
    process.exit(1);
  }
}
