// Shared steps of the feature clause tests (ADD-PATH, graceful restart, route refresh, route
// reflection, communities): announce from a tester slot with the attributes its role needs,
// watch another slot for propagation, prove that something was NOT propagated against a control
// prefix that was, and read the SUT's capabilities from its OPEN.
import type { Capability, PathAttributes, Route, UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { isEndOfRib } from '../../reference/bgp/wire/index.ts';
import { announces, defaultCapabilities, ExpectationFailed, withdraws, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';

/** RFC 1997 well-known communities. */
export const NO_EXPORT = '65535:65281';
export const NO_ADVERTISE = '65535:65282';
export const NO_EXPORT_SUBCONFED = '65535:65283';

/** The default tester capabilities plus `extra` (a capability of the same code replaces the default one). */
export function capsWith(asn: number, ...extra: Capability[]): Capability[] {
  return [...defaultCapabilities(asn).filter((c) => !extra.some((e) => e.code === c.code)), ...extra];
}

/** The capability with this code in the SUT's OPEN on this session, if any. */
export function sutCapability<C extends number>(peer: TesterPeer, code: C): Extract<Capability, { code: C }> | undefined {
  return peer.openReceived()?.capabilities.find((c) => c.code === code) as Extract<Capability, { code: C }> | undefined;
}

/** Ends the test as skipped when the SUT's OPEN lacks capability `code`. */
export function requireSutCapability<C extends number>(t: ClauseContext, peer: TesterPeer, code: C, name: string): Extract<Capability, { code: C }> {
  const cap = sutCapability(peer, code);
  if (!cap) t.skip(`the SUT does not offer the ${name} capability (${code}) in its OPEN`);
  return cap;
}

/**
 * The attributes slot i sends with a route: ORIGIN IGP, AS_PATH its AS (eBGP) or empty (iBGP,
 * with LOCAL_PREF 100), NEXT_HOP its own address; `extra` adds or overrides.
 */
export function routeAttributes(t: ClauseContext, i: number, extra: PathAttributes = {}): PathAttributes {
  const slot = t.slots[i]!;
  const ibgp = slot.asn === t.sut.asn;
  return {
    origin: 'igp',
    asPath: ibgp ? [] : [{ type: 'sequence', asns: [slot.asn] }],
    nextHop: slot.address,
    ...(ibgp ? { localPref: 100 } : {}),
    ...extra,
  };
}

/** An UPDATE announcing IPv4 prefixes (or routes with path ids) from slot i, with routeAttributes(t, i, extra). */
export function routeUpdate(t: ClauseContext, i: number, routes: Array<string | Route>, extra: PathAttributes = {}): UpdateMessage {
  return { type: 'UPDATE', withdrawn: [], attributes: routeAttributes(t, i, extra), nlri: routes.map((r) => (typeof r === 'string' ? { prefix: r } : r)) };
}

/** Announces IPv4 prefixes (or routes with path ids) from slot i's session. */
export function announce(t: ClauseContext, peer: TesterPeer, i: number, routes: Array<string | Route>, extra: PathAttributes = {}): void {
  peer.sendMessage(routeUpdate(t, i, routes, extra));
}

/**
 * Observer slot 1 up first, then slot 0's session (`source`; a plain establish unless given)
 * announces `routes` with `extra`; returns once the observer got the first route's prefix, with
 * that UPDATE.
 */
export async function announcedToObserver(t: ClauseContext, routes: Array<string | Route>, o: { extra?: PathAttributes; source?: () => Promise<TesterPeer> } = {}): Promise<{ observer: TesterPeer; source: TesterPeer; u: UpdateMessage }> {
  const observer = await establish(t, 1);
  const source = await (o.source ? o.source() : establish(t, 0));
  announce(t, source, 0, routes, o.extra);
  const first = routes[0]!;
  const u = await observer.expectAnnounced(typeof first === 'string' ? first : first.prefix);
  return { observer, source, u };
}

/** Withdraws IPv4 prefixes (or routes with path ids). */
export function withdraw(peer: TesterPeer, routes: Array<string | Route>): void {
  peer.sendMessage({ type: 'UPDATE', withdrawn: routes.map((r) => (typeof r === 'string' ? { prefix: r } : r)), attributes: {}, nlri: [] });
}

/** Waits until the SUT has sent its initial table on this session (its originated IPv4 route, then a quiet second), and skips it. */
export async function settle(t: ClauseContext, peer: TesterPeer): Promise<void> {
  await peer.expectAnnounced(t.sut.originates.ipv4, 10_000);
  await peer.next(() => false, 1000);
  peer.drain();
}

/**
 * `prefix` is not announced to `observer`, proven against `control`, which the test announced
 * (from the same source, after `prefix`) and which must arrive: after it, one more quiet
 * interval without `prefix`.
 */
export async function expectNotPropagated(observer: TesterPeer, prefix: string, control: string, why: string, timeoutMs = 10_000): Promise<void> {
  const m = await observer.next((x): x is UpdateMessage => x.type === 'UPDATE' && (announces(x, prefix) || announces(x, control)), timeoutMs);
  if (!m) throw new ExpectationFailed(`${observer.label}: the control prefix ${control} (announced after ${prefix}) never arrived within ${timeoutMs} ms, so the absence of ${prefix} proves nothing`, observer.transcript);
  if (announces(m, prefix)) throw new ExpectationFailed(`${observer.label}: ${prefix} was announced although ${why}`, observer.transcript);
  await observer.expectNoUpdate((u) => announces(u, prefix), `announcing ${prefix} (${why})`, 1500);
}

/** No UPDATE withdrawing `prefix` for `ms` (the SUT still uses the route). */
export function expectNotWithdrawn(observer: TesterPeer, prefix: string, why: string, ms: number): Promise<void> {
  return observer.expectNoUpdate((u) => withdraws(u, prefix), `withdrawing ${prefix} (${why})`, ms);
}

/** The session is still up (no NOTIFICATION received, TCP open). */
export function expectStillUp(peer: TesterPeer, after: string): void {
  peer.sync();
  const n = peer.notification();
  if (n) throw new ExpectationFailed(`${peer.label}: the SUT reset the session after ${after}: NOTIFICATION ${n.code}/${n.subcode}`, peer.transcript);
  if (peer.closed) throw new ExpectationFailed(`${peer.label}: the SUT closed the connection after ${after}`, peer.transcript);
}

/** The next End-of-RIB marker for this AFI (1 IPv4: empty UPDATE; 2 IPv6: MP_UNREACH without NLRI). */
export function isEndOfRibFor(u: UpdateMessage, afi: number): boolean {
  if (!isEndOfRib(u)) return false;
  return afi === 1 ? !u.attributes.mpUnreach : u.attributes.mpUnreach?.afi === afi;
}

/** Routes of `prefix` in one UPDATE (IPv4 NLRI or MP_REACH), with their path ids. */
export function routesOf(u: UpdateMessage, prefix: string): Route[] {
  return [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].filter((r) => r.prefix === prefix);
}

/** Polls receivedFrom(i) until `ok` holds (true) or the time runs out (false); null when the RIB cannot be read. */
export async function pollReceived(t: ClauseContext, i: number, ok: (s: Set<string>) => boolean, timeoutMs: number): Promise<boolean | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const set = await t.receivedFrom(i);
    if (set === null) return null;
    if (ok(set)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * t.establish, tried again (every 2 s for up to 16 s) when the SUT refuses the session before
 * Established: a slot handed over from the previous test may still have its old session in the
 * SUT (FRR notices the closed connection a moment later and answers Cease / Connection Collision
 * Resolution meanwhile), or the SUT holds the peer in Idle for a while after a session ended
 * (GoBGP closes connections it accepts then; RFC 4271 8 IdleHoldTimer). Every attempt stays in
 * the test's transcripts.
 */
export async function establish(t: ClauseContext, i = 0, open?: Parameters<ClauseContext['establish']>[1]): Promise<TesterPeer> {
  const deadline = Date.now() + 16_000;
  for (;;) {
    try {
      return await t.establish(i, open);
    } catch (err) {
      const early = err instanceof ExpectationFailed && /did not reach Established|expected the SUT's OPEN/.test(err.message);
      if (!early || Date.now() + 2000 > deadline) throw err;
      await pause(2000);
    }
  }
}

/** Tests get 60 s (or their own longer time) since establish() may wait out a SUT's idle hold for each session. */
export function patient(tests: ClauseTest[]): ClauseTest[] {
  return tests.map((test) => ({ ...test, timeoutMs: Math.max(test.timeoutMs ?? 0, 60_000) }));
}

/** Sleeps without a wall-clock assertion. */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
