import { parseCidr } from '../ipam/address.ts';
import { checkObject, sourceOf } from './core.ts';
import { advertisementIntent, emptyOutput, nodeIPv4, type FlavourOutput, type FlavourTranslator } from './flavour.ts';
import type { Manifest } from './manifests.ts';
import { DEFAULT_BGP_TIMERS, type AdvertisementIntent, type BgpPeer, type CalicoPool, type ClusterNode, type Selector } from './model.ts';
import { EVERYTHING, matchesSelector, NOTHING, parseCalicoSelector, SelectorSyntaxError } from './selectors.ts';
import {
  anything,
  asn,
  bool,
  INVALID,
  int,
  list,
  metadataSchema,
  noteUnsupported,
  obj,
  oneOf,
  port,
  report,
  str,
  unsupported,
  type Schema,
} from './schema.ts';

// Calico (crd.projectcalico.org/v1 and projectcalico.org/v3): BGPConfiguration, BGPPeer,
// IPPool, IPAMConfig(uration). Seed 001: nodeToNodeMeshEnabled false, a BGPPeer selecting
// nodes with `rr-group == 'rr1'` towards the switch, blocks advertised with blackholes.

export const CALICO_DEFAULT_ASN = 64512;
const ASN_ANNOTATION = 'projectcalico.org/ASNumber';
const IPV4_ANNOTATION = 'projectcalico.org/IPv4Address';

function calicoSelector(): Schema<Selector> {
  return {
    expected: "a Calico selector (e.g. rr-group == 'rr1', all(), has(key))",
    check: (value, path, ctx) => {
      if (typeof value !== 'string') {
        report(ctx, path, `expected a Calico selector string, got ${JSON.stringify(value)}`);
        return INVALID;
      }
      try {
        return parseCalicoSelector(value);
      } catch (error) {
        if (!(error instanceof SelectorSyntaxError)) throw error;
        report(ctx, path, error.message);
        return INVALID;
      }
    },
  };
}

const header = { apiVersion: str(), kind: str(), metadata: metadataSchema, status: anything() };
const cidrEntries = list(obj({ cidr: str() }, ['cidr']));

const bgpConfigurationSchema = obj({
  ...header,
  spec: obj({
    asNumber: asn(),
    logSeverityScreen: anything(),
    nodeToNodeMeshEnabled: bool(),
    serviceLoadBalancerIPs: cidrEntries,
    serviceExternalIPs: cidrEntries,
    serviceClusterIPs: cidrEntries,
    listenPort: port(),
    bindMode: oneOf(['None', 'NodeIP'] as const),
    ignoredInterfaces: anything(),
    communities: unsupported('community definitions for prefix advertisements'),
    prefixAdvertisements: unsupported('communities on prefix advertisements'),
    nodeMeshPassword: unsupported('TCP MD5 authentication on the node mesh'),
    nodeMeshMaxRestartTime: unsupported('graceful restart time of the node mesh'),
    localWorkloadPeeringIPV4: unsupported('local workload peering'),
    localWorkloadPeeringIPV6: unsupported('local workload peering'),
    programClusterRoutes: unsupported('programClusterRoutes'),
  }),
});

const bgpPeerSchema = obj(
  {
    ...header,
    spec: obj({
      node: str(),
      peerIP: str(),
      asNumber: asn(),
      nodeSelector: calicoSelector(),
      peerSelector: calicoSelector(),
      sourceAddress: oneOf(['UseNodeIP', 'None'] as const),
      keepOriginalNextHop: unsupported('keepOriginalNextHop'),
      nextHopMode: unsupported('nextHopMode'),
      password: unsupported('TCP MD5 authentication'),
      maxRestartTime: unsupported('graceful restart time'),
      numAllowedLocalASNumbers: unsupported('allowas-in (numAllowedLocalASNumbers)'),
      ttlSecurity: unsupported('GTSM (ttlSecurity)'),
      reachableBy: unsupported('reachableBy'),
      filters: unsupported('BGP filters'),
      localWorkloadSelector: unsupported('local workload peering'),
      localASNumber: unsupported('per-peer local AS number'),
    }),
  },
  ['spec'],
);

const ipPoolSchema = obj(
  {
    ...header,
    spec: obj(
      {
        cidr: str(),
        blockSize: int(0, 128, 'a block prefix length'),
        ipipMode: oneOf(['Never', 'Always', 'CrossSubnet'] as const),
        vxlanMode: oneOf(['Never', 'Always', 'CrossSubnet'] as const),
        ipip: unsupported('IP-in-IP encapsulation'),
        natOutgoing: anything(),
        disabled: bool(),
        disableBGPExport: bool(),
        nodeSelector: calicoSelector(),
        allowedUses: list(oneOf(['Workload', 'Tunnel', 'LoadBalancer'] as const)),
        assignmentMode: oneOf(['Automatic', 'Manual'] as const),
        namespaceSelector: unsupported('namespace selectors on IP pools'),
      },
      ['cidr'],
    ),
  },
  ['spec'],
);

const ipamConfigSchema = obj({
  ...header,
  spec: obj({ strictAffinity: bool(), maxBlocksPerHost: int(0, 2147483647, 'a block count'), autoAllocateBlocks: bool(), kubeVirtVMAddressPersistence: anything() }),
});

/** "10.0.0.1", "10.0.0.1:1790", "[2001:db8::1]:1790" */
function parsePeerIp(text: string): { address: string; port: number } | null {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^([0-9.]+)(?::(\d+))?$/.exec(text);
  const match = v6 ?? v4 ?? (text.includes(':') ? [text, text, undefined] : null);
  if (!match) return null;
  const address = match[1]!;
  const port = match[2] ? Number(match[2]) : 179;
  if (!parseCidr(`${address}/${address.includes(':') ? 128 : 32}`) || port < 1 || port > 65535) return null;
  return { address, port };
}

function nodeAsn(node: ClusterNode, defaultAsn: number): number {
  const annotated = Number(node.annotations[ASN_ANNOTATION]);
  return Number.isInteger(annotated) && annotated > 0 ? annotated : defaultAsn;
}

function nodeAddress(node: ClusterNode): string | undefined {
  const annotated = node.annotations[IPV4_ANNOTATION];
  return annotated ? annotated.split('/')[0] : nodeIPv4(node);
}

export const calicoTranslator: FlavourTranslator = {
  flavour: 'calico',
  handles: (m) => m.group === 'crd.projectcalico.org' || m.group === 'projectcalico.org',
  translate(input) {
    const out: FlavourOutput = emptyOutput();
    let asNumber = CALICO_DEFAULT_ASN;
    let mesh = true;
    let listenPort: number | undefined;
    const fixedPrefixes: Array<{ kind: AdvertisementIntent['kind']; cidrs: string[]; m: Manifest }> = [];
    const pools: CalicoPool[] = [];
    let strictAffinity = false;
    let maxBlocksPerHost = 0;
    const peers: Array<{ m: Manifest; spec: NonNullable<NonNullable<ReturnType<typeof checkPeer>>['spec']> }> = [];

    for (const m of input.manifests) {
      switch (m.kind) {
        case 'BGPConfiguration': {
          const checked = checkObject(m, bgpConfigurationSchema);
          if (!checked) break;
          if (m.name !== 'default') {
            noteUnsupported(m.ctx, [], 'per-node BGPConfiguration (only "default" is applied)');
            break;
          }
          const spec = checked.spec ?? {};
          asNumber = spec.asNumber ?? asNumber;
          mesh = spec.nodeToNodeMeshEnabled ?? true;
          listenPort = spec.listenPort;
          const cidrsOf = (entries: Array<{ cidr?: string }> | undefined, field: string): string[] =>
            (entries ?? []).flatMap((e, i) => {
              if (parseCidr(e.cidr!)) return [e.cidr!];
              report(m.ctx, ['spec', field, i, 'cidr'], `expected a CIDR, got ${JSON.stringify(e.cidr)}`);
              return [];
            });
          fixedPrefixes.push({ kind: 'lb-vip', cidrs: cidrsOf(spec.serviceLoadBalancerIPs, 'serviceLoadBalancerIPs'), m });
          fixedPrefixes.push({ kind: 'external-ip', cidrs: cidrsOf(spec.serviceExternalIPs, 'serviceExternalIPs'), m });
          fixedPrefixes.push({ kind: 'cluster-ip', cidrs: cidrsOf(spec.serviceClusterIPs, 'serviceClusterIPs'), m });
          break;
        }
        case 'BGPPeer': {
          const checked = checkPeer(m);
          if (checked) peers.push({ m, spec: checked.spec! });
          break;
        }
        case 'IPPool': {
          const checked = checkObject(m, ipPoolSchema);
          if (!checked) break;
          const spec = checked.spec!;
          const cidr = parseCidr(spec.cidr!);
          if (!cidr) {
            report(m.ctx, ['spec', 'cidr'], `expected a CIDR, got ${JSON.stringify(spec.cidr)}`);
            break;
          }
          for (const mode of ['ipipMode', 'vxlanMode'] as const) {
            if (spec[mode] !== undefined && spec[mode] !== 'Never') noteUnsupported(m.ctx, ['spec', mode], `${mode} ${spec[mode]}: encapsulation is not modelled; the pool is routed natively`);
          }
          const uses = spec.allowedUses ?? ['Workload', 'Tunnel'];
          if (uses.includes('LoadBalancer')) {
            out.pools.push({
              name: m.name,
              flavour: 'calico',
              blocks: [spec.cidr!],
              serviceSelector: EVERYTHING,
              namespaces: [],
              disabled: spec.disabled ?? false,
              autoAssign: spec.assignmentMode !== 'Manual',
              reserveFirstLast: false,
              avoidBuggyIPs: false,
              source: sourceOf(m),
            });
          }
          if (uses.includes('Workload')) {
            pools.push({
              name: m.name,
              cidr: spec.cidr!,
              blockSize: spec.blockSize ?? (cidr.family === 4 ? 26 : 122),
              nodeSelector: spec.nodeSelector ?? EVERYTHING,
              disabled: spec.disabled ?? false,
              disableBGPExport: spec.disableBGPExport ?? false,
              source: sourceOf(m),
            });
          }
          break;
        }
        case 'IPAMConfig':
        case 'IPAMConfiguration': {
          const checked = checkObject(m, ipamConfigSchema);
          if (!checked) break;
          strictAffinity = checked.spec?.strictAffinity ?? false;
          maxBlocksPerHost = checked.spec?.maxBlocksPerHost ?? 0;
          if (checked.spec?.autoAllocateBlocks === false) noteUnsupported(m.ctx, ['spec', 'autoAllocateBlocks'], 'autoAllocateBlocks: false (blocks are always claimed automatically)');
          break;
        }
        default:
          noteUnsupported(m.ctx, [], `kind ${m.kind} (${m.apiVersion}) is not modelled; the object is ignored`);
      }
    }

    const source = input.manifests[0] ? sourceOf(input.manifests[0]) : { file: '', line: 0, object: '' };
    const base = (id: string, kind: AdvertisementIntent['kind'], prefixes: string[], src = source): AdvertisementIntent =>
      advertisementIntent(id, kind, kind === 'ipam-blocks' ? NOTHING : EVERYTHING, src, { prefixes });
    const intentIds: string[] = [];
    if (pools.length > 0) {
      out.advertisements.push(base('calico/ipam-blocks', 'ipam-blocks', []));
      intentIds.push('calico/ipam-blocks');
    }
    for (const fixed of fixedPrefixes) {
      if (fixed.cidrs.length === 0) continue;
      const id = `calico/${fixed.kind}`;
      out.advertisements.push(base(id, fixed.kind, fixed.cidrs, sourceOf(fixed.m)));
      intentIds.push(id);
    }
    if (pools.length > 0) out.podIpam = { mode: 'calico', pools, strictAffinity, maxBlocksPerHost };

    const calicoNodes = input.nodes.filter((n) => nodeAddress(n));
    for (const node of input.nodes) {
      const routerId = nodeAddress(node);
      if (!routerId) continue;
      const localASN = nodeAsn(node, asNumber);
      const sessions: BgpPeer[] = [];
      const add = (name: string, address: string, peerAsn: number, port: number, src: Manifest | null): void => {
        if (address === routerId || sessions.some((s) => s.address === address)) return;
        sessions.push({
          name,
          address,
          asn: peerAsn,
          port,
          timers: { ...DEFAULT_BGP_TIMERS },
          families: address.includes(':') ? ['ipv6-unicast'] : ['ipv4-unicast'],
          advertisements: [...intentIds],
          source: src ? sourceOf(src) : source,
        });
      };
      for (const { m, spec } of peers) {
        const applies = spec.node ? spec.node === node.name : matchesSelector(spec.nodeSelector ?? EVERYTHING, node.labels);
        if (!applies) continue;
        if (spec.peerIP) {
          const parsed = parsePeerIp(spec.peerIP)!;
          add(m.name, parsed.address, spec.asNumber ?? localASN, parsed.port, m);
        }
        if (spec.peerSelector) {
          for (const other of calicoNodes) {
            if (other.name !== node.name && matchesSelector(spec.peerSelector, other.labels)) add(`${m.name}/${other.name}`, nodeAddress(other)!, nodeAsn(other, asNumber), 179, m);
          }
        }
      }
      if (mesh) for (const other of calicoNodes) if (other.name !== node.name) add(`mesh/${other.name}`, nodeAddress(other)!, nodeAsn(other, asNumber), 179, null);
      out.bgpInstances.push({ node: node.name, name: 'calico', localASN, routerId, ...(listenPort !== undefined ? { listenPort } : {}), peers: sessions, source: node.source });
    }
    return out;
  },
};

function checkPeer(m: Manifest) {
  const checked = checkObject(m, bgpPeerSchema);
  if (!checked) return null;
  const spec = checked.spec!;
  if (!spec.peerIP && !spec.peerSelector) {
    report(m.ctx, ['spec'], 'a BGPPeer needs peerIP or peerSelector');
    return null;
  }
  if (spec.peerIP && !parsePeerIp(spec.peerIP)) {
    report(m.ctx, ['spec', 'peerIP'], `expected an IP address, optionally with :port, got ${JSON.stringify(spec.peerIP)}`);
    return null;
  }
  if (spec.peerIP && spec.asNumber === undefined) {
    report(m.ctx, ['spec', 'asNumber'], 'missing required field "asNumber" for a peerIP peer');
    return null;
  }
  return checked;
}
