// The TTL of our BGP packets, on the wire (ttl.ts: the speaker's own nftables table):
//
//   ib 10.30.3.2 --- us 10.30.1.1 --- r 10.30.1.2 | 10.30.2.1 --- frr 10.30.2.2, loopback 10.30.9.9
//   BIRD AS 65000    AS 65000           BIRD AS 65010              FRR AS 65020, ebgp-multihop 2,
//   (iBGP)           (10.30.3.1)        (direct eBGP)              update-source its loopback
//   r forwards in its kernel (one router hop between us and FRR's loopback). The iBGP peer has a
//   link of its own because BIRD runs one session per neighbour address.
//
// Without multihop the session to FRR's loopback never comes up (TTL 1 dies at r, which answers
// with ICMP time exceeded); with `multihop: 2` it does. tcpdump on our links shows TTL 1 towards the
// direct eBGP peer, 255 towards the iBGP peer, and 1 then 2 towards FRR's loopback. The first
// speaker is killed (SIGKILL), so the second start must remove the table it left behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapturedFrames, type Capture } from '../../conformance/lab/capture.ts';
import { pollUntil } from '../../conformance/checks/captured.ts';
import type { BackendProcess } from '../../conformance/lab/backend.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { labLink, labNode, type LabNode, type LabTopology, type Neighbor } from '../../conformance/lab/model.ts';
import { isRoot } from '../../conformance/lab/netns.ts';
import { startReferenceSpeaker } from '../../conformance/lab/speakers/reference.ts';
import { fetchStatus, type BgpSessionResource } from './status.ts';

const US = '10.30.1.1';
const R_EBGP = '10.30.1.2';
const US_IB = '10.30.3.1';
const R_IBGP = '10.30.3.2';
const FRR_LINK = '10.30.2.2';
const FRR_LOOPBACK = '10.30.9.9';

let lab: Lab;
let speaker: BackendProcess | null = null;
const captures = new Map<string, Capture>();
const dir = (node: string) => lab.ledger.nodeDir(node);
const socket = () => join(dir('us'), 'status.sock');

/** The lab: the speaker starts in each test, so no session is awaited at bring-up. */
function topology(): LabTopology {
  const node = (name: string, kind: 'host' | 'bird' | 'frr', interfaces: Record<string, string[]>, extra: Partial<LabNode> = {}) => labNode(name, kind, { interfaces, ...extra });
  const toUs = (address: string, extra: Partial<Neighbor> = {}): Neighbor[] => [{ address, asn: 65000, expectEstablished: false, ...extra }];
  const nodes = [
    node('us', 'host', { eth0: [`${US}/24`], eth1: [`${US_IB}/24`] }, { routes: [{ to: `${FRR_LOOPBACK}/32`, via: R_EBGP }] }),
    // r forwards (routers get ip_forward) and reaches FRR's loopback through FRR's link.
    node('r', 'bird', { eth0: [`${R_EBGP}/24`], eth1: ['10.30.2.1/24'] }, {
      asn: 65010, routerId: R_EBGP, neighbors: toUs(US), announce: ['198.51.100.0/24'], routes: [{ to: `${FRR_LOOPBACK}/32`, via: FRR_LINK }],
    }),
    node('ib', 'bird', { eth0: [`${R_IBGP}/24`] }, { asn: 65000, routerId: R_IBGP, neighbors: toUs(US_IB), announce: ['198.51.100.0/24'] }),
    node('frr', 'frr', { eth0: [`${FRR_LINK}/24`] }, {
      asn: 65020, routerId: FRR_LOOPBACK, loopback: [`${FRR_LOOPBACK}/32`], routes: [{ to: '0.0.0.0/0', via: '10.30.2.1' }],
      neighbors: toUs(US, { multihop: 2, updateSource: FRR_LOOPBACK }),
    }),
  ];
  return { name: 'speaker-ttl', nodes, links: [labLink('us', 'eth0', 'r', 'eth0'), labLink('us', 'eth1', 'ib', 'eth0'), labLink('r', 'eth1', 'frr', 'eth0')] };
}

function speakerYaml(multihop: number | null): string {
  return `routerId: ${US}
localAs: 65000
listen: { address: 0.0.0.0, port: 179 }
holdTime: 9
connectRetry: 1
status: { socket: ${socket()} }
peers:
  - { name: direct, address: ${R_EBGP}, asn: 65010 }
  - { name: ibgp, address: ${R_IBGP}, asn: 65000, localAddress: ${US_IB} }
  - { name: frr-lo, address: ${FRR_LOOPBACK}, asn: 65020, localAddress: ${US}${multihop ? `, multihop: ${multihop}` : ''} }
`;
}

function startSpeaker(multihop: number | null, label: string): Promise<BackendProcess> {
  return startReferenceSpeaker(lab, 'us', speakerYaml(multihop), { label });
}

async function sessions(): Promise<Map<string, BgpSessionResource>> {
  const list = (await fetchStatus({ socket: socket() }, '/sessions?limit=0')) as { items: BgpSessionResource[] };
  return new Map(list.items.map((s) => [s.metadata.name, s]));
}

async function established(names: string[], timeoutMs: number): Promise<Map<string, BgpSessionResource>> {
  const isUp = (all: Map<string, BgpSessionResource> | null) => !!all && names.every((n) => all.get(n)?.status.state === 'Established');
  const { value, met } = await pollUntil(() => { lab.assertRunning(); return sessions().catch(() => null); }, isUp, timeoutMs, 250);
  if (!met) throw new Error(`sessions ${names.join(', ')} not Established within ${timeoutMs} ms: ${JSON.stringify([...(value?.values() ?? [])].map((s) => [s.metadata.name, s.status.state, s.status.lastError]))}`);
  return value!;
}

async function ourTables(): Promise<string[]> {
  const result = await lab.node('us').exec(['nft', 'list', 'tables']);
  if (result.code !== 0) throw new Error(`nft list tables: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter((l) => l.includes('peerproof_ttl_'));
}

interface SentPacket {
  ts: number;
  dst: string;
  ttl: number;
  syn: boolean;
  payload: number;
}

/** Our IPv4 TCP packets to or from port 179, and ICMP time-exceeded messages we received. */
function readLink(file: string, ours: string): { sent: SentPacket[]; timeExceededFrom: string[] } {
  const sent: SentPacket[] = [];
  const timeExceededFrom: string[] = [];
  const dotted = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  for (const { ts, frame } of readCapturedFrames(file)) {
    if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) continue;
    const ip = 14;
    const headerLength = (frame[ip]! & 15) * 4;
    const totalLength = (frame[ip + 2]! << 8) | frame[ip + 3]!;
    const protocol = frame[ip + 9];
    const src = dotted(frame, ip + 12);
    if (protocol === 1 && frame[ip + headerLength] === 11) timeExceededFrom.push(src);
    if (protocol !== 6 || src !== ours) continue;
    const tcp = ip + headerLength;
    const sport = (frame[tcp]! << 8) | frame[tcp + 1]!;
    const dport = (frame[tcp + 2]! << 8) | frame[tcp + 3]!;
    if (sport !== 179 && dport !== 179) continue;
    const dataOffset = (frame[tcp + 12]! >> 4) * 4;
    sent.push({ ts, dst: dotted(frame, ip + 16), ttl: frame[ip + 8]!, syn: (frame[tcp + 13]! & 0x02) !== 0, payload: totalLength - headerLength - dataOffset });
  }
  return { sent, timeExceededFrom };
}

/** When a speaker's table went in (its log line): from then on its packets carry the set TTL. */
function ttlInstalledAt(label: string): number {
  const line = readFileSync(join(dir('us'), `${label}.log`), 'utf8').split('\n').find((l) => l.includes('TTL control: nftables table'));
  if (!line) throw new Error(`${label}: no TTL control line in its log`);
  return Date.parse(line.split(' ')[0]!) / 1000;
}

let phaseBStart = 0;
let killedPid = 0;

describe.skipIf(!isRoot())('speaker TTL control (nftables) on the wire', () => {
  beforeAll(async () => {
    // tcpdump on both of our links from the start (the first SYNs and RSTs are evidence).
    lab = await startLab(topology(), { captures: [{ node: 'us', ifname: 'eth0' }, { node: 'us', ifname: 'eth1' }] });
    for (const capture of lab.captures) captures.set(capture.ifname, capture);
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('without multihop (eBGP TTL 1) the session to FRR one router hop away never comes up; the direct ones do', async () => {
    speaker = await startSpeaker(null, 'speaker-ttl1');
    const up = await established(['direct', 'ibgp'], 30_000);
    expect(up.get('direct')!.status.ttl).toMatchObject({ configured: 1, inUse: 1, control: expect.stringMatching(/^nftables table inet peerproof_ttl_\d+_0$/) });
    expect(up.get('ibgp')!.status.ttl).toMatchObject({ configured: 255, inUse: 255 });
    // FRR (connect retry 1 s) and we (1 s) try several times meanwhile; none gets through.
    await new Promise((r) => setTimeout(r, 8000));
    const later = await sessions();
    expect(later.get('frr-lo')!.status.ttl).toMatchObject({ configured: 1, inUse: 1 });
    expect(later.get('frr-lo')!.status.state).not.toBe('Established');
    expect(later.get('frr-lo')!.status.counters.establishedTransitions).toBe(0);
    expect(await ourTables()).toHaveLength(1);
  }, 60_000);

  it('with multihop 2 it comes up, after removing the table a killed speaker left behind', async () => {
    killedPid = speaker!.pid;
    await speaker!.stop('SIGKILL', 1000);
    expect(await ourTables()).toEqual([`table inet peerproof_ttl_${killedPid}_0`]);
    phaseBStart = Date.now() / 1000;
    speaker = await startSpeaker(2, 'speaker-ttl2');
    const up = await established(['direct', 'ibgp', 'frr-lo'], 40_000);
    expect(up.get('frr-lo')!.status.ttl).toMatchObject({ configured: 2, inUse: 2 });
    expect(readFileSync(join(dir('us'), 'speaker-ttl2.log'), 'utf8')).toContain(`removed peerproof_ttl_${killedPid}_0, left by a speaker that is no longer running`);
    expect(await ourTables()).toEqual([`table inet peerproof_ttl_${speaker.pid}_0`]);
  }, 60_000);

  it('tcpdump on our links shows TTL 1 to the direct eBGP peer, 255 to the iBGP peer, 1 then 2 to the multihop peer', async () => {
    await new Promise((r) => setTimeout(r, 500));
    for (const capture of captures.values()) await capture.stop();
    const link = readLink(captures.get('eth0')!.file, US);
    const { sent: all, timeExceededFrom } = { sent: [...link.sent, ...readLink(captures.get('eth1')!.file, US_IB).sent], timeExceededFrom: link.timeExceededFrom };
    // Before a speaker runs, the kernel answers FRR's and BIRD's SYNs with RSTs at its default TTL:
    // those are not the speaker's packets.
    const phaseA = ttlInstalledAt('speaker-ttl1');
    const phaseB = ttlInstalledAt('speaker-ttl2');
    const sent = all.filter((p) => (p.ts >= phaseA && p.ts < phaseBStart) || p.ts >= phaseB);
    const ttls = (dst: string, from = 0, to = Infinity) => new Set(sent.filter((p) => p.dst === dst && p.ts >= from && p.ts < to).map((p) => p.ttl));
    // BGP messages (payload), not only handshakes, went to each peer.
    for (const dst of [R_EBGP, R_IBGP, FRR_LOOPBACK]) expect(sent.some((p) => p.dst === dst && p.payload > 0)).toBe(true);
    expect(ttls(R_EBGP)).toEqual(new Set([1]));
    expect(ttls(R_IBGP)).toEqual(new Set([255]));
    expect(ttls(FRR_LOOPBACK, 0, phaseBStart)).toEqual(new Set([1]));
    expect(sent.filter((p) => p.dst === FRR_LOOPBACK && p.ts < phaseBStart && p.syn).length).toBeGreaterThan(0);
    expect(ttls(FRR_LOOPBACK, phaseB)).toEqual(new Set([2]));
    // The router hop dropped what we sent with TTL 1 towards FRR's loopback, and said so.
    expect(timeExceededFrom).toContain(R_EBGP);
  }, 30_000);

  it('removes its table on SIGTERM', async () => {
    await speaker!.stop('SIGTERM', 5000);
    expect(await ourTables()).toEqual([]);
  }, 30_000);
});
