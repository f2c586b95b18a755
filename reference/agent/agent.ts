// The reference agent for one node, run inside that node's network namespace: cluster folder ->
// model -> IPAM -> desired state -> in-process BGP speaker, L2 announcer processes and kernel
// objects; again whenever the cluster folder changes. stop() removes everything it added.
//
// IPAM agreement between the agents of one lab: allocation is deterministic (lowest free offset,
// nodes in name order), so every agent computes the same addresses from the same folder. Each
// agent persists its own state file (<state-dir>/<node>.ipam.json) for restarts, so agents never
// write one file concurrently and need no lock.
import { existsSync, mkdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { Speaker, type Logger } from '../bgp/speaker.ts';
import { readConfig } from '../bgp/config.ts';
import { startStatusServer, type StatusServer } from '../bgp/status.ts';
import { allocateCluster } from '../ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../k8s/load.ts';
import { computeDesiredState, type DesiredState } from './desired.ts';
import { defaultRoute, dsrSteps } from './dsr.ts';
import { KernelObjects, kernelSteps } from './kernel.ts';
import { learnedRoutes, learnedRouteSteps } from './learned-routes.ts';
import { L2Announcers } from './l2-announcers.ts';
import { SpeakerRoutes, speakerConfigFor } from './speaker-routes.ts';

export interface AgentOptions {
  clusterDir: string;
  node: string;
  /** IPAM state, shared folder of a lab (one file per node). */
  stateDir: string;
  /** L2 announcer leases, shared by every node of a lab. */
  leaseDir: string;
  statusSocket?: string;
  connectRetrySeconds?: number;
  /** Quiet time after a file change before reconverging (editors write in several steps). */
  debounceMs?: number;
  log?: Logger;
}

export interface AgentStatus {
  desired: DesiredState | null;
  /** Last reconcile: when, and the error when the cluster folder could not be used. */
  reconciledAt: string | null;
  generation: number;
  lastError: string | null;
}

export class Agent {
  private speaker: Speaker | null = null;
  private speakerKey = '';
  private routes: SpeakerRoutes | null = null;
  private status: StatusServer | null = null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly kernel: KernelObjects;
  /** Routes learned from peers, kept apart so one unreachable next hop blocks nothing else. */
  private readonly learned = new KernelObjects();
  private learnedTimer: NodeJS.Timeout | null = null;
  private learnedFailures = '';
  private readonly l2: L2Announcers;
  private readonly log: Logger;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly state: AgentStatus = { desired: null, reconciledAt: null, generation: 0, lastError: null };

  constructor(readonly options: AgentOptions) {
    this.log = options.log ?? (() => undefined);
    this.kernel = new KernelObjects(undefined, join(options.stateDir, `${options.node}.sysctls.json`));
    this.l2 = new L2Announcers(options.node, options.leaseDir, this.log);
  }

  async start(): Promise<void> {
    if (!existsSync(this.options.clusterDir) || !statSync(this.options.clusterDir).isDirectory()) {
      throw new Error(`cluster folder ${this.options.clusterDir} does not exist or is not a folder`);
    }
    mkdirSync(this.options.stateDir, { recursive: true });
    mkdirSync(this.options.leaseDir, { recursive: true });
    await this.reconcile();
    this.watcher = watch(this.options.clusterDir, { recursive: true }, () => this.scheduleReconcile());
    this.watcher.on('error', (err) => this.log('warn', `watching ${this.options.clusterDir}: ${err.message}`));
  }

  private scheduleReconcile(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reconcile(), this.options.debounceMs ?? 100);
  }

  /** Recomputes the desired state and applies it; reconciles run one at a time. */
  reconcile(): Promise<void> {
    this.running = this.running
      .then(() => this.reconcileOnce())
      .catch((err: Error) => {
        this.state.lastError = err.message;
        this.log('error', `reconcile failed: ${err.message}`);
      });
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    if (this.stopped) return;
    let desired: DesiredState;
    try {
      const model = loadClusterFolder(this.options.clusterDir);
      const ipam = allocateCluster(model, join(this.options.stateDir, `${this.options.node}.ipam.json`));
      desired = computeDesiredState(model, ipam, this.options.node, { connectRetrySeconds: this.options.connectRetrySeconds });
      if (!model.nodes.some((n) => n.name === this.options.node) && !model.bgpInstances.some((i) => i.node === this.options.node)) {
        desired.problems.unshift(`node ${this.options.node} is neither a Node object nor a BGP instance's node in ${this.options.clusterDir}`);
      }
    } catch (err) {
      // A broken cluster folder changes nothing: the last good state stays in place.
      this.state.lastError = (err as Error).message;
      this.log('error', `cluster folder not applied, keeping the previous state: ${(err as Error).message}`);
      return;
    }
    try {
      await this.applySpeaker(desired);
      const dsr = desired.dsr.length > 0 ? dsrSteps(desired.dsr, defaultRoute(), desired.problems) : [];
      this.kernel.sync([...kernelSteps(desired), ...dsr]);
      await this.l2.sync(desired.l2);
      this.state.lastError = null;
    } catch (err) {
      this.state.lastError = (err as Error).message;
      this.log('error', `applying the desired state: ${(err as Error).message}`);
    }
    this.state.desired = desired;
    this.state.generation += 1;
    this.pollLearnedRoutes(desired.installLearnedRoutes);
    this.state.reconciledAt = new Date().toISOString();
    for (const problem of desired.problems) this.log('warn', problem);
    this.log('info', `reconciled #${this.state.generation}: ${desired.routes.length} routes, ${desired.blackholes.length} blackholes, ${desired.localVips.length} local VIPs, ${desired.l2.length} L2 groups, ${desired.dsr.length} DSR services`);
  }

  private async applySpeaker(desired: DesiredState): Promise<void> {
    const key = JSON.stringify(desired.bgp);
    if (key !== this.speakerKey || !this.speaker) {
      // Sessions themselves changed (or first start): a new speaker; routes are re-announced.
      await this.stopSpeaker();
      const config = desired.bgp
        ? speakerConfigFor(desired.bgp, this.options.clusterDir)
        : readConfig({ routerId: this.idleRouterId(), localAs: 65535 }, this.options.clusterDir); // no peers: serves status only
      this.speaker = new Speaker(config, this.log);
      await this.speaker.start();
      this.routes = new SpeakerRoutes(this.speaker);
      this.speakerKey = key;
      if (this.options.statusSocket) {
        this.status = await startStatusServer(this.speaker, { socket: this.options.statusSocket }, { '/desired': () => this.statusView() });
      }
      this.log('info', desired.bgp ? `speaker: router id ${config.routerId}, AS ${config.localAs}, ${config.peers.length} peers` : 'no BGP instance on this node');
    }
    this.routes!.sync(desired.routes);
  }

  private pollLearnedRoutes(install: boolean): void {
    if (!install) {
      if (this.learnedTimer) clearInterval(this.learnedTimer);
      this.learnedTimer = null;
      this.syncLearned(new Map());
      return;
    }
    if (this.learnedTimer) return;
    this.syncLearned(this.speaker ? learnedRoutes(this.speaker) : new Map());
    this.learnedTimer = setInterval(() => this.syncLearned(this.speaker ? learnedRoutes(this.speaker) : new Map()), 500);
  }

  private syncLearned(routes: Map<string, string[]>): void {
    try {
      const failures = this.learned.syncEach(learnedRouteSteps(routes)).join('; ');
      if (failures && failures !== this.learnedFailures) this.log('warn', `learned routes not installed: ${failures}`);
      this.learnedFailures = failures;
    } catch (err) {
      this.log('warn', `learned routes: ${(err as Error).message}`);
    }
  }

  /** Router id of the peerless speaker behind the status API of a node without BGP. */
  private idleRouterId(): string {
    return isIPv4(this.options.node) && this.options.node !== '0.0.0.0' ? this.options.node : '127.0.0.1';
  }

  private statusView(): AgentStatus & { node: string } {
    return { node: this.options.node, ...this.state };
  }

  private async stopSpeaker(): Promise<void> {
    await this.status?.close();
    this.status = null;
    this.routes?.withdrawAll();
    await this.speaker?.stop();
    this.speaker = null;
    this.routes = null;
  }

  /** Stops the speaker (Cease to every peer) and the announcers, removes every kernel object. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    await this.running.catch(() => undefined);
    const failures: string[] = [];
    if (this.learnedTimer) clearInterval(this.learnedTimer);
    this.learnedTimer = null;
    await this.l2.stopAll().catch((err: Error) => failures.push(err.message));
    await this.stopSpeaker().catch((err: Error) => failures.push(err.message));
    for (const objects of [this.learned, this.kernel]) {
      try {
        objects.clear();
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    if (failures.length > 0) throw new Error(`agent stop: ${failures.join('; ')}`);
  }
}
