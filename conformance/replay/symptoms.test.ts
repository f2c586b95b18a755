import { describe, expect, it } from 'vitest';
import { encodeMessage, type BgpMessage } from '../../reference/bgp/wire/index.ts';
import type { PlayerEvent } from './player.ts';
import { bytesToHex } from './recording.ts';
import { checkExpect, evaluate, ExpectError, verdictOf, type ExpectFile, type ReplayObservation, type SymptomResult } from './symptoms.ts';

const hex = (m: BgpMessage) => bytesToHex(encodeMessage(m));
const ourOpen = hex({ type: 'OPEN', version: 4, myAs: 65001, holdTime: 9, bgpId: '10.0.0.1', as4: 65001, capabilities: [{ code: 65, name: 'as4', asn: 65001 }] });
const theirOpen = hex({ type: 'OPEN', version: 4, myAs: 65002, holdTime: 3, bgpId: '10.0.0.2', as4: 65002, capabilities: [{ code: 65, name: 'as4', asn: 65002 }] });
const theirUpdate = hex({
  type: 'UPDATE',
  withdrawn: [],
  nlri: [{ prefix: '192.0.2.0/24' }, { prefix: '192.0.2.0/24' }],
  attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65002] }], nextHop: '10.0.0.2' },
});
const notification = hex({ type: 'NOTIFICATION', code: 3, subcode: 1, data: '' });

function observation(extra: PlayerEvent[], rib: ReplayObservation['ribs'] = {}): ReplayObservation {
  return {
    events: [
      { kind: 'received', t: 0, type: 'OPEN', hex: theirOpen },
      { kind: 'sent', t: 0, index: 0, type: 'OPEN', hex: ourOpen },
      { kind: 'state', t: 0, state: 'OpenConfirm' },
      ...extra,
    ],
    ribs: rib,
  };
}

const expectFile: ExpectFile = {
  bug: 'peer resets with 3/1',
  symptoms: [{ 'peer-sends-notification': { code: 3, subcode: 1 } }, { 'route-absent': { prefix: '10.1.0.0/24' } }],
  healthy: [{ 'session-established': null }, { 'peer-sends-no-notification': null }, { 'route-present': { prefix: '10.1.0.0/24', nexthop: '10.0.0.1' } }],
  observe: [{ 'peer-sends-route': { prefix: '192.0.2.0/24' } }, { 'path-ids-duplicated': null }, { 'peer-sends-no-routes': null }],
};

describe('symptoms', () => {
  it('judges a session where the peer reset: bug present', () => {
    const obs = observation([{ kind: 'received', t: 1, type: 'NOTIFICATION', hex: notification }, { kind: 'state', t: 1, state: 'Idle' }], { peer: [] });
    const ev = evaluate(expectFile, obs);
    expect(ev.verdict).toBe('bug-present');
    expect(ev.symptoms.every((r) => r.holds)).toBe(true);
    expect(ev.healthy.find((r) => r.symptom.startsWith('peer-sends-no-notification'))).toMatchObject({ holds: false, detail: 'the peer sent 3/1' });
  });

  it('judges a healthy session: pass, and decodes what the peer announced', () => {
    const obs = observation(
      [{ kind: 'received', t: 1, type: 'KEEPALIVE', hex: hex({ type: 'KEEPALIVE' }) }, { kind: 'state', t: 1, state: 'Established' }, { kind: 'received', t: 2, type: 'UPDATE', hex: theirUpdate }],
      { peer: [{ prefix: '10.1.0.0/24', nexthops: ['10.0.0.1'], table: 'rib' }] },
    );
    const ev = evaluate(expectFile, obs);
    expect(ev.verdict).toBe('pass');
    expect(ev.observed.map((r) => r.holds)).toEqual([true, true, false]);
  });

  it('is "fail" when neither the healthy nor the field behaviour shows', () => {
    const obs = observation([{ kind: 'received', t: 1, type: 'NOTIFICATION', hex: hex({ type: 'NOTIFICATION', code: 6, subcode: 2, data: '' }) }], { peer: [] });
    expect(evaluate(expectFile, obs).verdict).toBe('fail');
  });

  it('a route without a usable next hop is absent; a missing RIB says so', () => {
    const ev = evaluate(expectFile, observation([], { peer: [{ prefix: '10.1.0.0/24', nexthops: [], table: 'rib' }] }));
    expect(ev.symptoms[1]!.holds).toBe(true);
    const none = evaluate({ ...expectFile, healthy: [{ 'route-present': { node: 'other', prefix: '10.1.0.0/24' } }] }, observation([]));
    expect(none.healthy[0]).toMatchObject({ judged: false, detail: 'no RIB was read from node "other"' });
  });

  describe('a peer whose RIB cannot be read (a device): route checks are not judged', () => {
    const device = (extra: PlayerEvent[]) => ({ ...observation(extra), unreadable: { peer: 'the device\'s RIB is not read (its profile has no rib query)' } });
    const established: PlayerEvent[] = [{ kind: 'received', t: 1, type: 'KEEPALIVE', hex: hex({ type: 'KEEPALIVE' }) }, { kind: 'state', t: 1, state: 'Established' }];
    const reset: PlayerEvent[] = [{ kind: 'received', t: 1, type: 'NOTIFICATION', hex: notification }, { kind: 'state', t: 1, state: 'Idle' }];

    it('reports the route checks as not judged, with the reason, and decides from the rest when it can', () => {
      const ev = evaluate(expectFile, device(reset));
      expect(ev.symptoms[1]).toMatchObject({ judged: false, holds: false, detail: "the device's RIB is not read (its profile has no rib query)" });
      // The judged healthy checks fail, and the one judged symptom (3/1) holds: the reset is the bug.
      expect(ev.verdict).toBe('bug-present');
      expect(ev.reason).toMatch(/^2 checks not judged: the device's RIB is not read/);
    });

    it('is undecided, not fail, when the unjudged check is the one that would decide', () => {
      // The session is fine, but whether the route arrived (healthy) or not (symptom) is unknown.
      const onlyRoutes: ExpectFile = { ...expectFile, symptoms: [{ 'route-absent': { prefix: '10.1.0.0/24' } }] };
      const ev = evaluate(onlyRoutes, device(established));
      expect(ev.verdict).toBe('undecided');
      expect(ev.reason).toBe(
        "nothing decisive: every judged healthy check holds but 1 could not be judged, no symptom check could be judged (2 checks not judged: the device's RIB is not read (its profile has no rib query))",
      );
      // The same replay with the RIB read decides.
      const read = evaluate(onlyRoutes, { ...observation(established), ribs: { peer: [{ prefix: '10.1.0.0/24', nexthops: ['10.0.0.1'], table: 'rib' }] } });
      expect(read).toMatchObject({ verdict: 'pass' });
      expect(read.reason).toBeUndefined();
    });

    it('passes when a judged symptom rules the bug out although a healthy route check is unjudged', () => {
      const sessionBug: ExpectFile = { ...expectFile, symptoms: [{ 'peer-sends-notification': { code: 3 } }] };
      expect(evaluate(sessionBug, device(established)).verdict).toBe('pass');
    });
  });

  it('verdictOf: fully judged lists keep the old rule (pass before bug-present, else fail)', () => {
    const r = (holds: boolean, judged = true): SymptomResult => ({ symptom: 'x', judged, holds, detail: judged ? 'seen' : 'unreadable' });
    expect(verdictOf([r(true)], [r(true)])).toEqual({ verdict: 'pass' });
    expect(verdictOf([r(false)], [r(true)])).toEqual({ verdict: 'bug-present' });
    expect(verdictOf([r(false)], [r(false)])).toEqual({ verdict: 'fail' });
    expect(verdictOf([r(true), r(false, false)], [r(false, false)]).verdict).toBe('undecided');
    expect(verdictOf([r(false), r(false, false)], [r(false, false)]).verdict).toBe('undecided');
    expect(verdictOf([r(false, false)], [r(false, false)]).reason).toMatch(/^nothing decisive: no healthy check could be judged, no symptom check could be judged/);
    expect(verdictOf([r(false), r(true, false)], [r(false), r(true, false)])).toMatchObject({ verdict: 'fail', reason: '2 checks not judged: unreadable' });
  });

  it('rejects a bad expect file naming the field', () => {
    expect(() => checkExpect({ symptoms: [], healthy: [] }, 'x.yaml')).toThrow(/x.yaml: bug:/);
    expect(() => checkExpect({ bug: 'b', symptoms: [{ 'route-gone': {} }], healthy: [{ 'session-established': null }] }, 'x.yaml')).toThrow(/symptoms\[0\]: unknown check "route-gone"/);
    expect(() => checkExpect({ bug: 'b', symptoms: [{ 'route-absent': {} }], healthy: [{ 'session-established': null }] }, 'x.yaml')).toThrow(ExpectError);
    expect(() => checkExpect({ bug: 'b', symptoms: [{ 'peer-sends-notification': { subcode: 1 } }], healthy: [{ 'session-established': null }] }, 'x.yaml')).toThrow(/code/);
  });
});
