// The smallest lab that makes a real capture: two routers (FRR, GoBGP or BIRD), each in a
// namespace of its own, joined by one veth pair, with tcpdump or dumpcap writing what crosses it.
// Golden captures, `peerproof demo` and the decode benchmark use it; the general lab
// (conformance/lab) builds arbitrary topologies, this builds exactly one link on its helpers.

import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Ledger, defaultRunsRoot } from '../lab/ledger.ts';
import { pollUntil } from '../lab/poll.ts';
import {
  addAddress,
  createNamespace,
  createVeth,
  deleteNamespace,
  nsExec,
  spawnInNamespace,
  type ExecResult,
  type NamespaceProcess,
} from '../lab/netns.ts';

export type RouterKind = 'frr' | 'gobgp' | 'bird';

/** tcpdump's kernel ring (-B), as conformance/lab/capture.ts sizes it. */
const CAPTURE_BUFFER_KIB = 16 * 1024;

export interface RouterSpec {
  kind: RouterKind;
  /** Short node name, unique within the lab ("r1"). */
  name: string;
  /** Addresses on the link, with prefix length ("10.0.0.1/30", "fd00::1/64"). */
  addresses: string[];
  /** The daemon's configuration file, complete. */
  config: string;
}

export interface CaptureOptions {
  file: string;
  /** Which node's namespace the capture runs in. */
  node: string;
  /** "link" = the node's veth end; "any" = tcpdump -i any (Linux cooked v2). */
  interface: 'link' | 'any';
  tool: 'tcpdump' | 'dumpcap';
  /** tcpdump only: write nanosecond timestamps (pcap magic a1b23c4d). */
  precision?: 'micro' | 'nano';
  filter?: string;
}

interface RunningRouter {
  spec: RouterSpec;
  ns: string;
  ifname: string;
  dir: string;
  process: NamespaceProcess;
  /** Set when the daemon exited on its own (bad config, crash): waits fail at once. */
  exited: boolean;
}

export class PeeringLab {
  private readonly routers = new Map<string, RunningRouter>();
  private readonly captures: NamespaceProcess[] = [];
  private readonly namespaces: string[] = [];

  private constructor(
    readonly runId: string,
    readonly runDir: string,
    private readonly ledger: Ledger,
  ) {}

  /** Builds the link and both namespaces; routers start with `start`. Tear down with `down` in a finally. */
  static async create(a: RouterSpec, b: RouterSpec, runsRoot = defaultRunsRoot): Promise<PeeringLab> {
    const runId = `pl${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    const ledger = Ledger.create(runsRoot, runId, 'netns', 'peering-lab');
    const lab = new PeeringLab(runId, ledger.runDir, ledger);
    try {
      for (const spec of [a, b]) {
        const ns = `${runId}-${spec.name}`;
        lab.namespaces.push(ns);
        await createNamespace(ledger, ns);
        const dir = ledger.nodeDir(spec.name);
        mkdirSync(dir, { recursive: true });
        lab.routers.set(spec.name, { spec, ns, ifname: 'eth0', dir, process: undefined as unknown as NamespaceProcess, exited: false });
      }
      const ra = lab.router(a.name);
      const rb = lab.router(b.name);
      await createVeth(ledger, { ns: ra.ns, node: a.name, ifname: ra.ifname }, { ns: rb.ns, node: b.name, ifname: rb.ifname });
      for (const r of [ra, rb]) {
        // No DAD: an IPv6 address is usable at once, so sessions do not wait on tentative state.
        await nsExec(r.ns, ['sysctl', '-q', '-w', `net.ipv6.conf.${r.ifname}.accept_dad=0`]);
        for (const cidr of r.spec.addresses) await addAddress(r.ns, r.ifname, cidr);
      }
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  private router(name: string): RunningRouter {
    const r = this.routers.get(name);
    if (r === undefined) throw new Error(`no router named ${name} in this lab`);
    return r;
  }

  namespaceOf(name: string): string {
    return this.router(name).ns;
  }

  /** Starts a packet capture and resolves once it is listening. */
  async startCapture(opts: CaptureOptions): Promise<NamespaceProcess> {
    const r = this.router(opts.node);
    const iface = opts.interface === 'any' ? 'any' : r.ifname;
    const filter = opts.filter ?? 'tcp port 179';
    const log = join(this.runDir, `capture-${this.captures.length}.log`);
    const argv =
      opts.tool === 'tcpdump'
        ? [
            // --immediate-mode: libpcap otherwise holds packets in a kernel block until it fills
            // or times out, and a capture stopped right after the last UPDATE would lose it.
            // -B: a 16 MiB kernel ring, as conformance/lab/capture.ts has it: in immediate mode the
            // default 2 MiB held ~30 frames, and the 200k-UPDATE bench capture lost 28,960 bytes.
            'tcpdump', '-i', iface, '--immediate-mode', '-U', '-s', '0', '-B', String(CAPTURE_BUFFER_KIB), '-w', opts.file,
            ...(iface === 'any' ? ['-y', 'LINUX_SLL2'] : []),
            ...(opts.precision === 'nano' ? ['--time-stamp-precision=nano'] : []),
            filter,
          ]
        : ['dumpcap', '-i', iface, '-n', '-s', '0', '-f', filter, '-w', opts.file];
    const proc = spawnInNamespace(this.ledger, r.ns, argv, { logFile: log, label: opts.tool, node: opts.node });
    this.captures.push(proc);
    const ready = opts.tool === 'tcpdump' ? /listening on/ : /Capturing on|File:/;
    await waitFor(() => existsSync(log) && ready.test(readFileSync(log, 'utf8')), 10_000, `${opts.tool} did not start (see ${log})`);
    return proc;
  }

  async start(name: string): Promise<void> {
    const r = this.router(name);
    const conf = join(r.dir, configName(r.spec.kind));
    writeFileSync(conf, r.spec.config);
    const argv = daemonCommand(r, conf);
    r.process = spawnInNamespace(this.ledger, r.ns, argv, { logFile: join(r.dir, 'daemon.log'), label: r.spec.kind, node: name });
    void r.process.exited.then(() => (r.exited = true));
  }

  pidOf(name: string): number {
    return this.router(name).process.pid;
  }

  async stop(name: string): Promise<void> {
    await this.router(name).process?.stop('SIGTERM', 3000);
  }

  /** Runs the router's own CLI (vtysh, gobgp, birdc) with `args`. */
  cli(name: string, args: string[]): Promise<ExecResult> {
    const r = this.router(name);
    switch (r.spec.kind) {
      case 'frr':
        return nsExec(r.ns, ['vtysh', '--vty_socket', r.dir, ...args.flatMap((c) => ['-c', c])]);
      case 'gobgp':
        return nsExec(r.ns, ['gobgp', '--port', String(GOBGP_API_PORT), ...args]);
      case 'bird':
        return nsExec(r.ns, ['birdc', '-s', join(r.dir, 'bird.ctl'), ...args]);
    }
  }

  /** Polls until `predicate` holds over the CLI output, or throws with the last output. */
  async waitForCli(name: string, args: string[], predicate: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
    let last = '';
    const r = this.router(name);
    await waitFor(
      async () => {
        if (r.exited) {
          const log = readFileSync(join(r.dir, 'daemon.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
          throw new Error(`${name} (${r.spec.kind}) exited; last lines of its log:\n${log}`);
        }
        const res = await this.cli(name, args);
        last = res.stdout + res.stderr;
        return predicate(res.stdout);
      },
      timeoutMs,
      () => `${name}: ${args.join(' ')} never satisfied the condition; last output:\n${last}`,
    );
    return last;
  }

  /** Stops captures (flushing their files), routers, and removes both namespaces. Safe to call twice. */
  async down(): Promise<void> {
    for (const c of this.captures.splice(0)) await c.stop('SIGINT', 5000);
    for (const r of this.routers.values()) await r.process?.stop('SIGTERM', 3000);
    for (const ns of this.namespaces.splice(0)) await deleteNamespace(ns);
    this.ledger.collectState();
    this.ledger.markDown();
  }

  removeRunDir(): void {
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** gobgpd's API listens inside the node's own namespace, so every node can use the same port. */
const GOBGP_API_PORT = 50051;

function configName(kind: RouterKind): string {
  return kind === 'frr' ? 'bgpd.conf' : kind === 'gobgp' ? 'gobgpd.toml' : 'bird.conf';
}

function daemonCommand(r: RunningRouter, conf: string): string[] {
  switch (r.spec.kind) {
    case 'frr':
      // -Z: no zebra (the lab needs the BGP session, not the kernel FIB); -S: stay root so the
      // per-node run folder needs no ownership changes; the vty socket lives in the node folder.
      return [
        '/usr/lib/frr/bgpd', '-Z', '-S', '-f', conf, '-i', join(r.dir, 'bgpd.pid'), '-z', join(r.dir, 'zserv.api'),
        '--vty_socket', r.dir, '-P', '0', '--log', `file:${join(r.dir, 'bgpd.log')}`,
      ];
    case 'gobgp':
      return ['gobgpd', '-f', conf, '-t', 'toml', '-p', '--pprof-disable', '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`];
    case 'bird':
      return ['bird', '-f', '-c', conf, '-s', join(r.dir, 'bird.ctl'), '-P', join(r.dir, 'bird.pid')];
  }
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  message: string | (() => string),
): Promise<void> {
  const { met } = await pollUntil(predicate, (ok) => ok, timeoutMs, 200);
  if (!met) throw new Error(typeof message === 'string' ? message : message());
}
