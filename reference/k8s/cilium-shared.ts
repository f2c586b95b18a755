// What the Cilium translators share: the object header, graceful restart, families, path
// attributes and how an advertisement intent is registered.
import { canonicalIp, parseCidr } from '../ipam/address.ts';
import { bareAddress, communitySchema, largeCommunitySchema, nodeIPv4, type FlavourOutput } from './flavour.ts';
import { type Manifest } from './manifests.ts';
import { type AddressFamily, type AdvertisementIntent, type AdvertisementKind, type BgpPeer, type ClusterNode } from './model.ts';
import { anything, bool, int, list, metadataSchema, obj, oneOf, parsedString, str, type Infer, type Schema } from './schema.ts';

export const header = { apiVersion: str(), kind: str(), metadata: metadataSchema, status: anything() };

/** v2alpha1 writes peers as CIDRs ("10.0.0.1/32"); the seeds even write "10.1.5.1/24". Returns the address. */
export function peerAddressSchema(): Schema<string> {
  return parsedString('a peer address, optionally with a prefix length ("10.0.0.1/32")', (text) => {
    const address = canonicalIp(bareAddress(text.trim()));
    return address && (!text.includes('/') || parseCidr(text.trim())) ? address : null;
  });
}

// Cilium's CiliumBGPNeighborGracefulRestart (v2alpha1 neighbours, v2 CiliumBGPPeerConfig):
// restartTimeSeconds defaults to 120 and is at most 4095 (the 12-bit field of RFC 4724 3).
export const gracefulRestartSchema = obj({ enabled: bool(), restartTimeSeconds: int(1, 4095, 'seconds (1-4095, RFC 4724 3)') });
export const DEFAULT_GR_RESTART_SECONDS = 120;

export function gracefulRestartOf(gr: { enabled?: boolean; restartTimeSeconds?: number } | undefined): Pick<BgpPeer, 'gracefulRestart'> {
  return gr?.enabled ? { gracefulRestart: { enabled: true, restartTimeSeconds: gr.restartTimeSeconds ?? DEFAULT_GR_RESTART_SECONDS } } : {};
}

export const familySchema = obj({ afi: oneOf(['ipv4', 'ipv6'] as const), safi: oneOf(['unicast'] as const) }, ['afi', 'safi']);
export const communitiesSchema = obj({ standard: list(communitySchema()), wellKnown: list(communitySchema()), large: list(largeCommunitySchema()) });
export const pathAttributesSchema = obj({ communities: communitiesSchema, localPreference: int(0, 4294967295, 'a local preference') });

export const configMapSchema = obj({ ...header, data: anything(), binaryData: anything(), immutable: anything() });

export const CILIUM_GROUPS = new Set(['cilium.io']);

export function isConfigMap(m: Manifest, name: string): boolean {
  return m.group === '' && m.kind === 'ConfigMap' && m.name === name;
}

export type Attributes = Infer<typeof pathAttributesSchema>;

export function applyAttributes(intent: AdvertisementIntent, attributes: Attributes | undefined): void {
  if (!attributes) return;
  intent.communities.push(...(attributes.communities?.standard ?? []), ...(attributes.communities?.wellKnown ?? []));
  intent.largeCommunities.push(...(attributes.communities?.large ?? []));
  if (attributes.localPreference !== undefined) intent.localPref = attributes.localPreference;
}

export function serviceKind(address: 'LoadBalancerIP' | 'ClusterIP' | 'ExternalIP'): AdvertisementKind {
  return address === 'LoadBalancerIP' ? 'lb-vip' : address === 'ClusterIP' ? 'cluster-ip' : 'external-ip';
}

export function families(list: Array<{ afi?: 'ipv4' | 'ipv6' }> | undefined): AddressFamily[] {
  if (!list || list.length === 0) return ['ipv4-unicast', 'ipv6-unicast'];
  return [...new Set(list.map((f) => (f.afi === 'ipv6' ? 'ipv6-unicast' : 'ipv4-unicast') as AddressFamily))];
}

/** Router id: Cilium's per-node annotation, else the node's IPv4 address. */
export function routerIdFor(node: ClusterNode, localASN: number): string | undefined {
  const annotation = node.annotations[`cilium.io/bgp-virtual-router.${localASN}`];
  const match = annotation && /router-id=([0-9.]+)/.exec(annotation);
  return match ? match[1] : nodeIPv4(node);
}

export function copyIntent(intent: AdvertisementIntent): AdvertisementIntent {
  return { ...intent, pools: [...intent.pools], communities: [...intent.communities], largeCommunities: [...intent.largeCommunities] };
}

/** Adds the intent once (peers with identical attributes share it) and returns its id. */
export function registerIntent(out: FlavourOutput, intent: AdvertisementIntent): string {
  const same = out.advertisements.find((a) => JSON.stringify(a) === JSON.stringify(intent));
  if (same) return same.id;
  let id = intent.id;
  for (let i = 2; out.advertisements.some((a) => a.id === id); i++) id = `${intent.id}~${i}`;
  out.advertisements.push({ ...intent, id });
  return id;
}
