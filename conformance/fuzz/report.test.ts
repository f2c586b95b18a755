// What a finding's fixture states: the symptom the SUT showed, and the RFC's outcome as healthy.
import { describe, expect, it } from 'vitest';
import type { Finding } from './fuzzer.ts';
import type { Verdict } from './oracle.ts';
import { expectOf } from './report.ts';

const finding = (verdict: Verdict, mode: Finding['mode'] = 'session'): Finding => ({ id: '001', verdict, mode, role: 'ebgp', count: 1, firstCase: 0, labels: [], original: [], others: [] });

describe('expectOf', () => {
  it('a reset where RFC 7606 keeps the session: healthy is the session kept, not the NOTIFICATION of the error RFC 7606 handles', () => {
    const v: Verdict = { kind: 'unexpected-reset', signature: 's', text: 't', observed: { code: 3, subcode: 10 }, expected: { code: 3, subcode: 5 } };
    expect(expectOf(finding(v))).toEqual({ symptoms: [{ 'peer-sends-notification': { code: 3, subcode: 10 } }], healthy: [{ 'peer-keeps-session': null }] });
  });

  it('a wrong subcode: healthy is the RFC\'s NOTIFICATION', () => {
    const v: Verdict = { kind: 'wrong-subcode', signature: 's', text: 't', observed: { code: 3, subcode: 1 }, expected: { code: 3, subcode: 2 } };
    expect(expectOf(finding(v))?.healthy).toEqual([{ 'peer-sends-notification': { code: 3, subcode: 2 } }]);
  });

  it('a close without NOTIFICATION: healthy is the RFC\'s reset when it prescribes one, else the session kept', () => {
    const reset: Verdict = { kind: 'closed-without-notification', signature: 's', text: 't', expected: { code: 3, subcode: 10 } };
    const keep: Verdict = { kind: 'closed-without-notification', signature: 's', text: 't' };
    expect(expectOf(finding(reset))).toEqual({ symptoms: [{ 'peer-closes-without-notification': null }], healthy: [{ 'peer-sends-notification': { code: 3, subcode: 10 } }] });
    expect(expectOf(finding(keep))?.healthy).toEqual([{ 'peer-keeps-session': null }]);
  });

  it('a route kept from a treat-as-withdraw UPDATE: present is the symptom, absent healthy; silence has no fixture', () => {
    expect(expectOf(finding({ kind: 'route-accepted', signature: 's', text: 't', prefix: '100.64.1.0/24' }))).toEqual({ symptoms: [{ 'route-present': { prefix: '100.64.1.0/24' } }], healthy: [{ 'route-absent': { prefix: '100.64.1.0/24' } }] });
    expect(expectOf(finding({ kind: 'unresponsive', signature: 's', text: 't' }))).toBeNull();
  });
});
