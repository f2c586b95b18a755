import { execFileSync } from 'node:child_process';
import type { Backend, BackendFactory, BackendProcess, BackendSpawnOptions, LinkEnd, NodeOptions } from '../backend.ts';
import type { Ledger, RunSummary } from '../ledger.ts';
import {
  createNamespace,
  createVeth,
  deleteNamespaces,
  mapBounded,
  run,
  inNamespace,
  namespaceExists,
  namespacePids,
  nsExec,
  signal,
  spawnInNamespace,
  type ExecOptions,
  type ExecResult,
} from '../netns.ts';

/** Namespace name of a node: unique per run because the run id is in it. */
export function namespaceName(runId: string, node: string): string {
  return `pp-${runId}-${node}`;
}

/** `ip` processes in flight at once while building: enough to keep the cores busy, few enough not to thrash them. */
const batchConcurrency = 8;

class NetnsBackend implements Backend {
  readonly name = 'netns';
  private readonly runId: string;
  private readonly namespaces = new Map<string, string>();

  constructor(readonly ledger: Ledger) {
    const summary = ledger.summary();
    this.runId = summary.runId;
    // Re-attaching to an existing run (`lab exec`, `lab down`): its nodes are in the ledger.
    const prefix = namespaceName(this.runId, '');
    for (const e of summary.entries) if (e.t === 'netns' && e.name.startsWith(prefix)) this.namespaces.set(e.name.slice(prefix.length), e.name);
  }

  private ns(node: string): string {
    const ns = this.namespaces.get(node);
    if (!ns) throw new Error(`no node named "${node}" in this lab`);
    return ns;
  }

  async createNode(node: string, _opts: NodeOptions): Promise<void> {
    const ns = namespaceName(this.runId, node);
    this.namespaces.set(node, ns);
    await createNamespace(this.ledger, ns);
  }

  async createLink(a: LinkEnd, b: LinkEnd): Promise<void> {
    await createVeth(
      this.ledger,
      { ns: this.ns(a.node), node: a.node, ifname: a.ifname },
      { ns: this.ns(b.node), node: b.node, ifname: b.ifname },
    );
  }

  /**
   * One `ip -batch` for the namespaces (in chunks), one per node with links for the veths it
   * makes (`link add A up type veth peer name B netns NS`), one per node for `lo` and the peer
   * ends it received: about 2 processes per node instead of 2 per node plus 3 per link.
   */
  async createAll(nodes: Array<{ node: string; opts: NodeOptions }>, links: Array<{ a: LinkEnd; b: LinkEnd }>): Promise<void> {
    const names = nodes.map(({ node }) => {
      const ns = namespaceName(this.runId, node);
      this.namespaces.set(node, ns);
      this.ledger.record({ t: 'netns', name: ns });
      return ns;
    });
    const chunks: string[][] = [];
    for (let i = 0; i < names.length; i += 64) chunks.push(names.slice(i, i + 64));
    await mapBounded(chunks, 2, (chunk) => this.batch(null, chunk.map((ns) => `netns add ${ns}`)));
    const made = new Map<string, string[]>();
    const received = new Map<string, string[]>(nodes.map(({ node }) => [node, ['link set lo up']]));
    for (const { a, b } of links) {
      this.ledger.record({ t: 'link', node: a.node, ifname: a.ifname, peerNode: b.node, peerIfname: b.ifname });
      const list = made.get(a.node) ?? [];
      list.push(`link add ${a.ifname} up type veth peer name ${b.ifname} netns ${this.ns(b.node)}`);
      made.set(a.node, list);
      const up = received.get(b.node) ?? [];
      up.push(`link set ${b.ifname} up`);
      received.set(b.node, up);
    }
    await mapBounded([...made], batchConcurrency, ([node, lines]) => this.batch(node, lines));
    await mapBounded([...received], batchConcurrency, ([node, lines]) => this.batch(node, lines));
  }

  /** `ip [-n NS] -batch -`; a failure names the line that failed. */
  private async batch(node: string | null, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const argv = node === null ? ['ip', '-batch', '-'] : ['ip', '-n', this.ns(node), '-batch', '-'];
    const result = await run(argv, { input: lines.join('\n') + '\n' });
    if (result.code === 0) return;
    const line = Number(/Command failed -:(\d+)/.exec(result.stderr)?.[1] ?? 0);
    const where = node === null ? 'host' : `node ${node}`;
    throw new Error(`on ${where}: ip ${line > 0 ? lines[line - 1] : '-batch'}: ${result.stderr.replace(/Command failed -:\d+/, '').trim()}`);
  }

  exec(node: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return nsExec(this.ns(node), argv, opts);
  }

  async spawn(node: string, argv: string[], opts: BackendSpawnOptions): Promise<BackendProcess> {
    const proc = spawnInNamespace(this.ledger, this.ns(node), argv, { ...opts, node });
    return {
      pid: proc.pid,
      exited: proc.exited,
      stop: (sig, graceMs) => proc.stop(sig, graceMs),
      detach: () => proc.child.unref(),
    };
  }

  shellPrefix(node: string): string[] {
    return inNamespace(this.ns(node), []);
  }

  async destroy(): Promise<void> {
    await deleteNamespaces([...this.namespaces.values()]);
  }

  destroySync(): void {
    // From the ledger, not the map: a namespace being created right now is already listed there.
    for (const e of this.ledger.entries()) {
      if (e.t !== 'netns') continue;
      for (const pid of namespacePids(e.name)) signal(pid, 'SIGKILL');
      try {
        execFileSync('ip', ['netns', 'del', e.name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

export const netnsBackend: BackendFactory = {
  name: 'netns',
  create: (ledger) => new NetnsBackend(ledger),
  async cleanupRun(run: RunSummary): Promise<string[]> {
    const names = run.entries.flatMap((e) => (e.t === 'netns' ? [e.name] : []));
    const present = names.filter(namespaceExists);
    await deleteNamespaces(present);
    return present.map((ns) => `netns ${ns}`);
  },
};
