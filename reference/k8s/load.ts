import { anthosTranslator } from './anthos.ts';
import { calicoTranslator } from './calico.ts';
import { ciliumTranslator } from './cilium.ts';
import { mergeEndpoints, translateEndpointSlice, translateNode, translatePod, translateService } from './core.ts';
import type { FlavourTranslator } from './flavour.ts';
import { ClusterInputError, parseManifests, readClusterFolder, type Manifest } from './manifests.ts';
import { metallbTranslator } from './metallb.ts';
import type { ClusterModel, ServiceEndpoints, UnsupportedFeature } from './model.ts';
import { noteUnsupported, type InputIssue } from './schema.ts';

// Cluster folder -> ClusterModel. Core objects first (translators need nodes), then each
// flavour's objects through its own translator. Any problem anywhere -> one ClusterInputError
// listing all of them; nothing is half-loaded.

const TRANSLATORS: FlavourTranslator[] = [ciliumTranslator, calicoTranslator, metallbTranslator, anthosTranslator];

/** Kinds read only for their relation to others, or harmless in a cluster folder. */
const IGNORED_CORE_KINDS = new Set(['Namespace']);

export function loadClusterFolder(dir: string): ClusterModel {
  const issues: InputIssue[] = [];
  const unsupported: UnsupportedFeature[] = [];
  return buildModel(readClusterFolder(dir, issues, unsupported), issues, unsupported);
}

/** Same as loadClusterFolder for in-memory files (name -> YAML text). */
export function loadClusterFiles(files: Record<string, string>): ClusterModel {
  const issues: InputIssue[] = [];
  const unsupported: UnsupportedFeature[] = [];
  const manifests = Object.keys(files)
    .sort()
    .flatMap((name) => parseManifests(files[name]!, name, issues, unsupported));
  return buildModel(manifests, issues, unsupported);
}

function buildModel(manifests: Manifest[], issues: InputIssue[], unsupported: UnsupportedFeature[]): ClusterModel {
  const model: ClusterModel = {
    flavours: [],
    nodes: [],
    services: [],
    pods: [],
    endpoints: [],
    pools: [],
    podIpam: { mode: 'kubernetes' },
    bgpInstances: [],
    advertisements: [],
    l2Announcements: [],
    floatingIPs: [],
    loadBalancerNodes: [],
    unsupported,
  };
  const byFlavour = new Map<FlavourTranslator, Manifest[]>(TRANSLATORS.map((t) => [t, []]));
  const slices: ServiceEndpoints[] = [];
  const seen = new Map<string, Manifest>();
  for (const m of manifests) {
    const identity = `${m.group}/${m.kind}/${m.namespace ?? ''}/${m.name}`;
    const earlier = seen.get(identity);
    if (earlier) {
      issues.push({ file: m.file, line: m.line, column: 1, object: m.ref, path: 'metadata.name', message: `duplicate object: already defined at ${earlier.file}:${earlier.line}` });
      continue;
    }
    seen.set(identity, m);
    const translator = TRANSLATORS.find((t) => t.handles(m));
    if (translator) {
      byFlavour.get(translator)!.push(m);
      continue;
    }
    if (m.group === '' && m.kind === 'Node') {
      const node = translateNode(m);
      if (node) model.nodes.push(node);
    } else if (m.group === '' && m.kind === 'Service') {
      const service = translateService(m);
      if (service) model.services.push(service);
    } else if (m.group === '' && m.kind === 'Pod') {
      const pod = translatePod(m);
      if (pod) model.pods.push(pod);
    } else if (m.group === 'discovery.k8s.io' && m.kind === 'EndpointSlice') {
      const slice = translateEndpointSlice(m);
      if (slice) slices.push(slice);
    } else if (!(m.group === '' && IGNORED_CORE_KINDS.has(m.kind))) {
      noteUnsupported(m.ctx, [], `kind ${m.kind} (${m.apiVersion}) is not modelled; the object is ignored`);
    }
  }
  model.endpoints = mergeEndpoints(slices);

  for (const [translator, own] of byFlavour) {
    if (own.length === 0) continue;
    const out = translator.translate({ manifests: own, nodes: model.nodes, services: model.services });
    const contributes = out.pools.length + out.bgpInstances.length + out.advertisements.length + out.l2Announcements.length + out.floatingIPs.length > 0 || out.podIpam;
    if (contributes) model.flavours.push(translator.flavour);
    model.pools.push(...out.pools);
    model.bgpInstances.push(...out.bgpInstances);
    model.advertisements.push(...out.advertisements);
    model.l2Announcements.push(...out.l2Announcements);
    model.floatingIPs.push(...out.floatingIPs);
    if (out.loadBalancerNodes) model.loadBalancerNodes.push(...out.loadBalancerNodes);
    if (out.loadBalancerMode) model.loadBalancerMode = out.loadBalancerMode;
    if (out.podIpam) {
      if (model.podIpam.mode !== 'kubernetes') {
        const first = own[0]!;
        issues.push({ file: first.file, line: first.line, column: 1, object: first.ref, path: '', message: `two pod IPAM configurations (${model.podIpam.mode} and ${out.podIpam.mode})` });
      } else model.podIpam = out.podIpam;
    }
  }
  const poolNames = new Map<string, string>();
  for (const pool of model.pools) {
    const where = `${pool.source.file}:${pool.source.line}`;
    const earlier = poolNames.get(pool.name);
    if (earlier) issues.push({ file: pool.source.file, line: pool.source.line, column: 1, object: pool.source.object, path: 'metadata.name', message: `a pool named "${pool.name}" is already defined at ${earlier}` });
    poolNames.set(pool.name, where);
  }
  if (issues.length > 0) throw new ClusterInputError(issues);
  // per-node translation may meet the same field once per node: list it once
  const seenUnsupported = new Set<string>();
  model.unsupported = unsupported.filter((u) => {
    const key = `${u.file}:${u.line}:${u.object}:${u.path}:${u.feature}`;
    if (seenUnsupported.has(key)) return false;
    seenUnsupported.add(key);
    return true;
  });
  return model;
}
