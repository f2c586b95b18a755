// Flow generator, run INSIDE a lab node (namespace): N UDP flows to one lab address, each from
// its own source port, one datagram per flow and pass (`rounds` passes, so a datagram lost
// while ARP resolves does not lose the flow). Bounded: at most 20,000 flows and 30 s.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export const MAX_FLOWS = 20_000;

export interface FlowPlan {
  target: string;
  port: number;
  flows: number;
  firstSourcePort: number;
  rounds: number;
}

export function parseFlowArgs(argv: readonly string[]): FlowPlan {
  const [target, port, flows, firstSourcePort = '20000', rounds = '2'] = argv;
  const plan = { target: target ?? '', port: Number(port), flows: Number(flows), firstSourcePort: Number(firstSourcePort), rounds: Number(rounds) };
  if (!isIPv4(plan.target)) throw new Error(`target must be an IPv4 address, got "${target}"`);
  if (!Number.isInteger(plan.port) || plan.port < 1 || plan.port > 65535) throw new Error(`port must be 1..65535, got "${port}"`);
  if (!Number.isInteger(plan.flows) || plan.flows < 1 || plan.flows > MAX_FLOWS) throw new Error(`flows must be 1..${MAX_FLOWS}, got "${flows}"`);
  if (!Number.isInteger(plan.firstSourcePort) || plan.firstSourcePort < 1024 || plan.firstSourcePort + plan.flows > 65536)
    throw new Error(`source ports ${firstSourcePort}.. do not fit ${plan.flows} flows`);
  if (!Number.isInteger(plan.rounds) || plan.rounds < 1 || plan.rounds > 5) throw new Error(`rounds must be 1..5, got "${rounds}"`);
  return plan;
}

async function openFlow(sourcePort: number): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(sourcePort, resolve);
  });
  return socket;
}

/**
 * Opens every flow's socket, then sends `rounds` passes over all flows in batches: a datagram
 * dropped while a neighbour resolves is resent a pass later, never back to back.
 */
export async function sendFlows(plan: FlowPlan): Promise<number> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < plan.flows; i++) {
      try {
        sockets.push(await openFlow(plan.firstSourcePort + i));
      } catch {
        // A source port already taken in this namespace: that flow is not sent (counted below).
      }
    }
    const batch = 50;
    for (let r = 0; r < plan.rounds; r++) {
      for (let i = 0; i < sockets.length; i += batch) {
        await Promise.all(
          sockets.slice(i, i + batch).map((s) => new Promise<void>((resolve) => s.send(`peerproof flow ${s.address().port}`, plan.port, plan.target, () => resolve()))),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return sockets.length;
  } finally {
    for (const s of sockets) s.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const timer = setTimeout(() => {
    console.error('udp-flows: gave up after 30 s');
    process.exit(2);
  }, 30_000);
  try {
    const sent = await sendFlows(parseFlowArgs(process.argv.slice(2)));
    console.log(JSON.stringify({ sent }));
    clearTimeout(timer);
  } catch (err) {
    console.error(`udp-flows: ${(err as Error).message}`);
    process.exit(1);
  }
}
