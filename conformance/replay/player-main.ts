// Process entry of the replay engine, started inside the replay node's namespace:
//   node --import tsx player-main.ts --recording FILE --events FILE [--listen ADDR] [--port N]
//        [--connect PEER [--local ADDR] [--deadline S]]
//        [--speed X] [--max-gap S] [--settle S] [--map REC=LAB ...] [--bgp-id ID]
// Passive (default): it accepts the first BGP connection, plays the recording on it; later
// connections are refused (one replay, one session). Active (--connect): it connects to PEER:port
// from ADDR, retrying with a bounded ConnectRetry for up to --deadline seconds, and listens on
// nothing. Every event is one JSON line in the events file. It keeps the session alive after
// `done` until SIGTERM, so the harness can read the peer's RIB.

import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { connectWithRetry, ReplayPlayer, type PlayerEvent } from './player.ts';
import { readRecording } from './recording.ts';

const { values } = parseArgs({
  options: {
    recording: { type: 'string' },
    events: { type: 'string' },
    listen: { type: 'string', default: '::' },
    port: { type: 'string', default: '179' },
    speed: { type: 'string', default: '1' },
    'max-gap': { type: 'string', default: '5' },
    settle: { type: 'string', default: '2' },
    map: { type: 'string', multiple: true, default: [] },
    'bgp-id': { type: 'string' },
    connect: { type: 'string' },
    local: { type: 'string' },
    deadline: { type: 'string', default: '60' },
  },
});
if (!values.recording || !values.events) {
  process.stderr.write('player-main: --recording and --events are required\n');
  process.exit(2);
}
const eventsFile = values.events;
writeFileSync(eventsFile, '');
type MainEvent =
  | PlayerEvent
  | { kind: 'listening'; t: number; port: number }
  | { kind: 'refused'; t: number; from: string }
  | { kind: 'connecting'; t: number; to: string; attempt: number; error?: string };
const started = Date.now();
const emit = (e: MainEvent) => appendFileSync(eventsFile, JSON.stringify(e) + '\n');

let recording: ReturnType<typeof readRecording>;
try {
  recording = readRecording(values.recording);
} catch (err) {
  emit({ kind: 'error', t: 0, message: `recording: ${(err as Error).message}`, fatal: true });
  process.exit(2);
}
const addressMap = new Map(values.map.map((pair) => pair.split('=') as [string, string]));
let player: ReplayPlayer | null = null;
let session: Socket | null = null;

function play(socket: Socket, active: boolean): void {
  session = socket;
  player = new ReplayPlayer(recording, socket, emit, {
    speed: Number(values.speed),
    maxGap: Number(values['max-gap']),
    settle: Number(values.settle),
    addressMap,
    fallbackBgpId: values['bgp-id'],
    active,
  });
  player.run().catch((err: Error) => emit({ kind: 'error', t: 0, message: err.message }));
}

let server: Server | null = null;
const port = Number(values.port);
if (values.connect) {
  const to = values.connect.includes(':') ? `[${values.connect}]:${port}` : `${values.connect}:${port}`;
  const socket = await connectWithRetry({
    host: values.connect,
    port,
    localAddress: values.local,
    deadline: started + Number(values.deadline) * 1000,
    onAttempt: (attempt, error) => emit({ kind: 'connecting', t: (Date.now() - started) / 1000, to, attempt, ...(error && { error }) }),
  });
  if (socket) play(socket, true);
  else emit({ kind: 'error', t: (Date.now() - started) / 1000, message: `could not connect to ${to} within ${values.deadline} s (is the peer configured for this session?)`, fatal: true });
} else {
  server = createServer((socket) => {
    if (player !== null) {
      emit({ kind: 'refused', t: 0, from: `${socket.remoteAddress}:${socket.remotePort}` });
      socket.destroy();
      return;
    }
    play(socket, false);
  });
  server.listen({ host: values.listen, port }, () => emit({ kind: 'listening', t: 0, port }));
  server.on('error', (err) => {
    emit({ kind: 'error', t: 0, message: `listen: ${err.message}`, fatal: true });
    process.exit(1);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    player?.stop();
    session?.destroy();
    server?.close();
    process.exit(0);
  });
}
