// A fast BGP route generator for the speaker benchmark: opens a session, pre-encodes N distinct
// IPv4 /24s into packed UPDATEs sharing one attribute set, and writes them in one go. Prints one
// JSON line {"event":"sent","t0":<ms epoch (fractional) of the first UPDATE write>,"messages":M,"bytes":B}
// to stdout, then keeps the session alive (keepalives) until SIGTERM.
//
//   node --import tsx bench/bgp-generator.ts --peer ADDR [--port 179] --local-as AS --peer-as AS --router-id ID --count N
//       [--local-address ADDR] [--offset K] [--wait-signal]
// --local-address binds the session to one of several addresses (many generators, one namespace);
// --offset K starts the /24s K blocks further (distinct sets per generator); --wait-signal prints
// {"event":"established"} once the session is up and writes the UPDATEs only on SIGUSR2, so many
// generators start their bursts together once every session is up (bgperf.bench.ts).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { encodeMessage, encodeUpdates, messageLengthAt, type Route } from '../reference/bgp/wire/index.ts';

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    'local-as': { type: 'string' },
    'peer-as': { type: 'string' },
    'router-id': { type: 'string' },
    'next-hop': { type: 'string' },
    port: { type: 'string' },
    count: { type: 'string' },
    'local-address': { type: 'string' },
    offset: { type: 'string' },
    'wait-signal': { type: 'boolean' },
  },
});
const count = Number(values.count);
const localAs = Number(values['local-as']);
const routerId = values['router-id']!;
const offset = Number(values.offset ?? 0);

function prefixes(n: number): Route[] {
  const routes = new Array<Route>(n);
  for (let i = 0; i < n; i++) {
    const block = 65536 + offset + i; // 1.0.0.0/24 onwards: n distinct /24s
    routes[i] = { prefix: `${block >>> 16}.${(block >>> 8) & 255}.${block & 255}.0/24` };
  }
  return routes;
}

const updates = encodeUpdates(
  {
    withdrawn: [],
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [localAs] }], nextHop: values['next-hop'] ?? routerId },
    nlri: prefixes(count),
  },
  { as4: true },
);
const payload = Buffer.concat(updates);

const socket = net.connect({ host: values.peer!, port: Number(values.port ?? 179), localAddress: values['local-address'] });
socket.setNoDelay(true);
let buffer = Buffer.alloc(0);
let sent = false;
socket.on('connect', () => {
  socket.write(
    encodeMessage({
      type: 'OPEN',
      version: 4,
      myAs: localAs > 65535 ? 23456 : localAs,
      holdTime: 90,
      bgpId: routerId,
      as4: localAs,
      capabilities: [
        { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
        { code: 65, name: 'as4', asn: localAs },
      ],
    }),
  );
});
socket.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const length = messageLengthAt(buffer, 0);
    if (length === null || buffer.length < length) break;
    const type = buffer[18];
    buffer = buffer.subarray(length);
    if (type === 1) socket.write(encodeMessage({ type: 'KEEPALIVE' }));
    if (type === 3) {
      process.stderr.write('generator: NOTIFICATION received\n');
      process.exit(1);
    }
    if (type === 4 && !sent) {
      sent = true;
      if (values['wait-signal']) {
        process.once('SIGUSR2', send);
        process.stdout.write(`${JSON.stringify({ event: 'established' })}\n`);
      } else send();
    }
  }
});
function send(): void {
  // Milliseconds since the epoch with sub-millisecond precision, comparable across processes.
  const t0 = performance.timeOrigin + performance.now();
  socket.write(payload);
  process.stdout.write(`${JSON.stringify({ event: 'sent', t0, messages: updates.length, bytes: payload.length })}\n`);
}

socket.on('error', (err) => {
  process.stderr.write(`generator: ${err.message}\n`);
  process.exit(1);
});
setInterval(() => socket.write(encodeMessage({ type: 'KEEPALIVE' })), 30_000);
process.on('SIGTERM', () => {
  socket.destroy();
  process.exit(0);
});
