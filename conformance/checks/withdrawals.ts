// What a speaker announced and withdrew on one session, from its decoded messages: the latest
// state of each prefix and when it changed (capture time, seconds since the epoch).
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import type { UpdateMessage } from '../../reference/bgp/wire/index.ts';

export interface PrefixEvent {
  prefix: string;
  ts: number;
  kind: 'announce' | 'withdraw';
}

export function prefixEvents(sent: readonly DecodedMessage[]): PrefixEvent[] {
  const events: PrefixEvent[] = [];
  for (const m of sent) {
    if (m.type !== 'UPDATE' || m.message === null) continue;
    const u = m.message as UpdateMessage;
    const withdrawn = [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
    // RFC 7606 treat-as-withdraw: the NLRI of such a message count as withdrawn.
    const treatAsWithdraw = (u.errors ?? []).some((e) => e.action === 'treat-as-withdraw');
    const announced = [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])];
    for (const r of withdrawn) events.push({ prefix: r.prefix, ts: m.ts, kind: 'withdraw' });
    for (const r of announced) events.push({ prefix: r.prefix, ts: m.ts, kind: treatAsWithdraw ? 'withdraw' : 'announce' });
  }
  return events;
}

/** Whether the prefix is announced at the end of these messages. */
export function isAnnounced(events: readonly PrefixEvent[], prefix: string): boolean {
  const last = events.filter((e) => e.prefix === prefix).pop();
  return last?.kind === 'announce';
}

/** The first withdrawal of `prefix` at or after `since` (capture seconds), or null. */
export function firstWithdrawalAfter(events: readonly PrefixEvent[], prefix: string, since: number): PrefixEvent | null {
  return events.find((e) => e.prefix === prefix && e.kind === 'withdraw' && e.ts >= since) ?? null;
}
