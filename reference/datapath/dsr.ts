// Direct server return from kernel parts only (this kernel has no IPVS and no IPIP/GRE), in the
// classic "direct routing" shape:
//
//   load-balancer node: a /32 route for the VIP via the backend(s). The client's packets are
//     forwarded unchanged (source = client, destination = VIP); only the Ethernet header changes.
//   backend node:       the VIP on `lo`, hidden from ARP (arp_ignore=1, arp_announce=2), so it
//     accepts the forwarded packets and answers from the VIP; a policy rule sends every packet
//     from the VIP to the return gateway, straight to the client and never back through the
//     load-balancer node; reverse-path filtering is loosened on the interfaces the forwarded
//     packets arrive on (the route back to the client leaves by another one).
//
// The connection-tracked alternative (DNAT on the load-balancer) cannot work: the load-balancer
// never sees the SYN-ACK, so its conntrack entry never confirms and TCP breaks.
//
// A program is rendered into steps, applied into a namespace, and the applied record (plain
// JSON, the caller may persist it) is enough to remove exactly what was added: routes, rules
// and addresses by their full specification, sysctls back to the values found before.
import { isIPv4 } from 'node:net';
import { spawnSync } from 'node:child_process';

export interface LoadBalancerConfig {
  vip: string;
  /** Next hops, each on a directly connected subnet; several make an ECMP route. */
  backends: string[];
}

export interface BackendConfig {
  vip: string;
  /** The router that reaches the clients without passing the load-balancer node. */
  returnGateway: string;
  returnInterface: string;
  /** Interfaces the forwarded client packets arrive on. */
  ingressInterfaces: string[];
  /** Routing table and rule priority for the return path; must not be used by anything else. */
  table: number;
  rulePriority: number;
}

export type Step =
  | { kind: 'sysctl'; key: string; value: string }
  | { kind: 'command'; description: string; apply: string[]; remove: string[]; present?: { show: string[]; contains: string } };

export interface AppliedDsr {
  namespace: string | null;
  steps: Step[];
  /** Values the sysctls had before the first apply. */
  originalSysctls: Record<string, string>;
}

export class DatapathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatapathError';
  }
}

function requireIpv4(value: string, field: string): void {
  if (!isIPv4(value)) throw new DatapathError(`${field}: "${value}" is not an IPv4 address`);
}

function requireInterfaceName(value: string, field: string): void {
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(value)) throw new DatapathError(`${field}: "${value}" is not an interface name`);
}

export function renderLoadBalancer(config: LoadBalancerConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  if (config.backends.length === 0) throw new DatapathError('backends: at least one backend is needed');
  config.backends.forEach((backend, i) => requireIpv4(backend, `backends[${i}]`));
  const nextHops = config.backends.length === 1 ? ['via', config.backends[0]] : config.backends.flatMap((b) => ['nexthop', 'via', b]);
  return [
    { kind: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' },
    {
      kind: 'command',
      description: `route ${config.vip}/32 to ${config.backends.join(', ')}`,
      apply: ['ip', 'route', 'replace', `${config.vip}/32`, ...nextHops],
      remove: ['ip', 'route', 'del', `${config.vip}/32`],
    },
  ];
}

export function renderBackend(config: BackendConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  requireIpv4(config.returnGateway, 'returnGateway');
  requireInterfaceName(config.returnInterface, 'returnInterface');
  config.ingressInterfaces.forEach((name, i) => requireInterfaceName(name, `ingressInterfaces[${i}]`));
  if (!Number.isInteger(config.table) || config.table < 1 || config.table > 252) {
    throw new DatapathError(`table: ${config.table} is not a free routing table number (1-252; 253-255 are the kernel's)`);
  }
  if (!Number.isInteger(config.rulePriority) || config.rulePriority < 1 || config.rulePriority > 32765) {
    throw new DatapathError(`rulePriority: ${config.rulePriority} must be between 1 and 32765 (0, 32766, 32767 are the kernel's)`);
  }
  const table = String(config.table);
  const priority = String(config.rulePriority);
  return [
    { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
    { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_announce', value: '2' },
    ...config.ingressInterfaces.map((name): Step => ({ kind: 'sysctl', key: `net.ipv4.conf.${name}.rp_filter`, value: '2' })),
    {
      kind: 'command',
      description: `${config.vip}/32 on lo`,
      apply: ['ip', 'addr', 'replace', `${config.vip}/32`, 'dev', 'lo'],
      remove: ['ip', 'addr', 'del', `${config.vip}/32`, 'dev', 'lo'],
    },
    {
      kind: 'command',
      description: `return route via ${config.returnGateway} in table ${table}`,
      apply: ['ip', 'route', 'replace', 'default', 'via', config.returnGateway, 'dev', config.returnInterface, 'table', table],
      remove: ['ip', 'route', 'del', 'default', 'via', config.returnGateway, 'dev', config.returnInterface, 'table', table],
    },
    {
      kind: 'command',
      description: `rule from ${config.vip} lookup ${table}`,
      apply: ['ip', 'rule', 'add', 'priority', priority, 'from', config.vip, 'lookup', table],
      remove: ['ip', 'rule', 'del', 'priority', priority, 'from', config.vip, 'lookup', table],
      present: { show: ['ip', 'rule', 'show', 'priority', priority], contains: `from ${config.vip} lookup ${table}` },
    },
  ];
}

export type CommandRunner = (argv: string[]) => { status: number; stdout: string; stderr: string };

export const runCommand: CommandRunner = (argv) => {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (result.error) throw new DatapathError(`${argv.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
};

/** Runs the programs' commands inside a network namespace, or in the current one when null. */
export class DatapathProgrammer {
  constructor(
    readonly namespace: string | null,
    private readonly run: CommandRunner = runCommand,
  ) {}

  /**
   * Applies `steps`. Applying again (with the record of the previous apply) changes nothing that
   * is already in place and keeps the sysctl values found before the first apply.
   */
  apply(steps: Step[], previous?: AppliedDsr): AppliedDsr {
    const originalSysctls: Record<string, string> = { ...previous?.originalSysctls };
    const applied: AppliedDsr = { namespace: this.namespace, steps: [], originalSysctls };
    try {
      for (const step of steps) {
        if (step.kind === 'sysctl') {
          if (!(step.key in originalSysctls)) originalSysctls[step.key] = this.readSysctl(step.key);
          this.writeSysctl(step.key, step.value);
        } else if (!step.present || !this.checked(step.present.show).includes(step.present.contains)) {
          this.checked(step.apply);
        }
        applied.steps.push(step);
      }
    } catch (err) {
      this.remove(applied); // leave nothing half-made behind
      throw err;
    }
    return applied;
  }

  /** Removes what `applied` added, newest first; what is already gone is fine. */
  remove(applied: AppliedDsr): void {
    const failures: string[] = [];
    for (const step of [...applied.steps].reverse()) {
      if (step.kind === 'sysctl') {
        const original = applied.originalSysctls[step.key];
        if (original === undefined) continue;
        try {
          this.writeSysctl(step.key, original);
        } catch (err) {
          if (!/cannot stat|No such file/i.test((err as Error).message)) failures.push(`${step.key}: ${(err as Error).message}`);
        }
        continue;
      }
      const result = this.run(this.inNamespace(step.remove));
      if (result.status !== 0 && !/No such|Cannot find|not exist|Cannot assign/i.test(result.stderr)) {
        failures.push(`${step.description}: ${result.stderr.trim()}`);
      }
    }
    if (failures.length > 0) throw new DatapathError(`could not remove: ${failures.join('; ')}`);
  }

  private inNamespace(argv: string[]): string[] {
    return this.namespace === null ? argv : ['ip', 'netns', 'exec', this.namespace, ...argv];
  }

  private checked(argv: string[]): string {
    const result = this.run(this.inNamespace(argv));
    if (result.status !== 0) {
      throw new DatapathError(`${argv.join(' ')}${this.namespace ? ` (in ${this.namespace})` : ''} failed: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  private readSysctl(key: string): string {
    return this.checked(['sysctl', '-n', key]).trim();
  }

  private writeSysctl(key: string, value: string): void {
    this.checked(['sysctl', '-q', '-w', `${key}=${value}`]);
  }
}
