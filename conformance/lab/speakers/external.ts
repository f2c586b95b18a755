// `--speaker external:ADDRESS`: a real device, configured by its owner as one of the fixture's
// speaker nodes, reached through a host interface the user names. The lab keeps that speaker
// node's namespace but turns it into a plain L2 bridge: its link ends towards the fabric plus the
// user's interface, moved in from the host. The host namespace never holds an address, a route or
// a bridge for it and never sends on it; the captures of the node's link ends still see every
// frame between the fabric and the device.
import type { SpeakerHook } from '../lab.ts';
import type { LabNode, LabTopology } from '../model.ts';
import { namespaceName } from '../backends/netns.ts';
import { run, runChecked } from '../netns.ts';
import { UnsupportedCombination } from './under-test.ts';

const bare = (cidr: string) => cidr.split('/')[0]!;

function addressesOf(node: LabNode): string[] {
  return [...Object.values(node.interfaces).flat(), ...node.loopback].map(bare);
}

/** `ADDRESS[:PORT]` or `[V6]:PORT` -> the address alone. */
export function externalHost(address: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(address);
  return v6 ? v6[1]! : address.split(':')[0]!;
}

export interface ExternalPlacement {
  topology: LabTopology;
  /** The speaker node the device stands for. */
  node: string;
}

/**
 * The fixture with the device in place of the speaker node that owns `address`; the other
 * speaker nodes go (with their links, the sessions towards them and the routes only they
 * announce), so every speaker session the cases judge is the device's.
 */
export function withExternalDevice(topology: LabTopology, address: string): ExternalPlacement {
  const host = externalHost(address);
  const speakers = topology.nodes.filter((n) => n.kind === 'speaker');
  const device = speakers.find((n) => addressesOf(n).includes(host));
  if (!device) {
    const known = speakers.map((n) => `${n.name} (${addressesOf(n).join(', ') || 'no address'})`).join('; ');
    throw new UnsupportedCombination(
      `external:${address}: no speaker node of fixture ${topology.name} has address ${host}; configure the device as one of: ${known || 'none (the fixture has no speaker nodes)'}`,
    );
  }
  const dropped = speakers.filter((n) => n !== device);
  const droppedNames = new Set(dropped.map((n) => n.name));
  const droppedAddresses = new Set(dropped.flatMap(addressesOf));
  const keptAnnounce = new Set(topology.nodes.filter((n) => !droppedNames.has(n.name)).flatMap((n) => n.announce));
  const onlyDropped = new Set(dropped.flatMap((n) => n.announce).filter((p) => !keptAnnounce.has(p)));
  const links = topology.links.filter((l) => !droppedNames.has(l.a.node) && !droppedNames.has(l.b.node));
  const goneEnds = topology.links
    .filter((l) => !links.includes(l))
    .flatMap((l) => [l.a, l.b])
    .filter((e) => !droppedNames.has(e.node));
  const nodes = topology.nodes
    .filter((n) => !droppedNames.has(n.name))
    .map((n) => {
      const gone = new Set(goneEnds.filter((e) => e.node === n.name).map((e) => e.ifname));
      return {
        ...n,
        interfaces: Object.fromEntries(Object.entries(n.interfaces).filter(([ifname]) => !gone.has(ifname))),
        capture: n.capture.filter((ifname) => !gone.has(ifname)),
        routes: n.routes.filter((r) => !r.dev || !gone.has(r.dev)),
        neighbors: n.neighbors.filter((nb) => !droppedAddresses.has(nb.address)),
        expectRoutes: n.expectRoutes.filter((p) => !onlyDropped.has(p)),
      };
    });
  return { topology: { ...topology, nodes, links }, node: device.name };
}

/** Bridge inside the device node's namespace; only unique per namespace, like every lab name. */
const BRIDGE = 'ext-br';

interface HostLink {
  ifname: string;
  link_type?: string;
  addr_info?: Array<{ local: string; scope: string }>;
}

/** Refuses an interface the host uses: peerproof takes it over for the run. */
export async function checkExternalInterface(ifname: string): Promise<void> {
  if (!/^[\w.-]{1,15}$/.test(ifname)) throw new UnsupportedCombination(`--external-interface "${ifname}": not an interface name`);
  const shown = await run(['ip', '-j', 'addr', 'show', 'dev', ifname]);
  if (shown.code !== 0) throw new UnsupportedCombination(`--external-interface ${ifname}: no such interface in the host namespace (${shown.stderr.trim()})`);
  const link = (JSON.parse(shown.stdout || '[]') as HostLink[])[0];
  if (!link) throw new UnsupportedCombination(`--external-interface ${ifname}: no such interface in the host namespace`);
  if (link.link_type === 'loopback') throw new UnsupportedCombination(`--external-interface ${ifname}: the loopback cannot reach a device`);
  const used = (link.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => a.local);
  if (used.length > 0)
    throw new UnsupportedCombination(
      `--external-interface ${ifname} carries host addresses (${used.join(', ')}); the run moves the interface into the lab, so give one the host does not use`,
    );
}

/**
 * Hook for the device's node: clears the addresses and routes the lab gave the node, bridges its
 * link ends with the user's interface (moved in from the host), and makes the fabric forget the
 * namespace's own MAC addresses. Starts no process: the device is not ours.
 */
export function externalDeviceHook(hostInterface: string): SpeakerHook {
  return async ({ backend, node, topology }) => {
    if (backend.name !== 'netns') throw new Error(`external speakers need the netns backend (this lab runs on ${backend.name})`);
    const ns = namespaceName(backend.ledger.summary().runId, node.name);
    const ends = topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node.name).map((e) => e.ifname);
    const inNode = async (argv: string[]) => {
      const r = await backend.exec(node.name, argv);
      if (r.code !== 0) throw new Error(`on node ${node.name}: ${argv.join(' ')}: ${r.stderr.trim()}`);
    };
    // Quiet before it is bridged: no IPv6 link-local chatter or router solicitations from the node itself.
    await inNode(['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    for (const ifname of ends) await inNode(['ip', 'addr', 'flush', 'dev', ifname]);
    for (const cidr of node.loopback) await inNode(['ip', 'addr', 'del', cidr, 'dev', 'lo']);
    await inNode(['ip', 'route', 'flush', 'table', 'main']);
    backend.ledger.record({ t: 'resource', backend: 'host', kind: 'moved-interface', id: hostInterface });
    // Straight from the host into the lab namespace: the host never configures it.
    await runChecked(['ip', 'link', 'set', 'dev', hostInterface, 'netns', ns]);
    await inNode(['ip', 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    for (const ifname of [...ends, hostInterface]) await inNode(['ip', 'link', 'set', ifname, 'master', BRIDGE]);
    await inNode(['ip', 'link', 'set', hostInterface, 'up']);
    await inNode(['ip', 'link', 'set', BRIDGE, 'up']);
    // A fabric node that resolved the speaker's address to this namespace before now must ask again.
    const neighbours = new Set(topology.links.flatMap((l) => (l.a.node === node.name ? [l.b.node] : l.b.node === node.name ? [l.a.node] : [])));
    for (const other of neighbours) await backend.exec(other, ['ip', 'neigh', 'flush', 'all']);
    return [];
  };
}
