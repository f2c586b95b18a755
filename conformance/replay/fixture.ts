// Recording -> fixture folder: a two-node topology (the `replay` node playing the recorded side,
// the `peer` node a real daemon standing where the recorded peer stood), the recording, an
// expect.yaml with the symptoms to check, and a README saying where it came from.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Capability } from '../../reference/bgp/wire/types.ts';
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
  /** IPv6 addresses (CIDR) the replay adds to the link ends of an IPv4 session (IPv6 next hops of a recording made over IPv4). */
  ipv6?: { played: string; peer: string };
}

/**
 * Keeps the recorded addresses when they share a /24 (IPv4) or /64 (IPv6, not link-local), so
 * recorded next hops stay valid byte for byte; otherwise moves both onto a fresh link subnet of
 * the same family and maps them. The session runs over the recorded family.
 */
export function planLink(recording: Recording): LinkPlan {
  const a = recording.played.address;
  const b = recording.peer.address;
  const v6 = a.includes(':');
  if (v6 !== b.includes(':')) throw new Error(`recorded endpoints ${a} and ${b} are of different families`);
  if (v6) {
    const [ga, gb] = [ipv6Groups(a), ipv6Groups(b)];
    if (ga && gb && a !== b && ga.slice(0, 4).every((g, i) => g === gb[i]) && !isLinkLocal(ga) && ga[7] !== 0 && gb[7] !== 0)
      return { played: `${a}/64`, peer: `${b}/64`, addressMap: {} };
    return { played: 'fd00:77::1/64', peer: 'fd00:77::2/64', addressMap: { [a]: 'fd00:77::1', [b]: 'fd00:77::2' } };
  }
  if (a !== b && a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.') && !/\.(0|255)$/.test(a) && !/\.(0|255)$/.test(b))
    return { played: `${a}/24`, peer: `${b}/24`, addressMap: {} };
  return { played: '10.77.0.1/30', peer: '10.77.0.2/30', addressMap: { [a]: '10.77.0.1', [b]: '10.77.0.2' } };
}

/** The eight 16-bit groups of an IPv6 address; null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  if (!/^[0-9a-fA-F:]+$/.test(address) || address.split('::').length > 2) return null;
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.length === 8 && groups.every((g) => g.length <= 4) ? groups.map((g) => parseInt(g || '0', 16)) : null;
}

/** fe80::/10 needs a scope (interface) to be used; the lab does not peer on link-local addresses. */
function isLinkLocal(groups: number[]): boolean {
  return (groups[0]! & 0xffc0) === 0xfe80;
}

/** The families the recorded peer carried (its OPEN's multiprotocol IPv4/IPv6 unicast), else the played side's. */
export function recordedFamilies(recording: Recording): AddressFamily[] {
  const of = (caps: Capability[]) =>
    [...new Set(caps.flatMap((c): AddressFamily[] => (c.name === 'multiprotocol' && c.safi === 1 ? (c.afi === 1 ? ['ipv4-unicast'] : c.afi === 2 ? ['ipv6-unicast'] : []) : [])))].sort();
  const peer = of(recording.peer.capabilities);
  const families = peer.length > 0 ? peer : of(recording.played.capabilities);
  return families.length > 0 ? families : ['ipv4-unicast'];
}

/** The ADD-PATH directions the recorded peer offered (one setting for all its families), if any. */
export function recordedAddPath(recording: Recording): boolean | 'send' | 'receive' | undefined {
  const modes = new Set(recording.peer.capabilities.flatMap((c) => (c.name === 'add-path' ? c.entries.map((e) => e.mode) : [])));
  if (modes.has('both') || (modes.has('send') && modes.has('receive'))) return true;
  return modes.has('send') ? 'send' : modes.has('receive') ? 'receive' : undefined;
}

/** Whether the recorded peer offered RFC 8950 extended next hop (capability 5). */
export function recordedExtendedNexthop(recording: Recording): boolean {
  return recording.peer.capabilities.some((c) => c.code === 5);
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
  // Unless told otherwise, the live peer is configured as the recorded one offered itself.
  const families = opts.peer?.families ?? recordedFamilies(recording);
  const extendedNexthop = opts.peer?.extendedNexthop ?? recordedExtendedNexthop(recording);
  const addPath = opts.peer?.addPath ?? recordedAddPath(recording);
  mkdirSync(dir, { recursive: true });
  const peerExtension: Record<string, unknown> = {
    kind: opts.peerKind,
    role: 'live peer the recording is replayed against',
    asn: peerAsn,
    routerId: peerId,
    interfaces: { [LINK_IF]: [link.peer] },
    neighbors: [{ address: addressOf(link.played), asn: playedAsn, ...(addPath ? { addPath } : {}), ...(families.join() !== 'ipv4-unicast' ? { families } : {}), ...(extendedNexthop ? { extendedNexthop: true } : {}), ...(opts.peer?.multihop ? { multihop: opts.peer.multihop } : {}), expectEstablished: false }],
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
  return { frr: 'frrouting/frr:v8.4.4', gobgp: 'gobgp', bird: 'bird2', openbgpd: 'openbgpd' }[kind];
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
      (link.ipv6 ? `; IPv6 ${link.ipv6.played} / ${link.ipv6.peer} added to the link by the replay (IPv6 next hops over the IPv4 session)` : '') +
      (link.played.includes(':') ? '; the session runs over IPv6' : ''),
    '',
    'Run (root): `peerproof fixture run ' + (dir.split('/').filter(Boolean).pop() ?? '') + ' [--against frr|gobgp|bird|openbgpd]`;',
    'the verdict is `pass` (healthy), `bug-present` (the field symptoms) or `fail` (neither).',
    '',
    opts.readme ?? '',
    '',
  ].join('\n');
}
