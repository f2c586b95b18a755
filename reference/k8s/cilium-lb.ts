// Cilium LB-IPAM pools (CiliumLoadBalancerIPPool) and L2 announcement policies
// (CiliumL2AnnouncementPolicy).
import { parseCidr } from '../ipam/address.ts';
import { checkObject, sourceOf, toSelector } from './core.ts';
import { type FlavourOutput } from './flavour.ts';
import { type Manifest } from './manifests.ts';
import { type LbPool } from './model.ts';
import { bool, ip, labelSelectorSchema, list, obj, oneOf, report, str } from './schema.ts';
import { header } from './cilium-shared.ts';

export const blockSchema = obj({ cidr: str(), start: ip(), stop: ip() });
export const lbPoolSchema = obj(
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

export const l2PolicySchema = obj(
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

export function translatePool(m: Manifest): LbPool | null {
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

export function translateL2Policy(m: Manifest, out: FlavourOutput): void {
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
