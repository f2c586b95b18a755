// Relays TCP sessions accepted inside a lab node to a unix socket in the run folder, so a process
// outside the node's namespace (a case) can be that node's end of a TCP session: e.g. a raw BGP
// peer standing in for the node's router. Each accepted TCP connection from `--from` is paired
// with the next unix-socket client; when either side closes, the other is closed too.
//
//   node ... tcp-relay.ts --listen 192.168.121.16:179 --from 10.0.1.10 --socket DIR/relay.sock
//
// Prints one JSON line per event on stdout ({"listening":port}, {"paired":remote}, {"closed":remote}).
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface RelayOptions {
  host: string;
  port: number;
  /** Only TCP connections from this address are relayed; others are closed at once. */
  from: string;
  socketPath: string;
  log?: (event: Record<string, unknown>) => void;
}

export interface Relay {
  port: number;
  close(): Promise<void>;
}

export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const log = opts.log ?? (() => undefined);
  const tcpWaiting: net.Socket[] = [];
  const unixWaiting: net.Socket[] = [];
  const open = new Set<net.Socket>();
  const pairUp = () => {
    while (tcpWaiting.length > 0 && unixWaiting.length > 0) {
      const tcp = tcpWaiting.shift()!;
      const local = unixWaiting.shift()!;
      const remote = `${tcp.remoteAddress}:${tcp.remotePort}`;
      tcp.pipe(local);
      local.pipe(tcp);
      let closing = false;
      const closeBoth = () => {
        if (closing) return;
        closing = true;
        // end(), not destroy(): what a side sent just before it closed (a NOTIFICATION, then
        // close) may still wait in the other side's write queue, and destroy() dropped it. A
        // side that does not finish closing is destroyed after a grace period.
        for (const s of [tcp, local]) {
          if (s.destroyed) continue;
          s.end();
          setTimeout(() => s.destroy(), 2000).unref();
        }
        log({ closed: remote });
      };
      tcp.once('close', closeBoth);
      local.once('close', closeBoth);
      log({ paired: remote });
    }
  };
  const track = (s: net.Socket, queue: net.Socket[]) => {
    open.add(s);
    s.on('error', () => undefined);
    s.once('close', () => {
      open.delete(s);
      const i = queue.indexOf(s);
      if (i >= 0) queue.splice(i, 1);
    });
    queue.push(s);
    pairUp();
  };
  const tcpServer = net.createServer({ pauseOnConnect: true }, (s) => {
    if (s.remoteAddress?.replace(/^::ffff:/, '') !== opts.from) {
      log({ refused: s.remoteAddress });
      s.destroy();
      return;
    }
    // Left paused until paired: pipe() starts reading, so nothing sent before is lost.
    track(s, tcpWaiting);
  });
  const unixServer = net.createServer({ pauseOnConnect: true }, (s) => track(s, unixWaiting));
  if (existsSync(opts.socketPath)) unlinkSync(opts.socketPath);
  await new Promise<void>((resolve, reject) => {
    unixServer.once('error', reject);
    unixServer.listen(opts.socketPath, resolve);
  });
  await new Promise<void>((resolve, reject) => {
    tcpServer.once('error', reject);
    tcpServer.listen(opts.port, opts.host, resolve);
  });
  const port = (tcpServer.address() as net.AddressInfo).port;
  log({ listening: port });
  return {
    port,
    async close() {
      for (const s of open) s.destroy();
      await Promise.all([tcpServer, unixServer].map((srv) => new Promise((r) => srv.close(r))));
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, from: { type: 'string' }, socket: { type: 'string' } } });
  const listen = /^(.+):(\d+)$/.exec(values.listen ?? '');
  if (!listen || !values.from || !values.socket) {
    process.stderr.write('usage: tcp-relay --listen ADDR:PORT --from ADDR --socket PATH\n');
    process.exit(2);
  }
  const relay = await startRelay({
    host: listen[1]!,
    port: Number(listen[2]),
    from: values.from,
    socketPath: values.socket,
    log: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
  });
  const stop = () => void relay.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    process.stderr.write(`tcp-relay: ${err.message}\n`);
    process.exit(1);
  });
}
