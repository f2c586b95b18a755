import { canonicalIp, parseCidr } from '../ipam/address.ts';
import { checkObject, sourceOf, toSelector } from './core.ts';
import { advertisementIntent, bareAddress, communitySchema, emptyOutput, largeCommunitySchema, nodeIPv4, type FlavourInput, type FlavourOutput, type FlavourTranslator } from './flavour.ts';
import { embeddedYaml, HELM_VALUES_KIND, type Manifest } from './manifests.ts';
import {
  DEFAULT_BGP_TIMERS,
  type AddressFamily,
  type AdvertisementIntent,
  type AdvertisementKind,
  type BgpPeer,
  type ClusterNode,
  type LbPool,
  type PodIpam,
} from './model.ts';
import { matchesSelector, EVERYTHING, NOTHING } from './selectors.ts';
import {
  anything,
  asn,
  bool,
  cidr,
  INVALID,
  int,
  ip,
  labelSelectorSchema,
  looseObj,
  list,
  metadataSchema,
  noteUnsupported,
  obj,
  oneOf,
  port,
  report,
  str,
  unsupported,
  type Infer,
  type Schema,
} from './schema.ts';
import { metallbConfigMapSchema, translateLegacyConfig } from './metallb.ts';

// Cilium: BGP Control Plane v1 (CiliumBGPPeeringPolicy), v2 (CiliumBGPClusterConfig /
// PeerConfig / Advertisement), LB-IPAM pools, L2 announcement policies, the MetalLB-style
// `bgp-config` ConfigMap of Cilium 1.10-1.12 (seed 000) and cluster-pool settings of
// `cilium-config`.

const header = { apiVersion: str(), kind: str(), metadata: metadataSchema, status: anything() };

/** v2alpha1 writes peers as CIDRs ("10.0.0.1/32"); the seeds even write "10.1.5.1/24". Returns the address. */
function peerAddressSchema(): Schema<string> {
  const expected = 'a peer address, optionally with a prefix length ("10.0.0.1/32")';
  return {
    expected,
    check: (value, path, ctx) => {
      const address = typeof value === 'string' ? canonicalIp(bareAddress(value.trim())) : null;
      if (address && (typeof value !== 'string' || !value.includes('/') || parseCidr(value.trim()))) return address;
      report(ctx, path, `expected ${expected}, got ${JSON.stringify(value)}`);
      return INVALID;
    },
  };
}

// Cilium's CiliumBGPNeighborGracefulRestart (v2alpha1 neighbours, v2 CiliumBGPPeerConfig):
// restartTimeSeconds defaults to 120 and is at most 4095 (the 12-bit field of RFC 4724 3).
const gracefulRestartSchema = obj({ enabled: bool(), restartTimeSeconds: int(1, 4095, 'seconds (1-4095, RFC 4724 3)') });
const DEFAULT_GR_RESTART_SECONDS = 120;

function gracefulRestartOf(gr: { enabled?: boolean; restartTimeSeconds?: number } | undefined): Pick<BgpPeer, 'gracefulRestart'> {
  return gr?.enabled ? { gracefulRestart: { enabled: true, restartTimeSeconds: gr.restartTimeSeconds ?? DEFAULT_GR_RESTART_SECONDS } } : {};
}

const familySchema = obj({ afi: oneOf(['ipv4', 'ipv6'] as const), safi: oneOf(['unicast'] as const) }, ['afi', 'safi']);
const communitiesSchema = obj({ standard: list(communitySchema()), wellKnown: list(communitySchema()), large: list(largeCommunitySchema()) });
const pathAttributesSchema = obj({ communities: communitiesSchema, localPreference: int(0, 4294967295, 'a local preference') });

const peeringPolicySchema = obj(
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

const clusterConfigSchema = obj(
  {
    ...header,
    spec: obj(
      {
        nodeSelector: labelSelectorSchema,
        bgpInstances: list(
          obj(
            {
              name: str(),
              localASN: asn(),
              localPort: port(),
              peers: list(
                obj(
                  {
                    name: str(),
                    peerAddress: ip(),
                    peerASN: int(0, 4294967295, 'an AS number (0 = auto)'),
                    peerConfigRef: obj({ name: str(), group: str(), kind: str() }, ['name']),
                    autoDiscovery: unsupported('BGP peer auto-discovery (default gateway)'),
                  },
                  ['name'],
                ),
              ),
            },
            ['name'],
          ),
        ),
      },
      ['bgpInstances'],
    ),
  },
  ['spec'],
);

const peerConfigSchema = obj(
  {
    ...header,
    spec: obj({
      transport: obj({ localPort: port(), peerPort: port(), sourceInterface: unsupported('session source interface') }),
      timers: obj({
        connectRetryTimeSeconds: int(1, 2147483647, 'seconds'),
        holdTimeSeconds: int(3, 65535, 'seconds'),
        keepAliveTimeSeconds: int(1, 65535, 'seconds'),
      }),
      authSecretRef: unsupported('TCP MD5 authentication'),
      gracefulRestart: gracefulRestartSchema,
      ebgpMultihop: int(1, 255, 'a TTL'),
      families: list(obj({ afi: oneOf(['ipv4', 'ipv6'] as const), safi: oneOf(['unicast'] as const), advertisements: labelSelectorSchema }, ['afi', 'safi'])),
    }),
  },
  ['spec'],
);

const advertisementSchema = obj(
  {
    ...header,
    spec: obj(
      {
        advertisements: list(
          obj(
            {
              advertisementType: oneOf(['PodCIDR', 'CiliumPodIPPool', 'Service', 'Interface'] as const),
              service: obj({
                addresses: list(oneOf(['LoadBalancerIP', 'ClusterIP', 'ExternalIP'] as const)),
                aggregationLengthIPv4: int(0, 32, 'a prefix length'),
                aggregationLengthIPv6: int(0, 128, 'a prefix length'),
              }),
              selector: labelSelectorSchema,
              attributes: pathAttributesSchema,
              interface: unsupported('interface address advertisements'),
            },
            ['advertisementType'],
          ),
        ),
      },
      ['advertisements'],
    ),
  },
  ['spec'],
);

const nodeOverrideSchema = obj(
  {
    ...header,
    spec: obj(
      {
        bgpInstances: list(
          obj(
            {
              name: str(),
              routerID: ip(),
              localPort: port(),
              localASN: asn(),
              peers: list(obj({ name: str(), localAddress: ip() }, ['name'])),
            },
            ['name'],
          ),
        ),
      },
      ['bgpInstances'],
    ),
  },
  ['spec'],
);

/** CiliumBGPNodeConfigOverride (named after its node): router id, port, ASN, peer source addresses. */
function applyNodeOverrides(input: FlavourInput, out: FlavourOutput): void {
  for (const m of input.manifests.filter((x) => x.kind === 'CiliumBGPNodeConfigOverride')) {
    const override = checkObject(m, nodeOverrideSchema);
    if (!override) continue;
    override.spec!.bgpInstances!.forEach((entry, i) => {
      const instance = out.bgpInstances.find((b) => b.node === m.name && b.name === entry.name);
      if (!instance) {
        report(m.ctx, ['spec', 'bgpInstances', i, 'name'], `no BGP instance "${entry.name}" runs on node ${m.name} (check the CiliumBGPClusterConfig and its nodeSelector)`);
        return;
      }
      if (entry.routerID) instance.routerId = entry.routerID;
      if (entry.localPort !== undefined) instance.listenPort = entry.localPort;
      if (entry.localASN !== undefined) instance.localASN = entry.localASN;
      (entry.peers ?? []).forEach((peerEntry, p) => {
        const peer = instance.peers.find((x) => x.name === peerEntry.name);
        if (!peer) {
          report(m.ctx, ['spec', 'bgpInstances', i, 'peers', p, 'name'], `instance ${entry.name} has no peer "${peerEntry.name}"`);
          return;
        }
        if (peerEntry.localAddress) peer.localAddress = peerEntry.localAddress;
      });
    });
  }
}

const blockSchema = obj({ cidr: str(), start: ip(), stop: ip() });
const lbPoolSchema = obj(
  {
    ...header,
    spec: obj({
      blocks: list(blockSchema),
      cidrs: list(blockSchema),
      serviceSelector: labelSelectorSchema,
      disabled: bool(),
      allowFirstLastIPs: oneOf(['Yes', 'No'] as const),
    }),
  },
  ['spec'],
);

const l2PolicySchema = obj(
  {
    ...header,
    spec: obj({
      serviceSelector: labelSelectorSchema,
      nodeSelector: labelSelectorSchema,
      interfaces: list(str()),
      loadBalancerIPs: bool(),
      externalIPs: bool(),
    }),
  },
  ['spec'],
);

const configMapSchema = obj({ ...header, data: anything(), binaryData: anything(), immutable: anything() });

const CILIUM_GROUPS = new Set(['cilium.io']);

function isConfigMap(m: Manifest, name: string): boolean {
  return m.group === '' && m.kind === 'ConfigMap' && m.name === name;
}

type Attributes = Infer<typeof pathAttributesSchema>;

function applyAttributes(intent: AdvertisementIntent, attributes: Attributes | undefined): void {
  if (!attributes) return;
  intent.communities.push(...(attributes.communities?.standard ?? []), ...(attributes.communities?.wellKnown ?? []));
  intent.largeCommunities.push(...(attributes.communities?.large ?? []));
  if (attributes.localPreference !== undefined) intent.localPref = attributes.localPreference;
}

function serviceKind(address: 'LoadBalancerIP' | 'ClusterIP' | 'ExternalIP'): AdvertisementKind {
  return address === 'LoadBalancerIP' ? 'lb-vip' : address === 'ClusterIP' ? 'cluster-ip' : 'external-ip';
}

function families(list: Array<{ afi?: 'ipv4' | 'ipv6' }> | undefined): AddressFamily[] {
  if (!list || list.length === 0) return ['ipv4-unicast', 'ipv6-unicast'];
  return [...new Set(list.map((f) => (f.afi === 'ipv6' ? 'ipv6-unicast' : 'ipv4-unicast') as AddressFamily))];
}

/** Router id: Cilium's per-node annotation, else the node's IPv4 address. */
function routerIdFor(node: ClusterNode, localASN: number): string | undefined {
  const annotation = node.annotations[`cilium.io/bgp-virtual-router.${localASN}`];
  const match = annotation && /router-id=([0-9.]+)/.exec(annotation);
  return match ? match[1] : nodeIPv4(node);
}

function copyIntent(intent: AdvertisementIntent): AdvertisementIntent {
  return { ...intent, pools: [...intent.pools], communities: [...intent.communities], largeCommunities: [...intent.largeCommunities] };
}

function translatePeeringPolicy(m: Manifest, input: FlavourInput, out: FlavourOutput, poolLabels: Map<string, Record<string, string>>): void {
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

/** Adds the intent once (peers with identical attributes share it) and returns its id. */
function registerIntent(out: FlavourOutput, intent: AdvertisementIntent): string {
  const same = out.advertisements.find((a) => JSON.stringify(a) === JSON.stringify(intent));
  if (same) return same.id;
  let id = intent.id;
  for (let i = 2; out.advertisements.some((a) => a.id === id); i++) id = `${intent.id}~${i}`;
  out.advertisements.push({ ...intent, id });
  return id;
}

/** Instances whose router id / ASN must be known once node overrides are applied. */
type PendingCheck = { m: Manifest; path: Array<string | number>; instance: FlavourOutput['bgpInstances'][number] };

function checkResolvedInstances(pendingChecks: PendingCheck[]): void {
  for (const { m, path, instance } of pendingChecks) {
    if (!instance.routerId) report(m.ctx, path, `node ${instance.node} has no IPv4 address for a router id: set routerID in a CiliumBGPNodeConfigOverride`);
    if (instance.localASN === 0) report(m.ctx, [...path, 'localASN'], `no localASN for node ${instance.node}: set it here or in a CiliumBGPNodeConfigOverride`);
  }
}

function translateClusterConfigs(input: FlavourInput, out: FlavourOutput): PendingCheck[] {
  const pendingChecks: PendingCheck[] = [];
  const configs = input.manifests.filter((m) => m.kind === 'CiliumBGPClusterConfig');
  const peerConfigs = new Map<string, { m: Manifest; spec: NonNullable<Infer<typeof peerConfigSchema>['spec']> }>();
  for (const m of input.manifests.filter((x) => x.kind === 'CiliumBGPPeerConfig')) {
    const checked = checkObject(m, peerConfigSchema);
    if (checked) peerConfigs.set(m.name, { m, spec: checked.spec ?? {} });
  }
  const adverts: Array<{ m: Manifest; labels: Record<string, string>; spec: NonNullable<Infer<typeof advertisementSchema>['spec']> }> = [];
  for (const m of input.manifests.filter((x) => x.kind === 'CiliumBGPAdvertisement')) {
    const checked = checkObject(m, advertisementSchema);
    if (checked) adverts.push({ m, labels: checked.metadata?.labels ?? {}, spec: checked.spec! });
  }
  const intentsOf = (selector: Infer<typeof labelSelectorSchema> | undefined, family: 'ipv4' | 'ipv6'): string[] => {
    if (!selector) return [];
    const ids: string[] = [];
    for (const advert of adverts.filter((a) => matchesSelector(toSelector(selector), a.labels))) {
      advert.spec.advertisements!.forEach((entry, i) => {
        const path = ['spec', 'advertisements', i];
        if (entry.advertisementType === 'CiliumPodIPPool') return noteUnsupported(advert.m.ctx, path, 'CiliumPodIPPool advertisements (multi-pool IPAM)');
        if (entry.advertisementType === 'Interface') return noteUnsupported(advert.m.ctx, path, 'Interface advertisements');
        const base = advertisementIntent(`${advert.m.ref}#${i}`, 'pod-cidr', NOTHING, sourceOf(advert.m));
        applyAttributes(base, entry.attributes);
        if (entry.advertisementType === 'PodCIDR') {
          ids.push(registerIntent(out, base));
          return;
        }
        for (const address of entry.service?.addresses ?? []) {
          const intent: AdvertisementIntent = {
            ...base,
            id: `${advert.m.ref}#${i}/${address}`,
            kind: serviceKind(address),
            // v2: a Service advertisement without a selector selects no service
            serviceSelector: entry.selector ? toSelector(entry.selector) : NOTHING,
            ...(family === 'ipv4' && entry.service?.aggregationLengthIPv4 !== undefined ? { aggregationLengthV4: entry.service.aggregationLengthIPv4 } : {}),
            ...(family === 'ipv6' && entry.service?.aggregationLengthIPv6 !== undefined ? { aggregationLengthV6: entry.service.aggregationLengthIPv6 } : {}),
          };
          ids.push(registerIntent(out, intent));
        }
      });
    }
    return ids;
  };

  for (const m of configs) {
    const config = checkObject(m, clusterConfigSchema);
    if (!config) continue;
    const nodeSelector = toSelector(config.spec!.nodeSelector);
    config.spec!.bgpInstances!.forEach((instance, b) => {
      const peers: BgpPeer[] = [];
      (instance.peers ?? []).forEach((peer, p) => {
        const path = ['spec', 'bgpInstances', b, 'peers', p];
        if (peer.peerAddress === undefined) return noteUnsupported(m.ctx, path, 'peers without peerAddress (auto-discovery)');
        const ref = peer.peerConfigRef?.name;
        const peerConfig = ref ? peerConfigs.get(ref) : undefined;
        if (ref && !peerConfig) {
          report(m.ctx, [...path, 'peerConfigRef', 'name'], `no CiliumBGPPeerConfig named "${ref}" in the cluster folder`);
          return;
        }
        const spec = peerConfig?.spec ?? {};
        const famList = spec.families ?? [];
        const ids = famList.flatMap((f) => intentsOf(f.advertisements, f.afi!));
        peers.push({
          name: peer.name!,
          address: peer.peerAddress,
          asn: peer.peerASN ?? 0,
          port: spec.transport?.peerPort ?? 179,
          ...(spec.ebgpMultihop !== undefined && spec.ebgpMultihop > 1 ? { multihopTtl: spec.ebgpMultihop } : {}),
          ...gracefulRestartOf(spec.gracefulRestart),
          timers: {
            holdTimeSeconds: spec.timers?.holdTimeSeconds ?? DEFAULT_BGP_TIMERS.holdTimeSeconds,
            keepaliveSeconds: spec.timers?.keepAliveTimeSeconds ?? DEFAULT_BGP_TIMERS.keepaliveSeconds,
            connectRetrySeconds: spec.timers?.connectRetryTimeSeconds ?? DEFAULT_BGP_TIMERS.connectRetrySeconds,
          },
          families: families(famList),
          advertisements: [...new Set(ids)],
          source: sourceOf(m),
        });
      });
      for (const node of input.nodes.filter((n) => matchesSelector(nodeSelector, n.labels))) {
        // An empty router id or AS 0 may still come from a CiliumBGPNodeConfigOverride.
        out.bgpInstances.push({
          node: node.name,
          name: instance.name!,
          localASN: instance.localASN ?? 0,
          routerId: routerIdFor(node, instance.localASN ?? 0) ?? '',
          ...(instance.localPort !== undefined ? { listenPort: instance.localPort } : {}),
          peers: peers.map((p) => ({ ...p })),
          source: sourceOf(m),
        });
        pendingChecks.push({ m, path: ['spec', 'bgpInstances', b], instance: out.bgpInstances[out.bgpInstances.length - 1]! });
      }
    });
  }
  return pendingChecks;
}

function translatePool(m: Manifest): LbPool | null {
  const pool = checkObject(m, lbPoolSchema);
  if (!pool) return null;
  const blocks: string[] = [];
  let ok = true;
  const entries = [...(pool.spec?.blocks ?? []).map((b, i) => ({ b, path: ['spec', 'blocks', i] })), ...(pool.spec?.cidrs ?? []).map((b, i) => ({ b, path: ['spec', 'cidrs', i] }))];
  for (const { b, path } of entries) {
    if (b.cidr !== undefined && b.start === undefined && b.stop === undefined) {
      if (!parseCidr(b.cidr.trim())) {
        report(m.ctx, [...path, 'cidr'], `expected a CIDR, got ${JSON.stringify(b.cidr)}`);
        ok = false;
      } else blocks.push(b.cidr.trim());
    } else if (b.cidr === undefined && b.start !== undefined) {
      const stop = b.stop ?? b.start;
      if (b.start.includes(':') !== stop.includes(':')) {
        report(m.ctx, path, 'start and stop must be of the same address family');
        ok = false;
      } else blocks.push(`${b.start}-${stop}`);
    } else {
      report(m.ctx, path, 'expected either cidr, or start (with optional stop)');
      ok = false;
    }
  }
  if (!ok) return null;
  if (blocks.length === 0) {
    report(m.ctx, ['spec'], 'a pool needs at least one block');
    return null;
  }
  const createdAt = (m.value.metadata as Record<string, unknown>).creationTimestamp;
  return {
    name: m.name,
    flavour: 'cilium',
    blocks,
    serviceSelector: toSelector(pool.spec?.serviceSelector),
    namespaces: [],
    disabled: pool.spec?.disabled ?? false,
    autoAssign: true,
    reserveFirstLast: pool.spec?.allowFirstLastIPs === 'No',
    avoidBuggyIPs: false,
    ...(typeof createdAt === 'string' ? { createdAt } : {}),
    source: sourceOf(m),
  };
}

function translateL2Policy(m: Manifest, out: FlavourOutput): void {
  const policy = checkObject(m, l2PolicySchema);
  if (!policy) return;
  const spec = policy.spec ?? {};
  let ok = true;
  (spec.interfaces ?? []).forEach((pattern, i) => {
    try {
      new RegExp(pattern);
    } catch {
      report(m.ctx, ['spec', 'interfaces', i], `expected a regular expression, got ${JSON.stringify(pattern)}`);
      ok = false;
    }
  });
  if (!ok) return;
  out.l2Announcements.push({
    name: m.name,
    serviceSelector: toSelector(spec.serviceSelector),
    nodeSelector: toSelector(spec.nodeSelector),
    interfaces: spec.interfaces ?? [],
    loadBalancerIPs: spec.loadBalancerIPs ?? false,
    externalIPs: spec.externalIPs ?? false,
    pools: [],
    source: sourceOf(m),
  });
}

/** `cilium-config` keys that configure cluster-pool pod IPAM (seed 000's Helm values land here). */
function translateCiliumConfig(m: Manifest): PodIpam | null {
  const checked = checkObject(m, configMapSchema);
  if (!checked) return null;
  const data = (checked.data ?? {}) as Record<string, unknown>;
  if (data.ipam !== 'cluster-pool') return null;
  const split = (key: string): string[] => (typeof data[key] === 'string' ? (data[key] as string).split(/[\s,]+/).filter(Boolean) : []);
  const mask = (key: string, fallback: number): number | null => {
    const value = data[key];
    if (value === undefined) return fallback;
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
    report(m.ctx, ['data', key], `expected a prefix length as a string (e.g. "26"), got ${JSON.stringify(value)}`);
    return null;
  };
  const ipv4Cidrs = [...split('cluster-pool-ipv4-cidr')];
  const ipv6Cidrs = [...split('cluster-pool-ipv6-cidr')];
  for (const [key, cidrs] of [['cluster-pool-ipv4-cidr', ipv4Cidrs], ['cluster-pool-ipv6-cidr', ipv6Cidrs]] as const) {
    for (const c of cidrs) if (!parseCidr(c)) report(m.ctx, ['data', key], `expected CIDRs, got ${JSON.stringify(c)}`);
  }
  const v4 = mask('cluster-pool-ipv4-mask-size', 24);
  const v6 = mask('cluster-pool-ipv6-mask-size', 112);
  if (v4 === null || v6 === null || [...ipv4Cidrs, ...ipv6Cidrs].some((c) => !parseCidr(c))) return null;
  return { mode: 'cluster-pool', ipv4Cidrs, ipv4MaskSize: v4, ipv6Cidrs, ipv6MaskSize: v6, source: sourceOf(m) };
}

const NOT_MODELLED_VALUE = 'Helm value not modelled';
const helmValuesSchema = looseObj(
  {
    ipam: looseObj(
      {
        mode: oneOf(['cluster-pool', 'kubernetes', 'multi-pool', 'crd', 'eni', 'azure', 'alibabacloud', 'delegated-plugin'] as const),
        operator: looseObj(
          {
            clusterPoolIPv4PodCIDR: cidr(),
            clusterPoolIPv4PodCIDRList: list(cidr()),
            clusterPoolIPv4MaskSize: int(1, 32, 'a prefix length'),
            clusterPoolIPv6PodCIDR: cidr(),
            clusterPoolIPv6PodCIDRList: list(cidr()),
            clusterPoolIPv6MaskSize: int(1, 128, 'a prefix length'),
          },
          NOT_MODELLED_VALUE,
        ),
      },
      NOT_MODELLED_VALUE,
    ),
    bgp: looseObj({ enabled: bool(), announce: looseObj({ loadbalancerIP: bool(), podCIDR: bool() }, NOT_MODELLED_VALUE) }, NOT_MODELLED_VALUE),
    bgpControlPlane: looseObj({ enabled: bool() }, NOT_MODELLED_VALUE),
    l2announcements: looseObj({ enabled: bool() }, NOT_MODELLED_VALUE),
    loadBalancer: looseObj({ mode: oneOf(['snat', 'dsr', 'hybrid'] as const) }, NOT_MODELLED_VALUE),
  },
  NOT_MODELLED_VALUE,
);

type HelmValues = Infer<typeof helmValuesSchema>;

/** Cilium Helm values (seed 000 gives them): cluster-pool pod IPAM, what the old speaker announces, LB mode. */
function translateHelmValues(m: Manifest, out: FlavourOutput): HelmValues | null {
  const values = checkObject(m, helmValuesSchema);
  if (!values) return null;
  const operator = values.ipam?.operator ?? {};
  const ipv4Cidrs = operator.clusterPoolIPv4PodCIDRList?.length ? operator.clusterPoolIPv4PodCIDRList : operator.clusterPoolIPv4PodCIDR ? [operator.clusterPoolIPv4PodCIDR] : [];
  const ipv6Cidrs = operator.clusterPoolIPv6PodCIDRList?.length ? operator.clusterPoolIPv6PodCIDRList : operator.clusterPoolIPv6PodCIDR ? [operator.clusterPoolIPv6PodCIDR] : [];
  if ((values.ipam?.mode ?? 'cluster-pool') === 'cluster-pool' && ipv4Cidrs.length + ipv6Cidrs.length > 0) {
    out.podIpam = {
      mode: 'cluster-pool',
      ipv4Cidrs,
      ipv4MaskSize: operator.clusterPoolIPv4MaskSize ?? 24,
      ipv6Cidrs,
      ipv6MaskSize: operator.clusterPoolIPv6MaskSize ?? 112,
      source: sourceOf(m),
    };
  }
  if (values.loadBalancer?.mode) out.loadBalancerMode = values.loadBalancer.mode;
  return values;
}

/** Helm's bgp.announce.* decides what the ConfigMap speaker announces (podCIDR, loadbalancerIP). */
function applyLegacyAnnounce(values: HelmValues, m: Manifest, out: FlavourOutput): void {
  const announce = values.bgp?.announce;
  if (!announce) return;
  const legacyInstances = out.bgpInstances.filter((b) => b.name.startsWith('metallb-'));
  if (announce.loadbalancerIP === false) {
    const lbIds = new Set(out.advertisements.filter((a) => a.kind === 'lb-vip').map((a) => a.id));
    for (const instance of legacyInstances) for (const peer of instance.peers) peer.advertisements = peer.advertisements.filter((id) => !lbIds.has(id));
  }
  if (announce.podCIDR) {
    const id = registerIntent(out, advertisementIntent(`${m.ref}#bgp.announce.podCIDR`, 'pod-cidr', NOTHING, sourceOf(m)));
    for (const instance of legacyInstances) for (const peer of instance.peers) peer.advertisements.push(id);
  }
}

/** Seed 000: Cilium 1.10-1.12 embedded MetalLB; its config is MetalLB's legacy config.yaml. */
function translateBgpConfigMap(m: Manifest, input: FlavourInput, out: FlavourOutput): void {
  const checked = checkObject(m, configMapSchema);
  if (!checked) return;
  const data = checked.data as Record<string, unknown> | undefined;
  const text = data?.['config.yaml'];
  if (typeof text !== 'string') {
    report(m.ctx, ['data', 'config.yaml'], 'expected the MetalLB configuration as a string under data.config.yaml');
    return;
  }
  const embedded = embeddedYaml(m, ['data', 'config.yaml'], text);
  if (!embedded) return;
  const config = metallbConfigMapSchema.check(embedded.value ?? {}, [], embedded.ctx);
  if (config === INVALID) return;
  translateLegacyConfig(config, m, embedded.ctx, input, out, 'cilium');
}

export const ciliumTranslator: FlavourTranslator = {
  flavour: 'cilium',
  handles: (m) => CILIUM_GROUPS.has(m.group) || isConfigMap(m, 'bgp-config') || isConfigMap(m, 'cilium-config') || (m.kind === HELM_VALUES_KIND && m.name === 'cilium'),
  translate(input) {
    const out = emptyOutput();
    const poolLabels = new Map<string, Record<string, string>>();
    for (const m of input.manifests) {
      if (m.kind === 'CiliumLoadBalancerIPPool') {
        const pool = translatePool(m);
        if (pool) out.pools.push(pool);
        poolLabels.set(m.name, ((m.value.metadata as Record<string, unknown>).labels as Record<string, string>) ?? {});
      }
    }
    // Pools are tried in name order: deterministic, and it reproduces seed 003 where the
    // L2 service got 10.0.5.100 although the selector-less lb-pool also matched it.
    out.pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let helm: { m: Manifest; values: HelmValues } | null = null;
    for (const m of input.manifests) {
      switch (m.kind) {
        case HELM_VALUES_KIND: {
          const values = translateHelmValues(m, out);
          if (values) helm = { m, values };
          break;
        }
        case 'CiliumBGPPeeringPolicy':
          translatePeeringPolicy(m, input, out, poolLabels);
          break;
        case 'CiliumL2AnnouncementPolicy':
          translateL2Policy(m, out);
          break;
        case 'ConfigMap':
          if (m.name === 'bgp-config') translateBgpConfigMap(m, input, out);
          else {
            const podIpam = translateCiliumConfig(m);
            if (podIpam) out.podIpam = podIpam;
          }
          break;
        case 'CiliumLoadBalancerIPPool':
        case 'CiliumBGPClusterConfig':
        case 'CiliumBGPPeerConfig':
        case 'CiliumBGPAdvertisement':
        case 'CiliumBGPNodeConfigOverride':
          break;
        default:
          noteUnsupported(m.ctx, [], `kind ${m.kind} (${m.apiVersion}) is not modelled; the object is ignored`);
      }
    }
    const pending = translateClusterConfigs(input, out);
    applyNodeOverrides(input, out);
    checkResolvedInstances(pending);
    if (helm) applyLegacyAnnounce(helm.values, helm.m, out);
    return out;
  },
};
