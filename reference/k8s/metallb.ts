import { parseRange } from '../ipam/address.ts';
import { checkObject, sourceOf, toSelector } from './core.ts';
import { advertisementIntent, communitySchema, emptyOutput, nodeIPv4, standardCommunity, type FlavourInput, type FlavourOutput, type FlavourTranslator } from './flavour.ts';
import type { Manifest } from './manifests.ts';
import { DEFAULT_BGP_TIMERS, type AdvertisementIntent, type BgpPeer, type Flavour, type LbPool, type Selector } from './model.ts';
import { anyOf, EVERYTHING, matchesSelector, NOTHING } from './selectors.ts';
import {
  anything,
  asn,
  bool,
  int,
  ip,
  labelSelectorSchema,
  list,
  metadataSchema,
  noteUnsupported,
  obj,
  oneOf,
  parsedString,
  port,
  record,
  report,
  str,
  unsupported,
  type CheckContext,
  type FieldPath,
  type Infer,
  type Schema,
} from './schema.ts';

// MetalLB: the metallb.io CRDs (IPAddressPool, BGPAdvertisement, L2Advertisement, BGPPeer,
// Community) and the legacy config.yaml (MetalLB <= 0.12, embedded in Cilium 1.10-1.12: seed 000).

/** Go duration ("90s", "1m30s", "3m") in whole seconds. */
export function durationSeconds(): Schema<number> {
  return parsedString('a duration like "90s" or "1m30s"', (text) => {
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!match || text === '') return null;
    return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  });
}

function addressBlock(): Schema<string> {
  return parsedString('a CIDR or an address range "a.b.c.d-e.f.g.h"', (text) =>
    parseRange(text) && (text.includes('/') || text.includes('-')) ? text.trim() : null,
  );
}

const legacySelector = obj({
  'match-labels': record(str()),
  'match-expressions': list(obj({ key: str(), operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const), values: list(str()) }, ['key', 'operator'])),
});

export const metallbConfigMapSchema = obj({
  peers: list(
    obj(
      {
        'peer-address': ip(),
        'peer-asn': asn(),
        'my-asn': asn(),
        'peer-port': port(),
        'hold-time': durationSeconds(),
        'keepalive-time': durationSeconds(),
        'router-id': ip(),
        'source-address': ip(),
        'node-selectors': list(legacySelector),
        password: unsupported('TCP MD5 authentication'),
        'ebgp-multihop': bool(),
      },
      ['peer-address', 'peer-asn', 'my-asn'],
    ),
  ),
  'bgp-communities': record(communitySchema()),
  'address-pools': list(
    obj(
      {
        name: str(),
        protocol: oneOf(['bgp', 'layer2'] as const),
        addresses: list(addressBlock()),
        'avoid-buggy-ips': bool(),
        'auto-assign': bool(),
        'bgp-advertisements': list(obj({ 'aggregation-length': int(0, 32, 'a prefix length'), localpref: int(0, 4294967295, 'a local preference'), communities: list(str()) })),
      },
      ['name', 'protocol', 'addresses'],
    ),
  ),
});

function fromLegacySelector(selector: Infer<typeof legacySelector>): Selector {
  return toSelector({ matchLabels: selector['match-labels'] ?? {}, matchExpressions: selector['match-expressions'] ?? [] });
}

function resolveCommunity(text: string, aliases: Record<string, string>, ctx: CheckContext, path: FieldPath): string | null {
  const resolved = aliases[text] ?? standardCommunity(text);
  if (!resolved) report(ctx, path, `expected a community "asn:value", a well-known name or a defined alias, got ${JSON.stringify(text)}`);
  return resolved;
}

/** The legacy config.yaml: every speaker peers with every peer whose node-selectors match. */
export function translateLegacyConfig(
  config: Infer<typeof metallbConfigMapSchema>,
  m: Manifest,
  ctx: CheckContext,
  input: FlavourInput,
  out: FlavourOutput,
  flavour: Flavour,
): void {
  const source = sourceOf(m);
  const aliases = config['bgp-communities'] ?? {};
  const bgpIntents: string[] = [];
  (config['address-pools'] ?? []).forEach((pool, p) => {
    out.pools.push({
      name: pool.name!,
      flavour,
      blocks: pool.addresses ?? [],
      serviceSelector: EVERYTHING,
      namespaces: [],
      disabled: false,
      autoAssign: pool['auto-assign'] ?? true,
      reserveFirstLast: false,
      avoidBuggyIPs: pool['avoid-buggy-ips'] ?? false,
      source,
    });
    if (pool.protocol === 'layer2') {
      out.l2Announcements.push({ name: pool.name!, serviceSelector: EVERYTHING, nodeSelector: EVERYTHING, interfaces: [], loadBalancerIPs: true, externalIPs: false, pools: [pool.name!], source });
      return;
    }
    const adverts = pool['bgp-advertisements'] ?? [{}];
    adverts.forEach((advert, a) => {
      const intent = advertisementIntent(`${m.ref}#${pool.name}/${a}`, 'lb-vip', EVERYTHING, source);
      intent.pools = [pool.name!];
      if (advert['aggregation-length'] !== undefined) intent.aggregationLengthV4 = advert['aggregation-length'];
      if (advert.localpref !== undefined) intent.localPref = advert.localpref;
      (advert.communities ?? []).forEach((c, i) => {
        const resolved = resolveCommunity(c, aliases, ctx, ['address-pools', p, 'bgp-advertisements', a, 'communities', i]);
        if (resolved) intent.communities.push(resolved);
      });
      out.advertisements.push(intent);
      bgpIntents.push(intent.id);
    });
  });
  const peers = config.peers ?? [];
  for (const node of input.nodes) {
    const byAsn = new Map<number, { routerId: string | undefined; peers: BgpPeer[] }>();
    peers.forEach((peer, i) => {
      const selectors = (peer['node-selectors'] ?? []).map(fromLegacySelector);
      if (!matchesSelector(anyOf(selectors), node.labels)) return;
      const entry = byAsn.get(peer['my-asn']!) ?? { routerId: peer['router-id'], peers: [] };
      entry.peers.push({
        name: `${peer['peer-address']}`,
        address: peer['peer-address']!,
        asn: peer['peer-asn']!,
        port: peer['peer-port'] ?? 179,
        ...(peer['source-address'] ? { localAddress: peer['source-address'] } : {}),
        ...(peer['ebgp-multihop'] ? { multihopTtl: 255 } : {}),
        timers: {
          holdTimeSeconds: peer['hold-time'] ?? DEFAULT_BGP_TIMERS.holdTimeSeconds,
          keepaliveSeconds: peer['keepalive-time'] ?? Math.floor((peer['hold-time'] ?? DEFAULT_BGP_TIMERS.holdTimeSeconds) / 3),
          connectRetrySeconds: DEFAULT_BGP_TIMERS.connectRetrySeconds,
        },
        families: ['ipv4-unicast'],
        advertisements: [...bgpIntents],
        source: { ...source, line: ctx.locate(['peers', i]).line },
      });
      byAsn.set(peer['my-asn']!, entry);
    });
    for (const [localASN, entry] of byAsn) {
      const routerId = entry.routerId ?? nodeIPv4(node);
      if (!routerId) {
        report(ctx, ['peers'], `node ${node.name} has no IPv4 address for a router id; set router-id`);
        continue;
      }
      out.bgpInstances.push({ node: node.name, name: `metallb-${localASN}`, localASN, routerId, peers: entry.peers, source });
    }
  }
}

const header = { apiVersion: str(), kind: str(), metadata: metadataSchema, status: anything() };

const poolSchema = obj(
  {
    ...header,
    spec: obj(
      {
        addresses: list(addressBlock()),
        autoAssign: bool(),
        avoidBuggyIPs: bool(),
        serviceAllocation: obj({
          priority: int(0, 2147483647, 'a priority'),
          namespaces: list(str()),
          namespaceSelectors: unsupported('namespace label selectors (namespaces are not modelled; use namespaces)'),
          serviceSelectors: list(labelSelectorSchema),
        }),
      },
      ['addresses'],
    ),
  },
  ['spec'],
);

const bgpAdvertisementSchema = obj({
  ...header,
  spec: obj({
    aggregationLength: int(0, 32, 'a prefix length'),
    aggregationLengthV6: int(0, 128, 'a prefix length'),
    localPref: int(0, 4294967295, 'a local preference'),
    communities: list(str()),
    ipAddressPools: list(str()),
    ipAddressPoolSelectors: list(labelSelectorSchema),
    nodeSelectors: list(labelSelectorSchema),
    peers: list(str()),
  }),
});

const l2AdvertisementSchema = obj({
  ...header,
  spec: obj({
    ipAddressPools: list(str()),
    ipAddressPoolSelectors: list(labelSelectorSchema),
    nodeSelectors: list(labelSelectorSchema),
    interfaces: list(str()),
  }),
});

const peerSchema = obj(
  {
    ...header,
    spec: obj(
      {
        myASN: asn(),
        peerASN: asn(),
        peerAddress: ip(),
        sourceAddress: ip(),
        peerPort: port(),
        holdTime: durationSeconds(),
        keepaliveTime: durationSeconds(),
        connectTime: durationSeconds(),
        routerID: ip(),
        nodeSelectors: list(labelSelectorSchema),
        password: unsupported('TCP MD5 authentication'),
        passwordSecret: unsupported('TCP MD5 authentication'),
        bfdProfile: unsupported('BFD'),
        ebgpMultiHop: bool(),
        vrf: unsupported('VRFs'),
        disableMP: bool(),
        dynamicASN: unsupported('dynamic peer ASN (internal/external)'),
        enableGracefulRestart: unsupported('BGP graceful restart'),
        interface: unsupported('BGP unnumbered (interface peering)'),
      },
      ['myASN', 'peerAddress'],
    ),
  },
  ['spec'],
);

const communityCrSchema = obj({ ...header, spec: obj({ communities: list(obj({ name: str(), value: str() }, ['name', 'value'])) }) });

function poolsSelectedBy(names: string[] | undefined, selectors: Array<Infer<typeof labelSelectorSchema>> | undefined, poolLabels: Map<string, Record<string, string>>): string[] {
  const chosen = new Set(names ?? []);
  for (const selector of selectors ?? []) for (const [name, labels] of poolLabels) if (matchesSelector(toSelector(selector), labels)) chosen.add(name);
  // neither listed nor selected: every pool
  return chosen.size === 0 && (names ?? []).length === 0 && (selectors ?? []).length === 0 ? [] : [...chosen];
}

export const metallbTranslator: FlavourTranslator = {
  flavour: 'metallb',
  handles: (m) => m.group === 'metallb.io',
  translate(input) {
    const out = emptyOutput();
    const poolLabels = new Map<string, Record<string, string>>();
    const pools: Array<{ pool: LbPool; priority: number }> = [];
    const aliases: Record<string, string> = {};
    for (const m of input.manifests) {
      if (m.kind === 'IPAddressPool') {
        const checked = checkObject(m, poolSchema);
        if (!checked) continue;
        const spec = checked.spec!;
        poolLabels.set(m.name, checked.metadata?.labels ?? {});
        const selectors = (spec.serviceAllocation?.serviceSelectors ?? []).map(toSelector);
        pools.push({
          priority: spec.serviceAllocation?.priority ?? Number.MAX_SAFE_INTEGER,
          pool: {
            name: m.name,
            flavour: 'metallb',
            blocks: spec.addresses ?? [],
            serviceSelector: anyOf(selectors),
            namespaces: spec.serviceAllocation?.namespaces ?? [],
            disabled: false,
            autoAssign: spec.autoAssign ?? true,
            reserveFirstLast: false,
            avoidBuggyIPs: spec.avoidBuggyIPs ?? false,
            source: sourceOf(m),
          },
        });
      } else if (m.kind === 'Community') {
        const checked = checkObject(m, communityCrSchema);
        (checked?.spec?.communities ?? []).forEach((c, i) => {
          const value = standardCommunity(c.value!);
          if (value) aliases[c.name!] = value;
          else noteUnsupported(m.ctx, ['spec', 'communities', i, 'value'], 'large or extended community aliases');
        });
      }
    }
    // serviceAllocation.priority: lower first, pools without one last (stable by file order)
    out.pools = pools.sort((a, b) => a.priority - b.priority).map((p) => p.pool);

    const peers: Array<{ m: Manifest; spec: NonNullable<Infer<typeof peerSchema>['spec']> }> = [];
    const adverts: Array<{ intent: AdvertisementIntent; peers: string[] }> = [];
    for (const m of input.manifests) {
      switch (m.kind) {
        case 'IPAddressPool':
        case 'Community':
          break;
        case 'BGPPeer': {
          const checked = checkObject(m, peerSchema);
          if (checked) peers.push({ m, spec: checked.spec! });
          break;
        }
        case 'BGPAdvertisement': {
          const checked = checkObject(m, bgpAdvertisementSchema);
          if (!checked) break;
          const spec = checked.spec ?? {};
          const intent = advertisementIntent(m.ref, 'lb-vip', EVERYTHING, sourceOf(m));
          intent.pools = poolsSelectedBy(spec.ipAddressPools, spec.ipAddressPoolSelectors, poolLabels);
          if (intent.pools.length === 0 && ((spec.ipAddressPools ?? []).length > 0 || (spec.ipAddressPoolSelectors ?? []).length > 0)) intent.serviceSelector = NOTHING;
          intent.nodeSelector = anyOf((spec.nodeSelectors ?? []).map(toSelector));
          if (spec.aggregationLength !== undefined) intent.aggregationLengthV4 = spec.aggregationLength;
          if (spec.aggregationLengthV6 !== undefined) intent.aggregationLengthV6 = spec.aggregationLengthV6;
          if (spec.localPref !== undefined) intent.localPref = spec.localPref;
          (spec.communities ?? []).forEach((c, i) => {
            const resolved = resolveCommunity(c, aliases, m.ctx, ['spec', 'communities', i]);
            if (resolved) intent.communities.push(resolved);
          });
          out.advertisements.push(intent);
          adverts.push({ intent, peers: spec.peers ?? [] });
          break;
        }
        case 'L2Advertisement': {
          const checked = checkObject(m, l2AdvertisementSchema);
          if (!checked) break;
          const spec = checked.spec ?? {};
          out.l2Announcements.push({
            name: m.name,
            serviceSelector: EVERYTHING,
            nodeSelector: anyOf((spec.nodeSelectors ?? []).map(toSelector)),
            interfaces: (spec.interfaces ?? []).map((name) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
            loadBalancerIPs: true,
            externalIPs: false,
            pools: poolsSelectedBy(spec.ipAddressPools, spec.ipAddressPoolSelectors, poolLabels),
            source: sourceOf(m),
          });
          break;
        }
        default:
          noteUnsupported(m.ctx, [], `kind ${m.kind} (${m.apiVersion}) is not modelled; the object is ignored`);
      }
    }

    for (const node of input.nodes) {
      const byAsn = new Map<number, { routerId: string | undefined; peers: BgpPeer[]; source: Manifest }>();
      for (const { m, spec } of peers) {
        if (!matchesSelector(anyOf((spec.nodeSelectors ?? []).map(toSelector)), node.labels)) continue;
        const entry = byAsn.get(spec.myASN!) ?? { routerId: spec.routerID, peers: [], source: m };
        const holdTime = spec.holdTime ?? DEFAULT_BGP_TIMERS.holdTimeSeconds;
        entry.peers.push({
          name: m.name,
          address: spec.peerAddress!,
          asn: spec.peerASN ?? spec.myASN!,
          port: spec.peerPort ?? 179,
          ...(spec.sourceAddress ? { localAddress: spec.sourceAddress } : {}),
          ...(spec.ebgpMultiHop ? { multihopTtl: 255 } : {}),
          timers: { holdTimeSeconds: holdTime, keepaliveSeconds: spec.keepaliveTime ?? Math.floor(holdTime / 3), connectRetrySeconds: spec.connectTime ?? DEFAULT_BGP_TIMERS.connectRetrySeconds },
          families: spec.peerAddress!.includes(':') && spec.disableMP ? ['ipv6-unicast'] : spec.disableMP ? ['ipv4-unicast'] : ['ipv4-unicast', 'ipv6-unicast'],
          advertisements: adverts.filter((a) => a.peers.length === 0 || a.peers.includes(m.name)).map((a) => a.intent.id),
          source: sourceOf(m),
        });
        byAsn.set(spec.myASN!, entry);
      }
      for (const [localASN, entry] of byAsn) {
        const routerId = entry.routerId ?? nodeIPv4(node);
        if (!routerId) {
          report(entry.source.ctx, ['spec'], `node ${node.name} has no IPv4 address for a router id; set routerID`);
          continue;
        }
        out.bgpInstances.push({ node: node.name, name: `metallb-${localASN}`, localASN, routerId, peers: entry.peers, source: sourceOf(entry.source) });
      }
    }
    return out;
  },
};
