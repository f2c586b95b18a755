// RFC 6793 against a real 2-octet peer: FRR with `dont-capability-negotiate` sends no
// capabilities, so the session is 2-octet and our speaker (AS 4200000001) must send AS_TRANS in
// AS_PATH and the real path in AS4_PATH. A route from a 4-octet AS behind us (BIRD, AS
// 4200000005) crosses to FRR:
//
//   bird 10.40.1.2 AS 4200000005 --- us 10.40.1.1 | 10.40.2.1 AS 4200000001 --- frr 10.40.2.2 AS 65001 (2-octet)
//
// tcpdump on our link to FRR shows OPEN with AS_TRANS and every UPDATE with both AS_PATH and
// AS4_PATH, the merged path (RFC 6793 4.2.3) being the real one. FRR itself shows AS_TRANS: it
// read our AS4 capability, so it takes us for a NEW speaker and ignores AS4_PATH (RFC 6793 4.1)
// though it decodes the session as 2-octet. FRR's own route reaches BIRD through us with FRR's
// 2-octet AS.
// (BIRD's `enable as4 off` cannot play the 2-octet peer: it still reads our AS4 capability and
// refuses both a 4-octet neighbour AS in its config and AS_TRANS against that capability.)
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCaptureFile } from '../../conformance/capture/decode-capture.ts';
import type { DecodedMessage } from '../../conformance/capture/bgp-stream.ts';
import { pollUntil } from '../../conformance/checks/captured.ts';
import type { Capture } from '../../conformance/lab/capture.ts';
import { birdc as birdcOn } from '../../conformance/lab/kinds/bird.ts';
import { vtysh } from '../../conformance/lab/kinds/frr.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { labLink, labNode, type LabTopology } from '../../conformance/lab/model.ts';
import { isRoot } from '../../conformance/lab/netns.ts';
import { startReferenceSpeaker } from '../../conformance/lab/speakers/reference.ts';
import { fetchStatus, type BgpSessionResource } from './status.ts';
import type { OpenMessage, UpdateMessage } from './wire/types.ts';

const US_BIRD_SIDE = '10.40.1.1';
const BIRD = '10.40.1.2';
const US_FRR_SIDE = '10.40.2.1';
const FRR = '10.40.2.2';
const OUR_AS = 4200000001;
const BIRD_AS = 4200000005;
const FRR_AS = 65001;
const FROM_FRR = '203.0.113.0/24';
const FROM_BIRD = '198.51.100.0/24';
const OURS = '192.0.2.0/24';

let lab: Lab;
let capture: Capture;
const socket = () => join(lab.ledger.nodeDir('us'), 'status.sock');

function topology(): LabTopology {
  const us = labNode('us', 'host', { interfaces: { eth0: [`${US_BIRD_SIDE}/24`], eth1: [`${US_FRR_SIDE}/24`] } });
  const bird = labNode('bird', 'bird', { asn: BIRD_AS, routerId: BIRD, interfaces: { eth0: [`${BIRD}/24`] }, announce: [FROM_BIRD], neighbors: [{ address: US_BIRD_SIDE, asn: OUR_AS }] });
  // The 2-octet peer: an OPEN without capabilities.
  const frr = labNode('frr', 'frr', {
    asn: FRR_AS, routerId: FRR, interfaces: { eth0: [`${FRR}/24`] }, announce: [FROM_FRR],
    neighbors: [{ address: US_FRR_SIDE, asn: OUR_AS, dontCapabilityNegotiate: true }],
  });
  return { name: 'speaker-as2', nodes: [us, bird, frr], links: [labLink('us', 'eth0', 'bird', 'eth0'), labLink('us', 'eth1', 'frr', 'eth0')] };
}

const speakerYaml = () => `routerId: ${US_BIRD_SIDE}
localAs: ${OUR_AS}
listen: { address: 0.0.0.0, port: 179 }
holdTime: 9
connectRetry: 1
status: { socket: ${socket()} }
peers:
  - { name: bird, address: ${BIRD}, asn: ${BIRD_AS} }
  - { name: frr, address: ${FRR}, asn: ${FRR_AS} }
routes:
  - ${OURS}
`;

async function session(name: string): Promise<BgpSessionResource> {
  return (await fetchStatus({ socket: socket() }, `/sessions/${name}?limit=100`)) as BgpSessionResource;
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const { value, met } = await pollUntil(() => { lab.assertRunning(); return read().catch((err: Error) => err as unknown as T); }, (v) => !(v instanceof Error) && done(v), timeoutMs, 250);
  if (!met) throw new Error(`timed out waiting for ${what}; last: ${value instanceof Error ? value.message : JSON.stringify(value)}`);
  return value;
}

const birdc = (command: string) => birdcOn(lab.kindContext(lab.spec('bird')), command);
const frrVtysh = (command: string) => vtysh(lab.kindContext(lab.spec('frr')), command);

async function frrAsPath(prefix: string): Promise<string | null> {
  const out = await frrVtysh(`show bgp ipv4 unicast ${prefix} json`);
  const json = JSON.parse(out || '{}');
  return json.paths?.[0]?.aspath?.string ?? null;
}

describe.skipIf(!isRoot())('2-octet AS peer (FRR, dont-capability-negotiate): AS_TRANS and AS4_PATH', () => {
  beforeAll(async () => {
    // tcpdump on our link to FRR starts before the daemons; the speaker after them, then every
    // peer's session must come up (a dead daemon or speaker is named at once).
    lab = await startLab(topology(), { wait: false, captures: [{ node: 'us', ifname: 'eth1' }] });
    capture = lab.captures[0]!;
    await startReferenceSpeaker(lab, 'us', speakerYaml());
    await lab.waitForSessions({ timeoutMs: 40_000 });
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('the FRR session comes up as a 2-octet session; the BIRD one as 4-octet', async () => {
    const frr = await eventually('FRR session Established', () => session('frr'), (s) => s.status.state === 'Established', 40_000);
    expect(frr.status.negotiated).toMatchObject({ fourOctetAs: false });
    const bird = await eventually('BIRD session Established', () => session('bird'), (s) => s.status.state === 'Established', 40_000);
    expect(bird.status.negotiated).toMatchObject({ fourOctetAs: true });
    const frrView = JSON.parse(await frrVtysh(`show bgp neighbors ${US_FRR_SIDE} json`))[US_FRR_SIDE];
    expect(frrView.bgpState).toBe('Established');
    expect(frrView.remoteAs).toBe(OUR_AS);
    // FRR's account: it advertised no capabilities, so no 4-octet AS numbers on this session.
    expect(JSON.stringify(frrView.neighborCapabilities ?? {})).not.toMatch(/4byteAs":\{[^}]*advertised/i);
  }, 60_000);

  it('sends FRR AS_TRANS in OPEN and AS_PATH and the real path in AS4_PATH (on the wire)', async () => {
    await eventually(`${FROM_BIRD} at FRR`, () => frrAsPath(FROM_BIRD), (p) => p !== null);
    await new Promise((r) => setTimeout(r, 500));
    const pcap = await capture.stop();
    const ours: DecodedMessage[] = [];
    decodeCaptureFile(pcap, (m) => {
      if (m.src.startsWith(`${US_FRR_SIDE}:`) || m.src === US_FRR_SIDE) ours.push(m);
    });
    const open = ours.find((m) => m.type === 'OPEN')?.message as OpenMessage;
    expect(open).toMatchObject({ myAs: 23456, as4: OUR_AS });
    const announcing = (prefix: string) =>
      ours.map((m) => m.message).find((m): m is UpdateMessage => m?.type === 'UPDATE' && m.nlri.some((r) => r.prefix === prefix));
    for (const [prefix, path] of [
      [OURS, [OUR_AS]],
      [FROM_BIRD, [OUR_AS, BIRD_AS]],
    ] as const) {
      const update = announcing(prefix);
      expect(update, `UPDATE for ${prefix}`).toBeDefined();
      // AS_PATH (2) and AS4_PATH (17) both present; decoded on this 2-octet session, AS_PATH can
      // only hold AS_TRANS for these ASNs, and the merge with AS4_PATH gives the real path.
      expect(update!.layout!.map((a) => a.code)).toEqual(expect.arrayContaining([2, 17]));
      expect(update!.attributes.asPath).toEqual([{ type: 'sequence', asns: [...path] }]);
    }
    // FRR's view is AS_PATH alone (see the header): AS_TRANS where our 4-octet ASNs were.
    expect(await frrAsPath(OURS)).toBe('23456');
    expect(await frrAsPath(FROM_BIRD)).toBe('23456 23456');
  }, 60_000);

  it("FRR's 2-octet route reaches us and, through us, BIRD with the full path", async () => {
    const frr = await eventually('route from FRR', () => session('frr'), (s) => s.status.receivedRoutes.some((r) => r.prefix === FROM_FRR));
    expect(frr.status.receivedRoutes.find((r) => r.prefix === FROM_FRR)!.asPath).toBe(`${FRR_AS}`);
    const atBird = await eventually(`${FROM_FRR} at BIRD`, () => birdc(`show route ${FROM_FRR} all`), (out) => /BGP\.as_path:/.test(out));
    expect(atBird).toMatch(new RegExp(`BGP\\.as_path: ${OUR_AS} ${FRR_AS}\\s*\\n`));
  }, 60_000);
});
