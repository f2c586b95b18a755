import { describe, expect, it } from 'vitest';
import { BgpError, decodeMessage, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { announceBytes, judgeStep, MALFORMED_STEPS, prefixBytes, type MalformedStep } from './malformed-updates.ts';

const parts = { as4: true, asn: 65100, nextHop: '10.0.1.2', ibgp: false };
const step = (id: string) => MALFORMED_STEPS.find((s) => s.id === id)!;

describe('the bytes fed to the speaker', () => {
  it('a well-formed announcement decodes to the prefix, AS_PATH and next hop', () => {
    const u = decodeMessage(announceBytes(parts, '198.51.100.0/24'), { as4: true }) as UpdateMessage;
    expect(u.nlri).toEqual([{ prefix: '198.51.100.0/24' }]);
    expect(u.attributes).toMatchObject({ origin: 'igp', nextHop: '10.0.1.2', asPath: [{ type: 'sequence', asns: [65100] }] });
    expect(u.errors ?? []).toEqual([]);
    const old = decodeMessage(announceBytes({ ...parts, as4: false }, '198.51.100.0/24'), { as4: false }) as UpdateMessage;
    expect(old.attributes.asPath).toEqual([{ type: 'sequence', asns: [65100] }]);
    const ibgp = decodeMessage(announceBytes({ ...parts, ibgp: true }, '198.51.100.0/24'), { as4: true }) as UpdateMessage;
    expect(ibgp.attributes).toMatchObject({ asPath: [], localPref: 100 });
  });

  it('prefix bytes carry only the significant octets', () => {
    expect(prefixBytes('203.0.113.0/24')).toEqual([24, 203, 0, 113]);
    expect(prefixBytes('10.0.0.0/8')).toEqual([8, 10]);
  });

  // Our own codec is an independent reading of RFC 7606: each malformed message must get the
  // action the step expects from the speaker.
  it.each(MALFORMED_STEPS.flatMap((s) => [false, true].map((ibgp) => [`${s.id}${ibgp ? ' (iBGP)' : ''}`, s, ibgp] as [string, MalformedStep, boolean])))('%s: the codec prescribes the expected action', (_, s, ibgp) => {
    const bytes = s.build({ ...parts, ibgp }, '198.51.100.0/24');
    if (s.expected.kind === 'session-reset') {
      let error: unknown;
      try {
        decodeMessage(bytes, { as4: true });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BgpError);
      expect({ code: (error as BgpError).code, subcode: (error as BgpError).subcode }).toEqual({ code: s.expected.code, subcode: s.expected.subcode });
    } else {
      const u = decodeMessage(bytes, { as4: true }) as UpdateMessage;
      expect(u.errors?.map((e) => e.action)).toContain(s.expected.kind);
    }
  });
});

describe('judgeStep', () => {
  it('accepts the prescribed action', () => {
    expect(judgeStep(step('origin-invalid'), { closed: false, present: false })).toEqual({ action: 'treat-as-withdraw (route gone)', finding: null });
    expect(judgeStep(step('atomic-aggregate-length'), { closed: false, present: true }).finding).toBeNull();
    expect(judgeStep(step('nlri-length-33'), { closed: true, notification: { code: 3, subcode: 10 }, present: false }).finding).toBeNull();
  });

  it('names a reset where RFC 7606 keeps the session, and the wrong subcode', () => {
    expect(judgeStep(step('origin-invalid'), { closed: true, notification: { code: 3, subcode: 6 }, present: false }).finding).toBe(
      'ORIGIN value 7 (RFC 7606 7.1): expected treat-as-withdraw, got session-reset 3/6',
    );
    expect(judgeStep(step('withdrawn-length-overrun'), { closed: true, notification: { code: 3, subcode: 3 }, present: false }).finding).toMatch(/expected session-reset 3\/1, got session-reset 3\/3/);
    expect(judgeStep(step('nlri-length-33'), { closed: true, present: null }).action).toBe('session closed without NOTIFICATION');
  });

  it('names a route kept where it must be withdrawn, and a session kept where it must reset', () => {
    expect(judgeStep(step('next-hop-missing'), { closed: false, present: true }).finding).toMatch(/expected treat-as-withdraw, got attribute-discard/);
    expect(judgeStep(step('atomic-aggregate-length'), { closed: false, present: false }).finding).toMatch(/expected attribute-discard, got treat-as-withdraw/);
    expect(judgeStep(step('nlri-length-33'), { closed: false, present: true }).finding).toMatch(/got session kept/);
  });

  it('with routes unobservable, only the session outcome is judged', () => {
    expect(judgeStep(step('origin-invalid'), { closed: false, present: null })).toEqual({ action: 'session kept (routes not observable)', finding: null });
  });
});
