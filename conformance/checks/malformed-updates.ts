// The malformed UPDATEs negative.malformed-update feeds a speaker, each with the action RFC 7606
// (or RFC 4271 6.3 for session resets) prescribes, and the verdict on what the speaker did.
// Bytes are hand-built: the codec would refuse to encode them.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';

export interface UpdateParts {
  /** 4-octet AS numbers in AS_PATH (both sides offered capability 65). */
  as4: boolean;
  /** The sender's AS (first and only AS_PATH member on eBGP). */
  asn: number;
  /** Same AS: AS_PATH empty, LOCAL_PREF present (RFC 4271 5.1.5; its absence is an error of its own). */
  ibgp: boolean;
  nextHop: string;
}

export type ExpectedAction = { kind: 'treat-as-withdraw' } | { kind: 'attribute-discard' } | { kind: 'session-reset'; code: number; subcode: number };

export interface MalformedStep {
  id: string;
  rfc: string;
  what: string;
  expected: ExpectedAction;
  /** The malformed UPDATE for `prefix` (announced well-formed just before, for the first two kinds). */
  build(parts: UpdateParts, prefix: string): Uint8Array;
}

const octets = (address: string) => address.split('.').map(Number);

export function prefixBytes(prefix: string): number[] {
  const [address, lenText] = prefix.split('/');
  const len = Number(lenText);
  return [len, ...octets(address!).slice(0, Math.ceil(len / 8))];
}

const ORIGIN_IGP = [0x40, 1, 1, 0];
function asPath({ as4, asn, ibgp }: UpdateParts): number[] {
  if (ibgp) return [0x40, 2, 0];
  const member = as4 ? [(asn >>> 24) & 255, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255] : [(asn >>> 8) & 255, asn & 255];
  return [0x40, 2, 2 + member.length, 2, 1, ...member];
}
const nextHop = (p: UpdateParts) => [0x40, 3, 4, ...octets(p.nextHop)];
const localPref = (p: UpdateParts) => (p.ibgp ? [0x40, 5, 4, 0, 0, 0, 100] : []);

/** Well-formed attributes in type order; `origin` and `withNextHop` let a step break one. */
function attributes(p: UpdateParts, origin = ORIGIN_IGP, withNextHop = true): number[] {
  return [...origin, ...asPath(p), ...(withNextHop ? nextHop(p) : []), ...localPref(p)];
}

export function goodAttributes(p: UpdateParts): number[] {
  return attributes(p);
}

export function announceBytes(p: UpdateParts, prefix: string): Uint8Array {
  return rawUpdate(goodAttributes(p), prefixBytes(prefix));
}

export const MALFORMED_STEPS: readonly MalformedStep[] = [
  {
    id: 'origin-invalid',
    rfc: 'RFC 7606 7.1',
    what: 'ORIGIN value 7',
    expected: { kind: 'treat-as-withdraw' },
    build: (p, prefix) => rawUpdate(attributes(p, [0x40, 1, 1, 7]), prefixBytes(prefix)),
  },
  {
    id: 'next-hop-missing',
    rfc: 'RFC 7606 3(d)',
    what: 'well-known mandatory NEXT_HOP missing',
    expected: { kind: 'treat-as-withdraw' },
    build: (p, prefix) => rawUpdate(attributes(p, ORIGIN_IGP, false), prefixBytes(prefix)),
  },
  {
    id: 'atomic-aggregate-length',
    rfc: 'RFC 7606 7.6',
    what: 'ATOMIC_AGGREGATE of length 1',
    expected: { kind: 'attribute-discard' },
    build: (p, prefix) => rawUpdate([...goodAttributes(p), 0x40, 6, 1, 0], prefixBytes(prefix)),
  },
  {
    id: 'nlri-length-33',
    rfc: 'RFC 7606 5.3 / RFC 4271 6.3',
    what: 'an IPv4 NLRI of length 33',
    expected: { kind: 'session-reset', code: 3, subcode: 10 },
    build: (p) => rawUpdate(goodAttributes(p), [33, 10, 0, 0, 0, 0]),
  },
  {
    id: 'withdrawn-length-overrun',
    rfc: 'RFC 7606 4 / RFC 4271 6.3',
    what: 'Withdrawn Routes Length beyond the message',
    expected: { kind: 'session-reset', code: 3, subcode: 1 },
    build: (p, prefix) => {
      const m = rawUpdate(goodAttributes(p), prefixBytes(prefix));
      m[19] = 0x0f;
      return m;
    },
  },
];

export interface StepObservation {
  /** NOTIFICATION the speaker sent after the step, if any. */
  notification?: { code: number; subcode: number };
  /** The session was closed after the step. */
  closed: boolean;
  /** Whether the step's prefix is in the speaker's Adj-RIB-In afterwards; null when unobservable. */
  present: boolean | null;
}

export interface StepVerdict {
  /** What the speaker did, in the RFC's words. */
  action: string;
  /** Why it is wrong; null when it is what the RFC prescribes (or all that could be seen agrees). */
  finding: string | null;
}

export function judgeStep(step: MalformedStep, seen: StepObservation): StepVerdict {
  const expected = step.expected;
  const wanted = expected.kind === 'session-reset' ? `session-reset ${expected.code}/${expected.subcode}` : expected.kind;
  const wrong = (action: string) => ({ action, finding: `${step.what} (${step.rfc}): expected ${wanted}, got ${action}` });
  if (seen.notification || seen.closed) {
    const action = seen.notification ? `session-reset ${seen.notification.code}/${seen.notification.subcode}` : 'session closed without NOTIFICATION';
    if (expected.kind !== 'session-reset') return wrong(action);
    return action === wanted ? { action, finding: null } : wrong(action);
  }
  if (expected.kind === 'session-reset') return wrong('session kept');
  if (seen.present === null) return { action: 'session kept (routes not observable)', finding: null };
  const action = seen.present ? 'attribute-discard (route kept)' : 'treat-as-withdraw (route gone)';
  if ((expected.kind === 'treat-as-withdraw') === !seen.present) return { action, finding: null };
  return wrong(action);
}
