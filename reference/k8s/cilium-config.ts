// Cilium's own configuration: cluster-pool pod IPAM in `cilium-config`, Helm values, and the
// MetalLB-style `bgp-config` ConfigMap of Cilium 1.10-1.12 (seed 000).
import { parseCidr } from '../ipam/address.ts';
import { checkObject, sourceOf } from './core.ts';
import { advertisementIntent, type FlavourInput, type FlavourOutput } from './flavour.ts';
import { embeddedYaml, type Manifest } from './manifests.ts';
import { type PodIpam } from './model.ts';
import { NOTHING } from './selectors.ts';
import { bool, cidr, INVALID, int, looseObj, list, oneOf, report, type Infer } from './schema.ts';
import { metallbConfigMapSchema, translateLegacyConfig } from './metallb.ts';
import { configMapSchema, registerIntent } from './cilium-shared.ts';

/** `cilium-config` keys that configure cluster-pool pod IPAM (seed 000's Helm values land here). */
export function translateCiliumConfig(m: Manifest): PodIpam | null {
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

export const NOT_MODELLED_VALUE = 'Helm value not modelled';
export const helmValuesSchema = looseObj(
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

export type HelmValues = Infer<typeof helmValuesSchema>;

/** Cilium Helm values (seed 000 gives them): cluster-pool pod IPAM, what the old speaker announces, LB mode. */
export function translateHelmValues(m: Manifest, out: FlavourOutput): HelmValues | null {
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
export function applyLegacyAnnounce(values: HelmValues, m: Manifest, out: FlavourOutput): void {
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
export function translateBgpConfigMap(m: Manifest, input: FlavourInput, out: FlavourOutput): void {
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
