// The L2 announcer as a process. libpcap opens interfaces in the namespace of the process, so it
// is started inside the node's namespace:
//   ip netns exec NODE node --import tsx reference/l2/main.ts --identity node1 --lease-dir DIR \
//     --interface '^net0$' --service cilium-l2announce-default-nginx=10.0.5.100
// It prints one JSON object per line for each event (with `ts`, epoch milliseconds) and on
// SIGTERM / SIGINT releases its leases and exits 0. It runs supervised (supervisor.ts): a
// crash of the announcer is followed by a `restart` event and a new announcer.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { L2Announcer, type ServiceAnnouncement } from './announcer.ts';
import { FAST_FAILOVER_TIMING, type ElectionTiming } from './election.ts';
import { FileLeaseStore } from './lease-store.ts';
import { addressesConfiguredOn, matchingInterfaces, openCapLink, type FrameLink } from './links.ts';
import { parseVip } from './responder.ts';
import { exitWithSupervisor, isSupervisedChild, supervise } from './supervisor.ts';

const USAGE = `usage: main.ts --identity NODE --lease-dir DIR --service LEASE=VIP[,VIP...] [--service ...]
        [--interface REGEX ...] [--lease-duration-ms N] [--renew-interval-ms N] [--retry-interval-ms N]`;

export interface AnnouncerCommand {
  identity: string;
  leaseDirectory: string;
  services: ServiceAnnouncement[];
  interfacePatterns: RegExp[];
  timing: ElectionTiming;
}

export function parseCommand(argv: string[]): AnnouncerCommand {
  const { values } = parseArgs({
    args: argv,
    options: {
      identity: { type: 'string' },
      'lease-dir': { type: 'string' },
      service: { type: 'string', multiple: true },
      interface: { type: 'string', multiple: true },
      'lease-duration-ms': { type: 'string' },
      'renew-interval-ms': { type: 'string' },
      'retry-interval-ms': { type: 'string' },
    },
    strict: true,
  });
  if (!values.identity) throw new Error(`--identity is required\n${USAGE}`);
  if (!values['lease-dir']) throw new Error(`--lease-dir is required\n${USAGE}`);
  if (!values.service?.length) throw new Error(`at least one --service is required\n${USAGE}`);
  const services = values.service.map((spec) => {
    const [lease, vips] = spec.split('=', 2);
    if (!lease || !vips) throw new Error(`--service ${spec}: expected LEASE=VIP[,VIP...]`);
    try {
      return { lease, vips: vips.split(',').map(parseVip) };
    } catch (err) {
      throw new Error(`--service ${spec}: ${(err as Error).message}`);
    }
  });
  const interfacePatterns = (values.interface ?? []).map((pattern) => {
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw new Error(`--interface ${pattern}: not a regular expression (${(err as Error).message})`);
    }
  });
  const milliseconds = (option: string, fallback: number) => {
    const text = values[option as 'lease-duration-ms'];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${option} ${text}: expected a positive number of milliseconds`);
    return value;
  };
  return {
    identity: values.identity,
    leaseDirectory: values['lease-dir'],
    services,
    interfacePatterns,
    timing: {
      leaseDurationMs: milliseconds('lease-duration-ms', FAST_FAILOVER_TIMING.leaseDurationMs),
      renewIntervalMs: milliseconds('renew-interval-ms', FAST_FAILOVER_TIMING.renewIntervalMs),
      retryIntervalMs: milliseconds('retry-interval-ms', FAST_FAILOVER_TIMING.retryIntervalMs),
    },
  };
}

/** The arguments that make `parseCommand` return `command`: how an agent starts an announcer. */
export function formatCommand(command: AnnouncerCommand): string[] {
  return [
    `--identity=${command.identity}`,
    `--lease-dir=${command.leaseDirectory}`,
    ...command.services.map((s) => `--service=${s.lease}=${s.vips.map((v) => v.text).join(',')}`),
    ...command.interfacePatterns.map((p) => `--interface=${p.source}`),
    `--lease-duration-ms=${command.timing.leaseDurationMs}`,
    `--renew-interval-ms=${command.timing.renewIntervalMs}`,
    `--retry-interval-ms=${command.timing.retryIntervalMs}`,
  ];
}

/** The lease Cilium uses for a service's L2 announcement: cilium-l2announce-<namespace>-<name>. */
export function leaseNameFor(namespace: string, service: string): string {
  return `cilium-l2announce-${namespace}-${service}`;
}

function print(record: object): void {
  process.stdout.write(`${JSON.stringify({ ts: Date.now(), ...record })}\n`);
}

/** Runs the announcer in this process; see `startAnnouncer` for the supervised form. */
export function runAnnouncer(command: AnnouncerCommand): void {
  const matching = matchingInterfaces(command.interfacePatterns);
  const interfaces = matching.filter((i) => i.up);
  if (interfaces.length === 0) {
    const found = matching.length === 0 ? 'no Ethernet interface' : `only interfaces that are down (${matching.map((i) => i.name).join(', ')})`;
    throw new Error(`${found} in this network namespace match ${command.interfacePatterns.map(String).join(' or ') || 'anything'}`);
  }
  const announcer = new L2Announcer({
    identity: command.identity,
    store: new FileLeaseStore(command.leaseDirectory),
    services: command.services,
    timing: command.timing,
    onEvent: print,
  });
  const links: FrameLink[] = interfaces.map((iface) =>
    openCapLink(
      iface,
      (frame, link) => announcer.handleFrame(frame, link),
      (error, interfaceName) => print({ event: 'error', interface: interfaceName, message: `cannot send: ${error.message}` }),
    ),
  );
  print({ event: 'ready', identity: command.identity, pid: process.pid, interfaces: interfaces.map((i) => i.name), timing: command.timing });
  for (const down of matching.filter((i) => !i.up)) {
    print({ event: 'warning', message: `${down.name} matches but is down: not announcing there until the announcer restarts` });
  }
  const vips = command.services.flatMap((s) => s.vips.map((v) => v.text));
  for (const { address, interfaceName } of addressesConfiguredOn(interfaces.map((i) => i.name), vips)) {
    print({ event: 'warning', message: `VIP ${address} is configured on ${interfaceName}: the kernel answers for it there too, on every node that has it` });
  }
  announcer.start(links);
  const shutdown = (release: boolean) => {
    announcer.stop(release);
    for (const link of links) link.close();
    print({ event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown(true));
  process.on('SIGINT', () => shutdown(true));
  if (isSupervisedChild()) exitWithSupervisor(() => shutdown(false));
}

/**
 * Starts the announcer the way a node should run it: supervised, in a child process that is
 * started again after a crash. The supervisor re-runs this same program (`process.argv`).
 */
export function startAnnouncer(command: AnnouncerCommand): void {
  if (isSupervisedChild()) runAnnouncer(command);
  else supervise({ argv: [process.execPath, ...process.execArgv, ...process.argv.slice(1)], print });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    startAnnouncer(parseCommand(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`l2 announcer: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
