// What a clause test or the fuzzer needs from the speaker under test (SUT), whoever runs it: the
// reference speaker on loopback (sut-loopback.ts), or a lab daemon / docker:IMAGE /
// external:ADDRESS in namespaces (the lab SUT). A SUT is configured with one neighbour per tester
// slot; each slot has its own tester address and role, so independent tests run at the same
// time against one SUT without sharing a session.

import type net from 'node:net';

/**
 * How the SUT's neighbour for a slot is configured.
 * - ebgp: eBGP, SUT passive (the tester connects), IPv4+IPv6 unicast, hold 9 s offered by the SUT
 * - ibgp: the same in the SUT's AS
 * - ebgp-active: eBGP where the SUT connects to the tester (connect-retry short)
 * - rr-client: iBGP, the tester is a route-reflector client of the SUT
 * - addpath: eBGP with ADD-PATH send+receive for IPv4/IPv6 unicast
 * - gr: eBGP with graceful restart (RFC 4724) on the SUT
 */
export type SlotRole = 'ebgp' | 'ibgp' | 'ebgp-active' | 'rr-client' | 'addpath' | 'gr';

/** What a SUT can be configured for; a clause needing one the SUT lacks is skipped with the reason. */
export type SutFeature =
  | 'ipv6'
  | 'ibgp'
  | 'active-connect'
  | 'route-reflector'
  | 'addpath'
  | 'graceful-restart'
  | 'route-refresh'
  | 'enhanced-route-refresh'
  | 'extended-message'
  | 'extended-nexthop'
  | 'role'
  | 'rib';

export interface TesterSlot {
  index: number;
  role: SlotRole;
  /** the tester's address (the SUT's configured neighbour) */
  address: string;
  /** the tester's AS */
  asn: number;
  /** the address the SUT listens on for this slot */
  sutAddress: string;
  /**
   * An IPv6 address of the tester on the SUT's link, the next hop of IPv6 routes it announces;
   * absent (loopback), the slot's IPv4 address IPv4-mapped stands in.
   */
  address6?: string;
}

export interface SutInfo {
  /** profile name: reference, frr, gobgp, bird, openbgpd, or the docker/external profile's */
  name: string;
  asn: number;
  routerId: string;
  /** prefixes the SUT originates to every neighbour (one per family it runs) */
  originates: { ipv4: string; ipv6?: string };
  /** the route reflector's CLUSTER_ID (RFC 4456 7) when configured apart from the router id */
  clusterId?: string;
  /** the SUT's hold time as configured (what it offers in OPEN) */
  holdTime: number;
}

export interface Sut {
  info: SutInfo;
  /** feature -> why not, for what this SUT cannot be configured to do */
  lacks: Partial<Record<SutFeature, string>>;
  /** Every slot the SUT was configured with. */
  slots: TesterSlot[];
  /** A TCP connection from the slot's address to the SUT (not yet a BGP session). */
  connect(slot: TesterSlot): Promise<net.Socket>;
  /**
   * The next TCP connection the SUT opens to this slot's address (ebgp-active slots), as the
   * tester's accepted socket.
   */
  accept(slot: TesterSlot, timeoutMs: number): Promise<net.Socket>;
  /** The prefixes the SUT holds from this slot's session (Adj-RIB-In or Loc-RIB), or null when it cannot be read. */
  receivedFrom(slot: TesterSlot): Promise<Set<string> | null>;
  stop(): Promise<void>;
}
