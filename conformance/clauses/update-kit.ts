// Shared pieces of the UPDATE clause tests (rfc4271-update.ts, rfc7606.ts): the path attributes
// of a plain route from a tester slot, sending hand-built UPDATEs, and judging what the SUT did
// with a route. The judge is propagation to an observer slot (the SUT announces or withdraws the
// prefix toward it), which every SUT can be asked for; where the SUT's RIB can be read
// (receivedFrom) it is checked as well.
import { rawUpdate } from '../../reference/bgp/raw-peer.ts';
import { ErrorCode, type AsPathSegment, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { asPath4, attribute, ipv4Nlri, nextHop, origin, u32 } from '../tester/bytes.ts';
import type { SlotRole, TesterSlot } from '../tester/sut.ts';
import { announces, describeMessage, ExpectationFailed, withdraws, type TesterPeer } from '../tester/tester-peer.ts';
import type { ClauseContext, ClauseTest } from './clause.ts';

/** Attribute flag octets: well-known, optional non-transitive, optional transitive, Partial, Extended Length. */
export const WELL_KNOWN = 0x40;
export const OPTIONAL = 0x80;
export const OPTIONAL_TRANSITIVE = 0xc0;
export const PARTIAL = 0x20;
export const EXTENDED = 0x10;


/** The header of an UPDATE clause test: sender slot 0 and observer slot 1 unless `slots` says otherwise. */
export interface RouteTestCase {
  id: string;
  rfc: string;
  level: ClauseTest['level'];
  negative?: boolean;
  title: string;
  slots?: SlotRole[];
}

/** A clause test on `c.slots` (default two eBGP slots: sender, observer); an iBGP slot among them adds `needs: ['ibgp']`. */
export function routeTest(c: RouteTestCase, run: ClauseTest['run']): ClauseTest {
  const slots = c.slots ?? ['ebgp', 'ebgp'];
  return {
    id: c.id,
    rfc: c.rfc,
    level: c.level,
    ...(c.negative ? { negative: true } : {}),
    title: c.title,
    slots,
    ...(slots.includes('ibgp') ? { needs: ['ibgp' as const] } : {}),
    run,
  };
}

/**
 * RFC 7606 5.3 for a malformed prefix field: after `bytes` on the session that announced `prefix`
 * (announcedRoute), the SUT resets it within 3 s with UPDATE Message Error and one of `subcodes`,
 * or sends no NOTIFICATION and disables the family: `prefix` is withdrawn from the observer.
 */
export async function resetOrFamilyDisabled(r: { a: TesterPeer; watch: Watch }, prefix: string, bytes: Uint8Array, what: string, subcodes: number[], expected: string): Promise<void> {
  r.a.sendMessage(bytes, what);
  const n = await r.a.next((m) => m.type === 'NOTIFICATION', 3000);
  if (n && n.type === 'NOTIFICATION') {
    if (n.code !== ErrorCode.UPDATE || !subcodes.includes(n.subcode)) throw new ExpectationFailed(`${r.a.label}: expected ${expected}, got ${n.code}/${n.subcode}`, r.a.transcript);
    return;
  }
  if (r.a.closed) throw new ExpectationFailed(`${r.a.label}: the SUT closed the session without a NOTIFICATION`, r.a.transcript);
  await r.watch.gone(prefix); // AFI/SAFI disable: the session's IPv4 routes are gone
}

export const isInternal = (slot: TesterSlot): boolean => slot.role === 'ibgp' || slot.role === 'rr-client';

export interface RouteOptions {
  /** ASNs after the slot's own (eBGP) or the whole path (iBGP). */
  path?: number[];
  /** ORIGIN value: 0 IGP, 1 EGP, 2 INCOMPLETE */
  origin?: number;
  med?: number;
  /** LOCAL_PREF; iBGP slots send 100 unless told */
  localPref?: number;
  /** Attribute bytes by type code, replacing the default one; null leaves it out. */
  replace?: Record<number, number[] | null>;
  /** Attribute bytes appended after the others. */
  extra?: number[];
}

/**
 * The path attributes of a plain route from `slot` as hand-built octets, for the UPDATEs the codec
 * would refuse to encode (feature-helpers' routeAttributes is the same route for the codec):
 * ORIGIN IGP, AS_PATH (the slot's AS first on eBGP), NEXT_HOP the slot's own address, LOCAL_PREF
 * 100 on iBGP; in type-code order, then `extra`.
 */
export function rawRouteAttributes(slot: TesterSlot, o: RouteOptions = {}): number[] {
  const internal = isInternal(slot);
  const parts = new Map<number, number[]>();
  parts.set(1, origin(o.origin ?? 0));
  parts.set(2, asPath4(...(internal ? [] : [slot.asn]), ...(o.path ?? [])));
  parts.set(3, nextHop(slot.address));
  if (o.med !== undefined) parts.set(4, attribute(OPTIONAL, 4, u32(o.med)));
  if (internal || o.localPref !== undefined) parts.set(5, attribute(WELL_KNOWN, 5, u32(o.localPref ?? 100)));
  for (const [code, bytes] of Object.entries(o.replace ?? {})) {
    if (bytes) parts.set(Number(code), bytes);
    else parts.delete(Number(code));
  }
  return [...[...parts.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, bytes]) => bytes), ...(o.extra ?? [])];
}

/** Sends a hand-built UPDATE announcing `prefix` with these attribute octets (nothing checked). */
export function announceRaw(peer: TesterPeer, prefix: string, attributes: readonly number[], what: string): void {
  peer.sendMessage(rawUpdate(attributes, ipv4Nlri(prefix)), `UPDATE ${prefix}: ${what}`);
}

/** Sends an UPDATE withdrawing `prefix`. */
export function withdraw(peer: TesterPeer, prefix: string): void {
  peer.sendMessage(rawUpdate([], [], ipv4Nlri(prefix)), `UPDATE withdrawing ${prefix}`);
}

/** The ASNs of an AS_PATH, segments flattened. */
export const pathAsns = (path: AsPathSegment[] | undefined): number[] => (path ?? []).flatMap((s) => s.asns);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The session stays up: no NOTIFICATION and no close for a second. */
export async function stillUp(peer: TesterPeer, ms = 1000): Promise<void> {
  await peer.expectNoNotification(ms);
}

/**
 * What the SUT did with routes from slot `from`, seen by the observer session (another slot):
 * each judgement waits for the UPDATE toward the observer, and also for the SUT's RIB when it
 * can be read.
 */
export class Watch {
  constructor(
    private readonly t: ClauseContext,
    private readonly from: number,
    readonly observer: TesterPeer,
  ) {}

  /** The SUT announces `prefix` to the observer (and holds it from `from`); returns that UPDATE. */
  async present(prefix: string, ms = 10_000): Promise<UpdateMessage> {
    const u = await this.observer.expectAnnounced(prefix, ms);
    await this.rib(prefix, true, ms);
    return u;
  }

  /** The SUT withdraws `prefix` from the observer (and no longer holds it from `from`). */
  async gone(prefix: string, ms = 10_000): Promise<UpdateMessage> {
    const u = await this.observer.expectWithdrawn(prefix, ms);
    await this.rib(prefix, false, ms);
    return u;
  }

  /** The next UPDATE toward the observer that announces or withdraws `prefix`. */
  next(prefix: string, ms = 10_000): Promise<UpdateMessage> {
    return this.observer.expectUpdate((u) => announces(u, prefix) || withdraws(u, prefix), `announcing or withdrawing ${prefix}`, ms);
  }

  /**
   * `prefix` was never used: `sender` (slot `from`) announces `sentinel` with good attributes
   * after the UPDATE under test; once the SUT has handled the sentinel (announced to the
   * observer, in its RIB) and a grace second passed, no UPDATE toward the observer announced
   * `prefix` and the RIB does not hold it.
   */
  async neverUsed(sender: TesterPeer, prefix: string, sentinel: string, sentinelAttributes: number[]): Promise<void> {
    announceRaw(sender, sentinel, sentinelAttributes, 'a well-formed route sent after the one under test');
    await this.present(sentinel);
    await sleep(1000);
    this.observer.sync();
    const seen = this.observer.messages.find((m) => m.type === 'UPDATE' && announces(m, prefix));
    if (seen) throw new ExpectationFailed(`${this.observer.label}: the SUT announced ${prefix}, which it should have ignored: ${describeMessage(seen)}`, this.observer.transcript);
    const rib = await this.t.receivedFrom(this.from);
    if (rib?.has(prefix)) throw new ExpectationFailed(`the SUT's RIB holds ${prefix} from ${this.t.slots[this.from]!.address}, which it should have ignored`, sender.transcript);
  }

  private async rib(prefix: string, want: boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rib = await this.t.receivedFrom(this.from);
      if (rib === null || rib.has(prefix) === want) return;
      if (Date.now() > deadline) {
        throw new ExpectationFailed(`the SUT's RIB ${want ? 'lacks' : 'still holds'} ${prefix} from ${this.t.slots[this.from]!.address}`, this.observer.transcript);
      }
      await sleep(50);
    }
  }
}

/**
 * Slots: sender 0, observer 1. Sessions up (observer first), a well-formed route for `prefix`
 * from the sender seen by the observer.
 */
export async function announcedRoute(t: ClauseContext, prefix: string, options: RouteOptions = {}): Promise<{ a: TesterPeer; b: TesterPeer; watch: Watch; first: UpdateMessage }> {
  const b = await t.establish(1);
  const a = await t.establish(0);
  const watch = new Watch(t, 0, b);
  announceRaw(a, prefix, rawRouteAttributes(t.slots[0]!, options), 'well-formed');
  const first = await watch.present(prefix);
  return { a, b, watch, first };
}

/** `n` bytes of IPv4 prefixes from 10.`net`.0.0 up: /24s of 4 bytes, and up to three /32s of 5 for the remainder. */
export function prefixFiller(n: number, net: number): number[] {
  const out: number[] = [];
  const longOnes = n % 4;
  const shortOnes = (n - 5 * longOnes) / 4;
  if (shortOnes < 0 || !Number.isInteger(shortOnes)) throw new Error(`cannot fill ${n} bytes with prefixes`);
  for (let i = 0; i < longOnes; i++) out.push(32, 10, net, 255, i + 1);
  for (let i = 0; i < shortOnes; i++) out.push(24, 10, net + (i >> 8), i & 255);
  return out;
}

/**
 * An UPDATE of exactly `size` octets announcing `prefix` with the plain route attributes of
 * `slot`, padded up to the size either with withdrawn routes (IPv4 prefixes from 10.`net`.0.0,
 * see prefixFiller) or, for `padding: 'attribute'`, with an unknown optional non-transitive
 * attribute (type 250, Extended Length, octets 0x5a) after the others.
 */
export function sizedUpdate(slot: TesterSlot, prefix: string, size: number, padding: { withdrawnFrom: number } | 'attribute'): Uint8Array {
  const attributes = rawRouteAttributes(slot);
  const nlri = ipv4Nlri(prefix);
  const room = size - 23 - attributes.length - nlri.length;
  const bytes =
    padding === 'attribute'
      ? rawUpdate([...attributes, ...attribute(OPTIONAL | EXTENDED, 250, new Array<number>(room - 4).fill(0x5a))], nlri)
      : rawUpdate(attributes, nlri, prefixFiller(room, padding.withdrawnFrom));
  if (bytes.length !== size) throw new Error(`built ${bytes.length} octets, wanted ${size}`);
  return bytes;
}
