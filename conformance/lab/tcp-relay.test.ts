import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from './tcp-relay.ts';

const dir = mkdtempSync(join(tmpdir(), 'pp-relay-'));
const socketPath = join(dir, 'relay.sock');
const events: Array<Record<string, unknown>> = [];
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({ host: '127.0.0.1', port: 0, from: '127.0.0.1', socketPath, log: (e) => events.push(e) });
});
afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

const connected = (opts: net.NetConnectOpts) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(opts, () => resolve(s));
    s.once('error', reject);
  });
const received = (s: net.Socket, bytes: number) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.length >= bytes) resolve(text);
    });
  });
const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

describe('tcp-relay', () => {
  it('pairs a TCP connection with a unix-socket client both ways, data sent before pairing included', async () => {
    const tcp = await connected({ host: '127.0.0.1', port: relay.port });
    tcp.write('early');
    const local = await connected({ path: socketPath });
    expect(await received(local, 5)).toBe('early');
    const back = received(tcp, 4);
    local.write('pong');
    expect(await back).toBe('pong');
    local.destroy();
    await closed(tcp);
    expect(events.some((e) => 'closed' in e)).toBe(true);
  });

  it('pairs the next connections afresh after a close', async () => {
    const local = await connected({ path: socketPath });
    const tcp = await connected({ host: '127.0.0.1', port: relay.port });
    const got = received(local, 3);
    tcp.write('two');
    expect(await got).toBe('two');
    tcp.destroy();
    await closed(local);
  });

  it('delivers what a side sent just before it closed (a NOTIFICATION, then close) before closing the other side', async () => {
    const local = await connected({ path: socketPath });
    const tcp = await connected({ host: '127.0.0.1', port: relay.port });
    const last = 'x'.repeat(4 * 1024 * 1024 - 12) + 'NOTIFICATION';
    let got = '';
    local.on('data', (c: Buffer) => (got += c.toString()));
    tcp.end(last);
    await closed(local);
    expect(got.length).toBe(last.length);
    expect(got.endsWith('NOTIFICATION')).toBe(true);
  });

  it('refuses TCP connections from any other address', async () => {
    const stranger = await connected({ host: '127.0.0.1', port: relay.port, localAddress: '127.0.0.2' });
    await closed(stranger);
    expect(events.some((e) => e.refused === '127.0.0.2')).toBe(true);
  });
});
