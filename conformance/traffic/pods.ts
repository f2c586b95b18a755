// A pod the way a routed CNI (Calico, Cilium native routing) makes one, in a lab whose nodes do
// not model pods: its own network namespace, a veth to the node, the pod's address as a /32 on
// eth0 with a default route via a link-local gateway whose neighbour entry is the node's end of
// the veth (a permanent entry, as Cilium does, so it needs no route on the node to answer ARP),
// and on the node a /32 route to the pod over the veth and forwarding on. Created through the lab's backend
// (recorded in the run's ledger), removed by remove(), which also restores the node's forwarding.
// Each pod is also recorded in the run folder (pods/<pod>.state) with what it changed on its node,
// so removeLeftoverPods() can undo a pod whose creating process died before remove().
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { BackendProcess } from '../lab/backend.ts';
import { namespaceName } from '../lab/backends/netns.ts';
import { startHttpServer } from '../lab/kinds/host.ts';
import type { Lab } from '../lab/lab.ts';
import { processStartTime } from '../lab/proc.ts';
import { emptyNode } from '../lab/model.ts';
import { deleteNamespace } from '../lab/netns.ts';

/** The gateway every pod routes through (Calico's choice of address). */
const POD_GATEWAY = '169.254.1.1';

export interface Pod {
  /** The lab node (Kubernetes node) hosting the pod. */
  node: string;
  /** The pod's own node name in the lab backend. */
  podNode: string;
  address: string;
  /** The node's end of the pod's veth. */
  hostIfname: string;
  exec(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** An HTTP server in the pod answering "<podNode> <address>" on `port`. */
  serveHttp(port: number): Promise<BackendProcess>;
  remove(): Promise<void>;
}

/** The IPv4 address `offset` inside `cidr` (10.1.0.0/24, 10 -> 10.1.0.10); throws outside it. */
export function addressIn(cidr: string, offset: number): string {
  const [base, lenText] = cidr.split('/');
  const len = Number(lenText);
  if (isIP(base ?? '') !== 4 || !Number.isInteger(len) || len < 0 || len > 32) throw new Error(`${cidr} is not an IPv4 prefix`);
  if (!Number.isInteger(offset) || offset < 0 || offset >= 2 ** (32 - len)) throw new Error(`offset ${offset} is outside ${cidr}`);
  const n = (base!.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0) + offset) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** What a pod changed on its node, and who made it (a pod of a live process is not a leftover). */
interface PodRecord {
  node: string;
  podNode: string;
  hostIfname: string;
  /** net.ipv4.ip_forward on the node before the pod. */
  forwarding: string;
  creatorPid: number;
  creatorStart: string | null;
}

const recordsDir = (lab: Lab) => join(lab.runDir, 'pods');
const recordFile = (lab: Lab, podNode: string) => join(recordsDir(lab), `${podNode}.state`);

/**
 * Removes the pods of this lab whose creating process is gone (a crashed earlier attempt of a
 * case): namespace and what runs in it, the node's veth and route, the node's forwarding as found.
 * Returns the pod names removed.
 */
export async function removeLeftoverPods(lab: Lab): Promise<string[]> {
  if (!existsSync(recordsDir(lab))) return [];
  const removed: string[] = [];
  for (const name of readdirSync(recordsDir(lab)).filter((f) => f.endsWith('.state'))) {
    const file = join(recordsDir(lab), name);
    let record: PodRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as PodRecord;
    } catch (err) {
      throw new Error(`${file}: not a pod record (${(err as Error).message}); remove the pod by hand or with peerproof lab down`);
    }
    const creatorStart = processStartTime(record.creatorPid);
    if (creatorStart !== null && creatorStart === record.creatorStart) continue; // its creator still runs
    await undoPod(lab, record);
    removed.push(record.podNode);
  }
  return removed;
}

async function undoPod(lab: Lab, record: PodRecord): Promise<void> {
  // Deleting one end of the veth deletes both, and the node's /32 route with it.
  await lab.backend.exec(record.node, ['ip', 'link', 'del', record.hostIfname]);
  await lab.backend.exec(record.node, ['sysctl', '-q', '-w', `net.ipv4.ip_forward=${record.forwarding}`]);
  await deleteNamespace(namespaceName(lab.runId, record.podNode));
  rmSync(recordFile(lab, record.podNode), { force: true });
}

async function checked(lab: Lab, node: string, argv: string[]): Promise<string> {
  const r = await lab.backend.exec(node, argv);
  if (r.code !== 0) throw new Error(`on ${node}: ${argv.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export async function addPod(lab: Lab, node: string, address: string): Promise<Pod> {
  // Removing a namespace needs a backend operation the Backend interface does not have yet.
  if (lab.backend.name !== 'netns') throw new Error(`pods need the netns backend (this lab runs on ${lab.backend.name})`);
  const suffix = randomBytes(3).toString('hex');
  const podNode = `pod-${node}-${suffix}`;
  const hostIfname = `pp${suffix}`;
  const forwarding = (await checked(lab, node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim();
  const record: PodRecord = { node, podNode, hostIfname, forwarding, creatorPid: process.pid, creatorStart: processStartTime(process.pid) };
  mkdirSync(recordsDir(lab), { recursive: true });
  writeFileSync(recordFile(lab, podNode), `${JSON.stringify(record)}\n`);
  const servers: BackendProcess[] = [];
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await Promise.allSettled(servers.map((s) => s.stop('SIGTERM', 1000)));
    await undoPod(lab, record);
  };
  try {
    await lab.backend.createNode(podNode, { kind: 'host' });
    await lab.backend.createLink({ node, ifname: hostIfname }, { node: podNode, ifname: 'eth0' });
    await checked(lab, podNode, ['ip', 'addr', 'add', `${address}/32`, 'dev', 'eth0']);
    await checked(lab, podNode, ['ip', 'route', 'add', POD_GATEWAY, 'dev', 'eth0', 'scope', 'link']);
    await checked(lab, podNode, ['ip', 'route', 'add', 'default', 'via', POD_GATEWAY, 'dev', 'eth0']);
    const [link] = JSON.parse(await checked(lab, node, ['ip', '-j', 'link', 'show', 'dev', hostIfname])) as Array<{ address: string }>;
    await checked(lab, podNode, ['ip', 'neigh', 'replace', POD_GATEWAY, 'lladdr', link!.address, 'dev', 'eth0', 'nud', 'permanent']);
    await checked(lab, node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await checked(lab, node, ['ip', 'route', 'add', `${address}/32`, 'dev', hostIfname]);
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return {
    node,
    podNode,
    address,
    hostIfname,
    exec: (argv) => lab.backend.exec(podNode, argv),
    async serveHttp(port) {
      const spec = { ...emptyNode(podNode, 'host'), httpPort: port };
      const server = await startHttpServer(lab.backend, spec, lab.nodeDir(node));
      servers.push(server!);
      return server!;
    },
    remove,
  };
}
