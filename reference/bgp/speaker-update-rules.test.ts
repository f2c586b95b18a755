// RFC 4271 rules for what the speaker takes from an UPDATE and what it passes on, with raw peers
// on loopback: unrecognized optional attributes (5), LOCAL_PREF from an external peer (5.1.5,
// RFC 7606 7.5), a NEXT_HOP that is the speaker's own address (6.3), and a route whose
// attributes no longer fit one UPDATE once passed on (RFC 8654 4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import { RawPeer, rawUpdate as update, until } from './raw-peer.ts';
import { Speaker } from './speaker.ts';
import type { Capability, UpdateMessage } from './wire/index.ts';

const caps = (asn: number): Capability[] => [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, { code: 65, name: 'as4', asn }];
const open = (port: number, address: string, asn: number) =>
  RawPeer.open({ host: '127.0.0.1', port, localAddress: address }, { asn, bgpId: address, holdTime: 90, capabilities: caps(asn) });

const ORIGIN_IGP = [0x40, 1, 1, 0];
const AS_PATH_65002 = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea];
const nextHop = (...a: number[]) => [0x40, 3, 4, ...a];
const GOOD = [...ORIGIN_IGP, ...AS_PATH_65002, ...nextHop(127, 0, 0, 2)];

let speaker: Speaker;
let from: RawPeer;
let ebgp: RawPeer;
let ibgp: RawPeer;
const logs: string[] = [];

const announced = (peer: RawPeer, prefix: string) => peer.messages.find((m): m is UpdateMessage => m.type === 'UPDATE' && m.nlri.some((r) => r.prefix === prefix));

beforeAll(async () => {
  speaker = new Speaker(
    readConfig(
      {
        routerId: '10.0.0.1',
        localAs: 65001,
        holdTime: 90,
        listen: { address: '127.0.0.1', port: 0 },
        peers: [
          { address: '127.0.0.2', asn: 65002, passive: true },
          { address: '127.0.0.3', asn: 65003, passive: true },
          { address: '127.0.0.4', asn: 65001, passive: true },
        ],
      },
      'test.yaml',
    ),
    (level, m) => logs.push(`${level} ${m}`),
  );
  await speaker.start();
  ebgp = await open(speaker.listenPort, '127.0.0.3', 65003);
  ibgp = await open(speaker.listenPort, '127.0.0.4', 65001);
  from = await open(speaker.listenPort, '127.0.0.2', 65002);
});
afterAll(async () => {
  for (const p of [from, ebgp, ibgp]) p?.close();
  await speaker.stop();
});

describe('what the speaker passes on', () => {
  it('drops an unrecognized optional non-transitive attribute and passes a transitive one with the Partial bit (RFC 4271 5)', async () => {
    from.send(update([...GOOD, 0x80, 205, 1, 9, 0xc0, 206, 1, 7], [24, 10, 0, 0]));
    await until(() => announced(ebgp, '10.0.0.0/24') !== undefined);
    expect(announced(ebgp, '10.0.0.0/24')!.attributes.unknown).toEqual([{ code: 206, flags: 0xe0, hex: '07' }]);
  });

  it('ignores LOCAL_PREF from an external peer: internal peers get the default (RFC 4271 5.1.5)', async () => {
    from.send(update([...GOOD, 0x40, 5, 4, 0, 0, 0x10, 0x92], [24, 10, 0, 1]));
    await until(() => announced(ibgp, '10.0.1.0/24') !== undefined);
    expect(announced(ibgp, '10.0.1.0/24')!.attributes.localPref).toBe(100);
  });

  it('ignores a route whose NEXT_HOP is its own address, without a NOTIFICATION (RFC 4271 6.3)', async () => {
    from.send(update([...ORIGIN_IGP, ...AS_PATH_65002, ...nextHop(127, 0, 0, 1)], [24, 10, 0, 2]));
    from.send(update(GOOD, [24, 10, 0, 3]));
    await until(() => announced(ebgp, '10.0.3.0/24') !== undefined);
    const received = speaker.receivedRoutes(speaker.peers[0]!).map((r) => r.prefix);
    expect(received).toContain('10.0.3.0/24');
    expect(received).not.toContain('10.0.2.0/24');
    expect(logs.some((l) => l.includes('NEXT_HOP 127.0.0.1') && l.includes('own address'))).toBe(true);
    expect(from.closed).toBe(false);
  });
  it('discards a malformed LOCAL_PREF, ORIGINATOR_ID or CLUSTER_LIST from an external peer and uses the route (RFC 7606 7.5, 7.9, 7.10)', async () => {
    from.send(update([...GOOD, 0x40, 5, 2, 0, 100], [24, 10, 0, 4]));
    from.send(update([...GOOD, 0x80, 9, 3, 10, 0, 0], [24, 10, 0, 5]));
    from.send(update([...GOOD, 0x80, 10, 3, 10, 0, 0], [24, 10, 0, 6]));
    from.send(update([...GOOD, 0x80, 9, 4, 10, 9, 9, 9], [24, 10, 0, 7]));
    await until(() => ['10.0.4.0/24', '10.0.5.0/24', '10.0.6.0/24', '10.0.7.0/24'].every((p) => announced(ibgp, p) !== undefined));
    expect(announced(ibgp, '10.0.7.0/24')!.attributes.originatorId).toBeUndefined();
    expect(from.closed).toBe(false);
  });

  it('withdraws, rather than resets the session, a route whose attributes no longer fit 4096 octets once passed on (RFC 8654 4, RFC 4271 9.2)', async () => {
    const big = [0xd0, 207, 0x0f, 0xc8, ...new Array<number>(4040).fill(7)]; // optional transitive, 4040 octets
    from.send(update(GOOD, [24, 10, 0, 9]));
    await until(() => announced(ebgp, '10.0.9.0/24') !== undefined);
    from.send(update([...GOOD, ...big], [24, 10, 0, 9]));
    const withdrawn = () => ebgp.messages.some((m) => m.type === 'UPDATE' && m.withdrawn.some((r) => r.prefix === '10.0.9.0/24'));
    await until(withdrawn);
    from.send(update(GOOD, [24, 10, 0, 10]));
    await until(() => announced(ebgp, '10.0.10.0/24') !== undefined && announced(ibgp, '10.0.10.0/24') !== undefined);
    expect(ebgp.closed).toBe(false);
    expect(ibgp.closed).toBe(false);
    expect(speaker.receivedRoutes(speaker.peers[0]!).map((r) => r.prefix)).toContain('10.0.9.0/24');
    expect(logs.some((l) => l.startsWith('warn') && l.includes('do not fit one UPDATE'))).toBe(true);
  });
});
