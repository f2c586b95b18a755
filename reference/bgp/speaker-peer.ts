// What the speaker keeps per configured peer, shared by its ingest, export and restart parts.
import type { FamilyName, PeerConfig } from './config.ts';
import type { Policy } from './policy.ts';
import { PrefixTable } from './prefix-table.ts';
import type { PeerSession } from './session.ts';
import { AFI_IPV4, AFI_IPV6 } from './wire/index.ts';

export const FAMILY_OF_AFI: Record<number, FamilyName> = { [AFI_IPV4]: 'ipv4-unicast', [AFI_IPV6]: 'ipv6-unicast' };

export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Routes sent to one peer for one family: prefix key -> attribute id (or path id -> attribute id). */
export class AdjRibOut {
  readonly single = new PrefixTable();
  readonly multi = new Map<number, Map<number, number>>();
  count = 0;
}

export interface Peer {
  session: PeerSession;
  config: PeerConfig;
  source: number;
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** Families (AFI) we still exchange; RFC 7606 AFI/SAFI disable removes one. */
  disabled: Set<number>;
  out: Map<number, AdjRibOut>;
  /** Keys of changed prefixes to send, per family: sets shared with other peers, read only. */
  pending: Map<number, Array<ReadonlySet<number>>>;
  /** Attribute bytes of recent UPDATEs -> interned id (fast path for packed UPDATEs). */
  attributeCache: Map<string, number>;
  staleTimer: NodeJS.Timeout | null;
  staleFamilies: Set<number>;
  maxPrefixExceeded: boolean;
  prefixesReceived: number;
  routeRefreshesReceived: number;
  endOfRibReceived: Set<number>;
  endOfRibSent: Set<number>;
  /** Families (AFI) between the peer's BoRR and EoRR (RFC 7313 4): its routes there are stale until re-sent. */
  refreshing: Set<number>;
  /** A full table dump in progress, so incremental changes wait for it. */
  dumping: boolean;
}

export function familyAfi(family: string): number {
  return Number(family.split('/')[0]);
}

export function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
