import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpv4, parseMac } from './addresses.ts';
import { L2Announcer, type AnnouncerEvent } from './announcer.ts';
import { FAST_FAILOVER_TIMING } from './election.ts';
import { ARP_REPLY, ARP_REQUEST, decodeArp, encodeArp } from './frames.ts';
import { FileLeaseStore } from './lease-store.ts';
import type { FrameLink } from './links.ts';
import { parseVip } from './responder.ts';

const CLIENT = parseMac('02:00:00:00:00:20');
const WHO_HAS_VIP = encodeArp({
  ethDst: parseMac('ff:ff:ff:ff:ff:ff'), ethSrc: CLIENT, op: ARP_REQUEST,
  senderMac: CLIENT, senderIp: parseIpv4('10.0.5.20'), targetMac: new Uint8Array(6), targetIp: parseIpv4('10.0.5.100'),
});

function node(store: FileLeaseStore, identity: string, mac: string) {
  const sent: Uint8Array[] = [];
  const events: AnnouncerEvent[] = [];
  const link: FrameLink = { interfaceName: 'net0', mac: parseMac(mac), send: (f) => sent.push(f), close() {} };
  const announcer = new L2Announcer({
    identity, store, timing: FAST_FAILOVER_TIMING, onEvent: (e) => events.push(e),
    services: [{ lease: 'svc', vips: [parseVip('10.0.5.100')] }],
  });
  return { announcer, link, sent, events, start: () => announcer.start([link]) };
}

let directory: string;
beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
  directory = mkdtempSync(join(tmpdir(), 'peerproof-announcer-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(directory, { recursive: true, force: true });
});

describe('L2Announcer', () => {
  it('answers and announces only on the lease holder, and hands over on release', async () => {
    const store = new FileLeaseStore(directory);
    const a = node(store, 'node1', '02:00:00:00:00:11');
    const b = node(store, 'node2', '02:00:00:00:00:12');
    a.start();
    b.start();
    await vi.advanceTimersByTimeAsync(600);
    expect(a.events.filter((e) => e.event === 'announced').map((e) => e.event === 'announced' && e.round)).toEqual([0, 1, 2]);
    expect(a.sent.map((f) => decodeArp(f)!.op)).toEqual([ARP_REQUEST, ARP_REQUEST, ARP_REQUEST]); // gratuitous ARPs
    expect(b.events).toContainEqual({ event: 'follower', lease: 'svc', holder: 'node1' });

    a.announcer.handleFrame(WHO_HAS_VIP, a.link);
    b.announcer.handleFrame(WHO_HAS_VIP, b.link);
    expect(decodeArp(a.sent.at(-1)!)!.op).toBe(ARP_REPLY);
    expect(b.sent).toHaveLength(0);

    a.announcer.stop(true);
    await vi.advanceTimersByTimeAsync(FAST_FAILOVER_TIMING.retryIntervalMs);
    expect(b.events.some((e) => e.event === 'leader')).toBe(true);
    const before = a.sent.length;
    a.announcer.handleFrame(WHO_HAS_VIP, a.link);
    b.announcer.handleFrame(WHO_HAS_VIP, b.link);
    expect(a.sent).toHaveLength(before);
    expect(decodeArp(b.sent.at(-1)!)!.op).toBe(ARP_REPLY);
    b.announcer.stop(false);
  });

  it('stops answering on its own when it cannot renew, and reports a lasting store fault once', async () => {
    const store = new FileLeaseStore(directory);
    const a = node(store, 'node1', '02:00:00:00:00:11');
    a.start();
    await vi.advanceTimersByTimeAsync(50);
    writeFileSync(join(directory, 'svc', '000000000099.json'), 'not json');
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.events.filter((e) => e.event === 'error')).toHaveLength(1);
    expect(a.events).toContainEqual({ event: 'lost', lease: 'svc' });
    const before = a.sent.length;
    a.announcer.handleFrame(WHO_HAS_VIP, a.link);
    expect(a.sent).toHaveLength(before);
    a.announcer.stop(false);
  });

  it('refuses a VIP given to two services', () => {
    const store = new FileLeaseStore(directory);
    const vips = [parseVip('10.0.5.100')];
    expect(() => new L2Announcer({ identity: 'n', store, timing: FAST_FAILOVER_TIMING, services: [{ lease: 'a', vips }, { lease: 'b', vips }] }))
      .toThrow('VIP 10.0.5.100 is in both lease a and lease b');
  });
});
