import type { Command } from 'commander';
import { parseCommand, startAnnouncer } from '../../../reference/l2/main.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('l2-announce')
    .description(
      "answer ARP / neighbour solicitations for VIPs while this node holds each service's lease; " +
        'libpcap opens interfaces of the current network namespace, so run it inside the node: ip netns exec NODE peerproof l2-announce ...',
    )
    .requiredOption('--identity <node>', 'this node in the leases (holderIdentity)')
    .requiredOption('--lease-dir <dir>', 'directory of the leases, shared by the announcers of all nodes')
    .requiredOption('--service <lease=vip[,vip]>', 'a service: its lease name and VIPs (repeatable)', collect, [])
    .option('--interface <regex>', "interfaces to answer on, as the policy's regexes (repeatable; default all Ethernet)", collect, [])
    .option('--lease-duration-ms <ms>', 'lease validity after a renewal')
    .option('--renew-interval-ms <ms>', 'how often the holder renews')
    .option('--retry-interval-ms <ms>', 'how often a candidate looks again')
    .action((opts: Record<string, string | string[] | undefined>) => {
      const argv: string[] = [];
      for (const [name, value] of Object.entries(opts)) {
        const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) argv.push(`${flag}=${item}`);
      }
      startAnnouncer(parseCommand(argv));
    });
}
