// Cilium BGP Control Plane v1: CiliumBGPPeeringPolicy (cilium.io/v2alpha1), virtual routers
// with their neighbours and what each announces.
import { checkObject, sourceOf, toSelector } from './core.ts';
import { type FlavourInput, type FlavourOutput } from './flavour.ts';
import { type Manifest } from './manifests.ts';
import { DEFAULT_BGP_TIMERS, type AdvertisementIntent, type BgpPeer } from './model.ts';
import { matchesSelector, EVERYTHING, NOTHING } from './selectors.ts';
import { asn, bool, int, labelSelectorSchema, list, noteUnsupported, obj, oneOf, port, report, unsupported } from './schema.ts';
import { applyAttributes, communitiesSchema, copyIntent, families, familySchema, gracefulRestartOf, gracefulRestartSchema, header, peerAddressSchema, registerIntent, routerIdFor, serviceKind } from './cilium-shared.ts';

export const peeringPolicySchema = obj(
  {
    ...header,
    spec: obj(
      {
        nodeSelector: labelSelectorSchema,
        virtualRouters: list(
          obj(
            {
              localASN: asn(),
              exportPodCIDR: bool(),
              podIPPoolSelector: unsupported('multi-pool IPAM pod pools (CiliumPodIPPool) are not advertised'),
              serviceSelector: labelSelectorSchema,
              serviceAdvertisements: list(oneOf(['LoadBalancerIP', 'ClusterIP', 'ExternalIP'] as const)),
              neighbors: list(
                obj(
                  {
                    peerAddress: peerAddressSchema(),
                    peerPort: port(),
                    peerASN: asn(),
                    eBGPMultihopTTL: int(1, 255, 'a TTL'),
                    connectRetryTimeSeconds: int(1, 2147483647, 'seconds'),
                    holdTimeSeconds: int(3, 65535, 'seconds'),
                    keepAliveTimeSeconds: int(1, 65535, 'seconds'),
                    gracefulRestart: gracefulRestartSchema,
                    families: list(familySchema),
                    advertisedPathAttributes: list(
                      obj(
                        {
                          selectorType: oneOf(['PodCIDR', 'CiliumLoadBalancerIPPool', 'CiliumPodIPPool'] as const),
                          selector: labelSelectorSchema,
                          communities: communitiesSchema,
                          localPreference: int(0, 4294967295, 'a local preference'),
                        },
                        ['selectorType'],
                      ),
                    ),
                    authSecretRef: unsupported('TCP MD5 authentication'),
                  },
                  ['peerAddress', 'peerASN'],
                ),
              ),
            },
            ['localASN', 'neighbors'],
          ),
        ),
      },
      ['virtualRouters'],
    ),
  },
  ['spec'],
);

export function translatePeeringPolicy(m: Manifest, input: FlavourInput, out: FlavourOutput, poolLabels: Map<string, Record<string, string>>): void {
  const policy = checkObject(m, peeringPolicySchema);
  if (!policy) return;
  const nodeSelector = toSelector(policy.spec!.nodeSelector);
  const nodes = input.nodes.filter((n) => matchesSelector(nodeSelector, n.labels));
  policy.spec!.virtualRouters!.forEach((router, r) => {
    const intents: AdvertisementIntent[] = [];
    const base = { pools: [], prefixes: [], nodeSelector, nextHop: { type: 'self' as const }, source: sourceOf(m) };
    if (router.exportPodCIDR) intents.push({ ...base, communities: [], largeCommunities: [], id: `${m.ref}#${r}/pod-cidr`, kind: 'pod-cidr', serviceSelector: NOTHING });
    // v1: without a serviceSelector no service is announced.
    if (router.serviceSelector) {
      for (const address of router.serviceAdvertisements ?? ['LoadBalancerIP']) {
        intents.push({ ...base, communities: [], largeCommunities: [], id: `${m.ref}#${r}/${address}`, kind: serviceKind(address), serviceSelector: toSelector(router.serviceSelector) });
      }
    }
    const peersFor = (): BgpPeer[] =>
      router.neighbors!.map((neighbor, n) => {
        const attributes = neighbor.advertisedPathAttributes ?? [];
        attributes.forEach((attr, a) => {
          if (attr.selectorType === 'CiliumPodIPPool') {
            noteUnsupported(m.ctx, ['spec', 'virtualRouters', r, 'neighbors', n, 'advertisedPathAttributes', a], 'path attributes for CiliumPodIPPool (multi-pool IPAM)');
          }
        });
        // Attributes chosen per pool: announce each pool's addresses under its own intent.
        const perPool = attributes.some((attr) => attr.selectorType === 'CiliumLoadBalancerIPPool' && attr.selector);
        const peerIntents = intents.flatMap((intent) =>
          perPool && intent.kind === 'lb-vip' ? out.pools.map((pool) => copyIntent({ ...intent, id: `${intent.id}/${pool.name}`, pools: [pool.name] })) : [copyIntent(intent)],
        );
        for (const attr of attributes) {
          if (attr.selectorType === 'CiliumPodIPPool') continue;
          const kind = attr.selectorType === 'PodCIDR' ? 'pod-cidr' : 'lb-vip';
          const selector = attr.selector && kind === 'lb-vip' ? toSelector(attr.selector) : EVERYTHING;
          for (const intent of peerIntents.filter((i) => i.kind === kind)) {
            if (intent.pools.length === 1 && !matchesSelector(selector, poolLabels.get(intent.pools[0]!) ?? {})) continue;
            applyAttributes(intent, attr);
          }
        }
        return {
          name: neighbor.peerAddress!,
          address: neighbor.peerAddress!,
          asn: neighbor.peerASN!,
          port: neighbor.peerPort ?? 179,
          ...(neighbor.eBGPMultihopTTL !== undefined && neighbor.eBGPMultihopTTL > 1 ? { multihopTtl: neighbor.eBGPMultihopTTL } : {}),
          ...gracefulRestartOf(neighbor.gracefulRestart),
          timers: {
            holdTimeSeconds: neighbor.holdTimeSeconds ?? DEFAULT_BGP_TIMERS.holdTimeSeconds,
            keepaliveSeconds: neighbor.keepAliveTimeSeconds ?? DEFAULT_BGP_TIMERS.keepaliveSeconds,
            connectRetrySeconds: neighbor.connectRetryTimeSeconds ?? DEFAULT_BGP_TIMERS.connectRetrySeconds,
          },
          families: families(neighbor.families),
          advertisements: peerIntents.map((i) => registerIntent(out, i)),
          source: sourceOf(m),
        };
      });
    for (const node of nodes) {
      const routerId = routerIdFor(node, router.localASN!);
      if (!routerId) {
        report(m.ctx, ['spec', 'virtualRouters', r], `node ${node.name} has no IPv4 address for a router id (set annotation cilium.io/bgp-virtual-router.${router.localASN})`);
        continue;
      }
      out.bgpInstances.push({ node: node.name, name: `${m.name}/${r}`, localASN: router.localASN!, routerId, peers: peersFor(), source: sourceOf(m) });
    }
  });
}
