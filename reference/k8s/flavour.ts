import type { Manifest } from './manifests.ts';
import { parsedString, type Schema } from './schema.ts';
import { EVERYTHING } from './selectors.ts';
import type {
  AdvertisementIntent,
  BgpInstance,
  ClusterNode,
  ClusterService,
  Flavour,
  FloatingIp,
  L2AnnouncementIntent,
  LbPool,
  PodIpam,
} from './model.ts';

/** What a flavour translator sees: its own manifests plus the core objects already read. */
export interface FlavourInput {
  manifests: Manifest[];
  nodes: ClusterNode[];
  services: ClusterService[];
}

/** What a flavour adds to the model. */
export interface FlavourOutput {
  pools: LbPool[];
  bgpInstances: BgpInstance[];
  advertisements: AdvertisementIntent[];
  l2Announcements: L2AnnouncementIntent[];
  floatingIPs: FloatingIp[];
  podIpam?: PodIpam;
  loadBalancerNodes?: string[];
  loadBalancerMode?: 'snat' | 'dsr' | 'hybrid';
}

export interface FlavourTranslator {
  flavour: Flavour;
  /** True for the objects this flavour reads (by API group, kind, or name for ConfigMaps). */
  handles(m: Manifest): boolean;
  translate(input: FlavourInput): FlavourOutput;
}

export function emptyOutput(): FlavourOutput {
  return { pools: [], bgpInstances: [], advertisements: [], l2Announcements: [], floatingIPs: [] };
}

/**
 * An advertisement intent with the defaults every translator starts from: no pools, prefixes or
 * communities, every node, next hop self; `fields` replace any of them. The keys keep this order
 * whatever `fields` holds (Cilium's registerIntent compares intents as JSON text).
 */
export function advertisementIntent(
  id: string,
  kind: AdvertisementIntent['kind'],
  serviceSelector: AdvertisementIntent['serviceSelector'],
  source: AdvertisementIntent['source'],
  fields: Partial<Omit<AdvertisementIntent, 'id' | 'kind' | 'serviceSelector' | 'source'>> = {},
): AdvertisementIntent {
  return { id, kind, serviceSelector, pools: [], prefixes: [], nodeSelector: EVERYTHING, communities: [], largeCommunities: [], nextHop: { type: 'self' }, source, ...fields };
}

/** The IPv4 address a node speaks BGP from by default: its first InternalIP, else ExternalIP. */
export function nodeIPv4(node: ClusterNode): string | undefined {
  return [...node.addresses.internalIPs, ...node.addresses.externalIPs].find((a) => !a.includes(':'));
}

/** Strips a prefix length written after a peer address ("10.1.5.1/24" in seeds 002/003). */
export function bareAddress(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : text.slice(0, slash);
}

/** Communities written by well-known name (RFC 1997 and friends) to their "asn:value" form. */
export const WELL_KNOWN_COMMUNITIES: Record<string, string> = {
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'no-export-subconfed': '65535:65283',
  'local-as': '65535:65283',
  'no-peer': '65535:65284',
  blackhole: '65535:666',
  'graceful-shutdown': '65535:0',
  'accept-own': '65535:1',
  'llgr-stale': '65535:6',
  'no-llgr': '65535:7',
};

/** "asn:value" with both parts 0..65535, or a well-known name; null when neither. */
export function standardCommunity(text: string): string | null {
  const named = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (named) return named;
  const match = /^(\d{1,5}):(\d{1,5})$/.exec(text.trim());
  if (!match || Number(match[1]) > 65535 || Number(match[2]) > 65535) return null;
  return `${Number(match[1])}:${Number(match[2])}`;
}

/** "ga:ld1:ld2", each 0..2^32-1; null when malformed. */
export function largeCommunity(text: string): string | null {
  const match = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text.trim());
  if (!match || [match[1], match[2], match[3]].some((p) => Number(p) > 4294967295)) return null;
  return `${Number(match[1])}:${Number(match[2])}:${Number(match[3])}`;
}

export function communitySchema(): Schema<string> {
  return parsedString('a BGP community "asn:value" (0..65535 each) or a well-known name like no-export', standardCommunity);
}

export function largeCommunitySchema(): Schema<string> {
  return parsedString('a large community "global:local1:local2"', largeCommunity);
}
