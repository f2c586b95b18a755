import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, relative, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { Backend, BackendFactory, BackendProcess, BackendSpawnOptions, LinkEnd, NodeOptions } from '../backend.ts';
import { engineSocketPath, ensureEngine, handLeaseToRun, releaseEngine, runningEngine, type Engine } from '../docker-engine.ts';
import { HarnessError } from '../harness-error.ts';
import { ensureImages, type LabImages } from '../images/build.ts';
import type { Ledger, RunSummary } from '../ledger.ts';
import { processStopper, run, runChecked, spawnLogged, waitForExit, type ExecOptions, type ExecResult } from '../netns.ts';
import { processStartTime } from '../proc.ts';

// Docker backend: one container per node from the lab's local images (network mode none, so
// the container's network namespace has only `lo`), links as veth pairs made inside one
// container's namespace with the peer put straight into the other's: no link ever exists in the
// host's namespace. Commands and daemons enter the container with nsenter (mount, UTS, IPC,
// network and PID namespaces), which is as quick as `ip netns exec` and keeps every process in
// the container's PID namespace, so removing the container ends them all.

/** Container name of a node: unique per run because the run id is in it. */
export function containerName(runId: string, node: string): string {
  return `pp-${runId}-${node}`;
}

const runLabel = 'org.peerproof.run';

/** This clone (real path: module paths, and so every argv the harness builds, are real paths). */
const PROJECT_ROOT = realpathSync(fileURLToPath(new URL('../../..', import.meta.url)));

const inside = (path: string, dir: string) => {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/**
 * Host paths every node container sees read-only at the same absolute path, so what the harness
 * runs in a node (reference agent, L2 announcer, flow generator, TCP relay, replay player) finds
 * its code and node_modules there: the project, and node_modules' real place when it is a link
 * to outside the project. Bind mounts are made by root's dockerd, so a clone under a mode-700
 * folder or a path with spaces works too.
 */
export function projectMounts(root: string = PROJECT_ROOT): string[] {
  const paths = [root];
  try {
    const modules = realpathSync(join(root, 'node_modules'));
    if (!inside(modules, root)) paths.push(modules);
  } catch {
    // no node_modules (a bundle-only install): nothing more to share
  }
  return paths;
}

/** The bind mounts of a node container: run folder and `writable` (read-write), Node.js binary and project (read-only). */
export function nodeMounts(runDir: string, writable: string[] = [], root: string = PROJECT_ROOT): Docker.MountSettings[] {
  const bind = (path: string, readOnly: boolean): Docker.MountSettings => ({ Type: 'bind', Source: path, Target: path, ReadOnly: readOnly });
  return [bind(runDir, false), ...writable.map((p) => bind(p, false)), bind(process.execPath, true), ...projectMounts(root).map((p) => bind(p, true))];
}

interface NodeContainer {
  name: string;
  pid: number;
}

/**
 * The engine lease a lab holds while it runs: taken when its first node is made, given back by
 * destroy(), handed to the run by detach() (`lab up`) and given back by `lab down`.
 */
export const labLeaseHolder = (runId: string) => `lab-${runId}`;

/** Engine and images for one lab: prepared once however many nodes it creates at once. */
async function prepare(runId: string): Promise<{ engine: Engine; images: LabImages }> {
  const engine = await ensureEngine(undefined, { holder: labLeaseHolder(runId) });
  try {
    const { images } = await ensureImages(engine.docker);
    return { engine, images };
  } catch (err) {
    await releaseEngine(undefined, labLeaseHolder(runId));
    throw err;
  }
}

/** Which image a node gets: the fixture's if the engine has it, else the one of its kind. */
async function imageFor(docker: Docker, images: LabImages, opts: NodeOptions): Promise<string> {
  if (opts.image) {
    try {
      await docker.getImage(opts.image).inspect();
      return opts.image;
    } catch {
      // e.g. a containerlab file's vyos image: no registry here, the kind's image plays it
    }
  }
  if (opts.kind === 'frr' || opts.kind === 'gobgp' || opts.kind === 'bird') return images[opts.kind];
  return images.base;
}

function nsenter(pid: number, argv: string[]): string[] {
  return ['nsenter', '-t', String(pid), '-m', '-u', '-i', '-n', '-p', '--', ...argv];
}

/** The PID (host view) of nsenter's forked child: the command itself, inside the container. */
async function childOf(pid: number, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) return Number(children.split(' ')[0]);
    } catch {
      return null; // nsenter already exited
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return null;
}

/** Synchronous `docker rm -f` for the process 'exit' event, where nothing async can run. */
function removeContainersSync(socketPath: string, names: string[]): void {
  if (names.length === 0) return;
  try {
    execFileSync('docker', ['-H', `unix://${socketPath}`, 'rm', '-f', ...names], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    // already gone, or the engine is down (then `lab down --all` removes them)
  }
}

class DockerBackend implements Backend {
  readonly name = 'docker';
  private readonly runId: string;
  private readonly containers = new Map<string, NodeContainer>();
  /** Every container name recorded, including one whose creation or start failed midway. */
  private readonly created = new Set<string>();
  private engine: Engine | null = null;
  private ready: Promise<{ engine: Engine; images: LabImages }> | null = null;
  private readonly onExit = () => {
    // A lab handed over by `lab up` (ledger owner no longer this process) stays up.
    if (this.engine && this.ledger.summary().ownerPid === process.pid) {
      removeContainersSync(this.engine.socketPath, [...this.created]);
    }
  };

  constructor(readonly ledger: Ledger) {
    this.runId = ledger.summary().runId;
  }

  private node(node: string): NodeContainer {
    const c = this.containers.get(node);
    if (!c) throw new Error(`no node named "${node}" in this lab`);
    return c;
  }

  /**
   * The node's container, also for a backend made from the ledger of a lab another process
   * brought up (`lab exec`): then the container is looked up in the engine by its name.
   */
  private async target(node: string): Promise<NodeContainer> {
    const known = this.containers.get(node);
    if (known) return known;
    const name = containerName(this.runId, node);
    const recorded = this.ledger.entries().some((e) => e.t === 'resource' && e.backend === 'docker' && e.id === name);
    if (!recorded) throw new Error(`no node named "${node}" in lab ${this.runId}`);
    // The lab's owner (or its run, for a lab left up) holds the engine's lease: no lease here.
    const engine = await runningEngine();
    if (!engine) throw new Error(`peerproof's docker engine is not running, so node "${node}" of lab ${this.runId} is not either (see: peerproof lab ls)`);
    const state = (await engine.docker.getContainer(name).inspect()).State;
    if (!state.Running || !state.Pid) throw new Error(`container ${name} of node "${node}" is not running`);
    const found = { name, pid: state.Pid };
    this.containers.set(node, found);
    return found;
  }

  async createNode(node: string, opts: NodeOptions): Promise<void> {
    this.ready ??= prepare(this.runId);
    const { engine, images } = await this.ready.catch((err) => {
      this.ready = null;
      throw err;
    });
    if (!this.engine) {
      this.engine = engine;
      process.on('exit', this.onExit);
    }
    const name = containerName(this.runId, node);
    const stateNodesDir = dirname(this.ledger.nodeDir(node));
    const image = await imageFor(engine.docker, images, opts);
    this.ledger.record({ t: 'resource', backend: 'docker', kind: 'container', id: name });
    this.created.add(name);
    const container = await engine.docker.createContainer({
      name,
      Image: image,
      Hostname: node.slice(0, 63),
      Cmd: ['sleep', 'infinity'],
      Labels: { [runLabel]: this.runId, 'org.peerproof.node': node },
      HostConfig: {
        NetworkMode: 'none',
        // Not privileged: this machine's capability bounding set lacks CAP_SYS_RESOURCE, which
        // makes runc refuse privileged containers. Nothing needs it: commands enter through
        // nsenter with the lab's own capabilities; /proc/sys is made writable for the per-node
        // sysctls (ip_forward, rp_filter), which are per network namespace anyway.
        CapAdd: ['NET_ADMIN', 'NET_RAW'],
        MaskedPaths: [],
        ReadonlyPaths: [],
        Init: true,
        // The run folder and the node folders its `nodes` links to (Ledger.nodeDir) at the same
        // paths inside (configs, sockets, logs, pcaps), this Node.js
        // binary and the project for the harness's own programs in nodes (see nodeMounts).
        // Mounts, not Binds: a path may hold a space or a colon. Docker mounts parents first,
        // so a run folder inside the project is still writable.
        Mounts: nodeMounts(this.ledger.runDir, [stateNodesDir]),
      },
    });
    await container.start();
    const pid = (await container.inspect()).State.Pid;
    if (!pid) throw new Error(`container ${name} started but has no PID`);
    this.containers.set(node, { name, pid });
  }

  async createLink(a: LinkEnd, b: LinkEnd): Promise<void> {
    const pa = this.node(a.node).pid;
    const pb = this.node(b.node).pid;
    this.ledger.record({ t: 'link', node: a.node, ifname: a.ifname, peerNode: b.node, peerIfname: b.ifname });
    const inA = (args: string[]) => ['nsenter', '-t', String(pa), '-n', 'ip', ...args];
    await runChecked(inA(['link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', String(pb)]));
    await runChecked(inA(['link', 'set', a.ifname, 'up']));
    await runChecked(['nsenter', '-t', String(pb), '-n', 'ip', 'link', 'set', b.ifname, 'up']);
  }

  async exec(node: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    const result = await run(nsenter((await this.target(node)).pid, argv), opts);
    // A tool the node's image lacks is the harness's fault (its image recipe), never the speaker's.
    const missing = result.code === 127 ? /nsenter: failed to execute (\S+): No such file or directory/.exec(result.stderr) : null;
    if (missing) throw new HarnessError(`${missing[1]} is not installed in node ${node}'s container: add its Debian package to the lab image recipe (images/build.ts)`);
    return result;
  }

  async spawn(node: string, argv: string[], opts: BackendSpawnOptions): Promise<BackendProcess> {
    const target = await this.target(node);
    this.ledger.record({ t: 'proc', node, label: opts.label, argv });
    const { child, exited } = spawnLogged(nsenter(target.pid, argv), { logFile: opts.logFile, env: opts.env });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]} in container ${target.name}`);
    // Signals go to the command itself: nsenter waits for it but does not forward them.
    const pid = (await childOf(child.pid, 2000)) ?? child.pid;
    this.ledger.record({ t: 'proc', node, label: opts.label, argv, pid, start: processStartTime(pid) ?? '' });
    return { pid, exited, stop: processStopper(pid, exited, [child.pid]), detach: () => child.unref() };
  }

  shellPrefix(node: string): string[] {
    return ['docker', '-H', `unix://${engineSocketPath()}`, 'exec', '-it', containerName(this.runId, node)];
  }

  async destroy(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const pids = [...this.containers.values()].map((c) => c.pid);
    await Promise.all([...this.created].map((name) => removeContainer(engine.docker, name)));
    // The containers' namespaces (and so their links) go when their last process has gone.
    await waitForExit(pids, 5000);
    this.containers.clear();
    this.created.clear();
    process.off('exit', this.onExit);
    this.engine = null;
    this.ready = null;
    // The engine stops here when this lab was its last user (a completed or failed run alike).
    await releaseEngine(undefined, labLeaseHolder(this.runId));
  }

  detach(): void {
    if (!this.engine) return;
    process.off('exit', this.onExit);
    handLeaseToRun(undefined, this.runId, labLeaseHolder(this.runId));
  }
}

async function removeContainer(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).remove({ force: true });
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

export const dockerBackend: BackendFactory = {
  name: 'docker',
  create: (ledger) => new DockerBackend(ledger),
  async cleanupRun(run: RunSummary): Promise<string[]> {
    const names = run.entries.flatMap((e) => (e.t === 'resource' && e.backend === 'docker' && e.kind === 'container' ? [e.id] : []));
    if (names.length === 0) {
      await releaseEngine(undefined, { runId: run.runId });
      return [];
    }
    // Containers outlive a stopped engine (as stopped containers in its data root): start it to remove them.
    const engine = await ensureEngine(undefined, { holder: 'cleanup' });
    const removed: string[] = [];
    try {
      for (const name of names) if (await removeContainer(engine.docker, name)) removed.push(`container ${name}`);
    } finally {
      // Gives back the lease of a lab left running by `lab up`, if it held one, then this one:
      // stops the engine only if nothing else uses it (another run, or a lab of this process).
      await releaseEngine(undefined, { runId: run.runId });
      await releaseEngine(undefined, 'cleanup');
    }
    return removed;
  },
};

/** Containers of any run still in the engine (for tests and `lab down --all` reports). */
export async function labContainers(docker: Docker): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [runLabel] } });
  return list.flatMap((c) => c.Names.map((n) => n.replace(/^\//, '')));
}
