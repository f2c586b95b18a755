// The known interop problems peerproof reproduces as fixtures (fixtures/field-*): for each, the
// played side's recording (synthesised with the codec), the peer's settings, the symptoms the
// field reported, what healthy looks like, and the public reports it comes from.

import type { Capability, CodecContext, PathAttributes, Route, UpdateMessage } from '../../../reference/bgp/wire/index.ts';
import { endOfRib } from '../../../reference/bgp/wire/index.ts';
import type { AddressFamily } from '../../lab/model.ts';
import type { FixtureOptions } from '../fixture.ts';
import type { Recording } from '../recording.ts';
import type { Symptom } from '../symptoms.ts';
import { ipv4Unicast, ipv6Unicast, routeRefresh, synthesise, type PlayedUpdate, type SpeakerSpec } from './synthesise.ts';

export interface FieldScenario {
  name: string;
  recording: Recording;
  fixture: FixtureOptions;
}

const BY = 'conformance/replay/field/make-fixtures.ts';
const PLAYED_V4 = '10.90.0.1';
const PEER_V4 = '10.90.0.2';
const PLAYED_V6 = 'fd00:90::1';
const PEER_V6 = 'fd00:90::2';
const PEER_ANNOUNCE = '192.0.2.0/24';

function speaker(address: string, asn: number, bgpId: string, capabilities: Capability[], extra: Partial<SpeakerSpec> = {}): SpeakerSpec {
  return { address, asn, bgpId, capabilities: [...capabilities, routeRefresh], holdTime: 9, ...extra };
}
const playedV4 = (caps: Capability[], extra: Partial<SpeakerSpec> = {}) => speaker(PLAYED_V4, 65001, PLAYED_V4, caps, extra);
const peerV4 = (caps: Capability[] = [ipv4Unicast]) => speaker(PEER_V4, 65002, PEER_V4, caps);

function v4Update(routes: Route[], attributes: Partial<PathAttributes> = {}, ctx: CodecContext = { as4: true }): PlayedUpdate {
  const update: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    nlri: routes,
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], nextHop: PLAYED_V4, ...attributes },
  };
  return { update, ctx };
}

const present = (prefix: string, nexthop?: string): Symptom => ({ 'route-present': { prefix, ...(nexthop ? { nexthop } : {}) } });
const absent = (prefix: string): Symptom => ({ 'route-absent': { prefix } });
const established: Symptom = { 'session-established': null };
const noNotification: Symptom = { 'peer-sends-no-notification': null };

function frrConfig(opts: { asn: number; routerId: string; neighbor: string; neighborAsn: number; requirePolicy?: boolean }): string {
  return [
    'frr defaults traditional',
    'hostname peer',
    '!',
    `ip route ${PEER_ANNOUNCE} blackhole`,
    '!',
    `router bgp ${opts.asn}`,
    ` bgp router-id ${opts.routerId}`,
    opts.requirePolicy ? ' ! bgp ebgp-requires-policy: left at its default (on)' : ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' bgp log-neighbor-changes',
    ' timers bgp 1 3',
    ` neighbor ${opts.neighbor} remote-as ${opts.neighborAsn}`,
    ` neighbor ${opts.neighbor} timers connect 1`,
    ` neighbor ${opts.neighbor} advertisement-interval 0`,
    ' address-family ipv4 unicast',
    `  network ${PEER_ANNOUNCE}`,
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

// --- ADD-PATH per direction (RFC 7911 section 4) ---------------------------------------------

const ADDPATH_REPORTS = `Public reports:
- NetGauze/NetGauze#561 (https://github.com/NetGauze/NetGauze/pull/561): ADD-PATH treated as one
  flag for both directions instead of send-vs-receive per RFC 7911 section 4; the parser expected
  path ids nobody sent.
- bio-routing/bio-rd#81 (https://github.com/bio-routing/bio-rd/pull/81): "Don't add PathIdentifier
  without AddPath capabilities" — path ids put on the wire towards a peer that did not negotiate them.
- pmacct/pmacct#491 (https://github.com/pmacct/pmacct/pull/491) and #219: path ids parsed (or
  capability replies built) from the wrong direction's capability.`;

/** What the played side offers for ADD-PATH; `none` = no capability at all. */
type Mode = 'send' | 'receive' | 'both' | 'none';

type PeerAddPath = 'default' | 'addpath' | 'send-only';

function addPathScenario(family: 'ipv4' | 'ipv6', played: Mode, peerMode: PeerAddPath): FieldScenario {
  const peerAddPath = peerMode === 'addpath';
  const sendOnly = peerMode === 'send-only';
  const v6 = family === 'ipv6';
  const afi = v6 ? 2 : 1;
  const prefix = v6 ? '2001:db8:97::/48' : '10.97.1.0/24';
  const nh = v6 ? [PLAYED_V6, 'fd00:90::3'] : [PLAYED_V4, '10.90.0.3'];
  const mp = v6 ? ipv6Unicast : ipv4Unicast;
  const playedSpec = playedV4(played === 'none' ? [mp] : [mp, { code: 69, name: 'add-path', entries: [{ afi, safi: 1, mode: played }] }]);
  const peerSpec = peerV4([mp]);
  const ctx: CodecContext = { as4: true, addPath: new Set([`${afi}/1`]) };
  // The misbehaving speaker: path ids on every UPDATE because IT offered ADD-PATH, whatever the peer said.
  const updates: PlayedUpdate[] = nh.map((hop, i) => {
    const base = { origin: 'igp' as const, asPath: [{ type: 'sequence' as const, asns: [65001] }] };
    const attributes: PathAttributes = v6 ? { ...base, mpReach: { afi: 2, safi: 1, nextHops: [hop], nlri: [{ prefix, pathId: i + 1 }] } } : { ...base, nextHop: hop };
    return { update: { type: 'UPDATE', withdrawn: [], nlri: v6 ? [] : [{ prefix, pathId: i + 1 }], attributes }, ctx };
  });
  const recording = synthesise(BY, playedSpec, peerSpec, updates);
  const negotiatedIfPeerReceives = played === 'send' || played === 'both';
  const name = `field-addpath-${family}-played-${played}-peer-${peerMode}`;
  const peerWord = sendOnly
    ? 'ADD-PATH send only (the peer that "only offered send": FRR `addpath-tx-all-paths` + `disable-addpath-rx`, GoBGP `send-max` without `receive`, BIRD `add paths tx`)'
    : peerAddPath
      ? 'ADD-PATH enabled on the session (FRR addpath-tx-all-paths, GoBGP send-max/receive, BIRD add paths on)'
      : 'its default ADD-PATH setting (FRR offers receive by default; GoBGP and BIRD offer nothing)';
  return {
    name,
    recording,
    fixture: {
      peerKind: 'frr',
      title: `ADD-PATH per direction: ${family}, played side offers "${played}", peer ${sendOnly ? 'offers send only' : peerAddPath ? 'with ADD-PATH on' : 'with defaults'}`,
      readme: [
        played === 'none'
          ? `The played speaker offers NO ADD-PATH capability for ${family} unicast and then sends two paths of`
          : `The played speaker offers ADD-PATH **${played}** for ${family} unicast and then sends two paths of`,
        `${prefix} WITH path identifiers (1 and 2, next hops ${nh.join(' and ')}), whatever the peer offered:`,
        'the bug of speakers that decide the NLRI encoding from their own capability only. The live peer',
        `runs with ${peerWord}. Path ids are legal here only if the played side offered send (it offered`,
        `"${played}": ${negotiatedIfPeerReceives ? 'yes' : 'no'}) AND the peer offered receive; otherwise the peer reads`,
        'the 4 path-id bytes as prefix lengths and bits and either resets the session (UPDATE error) or',
        'installs garbage / nothing. The verdict says which happened with each daemon.',
        v6
          ? '\nIPv6 unicast runs over the IPv4 session (the lab builds IPv4 links; the replay adds fd00:90::1/64 and ::2/64 to the link so the next hops resolve). The peer neighbour carries `families: [ipv4-unicast, ipv6-unicast]`, which the lab renders for FRR, GoBGP and BIRD alike.'
          : '',
        '',
        ADDPATH_REPORTS,
      ].join('\n'),
      expect: {
        bug: `path ids sent for ${family} unicast although ADD-PATH was not negotiated in that direction: the peer resets the session or loses the route`,
        symptoms: [absent(prefix)],
        healthy: [established, noNotification, present(prefix)],
        observe: [{ 'peer-sends-notification': { code: 3 } }],
        replay: { settle: 1 },
      },
      peer: {
        addPath: sendOnly ? 'send' : peerAddPath,
        ...(v6 ? { families: ['ipv4-unicast', 'ipv6-unicast'] as AddressFamily[] } : {}),
        announce: [PEER_ANNOUNCE],
      },
      ...(v6 ? { linkIpv6: { played: `${PLAYED_V6}/64`, peer: `${PEER_V6}/64` } } : {}),
    },
  };
}

// --- FRR ebgp-requires-policy -----------------------------------------------------------------

function ebgpRequiresPolicy(): FieldScenario {
  const prefix = '10.96.1.0/24';
  const recording = synthesise(BY, playedV4([ipv4Unicast]), peerV4(), [v4Update([{ prefix }])]);
  return {
    name: 'field-frr-ebgp-requires-policy',
    recording,
    fixture: {
      peerKind: 'frr',
      title: "FRR's ebgp-requires-policy default: an eBGP session that sends and accepts nothing",
      readme: [
        'A plain eBGP session (AS 65001 -> AS 65002): the played side announces 10.96.1.0/24, the peer',
        'originates 192.0.2.0/24. The FRR peer runs its own frr.conf that leaves `bgp ebgp-requires-policy`',
        'at its default (on since FRR 7.3) and has no route-maps: the session comes up Established, and',
        'FRR silently denies every received route ("inbound policy missing") and advertises nothing.',
        'GoBGP and BIRD run the lab\'s rendered configs (explicit import/export), the control.',
        '',
        'Public reports:',
        '- FRRouting/frr#5565 (https://github.com/FRRouting/frr/issues/5565): "Can\'t receive any prefixes",',
        '  log "DENIED due to: inbound policy missing".',
        '- FRRouting/frr#7784 (https://github.com/FRRouting/frr/issues/7784): received routes not in the',
        '  table, nothing advertised to the other eBGP session.',
        '- opnsense/plugins#1953 (https://github.com/opnsense/plugins/pull/1953): "Without eBGP filters no',
        '  prefixes are exchanged without a policy" — the plugin disables the default globally.',
      ].join('\n'),
      expect: {
        bug: 'eBGP session Established but no route accepted and none advertised (no policy configured)',
        symptoms: [established, absent(prefix), { 'peer-sends-no-routes': null }],
        healthy: [established, present(prefix), { 'peer-sends-route': { prefix: PEER_ANNOUNCE } }],
        replay: { settle: 2 },
      },
      peer: {
        announce: [PEER_ANNOUNCE],
        frrConfigText: frrConfig({ asn: 65002, routerId: PEER_V4, neighbor: PLAYED_V4, neighborAsn: 65001, requirePolicy: true }),
      },
    },
  };
}

// --- 4-octet AS boundary (RFC 6793) -----------------------------------------------------------

const AS4_REPORTS = `Public reports:
- Exa-Networks/exabgp#250 (https://github.com/Exa-Networks/exabgp/issues/250): with asn4 disabled,
  AS_PATH still went out with 4-octet ASNs; the peer reset with NOTIFICATION 3/11.
- ruhex/BGPLite#30 (https://github.com/ruhex/BGPLite/issues/30): outbound AS_PATH always 4-octet,
  breaking sessions with 2-octet-only peers.
- oxidecomputer/maghemite#294 (https://github.com/oxidecomputer/maghemite/issues/294): AS_TRANS sent in
  OPEN for a mappable ASN; Google Cloud Router answered Bad Peer AS (2/2).
- osrg/gobgp#3323 (https://github.com/osrg/gobgp/pull/3323): AS_PATH width guessed instead of taken
  from the negotiated capability (100,200,300 decoded as 6553800,...).
- zebra-rs/zebra-rs#1972 (https://github.com/zebra-rs/zebra-rs/pull/1972): OPEN My AS truncated with
  \`as u16\` for ASNs above 65535.`;

function as4Scenarios(): FieldScenario[] {
  const noAs4 = { as4: false };
  const path4on2 = synthesise(BY, playedV4([ipv4Unicast], noAs4), peerV4(), [
    v4Update([{ prefix: '10.92.1.0/24' }], { asPath: [{ type: 'sequence', asns: [65001, 65536] }] }, { as4: true }),
  ]);
  const relayed = synthesise(BY, playedV4([ipv4Unicast], noAs4), peerV4(), [
    v4Update([{ prefix: '10.92.2.0/24' }], { asPath: [{ type: 'sequence', asns: [65001, 65536] }] }, { as4: false }),
    v4Update([{ prefix: '10.92.3.0/24' }], { asPath: [{ type: 'sequence', asns: [65001, 4200000000] }] }, { as4: false }),
    v4Update([{ prefix: '10.92.4.0/24' }], { asPath: [{ type: 'sequence', asns: [65001, 65535] }] }, { as4: false }),
  ]);
  const truncated = synthesise(BY, speaker(PLAYED_V4, 65536, PLAYED_V4, [ipv4Unicast], { myAsField: 65536 & 0xffff }), peerV4(), [
    v4Update([{ prefix: '10.92.5.0/24' }], { asPath: [{ type: 'sequence', asns: [65536] }] }),
  ]);
  const transMappable = synthesise(BY, speaker(PLAYED_V4, 65003, PLAYED_V4, [ipv4Unicast], { myAsField: 23456 }), peerV4(), [
    v4Update([{ prefix: '10.92.6.0/24' }], { asPath: [{ type: 'sequence', asns: [65003] }] }),
  ]);
  const readme = (text: string) => `${text}\n\n${AS4_REPORTS}`;
  return [
    {
      name: 'field-as4-path-4octet-on-2octet-session',
      recording: path4on2,
      fixture: {
        peerKind: 'frr',
        title: '4-octet AS_PATH on a session without the 4-octet AS capability',
        readme: readme(
          'The played speaker (AS 65001) does not offer capability 65, so the session is 2-octet; yet it\n' +
            'encodes AS_PATH 65001 65536 with 4-octet ASNs (what exabgp#250 and BGPLite#30 describe). The\n' +
            'peer must read 2-octet ASNs: the segment length no longer matches (malformed AS_PATH: RFC 7606\n' +
            'treat-as-withdraw, or an old-style 3/11 reset).',
        ),
        expect: {
          bug: 'AS_PATH encoded with 4-octet ASNs on a 2-octet session: the peer resets (3/11) or drops the route',
          symptoms: [absent('10.92.1.0/24')],
          healthy: [established, noNotification, present('10.92.1.0/24')],
          observe: [{ 'peer-sends-notification': { code: 3, subcode: 11 } }],
          replay: { settle: 1 },
        },
        peer: { announce: [PEER_ANNOUNCE] },
      },
    },
    {
      name: 'field-as4-trans-as4path-boundary',
      recording: relayed,
      fixture: {
        peerKind: 'frr',
        title: 'AS_TRANS + AS4_PATH from a 2-octet speaker: AS 65536 exactly, 4200000000, and 65535',
        readme: readme(
          'A 2-octet speaker (AS 65001, no capability 65) relays routes whose paths hold AS 65536 (the\n' +
            'first ASN that needs AS_TRANS), AS 4200000000, and AS 65535 (the last that does not): AS_PATH\n' +
            '65001 23456 plus AS4_PATH, encoded by the codec per RFC 6793 section 4.2.2. The peer must merge\n' +
            'them and keep every route. Off-by-one boundary code (`> 65536` instead of `> 65535`) breaks\n' +
            'exactly 10.92.2.0/24.',
        ),
        expect: {
          bug: 'routes whose AS path crosses the 2-octet boundary (AS_TRANS/AS4_PATH) are lost or the session resets',
          symptoms: [absent('10.92.2.0/24')],
          healthy: [established, noNotification, present('10.92.2.0/24'), present('10.92.3.0/24'), present('10.92.4.0/24')],
          replay: { settle: 1 },
        },
        peer: { announce: [PEER_ANNOUNCE] },
      },
    },
    {
      name: 'field-as4-open-65536-truncated',
      recording: truncated,
      fixture: {
        peerKind: 'frr',
        title: 'AS 65536 exactly: My AS truncated to 0 in the OPEN',
        readme: readme(
          'The played speaker is AS 65536 and offers capability 65 with 65536, but its OPEN carries My AS\n' +
            '= 65536 mod 65536 = 0 instead of AS_TRANS (23456): the boundary bug of code that casts to 16 bits.\n' +
            'RFC 7607 makes AS 0 in an OPEN a Bad Peer AS error (2/2); RFC 6793 lets a peer trust the\n' +
            'capability. The verdict records which daemons refuse and which accept the session.',
        ),
        expect: {
          bug: 'OPEN with My AS 0 (AS 65536 truncated): the peer refuses the session with Bad Peer AS',
          symptoms: [{ 'session-not-established': null }, { 'peer-sends-notification': { code: 2, subcode: 2 } }],
          healthy: [established, present('10.92.5.0/24')],
          replay: { settle: 1 },
        },
        playedAsn: 65536,
        peer: { announce: [PEER_ANNOUNCE] },
      },
    },
    {
      name: 'field-as4-trans-for-mappable-asn',
      recording: transMappable,
      fixture: {
        peerKind: 'frr',
        title: 'AS_TRANS in OPEN for a 2-octet ASN (65003)',
        readme: readme(
          'The played speaker is AS 65003 (fits in 2 octets) but puts AS_TRANS (23456) in My AS, with\n' +
            'capability 65 saying 65003 — what maghemite#294 sent to a Google Cloud Router, which refused\n' +
            'it with Bad Peer AS. RFC 6793 says AS_TRANS is for ASNs that do not fit; a peer may use the\n' +
            'capability or insist on the field.',
        ),
        expect: {
          bug: 'OPEN with AS_TRANS for a mappable ASN: the peer refuses the session with Bad Peer AS',
          symptoms: [{ 'session-not-established': null }, { 'peer-sends-notification': { code: 2, subcode: 2 } }],
          healthy: [established, present('10.92.6.0/24')],
          replay: { settle: 1 },
        },
        playedAsn: 65003,
        peer: { announce: [PEER_ANNOUNCE] },
      },
    },
  ];
}

// --- Graceful restart / End-of-RIB ------------------------------------------------------------

const GR_REPORTS = `Public reports:
- osrg/gobgp#2803 and #2794 (https://github.com/osrg/gobgp/pull/2803): with the Restart State bit set,
  GoBGP never sent its initial routes to a peer that did not advertise GR.
- FRRouting/frr#16127 (https://github.com/FRRouting/frr/pull/16127), closing frr#16126: End-of-RIB was
  sent only when the peer advertised GR.
- FRRouting/frr#22623 (https://github.com/FRRouting/frr/issues/22623): End-of-RIB sent before the routes
  were relearned, so the GR helper flushed stale routes and reinstalled them later.`;

function grScenario(restarting: boolean): FieldScenario {
  const gr: Capability = { code: 64, name: 'graceful-restart', restarting, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: false }] };
  const recording = synthesise(BY, playedV4([ipv4Unicast, gr]), peerV4(), [
    { update: endOfRib(1, 1), ctx: { as4: true } },
    v4Update([{ prefix: '10.93.1.0/24' }]),
    v4Update([{ prefix: '10.93.2.0/24' }]),
  ]);
  return {
    name: restarting ? 'field-gr-restarting-eor-before-routes' : 'field-gr-eor-before-routes',
    recording,
    fixture: {
      peerKind: 'frr',
      title: `Graceful restart offered towards a peer ${restarting ? '(Restart State bit set) ' : ''}with default GR settings; End-of-RIB sent before the routes`,
      readme: [
        `The played speaker offers graceful restart (restart time 120 s, IPv4 unicast${restarting ? ', R bit set: it claims to be restarting' : ''})`,
        'towards a peer that runs its defaults (FRR: GR helper; GoBGP: no GR configured, so no capability;',
        'BIRD: GR aware). It sends End-of-RIB FIRST and only then 10.93.1.0/24 and 10.93.2.0/24. A peer',
        'must keep accepting routes after End-of-RIB; one that treats End-of-RIB as "initial table done,',
        'ignore or flush the rest" loses them.',
        '',
        GR_REPORTS,
      ].join('\n'),
      expect: {
        bug: 'routes sent after an early End-of-RIB are lost by the peer',
        symptoms: [absent('10.93.1.0/24')],
        healthy: [established, noNotification, present('10.93.1.0/24'), present('10.93.2.0/24')],
        replay: { settle: 2 },
      },
      peer: { announce: [PEER_ANNOUNCE] },
    },
  };
}

// --- Extended next hop (RFC 8950) offered by one side only ------------------------------------

/** RFC 8950: IPv4 unicast with IPv6 next hops. */
const enh: Capability = { code: 5, name: 'extended-nexthop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };

/** The played speaker's IPv4 route in MP_REACH_NLRI with its own IPv6 address as next hop. */
function ipv4ViaIpv6NextHop(prefix: string): PlayedUpdate {
  const update: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [],
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001] }], mpReach: { afi: 1, safi: 1, nextHops: [PLAYED_V6], nlri: [{ prefix }] } },
  };
  return { update, ctx: { as4: true } };
}

type EnhOfferedBy = 'played' | 'peer';

function extendedNextHop(offeredBy: EnhOfferedBy): FieldScenario {
  const played = playedV4(offeredBy === 'played' ? [ipv4Unicast, enh] : [ipv4Unicast]);
  const peer = peerV4();
  const prefix = offeredBy === 'played' ? '10.94.1.0/24' : '10.94.2.0/24';
  const recording = synthesise(BY, played, peer, [ipv4ViaIpv6NextHop(prefix)]);
  const who =
    offeredBy === 'played'
      ? ['The played speaker offers the extended next hop', 'capability (RFC 8950: IPv4 unicast with IPv6 next hops); the peer does not (lab defaults). The']
      : ['Only the peer offers the extended next hop', 'capability (RFC 8950: IPv4 unicast with IPv6 next hops; FRR `capability extended-nexthop`, BIRD `extended next hop on`); the played speaker does not. The'];
  return {
    name: offeredBy === 'played' ? 'field-extended-nexthop-one-side' : 'field-extended-nexthop-peer-side',
    recording,
    fixture: {
      peerKind: 'frr',
      title:
        offeredBy === 'played'
          ? 'Extended next hop (IPv4 routes with an IPv6 next hop) offered by one side only'
          : 'Extended next hop (IPv4 routes with an IPv6 next hop) offered by the receiving side only',
      readme: [
        'The link carries IPv4 (the session, 10.90.0.1 <-> .2) and IPv6 (fd00:90::1 <-> ::2, added by the replay).',
        'Field setups run this over an IPv6 session: that is `field-extended-nexthop-ipv6-*`; this fixture is',
        'the IPv4-transport variant (RFC 8950 allows either), kept for what it shows about each daemon on an',
        `IPv4 session. ${who[0]}`,
        who[1],
        `played speaker sends ${prefix} in MP_REACH_NLRI with next hop fd00:90::1 anyway. Without the`,
        'capability on both sides that encoding is not agreed: the peer may reset the session (UPDATE',
        'error), drop the route, or accept it. The verdict records each daemon.',
        ...(offeredBy === 'peer'
          ? [
              '',
              'Only BIRD can play this peer here: GoBGP 3.10 has no setting that makes it offer the capability, and',
              'FRR 8.4 offers it on IPv6 sessions only (its OPEN on this IPv4 session lacks capability 5 despite',
              '`capability extended-nexthop`, as the capture shows).',
            ]
          : []),
        '',
        'Public reports:',
        '- osrg/gobgp#2295 (https://github.com/osrg/gobgp/pull/2295), for gobgp#2294: GoBGP started offering',
        '  extended next hop on every IPv6 session, and IPv6 peers stopped establishing.',
        '- FRRouting/frr#3251 (https://github.com/FRRouting/frr/issues/3251): extended next hop not working,',
        '  routes shown with an IPv4 next hop where an IPv6 one was expected.',
      ].join('\n'),
      expect: {
        bug: 'IPv4 route with an IPv6 next hop sent without the capability negotiated: the peer resets the session',
        symptoms: [{ 'peer-sends-notification': { code: 3 } }],
        healthy: [established, noNotification],
        observe: [present(prefix)],
        replay: { settle: 2, ...(offeredBy === 'peer' ? { against: ['bird'], note: 'only BIRD offers extended next hop on an IPv4 session (GoBGP 3.10 and OpenBGPD 7.7 have no setting; FRR 8.4 offers it on IPv6 sessions only)' } : {}) },
      },
      peer: { announce: [PEER_ANNOUNCE], ...(offeredBy === 'peer' ? { extendedNexthop: true } : {}) },
      linkIpv6: { played: `${PLAYED_V6}/64`, peer: `${PEER_V6}/64` },
    },
  };
}

// --- Extended next hop over an IPv6 session (RFC 8950 as IPv6-only fabrics run it) ------------

type EnhOfferedOnV6 = 'played' | 'peer' | 'both';

const ENH_REPORTS = [
  'Public reports:',
  '- osrg/gobgp#2295 (https://github.com/osrg/gobgp/pull/2295), for gobgp#2294: GoBGP started offering',
  '  extended next hop on every IPv6 session, and IPv6 peers stopped establishing.',
  '- FRRouting/frr#3251 (https://github.com/FRRouting/frr/issues/3251): extended next hop not working,',
  '  routes shown with an IPv4 next hop where an IPv6 one was expected.',
  '- kubeovn/kube-ovn#4704 (https://github.com/kubeovn/kube-ovn/pull/4704): a Kubernetes BGP speaker',
  '  never advertised IPv4 prefixes to IPv6 neighbours until it gained extended next hop support.',
  '- kube-vip/kube-vip#988 (https://github.com/kube-vip/kube-vip/issues/988): IPv4 routes over an IPv6',
  '  session (MP-BGP with GoBGP) and which next hop the other family gets.',
];

function extendedNextHopOverIpv6(offeredBy: EnhOfferedOnV6): FieldScenario {
  const families = [ipv4Unicast, ipv6Unicast];
  const played = speaker(PLAYED_V6, 65001, PLAYED_V4, offeredBy === 'peer' ? families : [...families, enh]);
  const peer = speaker(PEER_V6, 65002, PEER_V4, offeredBy === 'played' ? families : [...families, enh]);
  const prefix = { played: '10.94.3.0/24', peer: '10.94.4.0/24', both: '10.94.5.0/24' }[offeredBy];
  const recording = synthesise(BY, played, peer, [ipv4ViaIpv6NextHop(prefix)]);
  const session = [
    'The session runs over IPv6 (fd00:90::1 <-> fd00:90::2), as on an IPv6-only fabric (Cilium or MetalLB',
    'peering with the top-of-rack over IPv6, RFC 5549/8950 "IPv4 over IPv6"), and carries IPv4 and IPv6',
    `unicast. The played speaker sends ${prefix} in MP_REACH_NLRI with next hop fd00:90::1, its own`,
    'address on the link: the only next hop it has for IPv4 routes.',
  ];
  const control = offeredBy === 'both';
  const who = {
    played: [
      'The played speaker offers the extended next hop capability; the peer does not (FRR, GoBGP and BIRD',
      'without `capability extended-nexthop` / `extended next hop on`). Without the capability on both sides',
      'the encoding is not agreed (RFC 8950 section 4): the peer may reset the session (UPDATE error),',
      'drop the route, or accept it. The verdict records each daemon.',
    ],
    peer: [
      'Only the peer offers the extended next hop capability (FRR `capability extended-nexthop`, BIRD',
      '`extended next hop on`); the played speaker does not, and sends the IPv6 next hop anyway. The peer',
      'may reset the session, drop the route, or accept it. GoBGP 3.10 has no setting that makes it offer',
      'the capability, so this runs against FRR and BIRD. FRR 8.4 offers it here (an IPv6 session), where',
      'on the IPv4 session of `field-extended-nexthop-peer-side` it did not.',
    ],
    both: [
      'The healthy control: both sides offer the capability, so IPv4 routes with IPv6 next hops are agreed.',
      'The peer must use the route: in its BGP RIB via fd00:90::1 and in the kernel FIB as',
      `\`${prefix} via inet6 fd00:90::1\`. The field symptom it guards against is a route that is received`,
      'but never installed. Runs against FRR and BIRD (GoBGP cannot offer the capability).',
    ],
  }[offeredBy];
  const seen = {
    played: [
      'What it shows here (FRR 8.4.4, GoBGP 3.10.0, BIRD 2.0.12): none resets the session. FRR installs the',
      'route anyway (RIB and kernel, `via inet6 fd00:90::1`), GoBGP stores it, BIRD treats it as withdrawn',
      '("Invalid NEXT_HOP attribute - mismatched address family (fd00:90::1 for ipv4)") and, lacking an',
      "IPv4 next hop of its own on this session, cannot send its own IPv4 route either (\"Missing next hop",
      'address").',
    ],
    peer: [
      'What it shows here (FRR 8.4.4, BIRD 2.0.12): FRR puts capability 5 in its OPEN on this IPv6 session',
      'and installs the route although the played side never offered it (RIB and kernel); BIRD treats it as',
      'withdrawn ("mismatched address family"). Neither resets the session.',
    ],
    both: [
      'What it shows here (FRR 8.4.4, BIRD 2.0.12): both install it, in the RIB and in the kernel as',
      `\`${prefix} via inet6 fd00:90::1\`.`,
    ],
  }[offeredBy];
  const via = { nexthop: PLAYED_V6 };
  return {
    name: `field-extended-nexthop-ipv6-${{ played: 'one-side', peer: 'peer-side', both: 'both-sides' }[offeredBy]}`,
    recording,
    fixture: {
      peerKind: 'frr',
      title: {
        played: 'Extended next hop over an IPv6 session, offered by the sending side only',
        peer: 'Extended next hop over an IPv6 session, offered by the receiving side only',
        both: 'Extended next hop over an IPv6 session, offered by both sides (healthy control)',
      }[offeredBy],
      readme: [...session, '', ...who, '', ...seen, '', ...ENH_REPORTS].join('\n'),
      expect: control
        ? {
            bug: 'IPv4 route with an IPv6 next hop, extended next hop negotiated, but not used by the peer',
            symptoms: [established, absent(prefix)],
            healthy: [established, noNotification, present(prefix, PLAYED_V6), { 'route-present': { prefix, ...via, table: 'fib' } }],
            replay: { settle: 2, against: ['frr', 'bird'], note: 'GoBGP 3.10 and OpenBGPD 7.7 cannot offer extended next hop' },
          }
        : {
            bug: 'IPv4 route with an IPv6 next hop sent without the capability negotiated: the peer resets the session',
            symptoms: [{ 'peer-sends-notification': { code: 3 } }],
            healthy: [established, noNotification],
            observe: [present(prefix, PLAYED_V6), { 'route-present': { prefix, ...via, table: 'fib' } }],
            replay: { settle: 2, ...(offeredBy === 'peer' ? { against: ['frr', 'bird'] as Array<'frr' | 'bird'>, note: 'GoBGP 3.10 and OpenBGPD 7.7 cannot offer extended next hop' } : {}) },
          },
      // Families and the capability come from the recorded peer's OPEN.
      peer: { announce: [PEER_ANNOUNCE] },
    },
  };
}

// --- Next hop not on a connected subnet (multihop without a route to it) ----------------------

function nextHopNotConnected(): FieldScenario {
  const recording = synthesise(BY, playedV4([ipv4Unicast]), peerV4(), [
    v4Update([{ prefix: '10.95.1.0/24' }], { nextHop: '10.99.99.1' }),
    v4Update([{ prefix: '10.95.2.0/24' }]),
  ]);
  return {
    name: 'field-nexthop-not-connected',
    recording,
    fixture: {
      peerKind: 'frr',
      title: 'A next hop that is not on a connected subnet (multihop session, no route to it)',
      readme: [
        'The played speaker announces 10.95.1.0/24 with NEXT_HOP 10.99.99.1, an address the peer has no',
        'route to, and 10.95.2.0/24 with its own address (the control). The peer is configured for eBGP',
        'multihop (as MetalLB / Anthos peerings across subnets are), so it cannot reject the next hop as',
        '"not on the shared subnet"; it must resolve it and, finding nothing, keep the route unusable.',
        'The field symptom: the session is up, the route is "received", and traffic goes nowhere. The',
        'verdict reads the daemon RIB; the observed checks read the kernel FIB (is it forwarded?).',
        '',
        'Public reports:',
        '- metallb/metallb#1980 (https://github.com/metallb/metallb/issues/1980): multihop peering with FRR',
        '  established, but no routes appeared on the router for LoadBalancer services.',
        '- metallb/metallb#532 (https://github.com/metallb/metallb/issues/532): next hops the other network',
        '  cannot reach (internal node addresses) announced by the speaker.',
        '- metallb/metallb#1113 (https://github.com/metallb/metallb/pull/1113): FRR next-hop tracking needs',
        '  `ip nht resolve-via-default` to resolve peers reachable only through the default route.',
      ].join('\n'),
      expect: {
        bug: 'route with an unreachable next hop: the session is up, the route is received but not usable',
        symptoms: [established, absent('10.95.1.0/24'), present('10.95.2.0/24')],
        healthy: [established, present('10.95.1.0/24'), present('10.95.2.0/24')],
        // Usable means forwarded: the kernel FIB says whether the daemon installed it (GoBGP never installs routes).
        observe: [{ 'route-absent': { prefix: '10.95.1.0/24', table: 'fib' } }, { 'route-present': { prefix: '10.95.2.0/24', table: 'fib' } }],
        replay: { settle: 2 },
      },
      peer: { announce: [PEER_ANNOUNCE], multihop: 2 },
    },
  };
}

export function fieldScenarios(): FieldScenario[] {
  const modes: Mode[] = ['send', 'receive', 'both', 'none'];
  return [
    ...(['ipv4', 'ipv6'] as const).flatMap((family) => modes.flatMap((mode) => (['default', 'addpath', 'send-only'] as const).map((peer) => addPathScenario(family, mode, peer)))),
    ebgpRequiresPolicy(),
    ...as4Scenarios(),
    grScenario(false),
    grScenario(true),
    extendedNextHop('played'),
    extendedNextHop('peer'),
    extendedNextHopOverIpv6('played'),
    extendedNextHopOverIpv6('peer'),
    extendedNextHopOverIpv6('both'),
    nextHopNotConnected(),
  ];
}
