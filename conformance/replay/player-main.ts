// Process entry of the replay engine, started inside the replay node's namespace:
//   node --import tsx player-main.ts --recording FILE --events FILE [--listen ADDR] [--port N]
//        [--speed X] [--max-gap S] [--settle S] [--map REC=LAB ...] [--bgp-id ID]
// It accepts the first BGP connection, plays the recording on it, and reports every event as
// one JSON line in the events file; later connections are refused (one replay, one session).
// It keeps the session alive after `done` until SIGTERM, so the harness can read the peer's RIB.

import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { ReplayPlayer, type PlayerEvent } from './player.ts';
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
  },
});
if (!values.recording || !values.events) {
  process.stderr.write('player-main: --recording and --events are required\n');
  process.exit(2);
}
const eventsFile = values.events;
writeFileSync(eventsFile, '');
const emit = (e: PlayerEvent | { kind: 'listening'; t: number; port: number } | { kind: 'refused'; t: number; from: string }) =>
  appendFileSync(eventsFile, JSON.stringify(e) + '\n');

let recording: ReturnType<typeof readRecording>;
try {
  recording = readRecording(values.recording);
} catch (err) {
  emit({ kind: 'error', t: 0, message: `recording: ${(err as Error).message}`, fatal: true });
  process.exit(2);
}
const addressMap = new Map(values.map.map((pair) => pair.split('=') as [string, string]));
let player: ReplayPlayer | null = null;
let active: Socket | null = null;

const server = createServer((socket) => {
  if (player !== null) {
    emit({ kind: 'refused', t: 0, from: `${socket.remoteAddress}:${socket.remotePort}` });
    socket.destroy();
    return;
  }
  active = socket;
  player = new ReplayPlayer(recording, socket, emit, {
    speed: Number(values.speed),
    maxGap: Number(values['max-gap']),
    settle: Number(values.settle),
    addressMap,
    fallbackBgpId: values['bgp-id'],
  });
  player.run().catch((err: Error) => emit({ kind: 'error', t: 0, message: err.message }));
});
server.listen({ host: values.listen, port: Number(values.port) }, () => emit({ kind: 'listening', t: 0, port: Number(values.port) }));
server.on('error', (err) => {
  emit({ kind: 'error', t: 0, message: `listen: ${err.message}`, fatal: true });
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    player?.stop();
    active?.destroy();
    server.close();
    process.exit(0);
  });
}
