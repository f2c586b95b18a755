// Cilium: BGP Control Plane v1 (CiliumBGPPeeringPolicy), v2 (CiliumBGPClusterConfig /
// PeerConfig / Advertisement), LB-IPAM pools, L2 announcement policies, the MetalLB-style
// `bgp-config` ConfigMap of Cilium 1.10-1.12 (seed 000) and cluster-pool settings of
// `cilium-config`. One file per CRD family (cilium-bgp-v1, cilium-bgp-v2, cilium-lb, cilium-config);
// this one dispatches the manifests to them in the order their results depend on.
import { emptyOutput, type FlavourTranslator } from './flavour.ts';
import { HELM_VALUES_KIND, type Manifest } from './manifests.ts';
import { noteUnsupported } from './schema.ts';
import { translatePeeringPolicy } from './cilium-bgp-v1.ts';
import { applyNodeOverrides, checkResolvedInstances, translateClusterConfigs } from './cilium-bgp-v2.ts';
import { type HelmValues, applyLegacyAnnounce, translateBgpConfigMap, translateCiliumConfig, translateHelmValues } from './cilium-config.ts';
import { translateL2Policy, translatePool } from './cilium-lb.ts';
import { CILIUM_GROUPS, isConfigMap } from './cilium-shared.ts';

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

