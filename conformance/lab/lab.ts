import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, BackendProcess, BackendSpawnOptions } from './backend.ts';
import { backendFactory } from './backends/index.ts';
import { startCapture, type Capture } from './capture.ts';
import { loadFixture, type Fixture } from './fixture/load.ts';
import { startHttpServer } from './kinds/host.ts';
import { daemonKinds, type NodeContext, type RouteEntry, type SessionState } from './kinds/index.ts';
import { execArgv, execPlan } from './exec-lines.ts';
import { fibRoutes } from './kinds/kind.ts';
import { defaultRunsRoot, Ledger, newRunId, runIdTaken } from './ledger.ts';
import { FIB_PROGRAMMING_KINDS, routerKindOf, type LabNode, type LabTopology } from './model.ts';
import { poll } from './poll.ts';
import { bridgeCommands, isRoot, mapBounded } from './netns.ts';
import { neighbourShortage } from './neighbours.ts';
import { kindSysctls } from './node-sysctls.ts';
import { cpus } from 'node:os';

// startLab: topology -> running lab (nodes, links, addresses, captures, daemons) -> ready.
// Every resource goes through the run's ledger first; stop() (and Ctrl-C / SIGTERM / process
// exit) removes all of it.

export interface SpeakerHookContext extends NodeContext {
  runDir: string;
  topology: LabTopology;
}
/** Starts the speaker under test in a `speaker` node instead of its stand-in daemon. */
export type SpeakerHook = (ctx: SpeakerHookContext) => Promise<BackendProcess[]>;

export interface StartLabOptions {
  runsRoot?: string;
  runId?: string;
  backend?: string;
  /** Extra interfaces to capture from the start, beyond those the fixture names. */
  captures?: Array<{ node: string; ifname: string }>;
  /** Wait for every expected session and route (default true). */
  wait?: boolean;
  timeoutMs?: number;
  /** Speaker under test per `speaker` node name; nodes without one run their stand-in. */
  speakers?: Record<string, SpeakerHook>;
  /** Tear down on SIGINT/SIGTERM and on process exit (default true). */
  handleSignals?: boolean;
  /**
   * Node steps (configure, start a daemon, read its state) in flight at once (default 4 per
   * core): a 500-node fabric started all at once had 500 processes fighting for 2 cores.
   */
  concurrency?: number;
}

/** Where bring-up time went, in ms per step (the bench prints it). */
export type BuildPhases = Partial<Record<'nodes' | 'links' | 'configure' | 'captures' | 'daemons' | 'sessions' | 'routes', number>>;

export interface RouteExpectation {
  node: string;
  prefix: string;
  /** Where to look: the daemon's RIB or the kernel FIB; default FIB for FRR/BIRD/hosts, RIB for GoBGP. */
  table?: 'rib' | 'fib';
  /** Least number of next hops (ECMP). */
  minNexthops?: number;
}

export class LabNotReadyError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
    readonly reportFile: string,
  ) {
    super(message);
  }
}

export interface LabNodeHandle {
  name: string;
  spec: LabNode;
  exec(argv: string[] | string): Promise<{ code: number; stdout: string; stderr: string }>;
  sessions(): Promise<SessionState[]>;
  rib(): Promise<RouteEntry[]>;
  fib(): Promise<RouteEntry[]>;
}

const liveLabs = new Set<Lab>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(sig, () => {
      void Promise.allSettled([...liveLabs].map((lab) => lab.stop())).finally(() => process.exit(code));
    });
  }
  // Last resort for an uncaught error or process.exit(): synchronous removal.
  process.on('exit', () => {
    for (const lab of liveLabs) lab.destroySync();
  });
}

export class Lab {
  readonly runId: string;
  readonly runDir: string;
  readonly captures: Capture[] = [];
  private processes: BackendProcess[] = [];
  /** Daemons that exited before stop(): readiness fails at once instead of timing out. */
  private readonly deaths: string[] = [];
  /** The fixture this lab came from (cluster/ and expect.yaml paths), when it came from one. */
  fixture?: Fixture;
  private stopping: Promise<void> | null = null;
  private building: Promise<void> | null = null;
  private readonly late = new Set<Promise<unknown>>();
  private polledWaitMs = 0;
  private detached = false;
  /** Milliseconds per bring-up step of this lab. */
  readonly phases: BuildPhases = {};

  constructor(
    readonly topology: LabTopology,
    readonly backend: Backend,
    readonly ledger: Ledger,
    private readonly opts: StartLabOptions,
  ) {
    this.runId = ledger.summary().runId;
    this.runDir = ledger.runDir;
  }

  nodeDir(name: string): string {
    return join(this.runDir, 'nodes', name);
  }

  spec(name: string): LabNode {
    const node = this.topology.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node named "${name}" in lab ${this.runId} (nodes: ${this.topology.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** A kind's context: its folder is the one daemons can reach from any clone location (Ledger.nodeDir). */
  kindContext(node: LabNode): NodeContext {
    return { backend: this.backend, node, dir: this.ledger.nodeDir(node.name) };
  }

  /** The daemon answering state queries for a node, or null (hosts, bridges, hooked speakers). */
  private daemonOf(node: LabNode) {
    if (node.kind === 'speaker' && this.opts.speakers?.[node.name]) return null;
    const kind = routerKindOf(node);
    return kind ? daemonKinds[kind] : null;
  }

  node(name: string): LabNodeHandle {
    const spec = this.spec(name);
    const daemon = this.daemonOf(spec);
    return {
      name,
      spec,
      exec: (argv) => this.backend.exec(name, typeof argv === 'string' ? ['sh', '-c', argv] : argv),
      sessions: async () => (daemon ? daemon.sessions(this.kindContext(spec)) : []),
      rib: async () => (daemon ? daemon.ribRoutes(this.kindContext(spec)) : []),
      fib: () => fibRoutes(this.backend, name),
    };
  }

  // ---- bring-up -------------------------------------------------------------------------

  build(): Promise<void> {
    this.building ??= this.buildSteps();
    return this.building;
  }

  /** Between steps: a stop() that arrived mid-way ends the bring-up before it creates more. */
  private checkNotStopping(): void {
    if (this.stopping) throw new Error(`lab ${this.runId} was stopped during bring-up`);
  }

  private get concurrency(): number {
    return this.opts.concurrency ?? Math.max(4, 4 * cpus().length);
  }

  /** Runs a bring-up step, adding its time to `phases`. */
  async timed(phase: keyof BuildPhases, step: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    try {
      await step();
    } finally {
      this.phases[phase] = (this.phases[phase] ?? 0) + performance.now() - t0;
    }
  }

  private async buildSteps(): Promise<void> {
    const { nodes, links } = this.topology;
    const limit = this.concurrency;
    if (this.backend.createAll) {
      await this.timed('nodes', () => this.backend.createAll!(nodes.map((n) => ({ node: n.name, opts: { kind: n.kind, image: n.image } })), links));
    } else {
      await this.timed('nodes', () => settleAll(nodes.map((n) => this.backend.createNode(n.name, { kind: n.kind, image: n.image }))));
      await this.timed('links', () => settleAll(links.map((link) => this.backend.createLink(link.a, link.b))));
    }
    this.checkNotStopping();
    await this.timed('configure', async () => void (await mapBounded(nodes, limit, (n) => this.configureNode(n))));
    const wanted = new Map(
      [...nodes.flatMap((n) => n.capture.map((ifname) => ({ node: n.name, ifname }))), ...(this.opts.captures ?? [])].map((c) => [`${c.node}/${c.ifname}`, c]),
    );
    // Together: each tcpdump takes a while to report that it listens, and none waits for another.
    await this.timed('captures', () => settleAll([...wanted.values()].map((c) => this.capture(c.node, c.ifname))));
    this.checkNotStopping();
    // Starting a daemon is mostly waiting for it (a socket): more of them in flight. What waits
    // for a daemon to answer runs once all are started, so those waits overlap instead of
    // holding a slot each (400 GoBGP stand-ins each waited for their API port in turn).
    await this.timed('daemons', async () => {
      await mapBounded(nodes, limit * 8, (n) => this.startNode(n));
      this.checkNotStopping();
      await mapBounded(nodes, limit * 8, (n) => this.afterStartNode(n));
    });
  }

  /** `ip` commands through one `ip -batch -`, after `sysctls` (k=v) in the same exec: one `ip netns exec` per node, not dozens. */
  private async ipBatch(node: string, commands: string[][], sysctls: string[] = []): Promise<void> {
    if (commands.length === 0 && sysctls.length === 0) return;
    const sh = ['sh', '-c', `sysctl -q -w "$@" || exit 100; ${commands.length ? 'exec ip -batch -' : ''}`, 'sh', ...sysctls];
    const input = commands.map((c) => c.join(' ')).join('\n') + '\n';
    const result = await this.backend.exec(node, sysctls.length ? sh : ['ip', '-batch', '-'], { input });
    if (result.code === 0) return;
    if (result.code === 100 && sysctls.length) throw new Error(`on node ${node}: sysctl -q -w ${sysctls.join(' ')}: ${result.stderr.trim()}`);
    const line = Number(/Command failed -:(\d+)/.exec(result.stderr)?.[1] ?? 0);
    const failed = line > 0 ? `ip ${commands[line - 1]!.join(' ')}` : 'ip -batch';
    throw new Error(`on node ${node}: ${failed}: ${result.stderr.replace(/Command failed -:\d+/, '').trim()}`);
  }

  private async run(node: string, argv: string[]): Promise<void> {
    const result = await this.backend.exec(node, argv);
    if (result.code !== 0) throw new Error(`on node ${node}: ${argv.join(' ')}: ${result.stderr.trim()}`);
  }

  private async configureNode(node: LabNode): Promise<void> {
    mkdirSync(this.ledger.nodeDir(node.name), { recursive: true });
    const sysctls = { ...kindSysctls(node), ...node.sysctls };
    const pairs = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
    const ip: string[][] = [];
    if (node.kind === 'bridge') {
      const members = this.topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node.name).map((e) => e.ifname);
      ip.push(...bridgeCommands(node.name, members));
    }
    // IPv6 addresses skip duplicate address detection, so a session can use them at once.
    for (const [ifname, addresses] of Object.entries(node.interfaces))
      for (const a of addresses) ip.push(['addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : [])]);
    for (const a of node.loopback) ip.push(['addr', 'add', a, 'dev', 'lo']);
    await this.ipBatch(node.name, ip.splice(0), pairs);
    // containerlab's exec lines, as containerlab runs them: after the links are up and addressed,
    // in order, one command each (`ip -6 ...` options cannot go through `ip -batch`). An address
    // the fixture also gives in `interfaces` was added above and is not added again.
    for (const command of execPlan(node)) await this.run(node.name, execArgv(command));
    if (node.kind !== 'frr') {
      for (const r of node.routes) ip.push(['route', 'replace', r.to, ...(r.via ? ['via', r.via] : []), ...(r.dev ? ['dev', r.dev] : [])]);
    }
    await this.ipBatch(node.name, ip);
  }

  private watch(node: LabNode, started: BackendProcess[]): void {
    for (const p of started) {
      this.processes.push(p);
      void p.exited.then((code) => {
        if (!this.stopping) this.deaths.push(`process ${node.name} pid ${p.pid} exited early (code ${code}); see ${this.nodeDir(node.name)}`);
      });
    }
  }

  private async startNode(node: LabNode): Promise<void> {
    const ctx = this.kindContext(node);
    const hook = node.kind === 'speaker' ? this.opts.speakers?.[node.name] : undefined;
    if (hook) {
      this.watch(node, await hook({ ...ctx, runDir: this.runDir, topology: this.topology }));
      return;
    }
    if (node.kind === 'host') {
      const server = await startHttpServer(this.backend, node, ctx.dir);
      if (server) this.watch(node, [server]);
      return;
    }
    const daemon = this.daemonOf(node);
    if (!daemon) return;
    daemon.render(ctx);
    this.watch(node, await daemon.start(ctx));
  }

  /** After every daemon was started: work that waits for a daemon to answer (GoBGP's route injection). */
  private async afterStartNode(node: LabNode): Promise<void> {
    if (node.kind === 'host' || (node.kind === 'speaker' && this.opts.speakers?.[node.name])) return;
    await this.daemonOf(node)?.afterStart?.(this.kindContext(node));
  }

  /**
   * Starts a process in a node that this lab owns (the ledger lists it; stop() ends it): a
   * speaker under test a case starts itself. Dying before its own stop() counts as a death, so
   * readiness waits and assertRunning() name it.
   */
  async spawn(node: string, argv: string[], opts: BackendSpawnOptions): Promise<BackendProcess> {
    const spec = this.spec(node);
    mkdirSync(this.ledger.nodeDir(node), { recursive: true });
    const proc = await this.backend.spawn(node, argv, opts);
    let stopped = false;
    const owned: BackendProcess = {
      ...proc,
      stop: (sig, graceMs) => {
        stopped = true;
        return proc.stop(sig, graceMs);
      },
    };
    this.processes.push(owned);
    void proc.exited.then((code) => {
      if (!this.stopping && !stopped) this.deaths.push(`process ${spec.name} ${opts.label} pid ${proc.pid} exited early (code ${code}); see ${opts.logFile}`);
    });
    return owned;
  }

  /**
   * Starts processes after bring-up (a crashed daemon again); refused once stop() began. Teardown
   * waits for a start in flight and ends what it started by PID: one racing it outlived the lab.
   */
  startLate(start: () => Promise<BackendProcess[]>): Promise<BackendProcess[]> {
    if (this.stopping) return Promise.reject(new Error(`lab ${this.runId} is being stopped: nothing more is started in it`));
    const started = start().then((procs) => {
      this.processes.push(...procs);
      return procs;
    });
    this.late.add(started);
    void started.finally(() => this.late.delete(started)).catch(() => undefined);
    return started;
  }

  /** Whether stop() has begun. */
  get stopped(): boolean {
    return this.stopping !== null;
  }

  /** Throws naming every process of the lab that exited unasked (daemons, spawn()ed processes). */
  assertRunning(): void {
    if (this.deaths.length > 0) throw new Error(`lab ${this.runId}: ${this.deaths.join('; ')}`);
  }

  /** Starts tcpdump on node:ifname (pcap in `<run>/pcaps/`); stop it before reading the file. */
  async capture(node: string, ifname: string): Promise<Capture> {
    mkdirSync(join(this.runDir, 'pcaps'), { recursive: true });
    const existing = this.captures.find((c) => c.node === node && c.ifname === ifname);
    if (existing) return existing;
    const capture = await startCapture(this.backend, this.runDir, node, ifname, this.nodeDir(node));
    this.captures.push(capture);
    return capture;
  }

  // ---- readiness ------------------------------------------------------------------------

  expectedSessions(): Array<{ node: string; peer: string; local?: string }> {
    return this.topology.nodes
      .filter((n) => this.daemonOf(n))
      .flatMap((n) =>
        n.neighbors.filter((nb) => nb.expectEstablished !== false).map((nb) => ({ node: n.name, peer: nb.address, local: nb.updateSource })),
      );
  }

  async sessions(): Promise<SessionState[]> {
    const perNode = await mapBounded(
      this.topology.nodes.filter((n) => this.daemonOf(n)),
      this.concurrency,
      (n) => this.node(n.name).sessions().catch(() => [] as SessionState[]),
    );
    return perNode.flat();
  }

  /**
   * Waits until every expected session is Established. One read per router and round (its
   * whole session table), and only of routers still missing a session: a router seen complete
   * is not read again until a last round reads every router once more, so the verdict is still
   * taken on one sweep of the whole lab (a session that dropped meanwhile sends its router back
   * to the missing ones). GoBGP and BIRD nodes whose peers are all FRR are read only once those
   * peers see their session Established: a BIRD read is a process (birdc), and so was GoBGP's
   * (now its API socket, where it has one); at 400 stand-ins per-round reads outcost convergence.
   */
  async waitForSessions(opts: { timeoutMs?: number } = {}): Promise<SessionState[]> {
    const expected = this.expectedSessions();
    const same = (e: (typeof expected)[number], s: SessionState) => s.node === e.node && s.peer === e.peer && (s.local === undefined || s.local === e.local);
    const byNode = new Map<string, typeof expected>();
    for (const e of expected) byNode.set(e.node, [...(byNode.get(e.node) ?? []), e]);
    const routers = this.topology.nodes.filter((n) => this.daemonOf(n)).map((n) => n.name);
    const owner = new Map<string, string>();
    for (const n of this.topology.nodes) for (const a of [...Object.values(n.interfaces).flat(), ...n.loopback]) owner.set(a.split('/')[0]!, n.name);
    const addresses = (node: string) => new Set([...Object.values(this.spec(node).interfaces).flat(), ...this.spec(node).loopback].map((a) => a.split('/')[0]!));
    // node -> the peer routers whose side gates reading it
    const gates = new Map<string, string[]>();
    // Reading FRR (vty socket) or GoBGP (API socket) costs no process; BIRD (birdc) costs one.
    for (const name of routers) {
      if (routerKindOf(this.spec(name)) === 'frr') continue;
      const peers = (byNode.get(name) ?? []).map((e) => owner.get(e.peer));
      const gating = peers.every((p) => p !== undefined && routers.includes(p) && routerKindOf(this.spec(p)) === 'frr');
      if (gating && peers.length > 0 && addresses(name).size > 0) gates.set(name, [...new Set(peers as string[])]);
    }
    const latest = new Map<string, SessionState[]>(routers.map((r) => [r, []]));
    const complete = (node: string) => (byNode.get(node) ?? []).every((e) => latest.get(node)!.some((s) => same(e, s) && s.state === 'Established'));
    const peerSideUp = (node: string, peer: string) => {
      const mine = addresses(node);
      return latest.get(peer)!.some((s) => mine.has(s.peer) && s.state === 'Established');
    };
    const read = (names: string[]) =>
      mapBounded(names, this.concurrency, async (n) => {
        latest.set(n, await this.node(n).sessions().catch(() => [] as SessionState[]));
      });
    let pending = new Set(routers);
    const missing = await this.poll(opts.timeoutMs ?? this.opts.timeoutMs ?? 20_000, async () => {
      const open = [...pending].filter((n) => (gates.get(n) ?? []).every((p) => peerSideUp(n, p)));
      // Nothing but gated nodes left (say, their addresses come from `exec:` lines this cannot see): read them anyway.
      const toRead = open.length > 0 ? open : [...pending];
      await read(toRead);
      pending = new Set(routers.filter((n) => !complete(n)));
      // Every router complete: the verdict is taken on one read of all of them, at once.
      if (pending.size === 0 && toRead.length < routers.length) {
        await read(routers);
        pending = new Set(routers.filter((n) => !complete(n)));
      }
      return expected
        .filter((e) => !latest.get(e.node)!.some((s) => same(e, s) && s.state === 'Established'))
        .map((e) => {
          const seen = latest.get(e.node)!.find((s) => same(e, s));
          return `session ${e.node} -> ${e.peer}${e.local ? ` (from ${e.local})` : ''}: ${seen ? seen.state : 'not configured/unknown'}`;
        });
    });
    if (missing.length > 0) throw this.notReady('sessions not Established', missing);
    return [...latest.values()].flat();
  }

  defaultRouteExpectations(): RouteExpectation[] {
    return this.topology.nodes.flatMap((n) => n.expectRoutes.map((prefix) => ({ node: n.name, prefix })));
  }

  async waitForRoutes(expectations: RouteExpectation[] = this.defaultRouteExpectations(), opts: { timeoutMs?: number } = {}): Promise<void> {
    // A daemon that never programs the kernel (GoBGP, OpenBGPD portable) is judged on its RIB.
    const tableOf = (e: RouteExpectation) => {
      const kind = routerKindOf(this.spec(e.node));
      return e.table ?? (kind && !FIB_PROGRAMMING_KINDS.includes(kind) ? 'rib' : 'fib');
    };
    const missing = await this.poll(opts.timeoutMs ?? this.opts.timeoutMs ?? 20_000, async () => {
      // Every node's table read at once: one poll costs the slowest read, not their sum.
      const wanted = new Map(expectations.map((e) => [`${e.node}/${tableOf(e)}`, { node: e.node, table: tableOf(e) }]));
      const tables = new Map<string, RouteEntry[]>(
        await Promise.all(
          [...wanted].map(async ([key, { node, table }]) => {
            const handle = this.node(node);
            return [key, await (table === 'rib' ? handle.rib() : handle.fib()).catch(() => [])] as [string, RouteEntry[]];
          }),
        ),
      );
      const out: string[] = [];
      for (const e of expectations) {
        const table = tableOf(e);
        const route = tables.get(`${e.node}/${table}`)!.find((r) => r.prefix === e.prefix);
        const need = e.minNexthops ?? 1;
        if (!route || route.nexthops.length < need)
          out.push(`route ${e.prefix} in ${e.node} ${table.toUpperCase()}${need > 1 ? ` with >= ${need} next hops` : ''}: ${route ? `next hops ${route.nexthops.join(', ')}` : 'absent'}`);
      }
      return out;
    });
    if (missing.length > 0) throw this.notReady('routes missing', missing);
  }

  /**
   * Milliseconds the readiness polls of this Lab object waited on the protocol: each poll up to
   * the start of its last read (that read, which saw the sessions or routes, is harness work).
   */
  get waitedMs(): number {
    return this.polledWaitMs;
  }

  /** What is still missing, read every 100 ms until nothing is, a process died, or the timeout. */
  private async poll(timeoutMs: number, missingNow: () => Promise<string[]>): Promise<string[]> {
    const { value } = await poll(
      async () => {
        const missing = await missingNow();
        return missing.length > 0 && this.deaths.length > 0 ? [...this.deaths, ...missing] : missing;
      },
      (missing) => missing.length === 0 || this.deaths.length > 0,
      timeoutMs,
      100,
      (ms) => (this.polledWaitMs += ms),
    );
    return value;
  }

  /** Builds the timeout error: what is missing, plus daemon logs and rendered configs on disk. */
  private notReady(what: string, missing: string[]): LabNotReadyError {
    const sections: string[] = [`lab ${this.runId}: ${what}`, ...missing.map((m) => `  missing: ${m}`)];
    const involved = new Set(missing.map((m) => m.split(' ')[m.startsWith('route') ? 3 : 1]));
    for (const node of this.topology.nodes.filter((n) => involved.has(n.name))) {
      const daemon = this.daemonOf(node);
      if (!daemon) continue;
      const ctx = this.kindContext(node);
      for (const file of [...configFiles(ctx.dir), ...daemon.logs(ctx)]) {
        if (!existsSync(file)) continue;
        const text = readFileSync(file, 'utf8');
        sections.push(`----- ${file} (last 40 lines)`, text.split('\n').slice(-40).join('\n'));
      }
    }
    const reportFile = join(this.runDir, 'not-ready.txt');
    writeFileSync(reportFile, sections.join('\n') + '\n');
    const summary = `lab ${this.runId}: ${what}:\n${missing.map((m) => `  - ${m}`).join('\n')}\nDaemon logs and rendered configs: ${reportFile}`;
    return new LabNotReadyError(summary, missing, reportFile);
  }

  // ---- teardown -------------------------------------------------------------------------

  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    try {
      // Let an in-flight bring-up reach its next step boundary, so nothing is created after we clean.
      await this.building?.catch(() => undefined);
      await Promise.allSettled([...this.late]);
      await Promise.allSettled(this.processes.map((p) => p.stop('SIGTERM', 1000)));
      await Promise.allSettled(this.captures.map((c) => c.stop()));
      await this.backend.destroy();
      this.ledger.collectState();
      this.ledger.markDown();
    } finally {
      liveLabs.delete(this);
    }
  }

  /** Leaves the lab running after this process exits (`lab up`); `lab down RUN` removes it. */
  detach(): void {
    this.detached = true;
    for (const p of this.processes) p.detach();
    for (const c of this.captures) c.detach();
    this.backend.detach?.();
    this.ledger.transferOwnership(0);
    liveLabs.delete(this);
  }

  /** Synchronous removal for the process 'exit' event, where nothing async can run. */
  destroySync(): void {
    if (this.detached) return;
    this.backend.destroySync?.();
    this.ledger.collectState();
    this.ledger.markDown();
  }
}

/**
 * Like Promise.all, but waits for every step to finish before reporting the first failure, so
 * teardown never races a creation still in flight.
 */
async function settleAll(steps: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function configFiles(dir: string): string[] {
  return ['zebra.conf', 'bgpd.conf', 'staticd.conf', 'frr.conf', 'gobgpd.toml', 'bird.conf'].map((f) => join(dir, f));
}

/** A run id no namespace on this machine uses yet (runs under other run roots included). */
function unusedRunId(): string {
  const taken = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (;;) {
    const id = newRunId();
    if (!taken.some((ns) => ns.startsWith(`pp-${id}-`)) && !runIdTaken(id)) return id;
  }
}

export function requireRoot(): void {
  if (!isRoot()) throw new Error('the lab needs root (network namespaces, veth, daemons): run it with sudo or as root');
}

/** Builds the topology (a fixture folder, a topology file, or a model) and waits until ready. */
export async function startLab(input: string | LabTopology, opts: StartLabOptions = {}): Promise<Lab> {
  requireRoot();
  const fixture = typeof input === 'string' ? loadFixture(input) : undefined;
  const topology = fixture?.topology ?? (input as LabTopology);
  // The neighbour table is one for the whole machine: a topology that cannot fit in it would
  // only time out later with sessions in Connect, so say so now (the netns backend; a docker
  // lab's containers share the same kernel table).
  const shortage = neighbourShortage(topology);
  if (shortage) throw new Error(shortage);
  const runId = opts.runId ?? unusedRunId();
  const ledger = Ledger.create(opts.runsRoot ?? defaultRunsRoot, runId, opts.backend ?? 'netns', topology.dir ?? topology.name);
  writeFileSync(join(ledger.runDir, 'topology.json'), JSON.stringify(topology, null, 2));
  const backend = backendFactory(opts.backend ?? 'netns').create(ledger);
  const lab = new Lab(topology, backend, ledger, opts);
  lab.fixture = fixture;
  liveLabs.add(lab);
  if (opts.handleSignals !== false) installSignalHandlers();
  try {
    await lab.build();
    if (opts.wait !== false) {
      await lab.timed('sessions', async () => void (await lab.waitForSessions()));
      await lab.timed('routes', () => lab.waitForRoutes());
    }
  } catch (err) {
    await lab.stop();
    throw err;
  }
  return lab;
}
