// A deliberately broken speaker: a tiny BGP speaker on loopback (the codec does its handshake and
// its RFC error handling) that crashes — closes the socket without NOTIFICATION — on one thing: a
// COMMUNITIES attribute of length 12. The fuzzer must find it and shrink it to that one message.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplayPlayer, type PlayerEvent } from '../replay/player.ts';
import { readRecording } from '../replay/recording.ts';
import { evaluate, readExpect } from '../replay/symptoms.ts';
import { BgpError, decodeMessage, directionContext, encodeMessage, messageLengthAt, type CodecContext, type OpenMessage } from '../../reference/bgp/wire/index.ts';
import { classifyHeader } from '../../reference/bgp/wire/validate.ts';
import type { Sut, TesterSlot } from '../tester/sut.ts';
import { fuzz } from './fuzzer.ts';
import { writeFuzzReport } from './report.ts';

/** Path attributes of an UPDATE as [code, length]; stops at the first one that does not fit. */
function attributesOf(m: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (m.length < 23) return out;
  const withdrawn = (m[19]! << 8) | m[20]!;
  let at = 21 + withdrawn;
  if (at + 2 > m.length) return out;
  const end = Math.min(m.length, at + 2 + ((m[at]! << 8) | m[at + 1]!));
  at += 2;
  while (at + 3 <= end) {
    const ext = (m[at]! & 0x10) !== 0;
    const length = ext ? ((m[at + 2]! << 8) | (m[at + 3] ?? 0)) : m[at + 2]!;
    out.push([m[at + 1]!, length]);
    at += (ext ? 4 : 3) + length;
  }
  return out;
}

const crashes = (m: Uint8Array) => m[18] === 2 && attributesOf(m).some(([code, length]) => code === 8 && length === 12);

async function startBrokenTarget(): Promise<Sut> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let ctx: CodecContext = { as4: true };
    const notify = (code: number, subcode: number) => {
      socket.end(encodeMessage({ type: 'NOTIFICATION', code, subcode, data: '' }));
      buffer = Buffer.alloc(0);
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 19 && !socket.destroyed) {
        const length = messageLengthAt(buffer, 0);
        if (length === null) {
          const refusal = classifyHeader(buffer);
          return notify(refusal.code, refusal.subcode);
        }
        if (buffer.length < length) return;
        const bytes = Uint8Array.from(buffer.subarray(0, length));
        buffer = buffer.subarray(length);
        if (crashes(bytes)) return void socket.destroy(); // the bug
        try {
          const m = decodeMessage(bytes, ctx);
          if (m.type === 'OPEN') {
            const ours: OpenMessage = { type: 'OPEN', version: 4, myAs: 65001, holdTime: 9, bgpId: '10.255.0.1', as4: 65001, capabilities: [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, { code: 2, name: 'route-refresh' }, { code: 65, name: 'as4', asn: 65001 }] };
            ctx = directionContext(m, ours);
            socket.write(encodeMessage(ours));
            socket.write(encodeMessage({ type: 'KEEPALIVE' }));
          } else if (m.type === 'ROUTE-REFRESH') {
            socket.write(encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '127.0.0.1' }, nlri: [{ prefix: '192.0.2.0/24' }] }, { as4: true }));
          } else if (m.type === 'UNKNOWN') return notify(1, 3);
        } catch (error) {
          if (!(error instanceof BgpError)) throw error;
          return notify(error.code, error.subcode);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const slots: TesterSlot[] = [0, 1, 2, 3].map((i) => ({ index: i, role: 'ebgp', address: `127.0.0.${60 + i}`, asn: 65160 + i, sutAddress: '127.0.0.1' }));
  return {
    info: { name: 'broken-target', asn: 65001, routerId: '10.255.0.1', originates: { ipv4: '192.0.2.0/24' }, holdTime: 9 },
    lacks: {},
    slots,
    connect: (slot) =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port, localAddress: slot.address });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }),
    accept: () => Promise.reject(new Error('no active slots')),
    receivedFrom: async () => null,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('fuzz: a speaker that crashes on COMMUNITIES of length 12', () => {
  let sut: Sut | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'pp-fuzz-broken-'));
  afterEach(async () => {
    await sut?.stop();
    sut = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is found and shrunk to that one message within the budget of tries', async () => {
    sut = await startBrokenTarget();
    const SHRINK_TRIES = 80;
    const result = await fuzz(sut, { seed: 17, messages: 2500, shrinkTries: SHRINK_TRIES });
    expect(result.messagesJudged).toBe(2500);
    expect(result.findings.length).toBeGreaterThan(0);
    // The target answers everything else as the codec says the RFC prescribes: its only finding is the crash.
    for (const f of result.findings) expect(f.verdict.kind, f.verdict.text).toBe('closed-without-notification');
    for (const f of result.findings) {
      expect(f.reproduced).toBe(true);
      expect(f.tries).toBeLessThanOrEqual(SHRINK_TRIES);
      expect(f.shrunk).toHaveLength(1);
      expect(crashes(f.shrunk![0]!)).toBe(true);
      expect(f.shrunk![0]!.length).toBeLessThanOrEqual(f.original[f.original.length - 1]!.length);
    }

    // The report: summary.json lists each finding with its fixture, whose expect.yaml states the symptom.
    const { lines } = writeFuzzReport(tmp, result, sut, 'broken-target');
    expect(lines.filter((l) => l.startsWith('finding '))).toHaveLength(result.findings.length);
    const summary = JSON.parse(readFileSync(join(tmp, 'summary.json'), 'utf8'));
    const first = summary.findings[0];
    expect(first).toMatchObject({ kind: 'closed-without-notification', shrunkMessages: 1, fixture: `fuzz-${result.findings[0]!.id}` });
    const dir = join(tmp, first.fixture);
    for (const file of ['recording.json', 'expect.yaml', 'topology.clab.yml', 'README.md']) expect(existsSync(join(dir, file)), file).toBe(true);
    const expectFile = readExpect(join(dir, 'expect.yaml'));
    expect(expectFile.symptoms).toEqual([{ 'peer-closes-without-notification': null }]);
    const recording = readRecording(join(dir, 'recording.json'));
    expect(recording.messages[recording.messages.length - 1]!.hex).toBe(first.shrunkHex[0]);

    // The replay engine plays the fixture against the target (active, as `fixture run` would against a daemon): bug present.
    const events: PlayerEvent[] = [];
    const socket = await sut.connect(sut.slots[0]!);
    await new ReplayPlayer(recording, socket, (e) => events.push(e), { active: true, settle: 1 }).run();
    const evaluation = evaluate(expectFile, { events, ribs: {} });
    expect(evaluation.verdict, JSON.stringify(evaluation.symptoms)).toBe('bug-present');
  }, 120_000);
});
