import type { ExecOptions, ExecResult } from './netns.ts';
import type { Ledger, RunSummary } from './ledger.ts';

// A backend turns lab nodes into isolated network stacks (a namespace, or a container) and links
// their interfaces. Everything above it (addresses, bridges, sysctls, daemons, captures) is done
// through `exec` and `spawn`, so node kinds work unchanged on every backend.
//
// Contract for implementations:
// - Record every resource in `ledger` BEFORE creating it (`ledger.record({ t: 'resource', ... })`
//   or the typed entries), so `cleanupRun` can remove it after a crash.
// - The run folder (`ledger.runDir`) is visible at the SAME path inside every node (netns: it
//   simply is; docker: bind-mount it), so rendered configs, logs and pcaps need no copying.
// - Interface names given to createLink are the fixture's names; they are only unique per node,
//   which is enough because each node is its own network namespace.
// - Each node has its own loopback, so a daemon can listen on 127.0.0.1:<fixed port> per node.

export interface LinkEnd {
  node: string;
  ifname: string;
}

export interface NodeOptions {
  /** Container image for backends that use one (ignored by netns). */
  image?: string;
  /** Which node kind will run in it (frr, gobgp, bird, host, bridge, speaker). */
  kind: string;
}

export interface BackendProcess {
  pid: number;
  exited: Promise<number | null>;
  stop(sig?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Lets the current Node.js process exit while this keeps running (for `lab up`). */
  detach(): void;
}

export interface BackendSpawnOptions {
  /** A short name for logs and the ledger, e.g. "bgpd" or "tcpdump:eth1". */
  label: string;
  /** Host path (inside the run folder) that receives stdout and stderr. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface Backend {
  readonly name: string;
  readonly ledger: Ledger;
  createNode(node: string, opts: NodeOptions): Promise<void>;
  createLink(a: LinkEnd, b: LinkEnd): Promise<void>;
  /**
   * Optional: the nodes, then the links, of a whole topology with far fewer processes than one
   * createNode / createLink each (the same result: every node with `lo` up, every link up at
   * both ends, all in the ledger first). Without it, startLab calls the two one by one.
   */
  createAll?(nodes: Array<{ node: string; opts: NodeOptions }>, links: Array<{ a: LinkEnd; b: LinkEnd }>): Promise<void>;
  exec(node: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(node: string, argv: string[], opts: BackendSpawnOptions): Promise<BackendProcess>;
  /** How a human reaches the node from a shell (shown by `lab up`), e.g. `ip netns exec NS`. */
  shellPrefix(node: string): string[];
  /** Removes every node, link and process this run created. Safe to call twice. */
  destroy(): Promise<void>;
  /**
   * Same, synchronously, for the process 'exit' event where nothing async can run. Optional:
   * without it a run killed that way is left for `lab down --all`.
   */
  destroySync?(): void;
  /** The lab is left running after this process exits (`lab up`): hand over what this process holds for it. */
  detach?(): void;
}

export interface BackendFactory {
  readonly name: string;
  create(ledger: Ledger): Backend;
  /** Removes what the ledger of a (possibly crashed) run lists; returns what it removed. */
  cleanupRun(run: RunSummary): Promise<string[]>;
}
