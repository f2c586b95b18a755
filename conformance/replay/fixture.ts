// Recording -> fixture folder: a two-node topology (the `replay` node playing the recorded side,
// the `peer` node a real daemon standing where the recorded peer stood), the recording, an
// expect.yaml with the symptoms to check, and a README saying where it came from.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AddressFamily, DaemonKindName } from '../lab/model.ts';
import type { Recording } from './recording.ts';
import type { ExpectFile } from './symptoms.ts';

export const REPLAY_NODE = 'replay';
export const PEER_NODE = 'peer';
export const LINK_IF = 'eth1';

export interface LinkPlan {
  played: string; // CIDR on the replay node
  peer: string; // CIDR on the peer node
  /** Recorded address -> lab address, for addresses that had to move. */
  addressMap: Record<string, string>;
  /** IPv6 addresses (CIDR) the replay adds to the link ends itself: the lab's fixtures are IPv4 only. */
  ipv6?: { played: string; peer: string };
}

/**
 * Keeps the recorded addresses when they share a /24 (IPv4) or /64 (IPv6), so recorded next hops
 * stay valid byte for byte; otherwise moves both onto a fresh link subnet and maps them.
 */
export function planLink(recording: Recording): LinkPlan {
  const a = recording.played.address;
  const b = recording.peer.address;
  const v6 = a.includes(':');
  if (v6 !== b.includes(':')) throw new Error(`recorded endpoints ${a} and ${b} are of different families`);
  if (!v6 && a !== b && a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.') && !/\.(0|255)$/.test(a) && !/\.(0|255)$/.test(b))
    return { played: `${a}/24`, peer: `${b}/24`, addressMap: {} };
  // The lab builds IPv4 links: an IPv6 conversation runs over an IPv4 session between the same two
  // nodes, whose link also carries the recorded IPv6 addresses, so recorded IPv6 next hops resolve.
  if (v6) return { played: '10.77.0.1/30', peer: '10.77.0.2/30', addressMap: {}, ipv6: { played: `${a}/64`, peer: sameV6Slash64(a, b) ? `${b}/64` : `${b}/128` } };
  return { played: '10.77.0.1/30', peer: '10.77.0.2/30', addressMap: { [a]: '10.77.0.1', [b]: '10.77.0.2' } };
}

function sameV6Slash64(a: string, b: string): boolean {
  const expand = (x: string) => {
    const [head, tail = ''] = x.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = x.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    return groups.map((g) => parseInt(g || '0', 16));
  };
  const ea = expand(a);
  const eb = expand(b);
  return ea.slice(0, 4).every((g, i) => g === eb[i]);
}

const addressOf = (cidr: string) => cidr.split('/')[0]!;

export interface FixtureOptions {
  peerKind: DaemonKindName;
  title: string;
  /** Markdown paragraphs for the README after the generated header. */
  readme?: string;
  expect: ExpectFile;
  /** Extra peer settings: ADD-PATH on its session, a ready-made FRR config (file name in the fixture). */
  peer?: { addPath?: boolean | 'send' | 'receive'; families?: AddressFamily[]; extendedNexthop?: boolean; multihop?: number; frrConfig?: string; frrConfigText?: string; announce?: string[] };
  /** Played-side ASN to configure on the peer when the recorded OPEN only shows AS_TRANS. */
  playedAsn?: number;
  /** IPv6 addresses for the link ends (next hops of IPv6 routes carried over the IPv4 session). */
  linkIpv6?: { played: string; peer: string };
}

export function writeReplayFixture(dir: string, recording: Recording, opts: FixtureOptions): void {
  const planned = planLink(recording);
  const link: LinkPlan = opts.linkIpv6 ? { ...planned, ipv6: opts.linkIpv6 } : planned;
  const playedAsn = opts.playedAsn ?? recording.played.asn;
  const peerAsn = recording.peer.asn;
  if (playedAsn === null || peerAsn === null) throw new Error('the recording lacks an ASN (an OPEN is missing); cannot configure the peer');
  const playedId = recording.played.bgpId ?? (link.played.includes(':') ? '10.77.255.1' : addressOf(link.played));
  let peerId = recording.peer.bgpId ?? (link.peer.includes(':') ? '10.77.255.2' : addressOf(link.peer));
  if (peerId === playedId) peerId = '10.77.255.2';
  mkdirSync(dir, { recursive: true });
  const peerExtension: Record<string, unknown> = {
    kind: opts.peerKind,
    role: 'live peer the recording is replayed against',
    asn: peerAsn,
    routerId: peerId,
    interfaces: { [LINK_IF]: [link.peer] },
    neighbors: [{ address: addressOf(link.played), asn: playedAsn, ...(opts.peer?.addPath ? { addPath: opts.peer.addPath } : {}), ...(opts.peer?.families ? { families: opts.peer.families } : {}), ...(opts.peer?.extendedNexthop ? { extendedNexthop: true } : {}), ...(opts.peer?.multihop ? { multihop: opts.peer.multihop } : {}), expectEstablished: false }],
    capture: [LINK_IF],
  };
  if (opts.peer?.announce?.length) peerExtension.announce = opts.peer.announce;
  if (opts.peer?.frrConfigText !== undefined) {
    writeFileSync(join(dir, 'frr.conf'), opts.peer.frrConfigText);
    peerExtension.frrConfig = 'frr.conf';
  } else if (opts.peer?.frrConfig) peerExtension.frrConfig = opts.peer.frrConfig;
  const topology = {
    name: `replay-${dir.split('/').filter(Boolean).pop()}`,
    topology: {
      nodes: {
        [REPLAY_NODE]: {
          kind: 'linux',
          'x-peerproof': {
            kind: 'speaker',
            role: 'replay: plays the recorded side (recording.json)',
            asn: playedAsn,
            routerId: playedId,
            interfaces: { [LINK_IF]: [link.played] },
            neighbors: [{ address: addressOf(link.peer), asn: peerAsn }],
          },
        },
        [PEER_NODE]: { kind: 'linux', image: imageOf(opts.peerKind), 'x-peerproof': peerExtension },
      },
      links: [{ endpoints: [`${REPLAY_NODE}:${LINK_IF}`, `${PEER_NODE}:${LINK_IF}`] }],
    },
  };
  writeFileSync(join(dir, 'topology.clab.yml'), stringify(topology, { aliasDuplicateObjects: false }));
  writeFileSync(join(dir, 'recording.json'), JSON.stringify({ ...recording, addressMap: link.addressMap, ...(link.ipv6 ? { linkIpv6: link.ipv6 } : {}) }, null, 1) + '\n');
  writeFileSync(join(dir, 'expect.yaml'), stringify({ cases: [], ...opts.expect }, { aliasDuplicateObjects: false }));
  writeFileSync(join(dir, 'README.md'), readmeText(dir, recording, opts, link));
}

function imageOf(kind: DaemonKindName): string {
  return { frr: 'frrouting/frr:v8.4.4', gobgp: 'gobgp', bird: 'bird2' }[kind];
}

function readmeText(dir: string, recording: Recording, opts: FixtureOptions, link: LinkPlan): string {
  const src = recording.source;
  const origin =
    src.kind === 'capture'
      ? `Recorded from \`${src.file}\`, TCP stream ${src.stream}, by \`peerproof fixture from-pcap\`.`
      : `Recording synthesised with the codec (\`reference/bgp/wire\`) by \`${src.by}\`.`;
  const count = (from: string) => recording.messages.filter((m) => m.from === from).length;
  const moved = Object.entries(link.addressMap).map(([a, b]) => `${a} -> ${b}`).join(', ');
  return [
    `# ${opts.title}`,
    '',
    origin,
    '',
    `- played side: ${recording.played.address} AS ${recording.played.asn} (id ${recording.played.bgpId}), ${count('played')} messages`,
    `- recorded peer: ${recording.peer.address} AS ${recording.peer.asn} (id ${recording.peer.bgpId}), ${count('peer')} messages`,
    `- lab: node \`${REPLAY_NODE}\` replays the played side; node \`${PEER_NODE}\` runs ${opts.peerKind} (change with \`--against\`)` +
      (moved ? `; addresses moved to a lab link: ${moved} (next hops mapped)` : '; recorded addresses kept') +
      (link.ipv6 ? `; IPv6 ${link.ipv6.played} / ${link.ipv6.peer} added to the link by the replay (the lab's fixtures are IPv4-only)` : ''),
    '',
    'Run (root): `peerproof fixture run ' + (dir.split('/').filter(Boolean).pop() ?? '') + ' [--against frr|gobgp|bird]`;',
    'the verdict is `pass` (healthy), `bug-present` (the field symptoms) or `fail` (neither).',
    '',
    opts.readme ?? '',
    '',
  ].join('\n');
}
