// Cilium BGP Control Plane v2: CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement
// and CiliumBGPNodeConfigOverride (cilium.io/v2 and v2alpha1).
import { checkObject, sourceOf, toSelector } from './core.ts';
import { advertisementIntent, type FlavourInput, type FlavourOutput } from './flavour.ts';
import { type Manifest } from './manifests.ts';
import { DEFAULT_BGP_TIMERS, type AdvertisementIntent, type BgpPeer } from './model.ts';
import { matchesSelector, NOTHING } from './selectors.ts';
import { asn, int, ip, labelSelectorSchema, list, noteUnsupported, obj, oneOf, port, report, str, unsupported, type Infer } from './schema.ts';
import { applyAttributes, families, gracefulRestartOf, gracefulRestartSchema, header, pathAttributesSchema, registerIntent, routerIdFor, serviceKind } from './cilium-shared.ts';

export const clusterConfigSchema = obj(
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

export const peerConfigSchema = obj(
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

export const advertisementSchema = obj(
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

export const nodeOverrideSchema = obj(
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
export function applyNodeOverrides(input: FlavourInput, out: FlavourOutput): void {
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

/** Instances whose router id / ASN must be known once node overrides are applied. */
export type PendingCheck = { m: Manifest; path: Array<string | number>; instance: FlavourOutput['bgpInstances'][number] };

export function checkResolvedInstances(pendingChecks: PendingCheck[]): void {
  for (const { m, path, instance } of pendingChecks) {
    if (!instance.routerId) report(m.ctx, path, `node ${instance.node} has no IPv4 address for a router id: set routerID in a CiliumBGPNodeConfigOverride`);
    if (instance.localASN === 0) report(m.ctx, [...path, 'localASN'], `no localASN for node ${instance.node}: set it here or in a CiliumBGPNodeConfigOverride`);
  }
}

export function translateClusterConfigs(input: FlavourInput, out: FlavourOutput): PendingCheck[] {
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
