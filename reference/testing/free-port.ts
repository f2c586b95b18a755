// Test support: a loopback TCP port for a test's own server or for a port nobody listens on.
import net from 'node:net';

/** A loopback port that was free a moment ago: nobody listens on it until the test does. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
