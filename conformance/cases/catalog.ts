// The machine-readable catalogue of conformance cases: each id with the RFC clauses it checks
// (requirement level, NEGATIVE where it feeds bad input), the seed article it comes from and a
// one-line description. Case files attach to these ids; the coverage table in docs/ is
// generated from here (`peerproof coverage`).

export type RequirementLevel = 'MUST' | 'SHOULD' | 'MAY';

export interface ClauseRef {
  /** "RFC 4271 9.1": document and section, the form used in summary.json's `rfc`. */
  ref: string;
  level: RequirementLevel;
  /** What of the clause the case checks. */
  checks: string;
  /** The case feeds bad input to exercise this clause. */
  negative?: boolean;
}

export interface CatalogEntry {
  id: string;
  description: string;
  /** The seed article (in the seeds README) the behaviour comes from. */
  seed: string;
  /** The seed fixture that exercises it first. */
  fixture: string;
  clauses: ClauseRef[];
}

export const SEEDS = {
  cilium: '000_78588fca90e7e5ab.txt',
  calico: '001_51f342ce56d8468d.txt',
  spineLeaf: '002_766e60262b0f0c2d.txt',
  rackLb: '003_365a6485593f9ec8.txt',
  anthos: '004_52ea50830e60fe31.txt',
} as const;

export const SEED_FIXTURES = {
  cilium: 'seed-000-cilium-two-subnets',
  calico: 'seed-001-calico-rr',
  spineLeaf: 'seed-002-spine-leaf',
  rackLb: 'seed-003-rack-lb',
  anthos: 'seed-004-anthos-floating',
} as const;

const from = (seed: keyof typeof SEEDS) => ({ seed: SEEDS[seed], fixture: SEED_FIXTURES[seed] });

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: 'session.establish',
    description: 'eBGP and iBGP sessions reach Established with 2- and 4-octet ASNs, multihop, passive and active',
    ...from('cilium'),
    clauses: [
      { ref: 'RFC 4271 4.2', level: 'MUST', checks: 'OPEN fields: version 4, My AS, Hold Time 0 or >= 3, BGP Identifier' },
      { ref: 'RFC 4271 8.2.2', level: 'MUST', checks: 'FSM reaches Established through OpenSent/OpenConfirm' },
      { ref: 'RFC 4271 6.8', level: 'MUST', checks: 'connection collision resolved when both sides are active' },
      { ref: 'RFC 5492 3', level: 'MUST', checks: 'capabilities advertised in the OPEN optional parameters' },
      { ref: 'RFC 6793 3', level: 'MUST', checks: '4-octet AS capability carried, AS_TRANS in My AS above 65535' },
    ],
  },
  {
    id: 'podcidr.export',
    description: "each router learns each node's PodCIDR with the node as next hop; pods in different racks reach each other",
    ...from('spineLeaf'),
    clauses: [
      { ref: 'RFC 4271 5.1.3', level: 'MUST', checks: 'NEXT_HOP is the advertising node on a shared subnet' },
      { ref: 'RFC 4271 9.2', level: 'MUST', checks: 'routes selected by policy are advertised to the peer' },
    ],
  },
  {
    id: 'lb.advertise-selector',
    description: 'only services matching the selector are advertised, as /32 (/128), from the nodes the policy selects',
    ...from('rackLb'),
    clauses: [
      { ref: 'RFC 4271 9.2', level: 'MUST', checks: 'only routes permitted by export policy are advertised' },
      { ref: 'RFC 4760 3', level: 'MUST', checks: 'IPv6 VIPs travel in MP_REACH_NLRI' },
    ],
  },
  {
    id: 'lb.withdraw',
    description: 'deleting the service withdraws its VIP from every peer within the MRAI hold',
    ...from('rackLb'),
    clauses: [
      { ref: 'RFC 4271 4.3', level: 'MUST', checks: 'withdrawn routes listed in an UPDATE' },
      { ref: 'RFC 4271 9.2.1.1', level: 'SHOULD', checks: 'MRAI spacing of advertisements' },
      { ref: 'RFC 4760 4', level: 'MUST', checks: 'IPv6 withdrawals in MP_UNREACH_NLRI' },
    ],
  },
  {
    id: 'update.encoding',
    description: 'UPDATEs on the wire: attribute flags and order, ORIGIN, 4-octet AS_PATH, next hops, no duplicates, packing, End-of-RIB',
    ...from('cilium'),
    clauses: [
      { ref: 'RFC 4271 4.3', level: 'MUST', checks: 'UPDATE layout and attribute flags per type' },
      { ref: 'RFC 4271 5', level: 'SHOULD', checks: 'path attributes in ascending type order' },
      { ref: 'RFC 4271 5', level: 'MUST', checks: 'no attribute appears twice in one UPDATE' },
      { ref: 'RFC 4271 5.1.1', level: 'MUST', checks: 'ORIGIN present and well-formed' },
      { ref: 'RFC 4271 5.1.2', level: 'MUST', checks: 'AS_PATH prepends the local AS on eBGP' },
      { ref: 'RFC 4271 5.1.5', level: 'MUST', checks: 'LOCAL_PREF sent to internal peers, never to external ones' },
      { ref: 'RFC 6793 4.1', level: 'MUST', checks: '4-octet AS_PATH between AS4-capable speakers' },
      { ref: 'RFC 4271 4.1', level: 'MUST', checks: 'no message above 4096 octets' },
      { ref: 'RFC 4724 2', level: 'SHOULD', checks: 'End-of-RIB after the initial update' },
    ],
  },
  {
    id: 'ecmp.spread',
    description: 'the router holds a multipath route for a VIP announced by several nodes; 1,000+ client flows spread across next-hop links within a stated bound',
    ...from('cilium'),
    clauses: [
      { ref: 'RFC 4271 9.1.2', level: 'MUST', checks: 'each path to the VIP is a valid candidate in route selection' },
      { ref: 'RFC 2992', level: 'SHOULD', checks: 'flows spread over the equal-cost next hops by a flow hash (informational RFC, level is ours)' },
    ],
  },
  {
    id: 'addpath.multi-nexthop',
    description: 'one session from a floating IP carries several paths for one VIP with distinct path ids; the receiver installs all next hops',
    ...from('anthos'),
    clauses: [
      { ref: 'RFC 7911 4', level: 'MUST', checks: 'ADD-PATH capability negotiated per AFI/SAFI and direction' },
      { ref: 'RFC 7911 3', level: 'MUST', checks: 'path identifier prefixed to each NLRI when negotiated' },
      { ref: 'RFC 7911 5', level: 'MUST', checks: 'path identifiers distinguish the paths of one prefix' },
    ],
  },
  {
    id: 'dsr.return-path',
    description: 'client -> backend goes through the load-balancer node, replies from the VIP return to the client on a link that bypasses it',
    ...from('rackLb'),
    clauses: [
      { ref: 'RFC 3704 2.3', level: 'SHOULD', checks: 'return traffic sourced from the VIP is not dropped by the fabric (feasible-path uRPF)' },
    ],
  },
  {
    id: 'l2.arp-leader',
    description: 'exactly one node answers ARP for an L2 VIP, only on matching interfaces',
    ...from('rackLb'),
    clauses: [{ ref: 'RFC 826 Packet Reception', level: 'MUST', checks: 'one ARP reply per request for the VIP, from the leader' }],
  },
  {
    id: 'l2.failover',
    description: 'when the leader dies another node takes over and sends gratuitous ARP within the lease duration',
    ...from('rackLb'),
    clauses: [
      { ref: 'RFC 5227 3', level: 'SHOULD', checks: 'ARP announcement by the new owner of the address' },
      { ref: 'RFC 826 Packet Reception', level: 'MUST', checks: 'neighbours update their cache from the announcement' },
    ],
  },
  {
    id: 'calico.block-aggregation',
    description: 'a node advertises its IPAM block (not each pod), with a blackhole for the block and /32 per local pod',
    ...from('calico'),
    clauses: [
      { ref: 'RFC 4632 5.1', level: 'MUST', checks: 'longest match: pod /32 routes win over the block route' },
      { ref: 'RFC 4271 9.1.4', level: 'MUST', checks: 'overlapping block and /32 routes are both kept' },
    ],
  },
  {
    id: 'calico.borrowed-ip',
    description: 'a pod outside its block\'s node is advertised as /32 and reachable through the route reflector',
    ...from('calico'),
    clauses: [
      { ref: 'RFC 4456 8', level: 'MUST', checks: 'the reflector reflects client routes to other clients' },
      { ref: 'RFC 4456 8', level: 'MUST', checks: 'ORIGINATOR_ID and CLUSTER_LIST set on reflected routes' },
      { ref: 'RFC 4632 5.1', level: 'MUST', checks: 'the borrowed /32 wins over the owning block' },
    ],
  },
  {
    id: 'negative.malformed-update',
    description: 'malformed UPDATEs get the RFC 7606 action (treat-as-withdraw, attribute discard or session reset) from the speaker',
    ...from('cilium'),
    clauses: [
      { ref: 'RFC 7606 2', level: 'MUST', checks: 'treat-as-withdraw instead of session reset where allowed', negative: true },
      { ref: 'RFC 7606 3', level: 'MUST', checks: 'per-attribute error handling actions', negative: true },
      { ref: 'RFC 7606 7', level: 'MUST', checks: 'the action prescribed for each malformed attribute', negative: true },
      { ref: 'RFC 4271 6.3', level: 'MUST', checks: 'NOTIFICATION code 3 with the right subcode when the session is reset', negative: true },
    ],
  },
  {
    id: 'fault.link-down',
    description: 'a fabric link goes down: routes over it are withdrawn, traffic moves to the remaining next hops, nothing lost after the link heals',
    ...from('spineLeaf'),
    clauses: [
      { ref: 'RFC 4271 6.5', level: 'MUST', checks: 'hold timer expiry closes the session' },
      { ref: 'RFC 4271 9.1.3', level: 'MUST', checks: 'routes through the lost peer leave the Loc-RIB and are withdrawn' },
    ],
  },
  {
    id: 'fault.peer-kill',
    description: 'a daemon is killed: routes kept stale under graceful restart, refreshed or flushed when it returns',
    ...from('spineLeaf'),
    clauses: [
      { ref: 'RFC 4724 4.2', level: 'MUST', checks: 'the receiving speaker retains the restarting peer\'s routes as stale' },
      { ref: 'RFC 4724 4.2', level: 'MUST', checks: 'stale routes are removed after End-of-RIB or the restart time' },
    ],
  },
];

export function catalogEntry(id: string): CatalogEntry {
  const entry = CATALOG.find((e) => e.id === id);
  if (!entry) throw new Error(`unknown case id "${id}" (known: ${CATALOG.map((e) => e.id).join(', ')})`);
  return entry;
}

/** The clause list as written into summary.json's `rfc` field. */
export function rfcRefs(id: string): string[] {
  return [...new Set(catalogEntry(id).clauses.map((c) => c.ref))];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The Markdown coverage table kept in docs/coverage.md. */
export function renderCoverageMarkdown(catalog: readonly CatalogEntry[] = CATALOG): string {
  const lines = [
    '# Conformance coverage',
    '',
    '<!-- Generated by `peerproof coverage` from conformance/cases/catalog.ts; do not edit by hand. -->',
    '',
    'Each case checks the RFC clauses listed beside it. Level is the requirement keyword of the',
    'clause (RFC 2119); NEGATIVE marks clauses exercised by feeding bad input.',
    '',
    '## Cases',
    '',
    '| case | description | seed | first fixture |',
    '|---|---|---|---|',
    ...catalog.map((e) => `| \`${e.id}\` | ${cell(e.description)} | \`${e.seed}\` | \`${e.fixture}\` |`),
    '',
    '## Clauses',
    '',
    '| case | clause | level | negative | what is checked |',
    '|---|---|---|---|---|',
  ];
  for (const e of catalog) {
    for (const c of e.clauses) {
      lines.push(`| \`${e.id}\` | ${c.ref} | ${c.level} | ${c.negative ? 'NEGATIVE' : ''} | ${cell(c.checks)} |`);
    }
  }
  const byRfc = new Map<string, Set<string>>();
  for (const e of catalog) {
    for (const c of e.clauses) {
      const rfc = c.ref.split(' ').slice(0, 2).join(' ');
      byRfc.set(rfc, (byRfc.get(rfc) ?? new Set()).add(e.id));
    }
  }
  const rfcOrder = [...byRfc.keys()].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
  lines.push('', '## By RFC', '', '| RFC | cases |', '|---|---|');
  for (const rfc of rfcOrder) lines.push(`| ${rfc} | ${[...byRfc.get(rfc)!].map((id) => `\`${id}\``).join(', ')} |`);
  const totalClauses = catalog.reduce((n, e) => n + e.clauses.length, 0);
  const must = catalog.reduce((n, e) => n + e.clauses.filter((c) => c.level === 'MUST').length, 0);
  const negative = catalog.reduce((n, e) => n + e.clauses.filter((c) => c.negative).length, 0);
  lines.push('', `${catalog.length} cases, ${totalClauses} clause checks (${must} MUST, ${negative} NEGATIVE) over ${byRfc.size} RFCs.`, '');
  return lines.join('\n');
}
