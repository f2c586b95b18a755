import { execFileSync } from 'node:child_process';
import type { Backend, BackendFactory, BackendProcess, BackendSpawnOptions, LinkEnd, NodeOptions } from '../backend.ts';
import type { Ledger, RunSummary } from '../ledger.ts';
import {
  createNamespace,
  createVeth,
  deleteNamespace,
  inNamespace,
  namespaceExists,
  namespacePids,
  nsExec,
  spawnInNamespace,
  type ExecOptions,
  type ExecResult,
} from '../netns.ts';

/** Namespace name of a node: unique per run because the run id is in it. */
export function namespaceName(runId: string, node: string): string {
  return `pp-${runId}-${node}`;
}

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
    await Promise.all([...this.namespaces.values()].map((ns) => deleteNamespace(ns)));
  }

  destroySync(): void {
    // From the ledger, not the map: a namespace being created right now is already listed there.
    for (const e of this.ledger.entries()) {
      if (e.t !== 'netns') continue;
      for (const pid of namespacePids(e.name)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
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
    await Promise.all(present.map((ns) => deleteNamespace(ns)));
    return present.map((ns) => `netns ${ns}`);
  },
};
