import type { Command } from 'commander';
import { loadConfig } from '../../../reference/bgp/config.ts';
import { Speaker } from '../../../reference/bgp/speaker.ts';
import { fetchStatus, formatSessionsTable, startStatusServer, type BgpSessionResource } from '../../../reference/bgp/status.ts';

// `peerproof speaker --config FILE` runs the reference BGP speaker as a daemon;
// `peerproof speaker status` prints its sessions table from the status API.
export function register(program: Command): void {
  const speaker = program
    .command('speaker')
    .description('run the reference BGP speaker (logs to stderr; SIGTERM stops it, SIGUSR1 stops it for a graceful restart)')
    .option('--config <file>', 'speaker YAML configuration')
    .option('--restarting', 'set the graceful restart Restart State bit (this start is a restart)')
    .action(async (options: { config?: string; restarting?: boolean }) => {
      if (!options.config) throw new Error('speaker: --config FILE is required (or use "speaker status")');
      const config = loadConfig(options.config);
      if (options.restarting) config.gracefulRestart.restarting = true;
      const log = (level: string, message: string): void => {
        process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
      };
      const daemon = new Speaker(config, log);
      await daemon.start();
      const status = config.status ? await startStatusServer(daemon, config.status) : null;
      if (status) log('info', `status API on ${status.where}`);
      log('info', `speaker up: router id ${config.routerId}, AS ${config.localAs}, ${config.peers.length} peers, ${config.routes.length} static routes`);
      await new Promise<void>((resolve) => {
        const stop = (graceful: boolean) => () => {
          log('info', graceful ? 'SIGUSR1: stopping for a graceful restart (no NOTIFICATION to GR peers)' : 'SIGTERM: stopping');
          void daemon.stop(graceful).then(async () => {
            await status?.close();
            resolve();
          });
        };
        process.once('SIGTERM', stop(false));
        process.once('SIGINT', stop(false));
        process.once('SIGUSR1', stop(true));
      });
    });

  speaker
    .command('status')
    .description('print the sessions table of a running speaker')
    .option('--socket <path>', 'status API unix socket')
    .option('--port <port>', 'status API TCP port on 127.0.0.1')
    .option('--json', 'print the BGPSession resources as JSON')
    .action(async (options: { socket?: string; port?: string; json?: boolean }) => {
      if (!options.socket && !options.port) throw new Error('speaker status: give --socket PATH or --port PORT');
      const target = options.socket ? { socket: options.socket } : { port: Number(options.port) };
      const list = (await fetchStatus(target, '/sessions?limit=0')) as { items: BgpSessionResource[] };
      process.stdout.write(options.json ? `${JSON.stringify(list.items, null, 2)}\n` : `${formatSessionsTable(list.items)}\n`);
    });
}
