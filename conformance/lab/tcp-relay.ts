// Relays TCP sessions accepted inside a lab node to a unix socket in the run folder, so a process
// outside the node's namespace (a case) can be that node's end of a TCP session: e.g. a raw BGP
// peer standing in for the node's router. Each accepted TCP connection from `--from` is paired
// with the next unix-socket client; when either side closes, the other is closed too.
//
//   node ... tcp-relay.ts --listen 192.168.121.16:179 --from 10.0.1.10 --socket DIR/relay.sock
//
// The other way (outbound), for a process outside the node that must open TCP sessions from the
// node's addresses (the clause suite's tester slots): each client of a slot's unix socket gets a
// new TCP connection from that slot's address to `--to`. One process serves every slot, and may
// also accept inbound sessions on several addresses:
//
//   node ... tcp-relay.ts --to 10.0.0.1:179 --out 10.0.0.10=DIR/s0.sock --out 10.0.0.11=DIR/s1.sock \
//                         --in 10.0.0.40:179=DIR/a0.sock --from 10.0.0.1
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

export interface OutboundOptions {
  /** The TCP peer every connection goes to. */
  host: string;
  port: number;
  /** Local address -> unix socket path: a client of the path gets a TCP connection from the address. */
  binds: Array<{ address: string; socketPath: string }>;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * Outbound relay: each unix-socket client is piped to a new TCP connection from its socket's bound
 * address. The client's bytes wait (paused) until the TCP connection is up; a connection that
 * fails closes the client, as a refused connect would.
 */
export async function startOutboundRelay(opts: OutboundOptions): Promise<Relay> {
  const log = opts.log ?? (() => undefined);
  const open = new Set<net.Socket>();
  const servers: net.Server[] = [];
  for (const { address, socketPath } of opts.binds) {
    const server = net.createServer({ pauseOnConnect: true }, (local) => {
      open.add(local);
      local.on('error', () => undefined);
      const tcp = net.connect({ host: opts.host, port: opts.port, localAddress: address });
      open.add(tcp);
      tcp.on('error', (err) => log({ failed: address, error: err.message }));
      const remote = `${address}->${opts.host}:${opts.port}`;
      let closing = false;
      const closeBoth = () => {
        if (closing) return;
        closing = true;
        for (const s of [tcp, local]) {
          open.delete(s);
          if (s.destroyed) continue;
          s.end();
          setTimeout(() => s.destroy(), 2000).unref();
        }
        log({ closed: remote });
      };
      tcp.once('connect', () => {
        tcp.pipe(local);
        local.pipe(tcp);
        log({ paired: remote, port: tcp.localPort });
      });
      tcp.once('close', closeBoth);
      local.once('close', closeBoth);
    });
    if (existsSync(socketPath)) unlinkSync(socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    servers.push(server);
  }
  log({ outbound: opts.binds.length });
  return {
    port: opts.port,
    async close() {
      for (const s of open) s.destroy();
      await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
    },
  };
}

const USAGE = 'usage: tcp-relay --listen ADDR:PORT --from ADDR --socket PATH\n   or: tcp-relay --to ADDR:PORT --out ADDR=PATH ... [--in ADDR:PORT=PATH ... --from ADDR]\n';

/** ADDR:PORT (an IPv6 address in brackets) -> [host, port], or null. */
function hostPort(text: string | undefined): [string, number] | null {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text ?? '');
  return m ? [m[1]!, Number(m[2])] : null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      from: { type: 'string' },
      socket: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string', multiple: true },
      in: { type: 'string', multiple: true },
    },
  });
  const log = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(e)}\n`);
  const fail = (why: string) => {
    process.stderr.write(`tcp-relay: ${why}\n${USAGE}`);
    process.exit(2);
  };
  const relays: Relay[] = [];
  if (values.listen !== undefined) {
    const listen = hostPort(values.listen);
    if (!listen || !values.from || !values.socket) return fail('--listen needs ADDR:PORT, --from and --socket');
    relays.push(await startRelay({ host: listen[0], port: listen[1], from: values.from, socketPath: values.socket, log }));
  } else {
    const to = hostPort(values.to);
    if (!to || (values.out ?? []).length === 0) return fail('--to ADDR:PORT and at least one --out ADDR=PATH are needed');
    const split = (flag: string, text: string) => {
      const at = text.indexOf('=');
      if (at <= 0 || at === text.length - 1) fail(`${flag} "${text}": expected ADDR=PATH`);
      return [text.slice(0, at), text.slice(at + 1)] as const;
    };
    // Inbound first: the caller waits for the last --out socket to know everything listens.
    for (const spec of values.in ?? []) {
      const [listen, socketPath] = split('--in', spec);
      const hp = hostPort(listen);
      if (!hp || !values.from) return fail(`--in "${spec}": expected ADDR:PORT=PATH, with --from ADDR`);
      relays.push(await startRelay({ host: hp[0], port: hp[1], from: values.from, socketPath, log }));
    }
    const binds = (values.out ?? []).map((spec) => {
      const [address, socketPath] = split('--out', spec);
      return { address, socketPath };
    });
    relays.push(await startOutboundRelay({ host: to[0], port: to[1], binds, log }));
  }
  const stop = () => void Promise.all(relays.map((r) => r.close())).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    process.stderr.write(`tcp-relay: ${err.message}\n`);
    process.exit(1);
  });
}
