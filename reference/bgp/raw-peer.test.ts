import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer } from './raw-peer.ts';
import { encodeMessage } from './wire/index.ts';

// A loopback pair: `far` is the socket the test writes with, `peer` the RawPeer reading it.
let server: net.Server | null = null;
async function pair(): Promise<{ peer: RawPeer; far: net.Socket }> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer(resolve);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const socket = net.connect({ host: '127.0.0.1', port: (server!.address() as net.AddressInfo).port });
  await new Promise((resolve) => socket.once('connect', resolve));
  return { peer: new RawPeer(socket), far: await accepted };
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = null;
});

describe('RawPeer.activity', () => {
  it('wakes a waiter when a message arrives, long before its time is up', async () => {
    const { peer, far } = await pair();
    const waited = peer.activity(10_000).then(() => peer.messages.length);
    far.write(encodeMessage({ type: 'KEEPALIVE' }));
    expect(await waited).toBe(1);
    expect(peer.messages[0]!.type).toBe('KEEPALIVE');
    peer.close();
    far.destroy();
  });

  it('wakes on the close, does not wait once closed, and otherwise returns when its time is up', async () => {
    const { peer, far } = await pair();
    await peer.activity(20);
    expect(peer.closed).toBe(false);
    const waited = peer.activity(10_000).then(() => peer.closed);
    far.destroy();
    expect(await waited).toBe(true);
    await peer.activity(10_000); // closed: resolves at once (the test would time out otherwise)
  });

  it('a message split over two writes is decoded once whole, and its second half wakes the waiter', async () => {
    const { peer, far } = await pair();
    const bytes = encodeMessage({ type: 'KEEPALIVE' });
    far.write(bytes.subarray(0, 10));
    await peer.activity(100);
    expect(peer.messages).toHaveLength(0);
    const waited = peer.activity(10_000).then(() => peer.messages.length);
    far.write(bytes.subarray(10));
    expect(await waited).toBe(1);
    peer.close();
    far.destroy();
  });
});
