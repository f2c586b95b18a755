import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeMessage, messageLengthAt } from '../../reference/bgp/wire/index.ts';
import { ipv4Unicast, synthesise } from './field/synthesise.ts';
import { connectWithRetry, ReplayPlayer, type PlayerEvent } from './player.ts';
import { bytesToHex } from './recording.ts';
import { freePort } from '../../reference/testing/free-port.ts';

// The engine against a scripted peer on loopback: what it sends, in which order, byte for byte.

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function recordingWithMalformedUpdate() {
  const rec = synthesise('test', { address: '10.0.0.1', asn: 65001, bgpId: '10.0.0.2', capabilities: [ipv4Unicast], holdTime: 9 }, { address: '10.0.0.2', asn: 65002, bgpId: '10.0.0.2', capabilities: [ipv4Unicast] }, [
    { update: { type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '10.9.0.0/24' }], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.0.1' } }, ctx: { as4: true } },
  ]);
  // A malformed UPDATE (attribute length past the end) must go out unchanged.
  const bad = encodeMessage({ type: 'UPDATE', withdrawn: [], nlri: [{ prefix: '10.8.0.0/24' }], attributes: { origin: 'igp', asPath: [], nextHop: '10.0.0.1' } });
  bad[19 + 4 + 2] = 0x7f;
  rec.messages.push({ t: rec.messages.at(-1)!.t + 0.05, from: 'played', type: 'UPDATE', hex: bytesToHex(bad) });
  // So must a malformed KEEPALIVE (length 20, one octet of body), unlike the plain ones the engine makes itself.
  const badKeepalive = Uint8Array.from([...new Array<number>(16).fill(0xff), 0, 20, 4, 0]);
  rec.messages.push({ t: rec.messages.at(-1)!.t + 0.05, from: 'played', type: 'KEEPALIVE', hex: bytesToHex(badKeepalive) });
  return { rec, bad, badKeepalive };
}

function collect(socket: Socket): { messages: Uint8Array[]; next: () => Promise<Uint8Array> } {
  let buffer = Buffer.alloc(0);
  const messages: Uint8Array[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const length = buffer.length >= 19 ? messageLengthAt(buffer, 0) : null;
      if (length === null || buffer.length < length) break;
      messages.push(Uint8Array.from(buffer.subarray(0, length)));
      buffer = buffer.subarray(length);
    }
    waiters.splice(0).forEach((w) => w());
  });
  let read = 0;
  const next = async () => {
    while (messages.length <= read) await new Promise<void>((r) => waiters.push(r));
    return messages[read++]!;
  };
  return { messages, next };
}

describe('ReplayPlayer', () => {
  it('sends the recorded OPEN (id changed on a clash), answers with KEEPALIVEs, then the UPDATEs byte for byte', async () => {
    const { rec, bad, badKeepalive } = recordingWithMalformedUpdate();
    const events: PlayerEvent[] = [];
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const peer = createConnection({ port, host: '127.0.0.1' });
    cleanups.push(() => peer.destroy());
    const [socket] = await accepted;
    const player = new ReplayPlayer(rec, socket, (e) => events.push(e), { speed: 100, settle: 0.2, fallbackBgpId: '10.77.255.1' });
    cleanups.push(() => player.stop());
    const done = player.run();
    const inbox = collect(peer);
    // The peer speaks first, with the same identifier as the recorded one.
    peer.write(encodeMessage({ type: 'OPEN', version: 4, myAs: 65002, holdTime: 3, bgpId: '10.0.0.2', as4: null, capabilities: [] }));
    const open = await inbox.next();
    expect(open[18]).toBe(1);
    expect([...open.subarray(24, 28)]).toEqual([10, 77, 255, 1]);
    expect((await inbox.next())[18]).toBe(4); // KEEPALIVE confirming our OPEN
    peer.write(encodeMessage({ type: 'KEEPALIVE' }));
    const update = await inbox.next();
    expect(bytesToHex(update)).toBe(rec.messages.find((m) => m.from === 'played' && m.type === 'UPDATE')!.hex);
    let malformed = await inbox.next();
    while (malformed[18] === 4) malformed = await inbox.next();
    expect([...malformed]).toEqual([...bad]);
    await done;
    expect(events.filter((e) => e.kind === 'sent').map((e) => (e as { hex: string }).hex)).toContain(bytesToHex(badKeepalive));
    expect(events.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state)).toEqual(['OpenConfirm', 'Established']);
    expect(events.at(-1)).toMatchObject({ kind: 'done', sent: 3, skipped: 0 });
  });

  it('stops replaying when the peer answers with a NOTIFICATION', async () => {
    const { rec } = recordingWithMalformedUpdate();
    const events: PlayerEvent[] = [];
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const peer = createConnection({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
    cleanups.push(() => peer.destroy());
    const [socket] = await accepted;
    const player = new ReplayPlayer(rec, socket, (e) => events.push(e), { speed: 100, settle: 0.2, openTimeout: 2 });
    const done = player.run();
    const inbox = collect(peer);
    peer.write(encodeMessage({ type: 'OPEN', version: 4, myAs: 65002, holdTime: 3, bgpId: '10.0.0.9', as4: null, capabilities: [] }));
    expect([...(await inbox.next()).subarray(24, 28)]).toEqual([10, 0, 0, 2]); // no clash: recorded id kept
    peer.write(encodeMessage({ type: 'NOTIFICATION', code: 2, subcode: 2, data: '' }));
    await done;
    expect(events.find((e) => e.kind === 'state' && e.state === 'Idle')).toMatchObject({ reason: 'NOTIFICATION 2/2 from the peer' });
    expect(events.filter((e) => e.kind === 'sent' && e.type === 'UPDATE')).toHaveLength(0);
  });

  it('active: connects with a bounded ConnectRetry until the peer listens, then sends its OPEN without waiting for the peer', async () => {
    const { rec } = recordingWithMalformedUpdate();
    // A port nobody listens on yet: the first attempts are refused.
    const port = await freePort();
    const attempts: Array<string | null> = [];
    const connecting = connectWithRetry({ host: '127.0.0.1', port, localAddress: '127.0.0.1', deadline: Date.now() + 10_000, retryMs: 100, maxRetryMs: 200, onAttempt: (_, err) => attempts.push(err) });
    // The peer starts listening once the player has been refused twice.
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 20 });
    const server = createServer();
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    server.listen(port, '127.0.0.1');
    cleanups.push(() => server.close());
    const socket = await connecting;
    expect(socket).not.toBeNull();
    cleanups.push(() => socket!.destroy());
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.slice(0, -1).every((e) => e !== null && /ECONNREFUSED/.test(e))).toBe(true);
    expect(attempts.at(-1)).toBeNull();
    const [peerSide] = await accepted;
    cleanups.push(() => peerSide.destroy());

    const events: PlayerEvent[] = [];
    const player = new ReplayPlayer(rec, socket!, (e) => events.push(e), { speed: 100, settle: 0.2, active: true });
    cleanups.push(() => player.stop());
    const started = Date.now();
    const done = player.run();
    const inbox = collect(peerSide);
    // The peer has said nothing: the replay's OPEN comes first (no 2 s wait for the peer's).
    const open = await inbox.next();
    expect(open[18]).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(events.find((e) => e.kind === 'state')).toMatchObject({ state: 'OpenSent' });
    peerSide.write(encodeMessage({ type: 'OPEN', version: 4, myAs: 65002, holdTime: 3, bgpId: '10.0.0.9', as4: null, capabilities: [] }));
    expect((await inbox.next())[18]).toBe(4);
    peerSide.write(encodeMessage({ type: 'KEEPALIVE' }));
    await done;
    expect(events.some((e) => e.kind === 'state' && e.state === 'Established')).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'done', sent: 3 });
  });

  it('active: gives up at the deadline when nobody accepts', async () => {
    const port = await freePort();
    const attempts: Array<string | null> = [];
    const socket = await connectWithRetry({ host: '127.0.0.1', port, deadline: Date.now() + 400, retryMs: 100, onAttempt: (_, err) => attempts.push(err) });
    expect(socket).toBeNull();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((e) => e !== null)).toBe(true);
  });
});
