// The lab's internal model of a topology: what the fixture loader produces and what startLab
// builds. Everything is plain data so tests and other stages can also build one by hand.

export type NodeKindName = 'frr' | 'gobgp' | 'bird' | 'openbgpd' | 'host' | 'bridge' | 'speaker';
export type DaemonKindName = 'frr' | 'gobgp' | 'bird' | 'openbgpd';

/** Every BGP daemon the lab runs, in the order reports and help texts list them. */
export const DAEMON_KINDS: readonly DaemonKindName[] = ['frr', 'gobgp', 'bird', 'openbgpd'];

export function isDaemonKind(kind: string): kind is DaemonKindName {
  return (DAEMON_KINDS as readonly string[]).includes(kind);
}

/**
 * Daemons that program the kernel FIB with what they learn, so a fabric of them forwards traffic.
 * GoBGP never installs routes here; OpenBGPD's portable release has no kernel route support on
 * Linux (`fib-update` is accepted and does nothing), so both keep routes in their RIB only.
 */
export const FIB_PROGRAMMING_KINDS: readonly DaemonKindName[] = ['frr', 'bird'];
export type AddressFamily = 'ipv4-unicast' | 'ipv6-unicast';

/** The families a neighbour's session carries. */
export function neighborFamilies(n: Neighbor): AddressFamily[] {
  return n.families && n.families.length > 0 ? n.families : ['ipv4-unicast'];
}

/** Whether the node offers to send / to receive several paths to this neighbour. */
export function addPathDirections(n: Neighbor): { send: boolean; receive: boolean } {
  return { send: n.addPath === true || n.addPath === 'send', receive: n.addPath === true || n.addPath === 'receive' };
}

export interface Neighbor {
  address: string;
  asn: number;
  /** Name of the session where the daemon names sessions (BIRD's protocol name; default `peerN`, N its index). */
  name?: string;
  /** This node reflects routes to the neighbor (iBGP route reflector). */
  rrClient?: boolean;
  /** eBGP multihop TTL; absent means directly connected. */
  multihop?: number;
  /** ADD-PATH (RFC 7911) offered on the session: true = send and receive, or one direction only. */
  addPath?: boolean | 'send' | 'receive';
  /** Address families of the session (default IPv4 unicast only); IPv6 unicast may ride an IPv4 session. */
  families?: AddressFamily[];
  /** Offer RFC 8950 extended next hop (IPv4 unicast with IPv6 next hops); GoBGP has no such setting. */
  extendedNexthop?: boolean;
  /** Source address for the session (e.g. a loopback for multihop peering). */
  updateSource?: string;
  /** Never open the connection, only accept it (FRR `passive`, BIRD `passive on`, GoBGP `passive-mode`). */
  passive?: boolean;
  /**
   * Send an OPEN without any capability: a 2-octet-only, pre-RFC 4760 peer (FRR
   * `dont-capability-negotiate`, BIRD `capabilities off`; GoBGP has no such setting).
   */
  dontCapabilityNegotiate?: boolean;
  /** Set false when the fixture expects this session NOT to come up. */
  expectEstablished?: boolean;
  /**
   * An unnumbered session over this link interface (FRR `neighbor ethN interface`, read from a
   * given frr.conf): `address` is then the interface name, as FRR names the peer.
   */
  interface?: string;
}

export interface StaticRoute {
  to: string;
  via?: string;
  dev?: string;
}

export interface LabNode {
  name: string;
  kind: NodeKindName;
  /** For `speaker` hook nodes: which daemon stands in until a speaker under test is plugged in. */
  standIn?: DaemonKindName;
  image?: string;
  role?: string;
  asn?: number;
  routerId?: string;
  /** Interface name -> addresses in CIDR form. Interfaces of links need no entry. */
  interfaces: Record<string, string[]>;
  /** Addresses (CIDR) on `lo`: router ids, VIPs (no dummy interfaces on this kernel). */
  loopback: string[];
  routes: StaticRoute[];
  sysctls: Record<string, string>;
  neighbors: Neighbor[];
  /** Stand-in speakers import nothing unless this is set (Calico's BIRD imports, Cilium does not). */
  importRoutes?: boolean;
  /** Prefixes this node originates into BGP. */
  announce: string[];
  /**
   * Paths of its own per announced prefix (default 1): BIRD originates each from that many static
   * protocols, so an ADD-PATH session carries several paths of one prefix from one router. BIRD only.
   */
  announcePaths?: number;
  /** Routes that must be present on this node for the lab to be ready. */
  expectRoutes: string[];
  /** Interfaces captured from the start of the run. */
  capture: string[];
  /** eBGP multipath across different neighbor ASes (FRR `bgp bestpath as-path multipath-relax`). */
  multipath?: boolean;
  /**
   * Graceful restart (RFC 4724) offered on every session, with this restart time in seconds (and,
   * for FRR, how long stale paths are kept): FRR `bgp graceful-restart`, GoBGP
   * `graceful-restart` + `mp-graceful-restart` per family, BIRD `graceful restart on`.
   */
  gracefulRestart?: { restartTime: number; stalePathTime?: number };
  /**
   * BGP timers in seconds (default keepalive 1, hold 3: sessions and failures show fast in a
   * lab); a bench that floods a peer sets the daemons' own defaults (60/180) so load cannot
   * expire a session.
   */
  timers?: {
    keepalive: number;
    hold: number;
    /**
     * Seconds BIRD holds a neighbour back after a session error, refusing its connections (`error
     * wait time N, N`; default 1 rising to 4). 0 takes the next connection at once, for a lab that
     * resets sessions on purpose. GoBGP's hold after a peer's reset is fixed (not its
     * `idle-hold-time-after-reset`, which only follows an API reset); the other kinds ignore it.
     */
    errorWait?: number;
  };
  /** A ready-made FRR config to use instead of the rendered one (path, resolved). */
  frrConfig?: string;
  /** containerlab `exec:` lines as written; read only through exec-lines.ts (ip addr/route/link, sysctl). */
  exec: string[];
  /** Host kind: TCP port of a small HTTP server answering with the node's name. */
  httpPort?: number;
}

export interface LabLink {
  a: { node: string; ifname: string };
  b: { node: string; ifname: string };
}

export interface LabTopology {
  name: string;
  /** Fixture folder this came from, when it came from one. */
  dir?: string;
  nodes: LabNode[];
  links: LabLink[];
}

export function routerKindOf(node: LabNode): DaemonKindName | null {
  if (isDaemonKind(node.kind)) return node.kind;
  if (node.kind === 'speaker') return node.standIn ?? null;
  return null;
}

export function emptyNode(name: string, kind: NodeKindName): LabNode {
  return { name, kind, interfaces: {}, loopback: [], routes: [], sysctls: {}, neighbors: [], announce: [], expectRoutes: [], capture: [], exec: [] };
}

/** A node of `kind` with the given fields set and the rest empty, for topologies built in code. */
export function labNode(name: string, kind: NodeKindName, fields: Partial<Omit<LabNode, 'name' | 'kind'>> = {}): LabNode {
  return { ...emptyNode(name, kind), ...fields };
}

/** The link between node `a`'s interface `aIf` and node `b`'s `bIf`. */
export function labLink(a: string, aIf: string, b: string, bIf: string): LabLink {
  return { a: { node: a, ifname: aIf }, b: { node: b, ifname: bIf } };
}
