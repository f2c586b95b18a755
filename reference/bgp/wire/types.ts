// The shapes of decoded BGP messages. They follow the JSON Lines contract of `peerproof decode`
// (shared contract decode-jsonl.md) so the capture stage can print them as they are.

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

export const BGP_HEADER_LENGTH = 19;
export const BGP_MAX_MESSAGE_LENGTH = 4096;
export const AS_TRANS = 23456;

export type MessageType = 'OPEN' | 'UPDATE' | 'NOTIFICATION' | 'KEEPALIVE' | 'ROUTE-REFRESH' | 'UNKNOWN';

export const MESSAGE_TYPE_CODES: Record<Exclude<MessageType, 'UNKNOWN'>, number> = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  'ROUTE-REFRESH': 5,
};

/** One NLRI or withdrawn route. `pathId` is present exactly when ADD-PATH applies to it. */
export interface Route {
  prefix: string; // "a.b.c.d/len" or "v6addr/len"
  pathId?: number;
}

export type AddPathMode = 'receive' | 'send' | 'both';

export interface AfiSafi {
  afi: number;
  safi: number;
}

export type Capability =
  | { code: 1; name: 'multiprotocol'; afi: number; safi: number }
  | { code: 2; name: 'route-refresh' }
  | { code: 3; name: 'orf'; entries: OrfCapabilityEntry[] } // RFC 5291 5
  | { code: 130; name: 'orf-cisco'; entries: OrfCapabilityEntry[] } // the pre-standard code FRR also sends, same layout
  | { code: 5; name: 'extended-nexthop'; entries: Array<{ afi: number; safi: number; nextHopAfi: number }> }
  | {
      code: 64;
      name: 'graceful-restart';
      restarting: boolean; // R bit
      notification: boolean; // N bit (RFC 8538)
      restartTime: number;
      families: Array<{ afi: number; safi: number; forwardingState: boolean }>;
    }
  | { code: 65; name: 'as4'; asn: number }
  | { code: 69; name: 'add-path'; entries: Array<{ afi: number; safi: number; mode: AddPathMode }> }
  | { code: 70; name: 'enhanced-route-refresh' }
  | {
      code: 71;
      name: 'long-lived-graceful-restart';
      families: Array<{ afi: number; safi: number; forwardingState: boolean; staleTime: number }>;
    }
  | { code: 73; name: 'fqdn'; hostname: string; domain: string }
  | { code: number; name?: undefined; hex: string }; // any other capability, kept as raw bytes

/** One family of an ORF capability (RFC 5291 5): the ORF types and whether they are sent, received or both. */
export interface OrfCapabilityEntry {
  afi: number;
  safi: number;
  types: Array<{ type: number; mode: AddPathMode }>;
}

export interface OpenMessage {
  type: 'OPEN';
  version: number;
  myAs: number; // the 2-octet field as sent (AS_TRANS for a 4-octet AS)
  holdTime: number;
  bgpId: string;
  as4: number | null; // ASN from capability 65, null when not offered
  capabilities: Capability[];
  /** Optional parameters other than capabilities (type != 2), kept raw. */
  otherParameters?: Array<{ type: number; hex: string }>;
}

export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

export interface MpReach {
  afi: number;
  safi: number;
  nextHops: string[]; // IPv6: global, then link-local when present
  nlri: Route[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: Route[];
}

export interface UnknownAttribute {
  code: number;
  flags: number;
  hex: string;
}

export interface PathAttributes {
  origin?: 'igp' | 'egp' | 'incomplete';
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: true;
  aggregator?: { asn: number; address: string };
  communities?: string[]; // "65000:100"
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: string[]; // 8 bytes each, hex
  largeCommunities?: string[]; // "ga:ld1:ld2"
  unknown?: UnknownAttribute[];
}

/** Where each attribute sat in the message as received: what `update.encoding` checks read. */
export interface AttributeLayout {
  code: number;
  flags: number;
  length: number;
}

export interface UpdateMessage {
  type: 'UPDATE';
  withdrawn: Route[];
  attributes: PathAttributes;
  nlri: Route[];
  /** Decode only: attributes in wire order with their flags. */
  layout?: AttributeLayout[];
  /**
   * Decode only: RFC 7606 outcomes that did not reset the session. When any has action
   * 'treat-as-withdraw', every NLRI of the message must be handled as withdrawn.
   */
  errors?: UpdateError[];
}

export interface NotificationMessage {
  type: 'NOTIFICATION';
  code: number;
  subcode: number;
  data: string; // hex
}

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
}

export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  afi: number;
  safi: number;
  subtype: number; // RFC 7313: 0 normal, 1 BoRR, 2 EoRR
  /** RFC 5291 4: present when the message carries ORFs (then `orfs` is too). A value other than 1/2 stays a number. */
  whenToRefresh?: 'immediate' | 'defer' | number;
  /** RFC 5291 4: the ORFs, one per ORF type, in wire order. */
  orfs?: Orf[];
}

/** ORF types of the address-prefix ORF: 64 (RFC 5292) and the pre-standard 128 FRR/Cisco use; same entries. */
export const ORF_TYPE_ADDRESS_PREFIX = 64;
export const ORF_TYPE_ADDRESS_PREFIX_CISCO = 128;

export type OrfAction = 'add' | 'remove' | 'remove-all';

/**
 * One address-prefix ORF entry (RFC 5291 4 common part, RFC 5292 3 type-specific part). A
 * 'remove-all' entry is the common part alone, so it has no other field.
 */
export interface PrefixOrfEntry {
  action: OrfAction;
  match: 'permit' | 'deny';
  sequence?: number;
  minLength?: number; // 0: not set
  maxLength?: number; // 0: not set
  prefix?: string; // "a.b.c.d/len" or "v6addr/len", of the message's AFI
  /**
   * Only when the Action bits were 3, which RFC 5291 4 reserves: FRR 8.4 (Quagga's pre-RFC
   * constants) sends 3 for REMOVE-ALL, whose RFC value is 2. Such an entry decodes as the
   * 'remove-all' FRR means (the common part alone) and re-encodes with 3.
   */
  wireAction?: 3;
}

export type Orf =
  | { type: number; name: 'address-prefix'; entries: PrefixOrfEntry[] }
  | { type: number; name?: undefined; hex: string }; // another ORF type: its entries kept raw

export interface UnknownMessage {
  type: 'UNKNOWN';
  typeCode: number;
  hex: string;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage
  | UnknownMessage;

/** What RFC 7606 (or RFC 4271 where 7606 is silent) says to do with a bad message. */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard' | 'afi-safi-disable';

export interface UpdateError {
  action: Exclude<ErrorAction, 'session-reset'>;
  code: number; // RFC 4271 section 6 error code (3 for UPDATE errors)
  subcode: number;
  attribute?: number; // the attribute type code involved
  message: string; // e.g. "UPDATE: attribute length error"
  /** The attribute's length runs past the path attribute list (RFC 7606 4), not just its own value. */
  overrun?: true;
}

/**
 * Negotiated state for one direction of one session, which the caller passes in: the codec never
 * guesses ADD-PATH or 4-octet AS from the bytes.
 */
export interface CodecContext {
  /** Both sides offered capability 65. Default false (2-octet AS_PATH, AS4_PATH merged). */
  as4?: boolean;
  /** Families ("afi/safi", see familyKey) whose NLRI carry a path identifier in this direction. */
  addPath?: ReadonlySet<string>;
  /**
   * ORF types this direction may carry in ROUTE-REFRESH (RFC 5291 5: the sender offered send, the
   * receiver receive), keys from orfKey(afi, safi, type); 'any' accepts every ORF (OPENs unknown).
   * Default: none, so a ROUTE-REFRESH longer than 23 octets is a length error (RFC 2918 3).
   */
  orf?: ReadonlySet<string> | 'any';
}

export function orfKey(afi: number, safi: number, type: number): string {
  return `${afi}/${safi}/${type}`;
}

export function familyKey(afi: number, safi: number): string {
  return `${afi}/${safi}`;
}
