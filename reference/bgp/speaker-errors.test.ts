// Malformed input from a peer, sent by a raw-socket client: each UPDATE error gets the RFC 7606
// action (treat-as-withdraw, attribute discard, session reset with the right NOTIFICATION), the
// speaker keeps running, and an old (2-octet) peer gets AS_TRANS with AS4_PATH (RFC 6793).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import { RawPeer as Raw, rawUpdate as update, until } from './raw-peer.ts';
import { Speaker } from './speaker.ts';
import type { Capability, UpdateMessage } from './wire/index.ts';

/** The raw peer of raw-peer.ts from 127.0.0.2 to the speaker under test on loopback. */
const RawPeer = {
  open: (port: number, asn: number, capabilities: Capability[]) =>
    Raw.open({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, { asn, bgpId: '10.0.0.2', holdTime: 90, capabilities }),
};

const ORIGIN_IGP = [0x40, 1, 1, 0];
const AS_PATH_65002 = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea]; // one 4-octet sequence [65002]
const NEXT_HOP = [0x40, 3, 4, 127, 0, 0, 2];
const GOOD = [...ORIGIN_IGP, ...AS_PATH_65002, ...NEXT_HOP];
const PREFIX_A = [24, 10, 0, 0]; // 10.0.0.0/24
const PREFIX_B = [24, 10, 0, 1]; // 10.0.1.0/24
const MP_V4: Capability[] = [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, { code: 65, name: 'as4', asn: 65002 }];

let speaker: Speaker;
const logs: string[] = [];
const received = () => speaker.receivedRoutes(speaker.peers[0]!);

beforeAll(async () => {
  speaker = new Speaker(
    readConfig({ routerId: '10.0.0.1', localAs: 4200000001, holdTime: 90, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, passive: true }], routes: ['192.0.2.1/32'] }, 'test.yaml'),
    (level, m) => logs.push(`${level} ${m}`),
  );
  await speaker.start();
});
afterAll(() => {
  if (process.env.DEBUG_SPEAKER) console.log(logs.join('\n'));
  return speaker.stop();
});

describe('RFC 7606 handling of malformed UPDATEs', () => {
  let peer: Raw;
  beforeAll(async () => {
    peer = await RawPeer.open(speaker.listenPort, 65002, MP_V4);
  });
  afterAll(() => peer.close());

  it('installs a well-formed UPDATE', async () => {
    peer.send(update(GOOD, [...PREFIX_A, ...PREFIX_B]));
    await until(() => received().length === 2);
    expect(received()[0]).toMatchObject({ asPath: '65002', nextHop: '127.0.0.2' });
  });

  it('treats an UPDATE with an invalid ORIGIN as a withdrawal of its NLRI', async () => {
    peer.send(update([0x40, 1, 1, 7, ...AS_PATH_65002, ...NEXT_HOP], PREFIX_A));
    await until(() => received().length === 1);
    expect(received()[0]!.prefix).toBe('10.0.1.0/24');
    expect(logs.some((l) => l.includes('invalid ORIGIN') && l.includes('treat-as-withdraw'))).toBe(true);
  });

  it('treats a missing NEXT_HOP as withdraw (well-known mandatory attribute)', async () => {
    peer.send(update([...ORIGIN_IGP, ...AS_PATH_65002], PREFIX_B));
    await until(() => received().length === 0);
  });

  it('discards a malformed ATOMIC_AGGREGATE and keeps the route', async () => {
    peer.send(update([...GOOD, 0x40, 6, 1, 0], PREFIX_A));
    await until(() => received().length === 1);
    expect(speaker.store.get(speaker.rib(1).pathAttributes(speaker.rib(1).bestPath(speaker.keyOf(1, '10.0.0.0/24')))).atomicAggregate).toBeUndefined();
    expect(logs.some((l) => l.includes('attribute-discard'))).toBe(true);
    expect(speaker.peers[0]!.session.state).toBe('Established');
  });

  it('treats an attribute overrunning the attribute list as withdraw (RFC 7606 4), session kept', async () => {
    peer.send(update([...ORIGIN_IGP, 0x40, 2, 200, 2, 1], PREFIX_A));
    await until(() => received().length === 0);
    expect(logs.some((l) => l.includes('overruns the attributes') && l.includes('treat-as-withdraw'))).toBe(true);
    peer.send(update(GOOD, PREFIX_A));
    await until(() => received().length === 1);
  });

  it('withdraws for a LOCAL_PREF from an external peer that overruns the attribute list, though a malformed one alone is discarded (RFC 7606 4, 7.5)', async () => {
    peer.send(update([...GOOD, 0x40, 5, 40, 0, 0, 0, 100], PREFIX_A));
    await until(() => received().length === 0);
    expect(logs.some((l) => l.includes('LOCAL_PREF length 40 overruns the attributes'))).toBe(true);
    peer.send(update(GOOD, PREFIX_A));
    await until(() => received().length === 1);
  });

  it('resets the session with NOTIFICATION 3/10 for an NLRI that cannot be parsed', async () => {
    peer.send(update(GOOD, [33, 10, 0, 0, 0, 0]));
    await until(() => peer.closed);
    expect(peer.messages.find((m) => m.type === 'NOTIFICATION')).toMatchObject({ code: 3, subcode: 10 });
    await until(() => received().length === 0);
  });
});

describe('session-reset errors', () => {
  it.each([
    ['a withdrawn-routes length beyond the message', (() => { const m = update(GOOD, PREFIX_A); m[19] = 0x0f; return m; })(), { code: 3, subcode: 1 }],
    ['a broken marker', (() => { const m = update(GOOD, PREFIX_A); m[3] = 0; return m; })(), { code: 1, subcode: 1 }],
    ['an unknown message type', new Uint8Array([...new Array(16).fill(0xff), 0, 19, 9]), { code: 1, subcode: 3, data: '09' }],
    ['a message length below the minimum', new Uint8Array([...new Array(16).fill(0xff), 0, 18, 4]), { code: 1, subcode: 2, data: '0012' }],
  ])('%s gets the right NOTIFICATION and the speaker lives on', async (_, bytes, notification) => {
    await until(() => speaker.peers[0]!.session.connections.size === 0);
    const peer = await RawPeer.open(speaker.listenPort, 65002, MP_V4);
    peer.send(bytes);
    await until(() => peer.closed);
    expect(peer.messages.find((m) => m.type === 'NOTIFICATION')).toMatchObject(notification);
    peer.close();
  });
});

describe('old BGP speaker (no 4-octet AS capability)', () => {
  it('sees AS_TRANS in OPEN and AS_PATH, and our real AS in AS4_PATH', async () => {
    await until(() => speaker.peers[0]!.session.connections.size === 0);
    const peer = await RawPeer.open(speaker.listenPort, 65002, [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }]);
    const open = peer.messages.find((m) => m.type === 'OPEN');
    expect(open).toMatchObject({ myAs: 23456, as4: 4200000001 });
    await until(() => peer.messages.some((m) => m.type === 'UPDATE' && m.nlri.length > 0));
    const announcement = peer.messages.find((m): m is UpdateMessage => m.type === 'UPDATE' && m.nlri.length > 0)!;
    expect(announcement.layout!.map((a) => a.code)).toEqual(expect.arrayContaining([2, 17]));
    // Decoded as an old speaker would merge it (RFC 6793 4.2.3): the real AS is back.
    expect(announcement.attributes.asPath).toEqual([{ type: 'sequence', asns: [4200000001] }]);
    peer.close();
  });
});

describe('maximum-prefix', () => {
  it('closes the session with Cease/1 (AFI, SAFI, limit) and says why in the log', async () => {
    const lines: string[] = [];
    const limited = new Speaker(
      readConfig({ routerId: '10.0.0.1', localAs: 65001, listen: { address: '127.0.0.1', port: 0 }, peers: [{ address: '127.0.0.2', asn: 65002, passive: true, maxPrefixes: 2 }] }, 'test.yaml'),
      (level, m) => lines.push(`${level} ${m}`),
    );
    await limited.start();
    try {
      const peer = await RawPeer.open(limited.listenPort, 65002, MP_V4);
      peer.send(update(GOOD, [...PREFIX_A, ...PREFIX_B, 24, 10, 0, 2]));
      await until(() => peer.closed);
      expect(peer.messages.find((m) => m.type === 'NOTIFICATION')).toMatchObject({ code: 6, subcode: 1, data: '00010100000002' });
      expect(lines.some((l) => l.includes('maximum-prefix exceeded: 3 ipv4-unicast prefixes received, limit 2'))).toBe(true);
      await until(() => limited.rib(1).prefixCount === 0);
      peer.close();
    } finally {
      await limited.stop();
    }
  });
});
