import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutboundRelay, startRelay, type Relay } from './tcp-relay.ts';

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

describe('tcp-relay outbound', () => {
  it('gives each client of a slot socket its own TCP connection from that slot address, both ways; a refused connect closes the client', async () => {
    const seen: string[] = [];
    const server = net.createServer((s) => {
      seen.push(s.remoteAddress!.replace(/^::ffff:/, ''));
      s.write(`hello ${s.remoteAddress!.replace(/^::ffff:/, '')}`);
      s.on('data', (c: Buffer) => s.write(c.toString().toUpperCase()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const binds = [1, 2].map((i) => ({ address: `127.0.0.${10 + i}`, socketPath: join(dir, `s${i}.sock`) }));
    const out = await startOutboundRelay({ host: '127.0.0.1', port, binds });
    try {
      const a = await connected({ path: binds[0]!.socketPath });
      expect(await received(a, 'hello 127.0.0.11'.length)).toBe('hello 127.0.0.11');
      const b = await connected({ path: binds[1]!.socketPath });
      const echo = received(b, 'hello 127.0.0.12'.length + 4);
      b.write('ping');
      expect(await echo).toBe('hello 127.0.0.12PING');
      expect(seen).toEqual(['127.0.0.11', '127.0.0.12']);
      a.destroy();
      b.destroy();
    } finally {
      await out.close();
      server.close();
    }
    const refused = await startOutboundRelay({ host: '127.0.0.1', port, binds: [binds[0]!] });
    try {
      const c = await connected({ path: binds[0]!.socketPath });
      await closed(c);
    } finally {
      await refused.close();
    }
  });
});
