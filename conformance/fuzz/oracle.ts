// What the RFCs prescribe for one message, as the codec classifies it (the same decoder the
// reference speaker runs): a BgpError is a session reset with its code/subcode (RFC 4271 6), an
// UPDATE's `errors` carry the RFC 7606 action (treat-as-withdraw, attribute discard, AFI/SAFI
// disable); then the judgement of what the SUT did with a batch of such messages.
import { BgpError, decodeMessage, type CodecContext, type Route, type UpdateMessage } from '../../reference/bgp/wire/index.ts';

export type ExpectedAction = 'accept' | 'attribute-discard' | 'treat-as-withdraw' | 'afi-safi-disable' | 'session-reset';

export interface NotificationCode {
  code: number;
  /** absent: any subcode */
  subcode?: number;
}

export interface Expectation {
  action: ExpectedAction;
  /** the NOTIFICATION the RFC prescribes (session-reset), or the error the codec found (for the record) */
  error?: NotificationCode & { text: string; attribute?: number };
  /** NOTIFICATIONs the RFCs also allow for this message (e.g. 3/11 for a first AS other than the peer's, RFC 4271 6.3 MAY) */
  alsoAllowed: NotificationCode[];
  /** prefixes the message announces that must not be in the SUT's RIB afterwards (treat-as-withdraw) */
  mustBeAbsent: string[];
  /** prefixes it announces validly (accept, attribute discard) */
  announces: string[];
}

/** Attributes an eBGP speaker discards (the fuzzer's slots are eBGP: ebgp and addpath roles). */
const EBGP_DISCARDED = new Set([5, 9, 10]);

const SEVERITY: ExpectedAction[] = ['accept', 'attribute-discard', 'treat-as-withdraw', 'afi-safi-disable'];

function prefixesOf(routes: readonly Route[]): string[] {
  return routes.map((r) => r.prefix);
}

/** The RFC action for `bytes` sent on a session whose sending direction has context `ctx`, from an eBGP peer of AS `peerAsn` (the fuzzer's sessions are all eBGP). */
export function expectationOf(bytes: Uint8Array, ctx: CodecContext, peerAsn: number): Expectation {
  let message;
  try {
    message = decodeMessage(bytes, ctx);
  } catch (error) {
    if (!(error instanceof BgpError)) throw error;
    return { action: 'session-reset', error: { code: error.code, subcode: error.subcode, text: error.message }, alsoAllowed: [], mustBeAbsent: [], announces: [] };
  }
  if (message.type === 'UNKNOWN') return { action: 'session-reset', error: { code: 1, subcode: 3, text: `header: bad message type ${message.typeCode}` }, alsoAllowed: [], mustBeAbsent: [], announces: [] };
  if (message.type === 'OPEN') return { action: 'session-reset', error: { code: 5, text: 'OPEN in Established: FSM error (RFC 6608 subcode 3)' }, alsoAllowed: [{ code: 2 }], mustBeAbsent: [], announces: [] };
  if (message.type !== 'UPDATE') return { action: 'accept', alsoAllowed: [], mustBeAbsent: [], announces: [] };
  return updateExpectation(message, peerAsn);
}

function updateExpectation(m: UpdateMessage, peerAsn: number): Expectation {
  const announced = [...prefixesOf(m.nlri), ...prefixesOf(m.attributes.mpReach?.nlri ?? [])];
  const alsoAllowed: NotificationCode[] = [];
  // RFC 4271 6.3: a speaker MAY check that an eBGP peer's AS is leftmost in AS_PATH and reset with 3/11.
  const first = m.attributes.asPath?.[0];
  if (announced.length > 0 && m.attributes.asPath && (!first || first.type !== 'sequence' || first.asns[0] !== peerAsn)) alsoAllowed.push({ code: 3, subcode: 11 });
  let action: ExpectedAction = 'accept';
  let error: Expectation['error'];
  for (const found of m.errors ?? []) {
    // RFC 7606 7.5, 7.9, 7.10: LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from an external
    // neighbour are discarded whatever their length (the codec does not know the session type).
    const e = EBGP_DISCARDED.has(found.attribute ?? -1) ? { ...found, action: 'attribute-discard' as const } : found;
    if (SEVERITY.indexOf(e.action) > SEVERITY.indexOf(action)) {
      action = e.action;
      error = { code: e.code, subcode: e.subcode, text: e.message, ...(e.attribute !== undefined ? { attribute: e.attribute } : {}) };
    }
  }
  // RFC 7606 3: AFI/SAFI disable and session reset are both allowed where the NLRI cannot be parsed.
  if (action === 'afi-safi-disable') alsoAllowed.push({ code: 3 }, { code: 6 });
  return { action, ...(error ? { error } : {}), alsoAllowed, mustBeAbsent: action === 'treat-as-withdraw' ? announced : [], announces: action === 'accept' || action === 'attribute-discard' ? announced : [] };
}

/** What the SUT did with a batch. */
export interface Observed {
  notification?: { code: number; subcode: number };
  /** the SUT closed the TCP connection (after a NOTIFICATION or not) */
  closed: boolean;
  /** the fence (ROUTE-REFRESH answered, or the settle time) passed with the session up */
  settled: boolean;
  /** ms since the SUT last sent anything, when the batch was judged */
  silentMs: number;
  /** TCP connect to the slot refused after the session ended */
  refusedAfter?: boolean;
  /** prefixes the SUT holds from the slot although the RFC said withdraw (null: RIB not read) */
  acceptedMalformed?: string[] | null;
}

export type FindingKind =
  | 'sut-died'
  | 'closed-without-notification'
  | 'unresponsive'
  | 'unexpected-reset'
  | 'wrong-code'
  | 'wrong-subcode'
  | 'missing-reset'
  | 'route-accepted';

export interface Verdict {
  kind: FindingKind;
  /** groups findings that are the same bug: kind, what was expected and what the SUT did */
  signature: string;
  text: string;
  /** the NOTIFICATION the SUT sent, and what the RFC prescribes (for expect.yaml) */
  observed?: NotificationCode;
  expected?: NotificationCode;
  /** the prefix accepted from a malformed UPDATE */
  prefix?: string;
}

const fmt = (n: NotificationCode | undefined) => (n ? `${n.code}/${n.subcode ?? '*'}` : 'none');
const allows = (list: NotificationCode[], n: { code: number; subcode: number }) => list.some((a) => a.code === n.code && (a.subcode === undefined || a.subcode === n.subcode));

/**
 * The finding a batch shows, or null. `expectations` are the batch's messages in order; only the
 * last may be a session reset (the fuzzer ends a batch there).
 */
export function judge(expectations: Expectation[], observed: Observed, holdTimeMs: number): Verdict | null {
  const last = expectations[expectations.length - 1];
  const reset = last?.action === 'session-reset' ? last : undefined;
  const n = observed.notification;
  const guilty = reset ?? expectations.find((e) => e.action !== 'accept') ?? last;
  const what = guilty?.error ? `${guilty.action} (${guilty.error.text})` : (guilty?.action ?? 'accept');
  if (observed.closed && !n) {
    if (observed.refusedAfter) return { kind: 'sut-died', signature: `sut-died|${what}`, text: `the SUT closed the session without NOTIFICATION and refused connections afterwards (RFC: ${what})`, expected: reset?.error };
    return { kind: 'closed-without-notification', signature: `closed-without-notification|${guilty?.action}|${guilty?.error?.attribute ?? ''}`, text: `the SUT closed the session without NOTIFICATION (RFC: ${what})`, expected: reset?.error };
  }
  if (n) {
    if (n.code === 4) return null; // hold timer expiry: our keepalives were late (a loaded machine), not the message
    if (!reset) {
      const allowed = expectations.some((e) => allows(e.alsoAllowed, n));
      if (allowed) return null;
      return { kind: 'unexpected-reset', signature: `unexpected-reset|${guilty?.action}|${guilty?.error?.attribute ?? ''}|${n.code}/${n.subcode}`, text: `the SUT reset the session with ${n.code}/${n.subcode} where the RFC prescribes ${what}`, observed: n, ...(guilty?.error ? { expected: guilty.error } : {}) };
    }
    const want = reset.error!;
    if (n.code === want.code && (want.subcode === undefined || n.subcode === want.subcode)) return null;
    if (allows(reset.alsoAllowed, n) || expectations.some((e) => allows(e.alsoAllowed, n))) return null;
    const kind: FindingKind = n.code === want.code ? 'wrong-subcode' : 'wrong-code';
    return { kind, signature: `${kind}|${fmt(want)}|${n.code}/${n.subcode}`, text: `the SUT sent NOTIFICATION ${n.code}/${n.subcode} where the RFC prescribes ${fmt(want)} (${want.text})`, observed: n, expected: want };
  }
  if (!observed.settled && observed.silentMs > holdTimeMs) return { kind: 'unresponsive', signature: `unresponsive|${guilty?.action}`, text: `the SUT sent nothing for ${Math.round(observed.silentMs / 1000)} s (hold time ${holdTimeMs / 1000} s) after ${what}` };
  if (reset && observed.settled) return { kind: 'missing-reset', signature: `missing-reset|${fmt(reset.error)}`, text: `the SUT kept the session where the RFC prescribes NOTIFICATION ${fmt(reset.error)} (${reset.error!.text})`, expected: reset.error };
  if (observed.acceptedMalformed?.length) {
    const prefix = observed.acceptedMalformed[0]!;
    const e = expectations.find((x) => x.mustBeAbsent.includes(prefix));
    return { kind: 'route-accepted', signature: `route-accepted|${e?.error?.subcode ?? ''}|${e?.error?.attribute ?? ''}`, text: `the SUT holds ${prefix} from an UPDATE the RFC says to treat as withdraw (${e?.error?.text ?? '?'})`, prefix };
  }
  return null;
}

/**
 * Prefixes RFC 7606 leaves withdrawn after these messages (a session's so far): announced only by
 * treat-as-withdraw messages. A prefix also announced validly (another path id, an earlier or
 * later message) is not judged: the prefix-level RIB view cannot tell the paths apart.
 */
export function mustBeAbsentAfter(expectations: Expectation[]): string[] {
  const valid = new Set(expectations.flatMap((e) => e.announces));
  return [...new Set(expectations.flatMap((e) => e.mustBeAbsent))].filter((p) => !valid.has(p));
}
