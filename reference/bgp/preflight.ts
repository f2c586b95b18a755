// `peerproof preflight`: from a node, one BGP session to a real top-of-rack with the reference
// speaker (speaker.ts, unchanged), a report of what the two OPENs negotiated, a test prefix
// advertised, proof that the peer accepted it, and a clean withdraw + Cease on the way out.
//
// Proof of acceptance: a router advertises only routes it has accepted (import policy passed,
// best path chosen), so the test prefix arriving FROM the peer is the proof. Routers do not send
// a route back to the session it came from, hence the observer: a second session from another
// local address of this node (`observer`), which the peer must also have as a neighbour (or in a
// dynamic listen range). The observer advertises nothing; the prefix appearing there after we
// advertised it (and absent before) means the peer took it. A peer that does echo on the first
// session (FRR does when several peers share its update group) proves it too. Nothing seen within
// the timeout is "not accepted" (an import filter, or a peer that does not pass it on to the
// observer: iBGP without route reflection, or sender-side AS loop detection when the observer
// uses our AS; the report says which of those may apply).
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readConfig, type FamilyName, type SpeakerConfig } from './config.ts';
import { parsePrefix } from './prefix.ts';
import type { Negotiated, PeerSession } from './session.ts';
import { Speaker } from './speaker.ts';
import { decodeMessage, endOfRibFamily, errorText, familyKey, type AddPathMode, type Capability, type PathAttributes, type UpdateMessage } from './wire/index.ts';

export interface PreflightOptions {
  /** The peer's address: required, an IP literal, never a wildcard. */
  peer: string;
  peerAs: number;
  localAs: number;
  peerPort?: number;
  localAddress?: string;
  routerId?: string;
  holdTime?: number;
  /** IP TTL of our packets (eBGP multihop); unset: 1 for eBGP, 255 for iBGP. */
  multihop?: number;
  families?: FamilyName[];
  /** ADD-PATH offered for every family (default both, so the report shows what the peer does). */
  addPath?: AddPathMode | 'off';
  /** Test prefixes (or VIPs as /32, /128) to advertise and check. */
  prefixes?: string[];
  /** Next hop of the test prefixes (default: our session address). */
  nextHop?: string;
  /** A second local address for the observer session, and its AS (default localAs). */
  observer?: { address: string; asn?: number };
  /** How long to wait for the session, and then for the proof of acceptance. */
  timeoutMs?: number;
  /** After the checks, keep the sessions up until `stop()` (Ctrl-C). */
  watch?: boolean;
}

export type PreflightEvent =
  | { event: 'log'; session: SessionRole; level: 'info' | 'warn' | 'error'; message: string }
  | { event: 'established'; session: SessionRole; local: string; peerRouterId: string; holdTime: number }
  | { event: 'down'; session: SessionRole; reason: string }
  | { event: 'update'; session: SessionRole; announced: string[]; withdrawn: string[]; attributes?: RouteSummary }
  | { event: 'end-of-rib'; session: SessionRole; family: string }
  | { event: 'negotiated'; report: NegotiatedReport }
  | { event: 'advertised'; prefixes: string[] }
  | { event: 'accepted'; prefix: string; via: SessionRole; afterS: number; route: RouteSummary }
  | { event: 'not-accepted'; prefix: string; reason: string }
  | { event: 'withdrawn'; prefixes: string[]; confirmed: boolean }
  | { event: 'closed'; notification: string }
  | { event: 'watching' };

export type SessionRole = 'session' | 'observer';

export interface RouteSummary {
  asPath: string;
  nextHop?: string;
  communities?: string[];
  largeCommunities?: string[];
  med?: number;
  localPref?: number;
}

export interface CapabilityRow {
  capability: string;
  ours: string;
  peers: string;
  inUse: string;
}

export interface NegotiatedReport {
  local: string;
  peerRouterId: string;
  peerAs: number;
  as4: boolean;
  holdTime: { ours: number; peers: number; negotiated: number; keepalive: number };
  families: string[];
  addPath: Array<{ family: string; send: boolean; receive: boolean }>;
  capabilities: CapabilityRow[];
  ttl: { configured: number; inUse: number; control: string };
}

export interface PreflightResult {
  established: boolean;
  /** Why the session did not come up (the last error, or the peer's NOTIFICATION). */
  failure?: string;
  negotiated?: NegotiatedReport;
  receivedPrefixes: number;
  observer?: { established: boolean; failure?: string };
  prefixes: Array<{ prefix: string; accepted: boolean; via?: SessionRole; afterS?: number; route?: RouteSummary; reason?: string }>;
  withdrawn: boolean;
  exitCode: 0 | 1;
}

const FAMILY_NAMES: Record<string, FamilyName> = { [familyKey(1, 1)]: 'ipv4-unicast', [familyKey(2, 1)]: 'ipv6-unicast' };
const familyName = (afi: number, safi: number): string => FAMILY_NAMES[familyKey(afi, safi)] ?? `afi ${afi} safi ${safi}`;

/** Checks the options a user typed; every message names the flag. */
export function validatePreflight(o: PreflightOptions): void {
  if (!o.peer) throw new Error('--peer ADDRESS is required: preflight only talks to a peer you name');
  if (isIP(o.peer) === 0) throw new Error(`--peer "${o.peer}": expected an IPv4 or IPv6 address`);
  if (/^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(o.peer)) throw new Error(`--peer "${o.peer}": a wildcard address is not a peer`);
  for (const [flag, value] of [['--local-address', o.localAddress], ['--next-hop', o.nextHop], ['--observer', o.observer?.address]] as const) {
    if (value !== undefined && isIP(value) === 0) throw new Error(`${flag} "${value}": expected an IPv4 or IPv6 address`);
  }
  if (o.observer && o.observer.address === o.localAddress) throw new Error(`--observer ${o.observer.address} is the session's own --local-address: the observer needs a second address`);
  for (const prefix of o.prefixes ?? []) {
    const parsed = parsePrefix(prefix);
    if (typeof parsed === 'string') throw new Error(`--prefix "${prefix}": ${parsed}`);
  }
}

function defaultRouterId(localAddress: string | undefined): string {
  if (localAddress && isIP(localAddress) === 4) return localAddress;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no IPv4 address on this host to use as BGP identifier: give --router-id');
}

function speakerConfig(o: PreflightOptions, role: SessionRole, routerId: string): SpeakerConfig {
  const families = o.families ?? ['ipv4-unicast', 'ipv6-unicast'];
  const observer = role === 'observer';
  const peer: Record<string, unknown> = {
    name: role,
    address: o.peer,
    asn: o.peerAs,
    port: o.peerPort ?? 179,
    families,
    holdTime: o.holdTime ?? 90,
    connectRetry: 2,
    gracefulRestart: false,
  };
  const localAddress = observer ? o.observer!.address : o.localAddress;
  if (localAddress) peer.localAddress = localAddress;
  if (o.multihop !== undefined) peer.multihop = o.multihop;
  if (!observer && (o.addPath ?? 'both') !== 'off') peer.addPath = o.addPath ?? 'both';
  if (observer) peer.export = 'nothing';
  return readConfig(
    {
      routerId,
      localAs: observer ? (o.observer!.asn ?? o.localAs) : o.localAs,
      peers: [peer],
      ...(observer ? { policies: { nothing: { default: 'reject' } } } : {}),
    },
    `preflight ${role}`,
  );
}

function asPathText(attrs: PathAttributes): string {
  return (attrs.asPath ?? []).map((s) => (s.type === 'set' ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
}

function summarise(attrs: PathAttributes): RouteSummary {
  const route: RouteSummary = { asPath: asPathText(attrs) };
  const nextHop = attrs.mpReach?.nextHops[0] ?? attrs.nextHop;
  if (nextHop) route.nextHop = nextHop;
  if (attrs.communities?.length) route.communities = attrs.communities;
  if (attrs.largeCommunities?.length) route.largeCommunities = attrs.largeCommunities;
  if (attrs.med !== undefined) route.med = attrs.med;
  if (attrs.localPref !== undefined) route.localPref = attrs.localPref;
  return route;
}

/** Capabilities the codec keeps as raw bytes, by their IANA names. */
const OTHER_CAPABILITIES: Record<number, string> = {
  3: 'outbound route filtering',
  6: 'extended message',
  7: 'BGPsec',
  8: 'multiple labels',
  9: 'BGP role',
  67: 'dynamic capability',
  68: 'multisession',
  72: 'routing policy distribution',
  128: 'route-refresh (pre-standard, 128)',
};

function capabilityLabel(c: Capability): string {
  if (c.name === undefined) return OTHER_CAPABILITIES[c.code] ?? `capability ${c.code}`;
  switch (c.code) {
    case 1:
      return `multiprotocol ${familyName((c as { afi: number }).afi, (c as { safi: number }).safi)}`;
    case 65:
      return '4-octet AS';
    case 69:
      return 'add-path';
    default:
      return c.name;
  }
}

function capabilityValue(c: Capability): string {
  if (c.name === 'as4') return `AS ${c.asn}`;
  if (c.name === 'add-path') return c.entries.map((e) => `${familyName(e.afi, e.safi)} ${e.mode}`).join(', ');
  if (c.name === 'graceful-restart') return `restart time ${c.restartTime}s${c.restarting ? ', restarting' : ''}${c.notification ? ', N bit' : ''}`;
  if (c.name === 'extended-nexthop') return c.entries.map((e) => `${familyName(e.afi, e.safi)} via afi ${e.nextHopAfi}`).join(', ');
  if (c.name === 'fqdn') return `${c.hostname}${c.domain ? `.${c.domain}` : ''}`;
  if (c.name === 'long-lived-graceful-restart') return c.families.map((f) => `${familyName(f.afi, f.safi)} stale ${f.staleTime}s`).join(', ');
  if (c.name === undefined) return c.hex ? `0x${c.hex}` : 'yes';
  return 'yes';
}

/** What both OPENs said, side by side, and what is in use on the session. */
export function negotiatedReport(session: PeerSession, n: Negotiated, ttl: NegotiatedReport['ttl']): NegotiatedReport {
  const rows = new Map<string, CapabilityRow>();
  const row = (c: Capability) => {
    const key = capabilityLabel(c);
    if (!rows.has(key)) rows.set(key, { capability: key, ours: '-', peers: '-', inUse: '-' });
    return rows.get(key)!;
  };
  for (const c of n.localOpen.capabilities) row(c).ours = capabilityValue(c);
  for (const c of n.peerOpen.capabilities) row(c).peers = capabilityValue(c);
  const addPath = n.families.map((f) => ({ family: FAMILY_NAMES[f] ?? f, send: n.sendContext.addPath?.has(f) ?? false, receive: n.receiveContext.addPath?.has(f) ?? false }));
  for (const r of rows.values()) {
    if (r.capability.startsWith('multiprotocol ')) r.inUse = n.families.some((f) => FAMILY_NAMES[f] === r.capability.slice(14)) ? 'yes' : 'no';
    else if (r.capability === 'route-refresh') r.inUse = n.routeRefresh ? 'yes' : 'no';
    else if (r.capability === 'enhanced-route-refresh') r.inUse = n.enhancedRouteRefresh ? 'yes' : 'no';
    else if (r.capability === '4-octet AS') r.inUse = n.as4 ? 'yes' : 'no (2-octet AS peer: AS_TRANS)';
    else if (r.capability === 'graceful-restart') r.inUse = n.localGracefulRestart ? 'yes' : 'no';
    else if (r.capability === 'extended-nexthop') r.inUse = n.extendedNextHop ? 'yes' : 'no';
    else if (r.capability === 'add-path') {
      const used = addPath.filter((a) => a.send || a.receive).map((a) => `${a.family} ${a.send && a.receive ? 'both' : a.send ? 'we send' : 'we receive'}`);
      r.inUse = used.length > 0 ? used.join(', ') : 'no';
    }
  }
  return {
    local: session.established?.localAddress.replace(/^::ffff:(?=\d+\.)/, '') ?? '',
    peerRouterId: n.peerOpen.bgpId,
    peerAs: n.peerOpen.as4 ?? n.peerOpen.myAs,
    as4: n.as4,
    holdTime: { ours: n.localOpen.holdTime, peers: n.peerOpen.holdTime, negotiated: n.holdTime, keepalive: Math.floor(n.holdTime / 3) },
    families: n.families.map((f) => FAMILY_NAMES[f] ?? f),
    addPath,
    capabilities: [...rows.values()],
    ttl,
  };
}


/** What the peer currently sends one of our sessions: prefix -> path id (0 without ADD-PATH) -> route. */
class HeardRoutes {
  private readonly paths = new Map<string, Map<number, RouteSummary>>();
  private readonly latest = new Map<string, RouteSummary>();

  announce(prefix: string, pathId: number, route: RouteSummary): void {
    let byId = this.paths.get(prefix);
    if (!byId) this.paths.set(prefix, (byId = new Map()));
    byId.set(pathId, route);
    this.latest.set(prefix, route);
  }

  withdraw(prefix: string, pathId: number): void {
    const byId = this.paths.get(prefix);
    if (!byId) return;
    byId.delete(pathId);
    if (byId.size === 0) {
      this.paths.delete(prefix);
      this.latest.delete(prefix);
    }
  }

  has(prefix: string): boolean {
    return this.paths.has(prefix);
  }

  /** The route of the prefix's most recent announcement. */
  get(prefix: string): RouteSummary | undefined {
    return this.latest.get(prefix);
  }

  prefixes(): Array<[string, RouteSummary]> {
    return [...this.latest];
  }

  clear(): void {
    this.paths.clear();
    this.latest.clear();
  }
}

/** One preflight run; `stop()` (Ctrl-C) ends whatever it waits for and closes cleanly. */
export class Preflight {
  private readonly speaker: Speaker;
  private readonly observer: Speaker | null;
  private readonly started = Date.now();
  private stopRequested = false;
  private wake: () => void = () => undefined;
  /** Prefix -> route, as the peer currently sends it to each of our sessions. */
  private readonly heard: Record<SessionRole, HeardRoutes> = { session: new HeardRoutes(), observer: new HeardRoutes() };
  /** Prefix -> when it was last announced to us, per session. */
  private readonly heardAt: Record<SessionRole, Map<string, number>> = { session: new Map(), observer: new Map() };

  constructor(
    readonly options: PreflightOptions,
    private readonly emit: (event: PreflightEvent) => void,
  ) {
    validatePreflight(options);
    const routerId = options.routerId ?? defaultRouterId(options.localAddress);
    this.speaker = this.makeSpeaker('session', speakerConfig(options, 'session', routerId));
    this.observer = options.observer
      ? this.makeSpeaker('observer', speakerConfig(options, 'observer', isIP(options.observer.address) === 4 ? options.observer.address : routerId))
      : null;
  }

  /** Seconds since the start, for events. */
  elapsedS(): number {
    return (Date.now() - this.started) / 1000;
  }

  private makeSpeaker(role: SessionRole, config: SpeakerConfig): Speaker {
    const speaker = new Speaker(config, (level, message) => this.emit({ event: 'log', session: role, level, message }));
    // The speaker hands each whole UPDATE frame to its hooks object; we read a copy of it first
    // (also the ones the speaker then drops as an AS loop: the observer may share our AS).
    const session = speaker.peers[0]!.session;
    const hooks = session.hooks;
    const update = hooks.update.bind(hooks);
    hooks.update = (s, frame) => {
      this.onUpdate(role, s, frame);
      update(s, frame);
    };
    const established = hooks.established.bind(hooks);
    hooks.established = (s) => {
      const n = s.negotiated!;
      this.emit({ event: 'established', session: role, local: s.established?.localAddress ?? '', peerRouterId: n.peerOpen.bgpId, holdTime: n.holdTime });
      established(s);
      this.wake();
    };
    const down = hooks.down.bind(hooks);
    hooks.down = (s, reason, retain, negotiated) => {
      this.heard[role].clear();
      this.emit({ event: 'down', session: role, reason });
      down(s, reason, retain, negotiated);
      this.wake();
    };
    return speaker;
  }

  private onUpdate(role: SessionRole, session: PeerSession, frame: Uint8Array): void {
    let message: UpdateMessage;
    try {
      message = decodeMessage(frame, session.negotiated!.receiveContext) as UpdateMessage;
    } catch {
      return; // the speaker decodes it again and answers with the right NOTIFICATION
    }
    const eor = endOfRibFamily(message);
    if (eor) {
      this.emit({ event: 'end-of-rib', session: role, family: familyName(eor.afi, eor.safi) });
      this.wake();
      return;
    }
    // RFC 7606 treat-as-withdraw: the speaker withdraws the UPDATE's routes, and so do we.
    const treatAsWithdraw = message.errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;
    const reached = [...message.nlri, ...(message.attributes.mpReach?.nlri ?? [])];
    const withdrawnRoutes = [...message.withdrawn, ...(message.attributes.mpUnreach?.withdrawn ?? []), ...(treatAsWithdraw ? reached : [])];
    const announcedRoutes = treatAsWithdraw ? [] : reached;
    for (const r of withdrawnRoutes) this.heard[role].withdraw(r.prefix, r.pathId ?? 0);
    const route = announcedRoutes.length > 0 ? summarise(message.attributes) : undefined;
    for (const r of announcedRoutes) {
      this.heard[role].announce(r.prefix, r.pathId ?? 0, route!);
      this.heardAt[role].set(r.prefix, Date.now());
    }
    const withdrawn = withdrawnRoutes.map((r) => (r.pathId !== undefined ? `${r.prefix} (path ${r.pathId})` : r.prefix));
    const announced = announcedRoutes.map((r) => (r.pathId !== undefined ? `${r.prefix} (path ${r.pathId})` : r.prefix));
    this.emit({ event: 'update', session: role, announced, withdrawn, ...(route ? { attributes: route } : {}) });
    this.wake();
  }

  /** Resolves when `done()` holds, `stop()` is called, or the time is up; true when done. */
  private async waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.stopRequested || Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  }

  /** Ends the waits (and the watch) and lets run() withdraw and close. */
  stop(): void {
    this.stopRequested = true;
    this.wake();
  }

  async run(): Promise<PreflightResult> {
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? 30_000;
    const prefixes = (o.prefixes ?? []).map((p) => parsePrefix(p) as { prefix: string; afi: number });
    const result: PreflightResult = { established: false, receivedPrefixes: 0, prefixes: [], withdrawn: false, exitCode: 1 };
    const main = this.speaker.peers[0]!;
    const obs = this.observer?.peers[0];
    try {
      await Promise.all([this.speaker.start(), this.observer?.start()]);
      const up = () => main.session.established !== null && (!obs || obs.session.established !== null);
      // An OPEN refused by either side (wrong AS, hold time, no common family) will not heal by retrying.
      const refused = () => main.session.established === null && (main.session.lastNotificationReceived?.code === 2 || (main.session.lastError ?? '').startsWith('OPEN:'));
      await this.waitFor(() => up() || refused(), timeoutMs);
      if (!main.session.established) {
        const notification = main.session.lastNotificationReceived;
        result.failure = notification
          ? `the peer sent NOTIFICATION ${notification.code}/${notification.subcode} (${errorText(notification.code, notification.subcode)})`
          : `${main.session.lastError ?? 'no answer'} (state ${main.session.state} after ${(timeoutMs / 1000).toFixed(0)} s)`;
        return result;
      }
      result.established = true;
      const ttlControl = this.speaker.ttlControl.state;
      result.negotiated = negotiatedReport(main.session, main.session.negotiated!, {
        configured: this.speaker.ttlOf(main),
        inUse: this.speaker.ttlInUse(main),
        control: ttlControl.active ? `nftables table ${ttlControl.table}` : `off: ${ttlControl.reason}`,
      });
      this.emit({ event: 'negotiated', report: result.negotiated });
      if (obs) {
        result.observer = { established: obs.session.established !== null };
        if (!obs.session.established) result.observer.failure = `${obs.session.lastError ?? 'no answer'} (state ${obs.session.state})`;
      }
      if (prefixes.length === 0) {
        result.exitCode = 0;
      } else {
        await this.checkPrefixes(prefixes, result, timeoutMs);
        result.exitCode = result.prefixes.every((p) => p.accepted) ? 0 : 1;
      }
      // What the peer sent us meanwhile (its End-of-RIB, when it sends one, is usually in by now).
      result.receivedPrefixes = this.speaker.receivedRoutes(main).length;
      if (o.watch && !this.stopRequested) {
        this.emit({ event: 'watching' });
        await this.waitFor(() => false, Number.MAX_SAFE_INTEGER / 2);
      }
      return result;
    } finally {
      await this.close(prefixes, result);
    }
  }

  private async checkPrefixes(prefixes: Array<{ prefix: string; afi: number }>, result: PreflightResult, timeoutMs: number): Promise<void> {
    const main = this.speaker.peers[0]!;
    const obs = this.observer?.peers[0];
    const negotiated = main.session.negotiated!;
    // What the peer sends us before we advertise: each initial table ends with End-of-RIB (or give them 2 s).
    await this.waitFor(() => main.endOfRibReceived.size > 0 && (!obs?.session.established || obs.endOfRibReceived.size > 0), 2000);
    // A prefix the peer already sends us (from someone else) cannot show that it took ours.
    const before = new Map([...this.heard.session.prefixes(), ...this.heard.observer.prefixes()]);
    const pending: typeof prefixes = [];
    for (const p of prefixes) {
      const family = p.afi === 2 ? familyKey(2, 1) : familyKey(1, 1);
      const refuse = (reason: string) => {
        result.prefixes.push({ prefix: p.prefix, accepted: false, reason });
        this.emit({ event: 'not-accepted', prefix: p.prefix, reason });
      };
      if (!negotiated.families.includes(family)) refuse(`the session does not carry ${FAMILY_NAMES[family]} (the peer did not offer it): not advertised`);
      else if (before.has(p.prefix)) {
        refuse(`the peer already sent us ${p.prefix} (AS path ${before.get(p.prefix)!.asPath || '(empty)'}) before we advertised it: use a test prefix nobody else announces (not advertised)`);
      } else pending.push(p);
    }
    if (pending.length === 0) return;
    const advertisedAt = Date.now();
    for (const p of pending) this.speaker.announce({ prefix: p.prefix, afi: p.afi, origin: 'igp', ...(this.options.nextHop ? { nextHop: this.options.nextHop } : {}) });
    this.emit({ event: 'advertised', prefixes: pending.map((p) => p.prefix) });
    const seen = (prefix: string): SessionRole | null => {
      for (const role of ['observer', 'session'] as const) if ((this.heardAt[role].get(prefix) ?? 0) >= advertisedAt && this.heard[role].has(prefix)) return role;
      return null;
    };
    await this.waitFor(() => pending.every((p) => seen(p.prefix) !== null), timeoutMs);
    for (const p of pending) {
      const via = seen(p.prefix);
      if (via) {
        const afterS = (this.heardAt[via].get(p.prefix)! - advertisedAt) / 1000;
        const route = this.heard[via].get(p.prefix)!;
        result.prefixes.push({ prefix: p.prefix, accepted: true, via, afterS, route });
        this.emit({ event: 'accepted', prefix: p.prefix, via, afterS, route });
        continue;
      }
      const reason = this.notSeenReason(p.prefix, timeoutMs);
      result.prefixes.push({ prefix: p.prefix, accepted: false, reason });
      this.emit({ event: 'not-accepted', prefix: p.prefix, reason });
    }
  }

  private notSeenReason(prefix: string, timeoutMs: number): string {
    const o = this.options;
    const obs = this.observer?.peers[0];
    const wait = `${(timeoutMs / 1000).toFixed(0)} s`;
    if (this.stopRequested) return 'interrupted before the peer passed it on';
    if (!obs) {
      return `the peer did not send ${prefix} back within ${wait}, and without --observer ADDRESS nothing else can show that it accepted it (routers do not echo a route to the session it came from)`;
    }
    if (!obs.session.established) return `the observer session from ${o.observer!.address} is not up (${obs.session.lastError ?? obs.session.state}): acceptance cannot be shown`;
    const observerAs = o.observer!.asn ?? o.localAs;
    const caveats: string[] = [];
    if (o.localAs === o.peerAs) caveats.push('this is iBGP: the peer passes it to the observer only as a route reflector');
    if (observerAs === o.localAs && o.localAs !== o.peerAs) caveats.push(`the observer uses our AS ${o.localAs}: a peer with sender-side loop detection (GoBGP; FRR sender-as-path-loop-detection) keeps it from the observer, give --observer-as another AS the peer knows`);
    return `the peer did not pass ${prefix} on to the observer session within ${wait}: rejected by its import policy (a prefix filter)${caveats.length > 0 ? `, or ${caveats.join('; or ')}` : ''}`;
  }

  private async close(prefixes: Array<{ prefix: string; afi: number }>, result: PreflightResult): Promise<void> {
    const main = this.speaker.peers[0]!;
    const advertised = this.speaker.advertisedRoutes(main).map((r) => r.prefix);
    const ours = prefixes.filter((p) => advertised.includes(p.prefix));
    if (ours.length > 0 && main.session.established) {
      const wasSeen = ours.filter((p) => this.heard.observer.has(p.prefix) || this.heard.session.has(p.prefix));
      for (const p of ours) this.speaker.withdrawLocal(p.afi, p.prefix);
      // The withdrawal leaves with the next flush (MRAI 0: the next turn of the event loop).
      const stopping = this.stopRequested;
      this.stopRequested = false;
      await this.waitFor(() => this.speaker.advertisedRoutes(main).length === 0, 2000);
      const confirmed = await this.waitFor(() => wasSeen.every((p) => !this.heard.observer.has(p.prefix) && !this.heard.session.has(p.prefix)), 3000);
      this.stopRequested = stopping;
      result.withdrawn = true;
      this.emit({ event: 'withdrawn', prefixes: ours.map((p) => p.prefix), confirmed: confirmed && wasSeen.length > 0 });
    }
    const wasUp = main.session.established !== null;
    // Resolves once each session's socket is closed, i.e. the Cease has left.
    await Promise.all([this.speaker.stop(false), this.observer?.stop(false)]);
    if (wasUp) this.emit({ event: 'closed', notification: 'NOTIFICATION 6/2 (Cease: administrative shutdown)' });
  }
}
