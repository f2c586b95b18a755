import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

// `peerproof agent --cluster DIR --node NAME` runs the reference for one node (inside the node's
// network namespace): speaker, L2 announcers and kernel objects from the cluster folder, kept in
// step with it. SIGTERM/SIGINT remove everything it added and exit 0.
export function register(program: Command): void {
  program
    .command('agent')
    .description('run the reference agent for one node: cluster folder -> IPAM -> BGP speaker, L2 announcer, kernel routes (run it inside the node namespace)')
    .requiredOption('--cluster <dir>', "the fixture's cluster/ folder (watched for changes)")
    .requiredOption('--node <name>', 'the Kubernetes node this agent is')
    .option('--state-dir <dir>', 'IPAM state folder, shared by the nodes of a lab', '/var/lib/peerproof/agent')
    .option('--lease-dir <dir>', 'L2 lease folder, shared by the nodes of a lab', '/var/lib/peerproof/leases')
    .option('--status <socket>', 'status API unix socket (speaker sessions/routes and /desired)')
    .option('--connect-retry <seconds>', 'override the peers\' connect-retry time (labs: 1)')
    .option('--any-namespace', "skip the check that this runs in a lab node's network namespace (real nodes, containers): the agent adds routes and addresses where it runs and peers from there")
    .action(async (options: { cluster: string; node: string; stateDir: string; leaseDir: string; status?: string; connectRetry?: string; anyNamespace?: boolean }) => {
      if (!options.anyNamespace && !inLabNamespace()) {
        throw new Error(
          "agent: not inside a lab node's network namespace (none of /run/netns/*, and not provably apart from PID 1's); " +
            'run it with ip netns exec NODE ..., or pass --any-namespace on a real node or in a container',
        );
      }
      const connectRetry = options.connectRetry === undefined ? undefined : Number(options.connectRetry);
      if (connectRetry !== undefined && (!Number.isInteger(connectRetry) || connectRetry < 1 || connectRetry > 3600)) {
        throw new Error(`agent: --connect-retry must be a whole number of seconds 1..3600, got ${options.connectRetry}`);
      }
      const log = (level: string, message: string): void => {
        process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
      };
      // Loaded when run, so other subcommands do not pay for the speaker and libpcap at start-up.
      const { Agent } = await import('../../../reference/agent/agent.ts');
      const agent = new Agent({
        clusterDir: options.cluster,
        node: options.node,
        stateDir: options.stateDir,
        leaseDir: options.leaseDir,
        statusSocket: options.status,
        connectRetrySeconds: connectRetry,
        log,
      });
      await new Promise<void>((resolve, reject) => {
        let stopping = false;
        const stop = (signal: string) => () => {
          if (stopping) return;
          stopping = true;
          log('info', `${signal}: stopping, removing what the agent added`);
          agent.stop().then(resolve, reject);
        };
        process.once('SIGTERM', stop('SIGTERM'));
        process.once('SIGINT', stop('SIGINT'));
        agent.start().catch((err: Error) => {
          log('error', `start failed: ${err.message}`);
          stopping = true;
          agent.stop().finally(() => reject(err));
        });
      });
      log('info', 'stopped');
    });
}

/**
 * True when this process is in a named network namespace (`ip netns add`, as the lab's netns
 * backend makes), or provably in another one than PID 1. Guards the machine's own namespace:
 * the agent adds blackholes, VIPs and nftables tables where it runs and opens BGP sessions from there.
 */
function inLabNamespace(): boolean {
  let self: number;
  try {
    self = statSync('/proc/self/ns/net').ino;
  } catch {
    return false;
  }
  try {
    for (const name of readdirSync('/run/netns')) if (statSync(join('/run/netns', name)).ino === self) return true;
  } catch {
    // no named namespaces
  }
  try {
    return statSync('/proc/1/ns/net').ino !== self;
  } catch {
    return false; // cannot tell: treat as the machine's own
  }
}
