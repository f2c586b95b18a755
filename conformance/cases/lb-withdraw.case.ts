// lb.withdraw: deleting a LoadBalancer Service withdraws its VIP on every session that carried
// it, within a bound, and every peer's RIB loses it; restoring the Service announces it again
// (so the lab is as before for the cases that follow). Needs a speaker that watches Services.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { sentPrefixEvents, pollUntil } from '../checks/captured.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { firstWithdrawalAfter, isAnnounced } from '../checks/withdrawals.ts';
import { captureFileName } from '../lab/capture.ts';
import { allocateCluster } from '../../reference/ipam/cluster-ipam.ts';
import { loadClusterFolder } from '../../reference/k8s/load.ts';
import { hostRoute } from '../checks/selector-advertisements.ts';
import { agentClusterDir } from '../lab/speakers/reference.ts';
import { defineCase } from './harness.ts';

/** Withdrawals must be on the wire within this (lab MRAI is 0, hold time 3 s). */
const WITHDRAW_BOUND_S = 5;

interface ServiceDoc {
  file: string;
  original: string;
  without: string;
  name: string;
  vip: string;
}

/**
 * The first LoadBalancer Service whose VIP the speaker announced: which addresses a Service has
 * comes from LB-IPAM over the cluster copy (the reference's own allocation, as the agents make it),
 * so a VIP the IPAM placed counts as well as one written in status.loadBalancer.ingress; both
 * families (/32 and /128).
 */
function findService(clusterDir: string, vips: Set<string>): ServiceDoc | null {
  const model = loadClusterFolder(clusterDir);
  const allocated = new Map(allocateCluster(model).services.map((s) => [s.service, s.addresses.map((a) => hostRoute(a.address))]));
  for (const f of readdirSync(clusterDir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
    const file = join(clusterDir, f);
    const original = readFileSync(file, 'utf8');
    const chunks = original.split(/^---[ \t]*$/m);
    for (let i = 0; i < chunks.length; i++) {
      let doc: { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; status?: { loadBalancer?: { ingress?: Array<{ ip?: unknown }> } } } | null;
      try {
        doc = parse(chunks[i]!) as typeof doc;
      } catch {
        continue;
      }
      if (doc?.kind !== 'Service') continue;
      const key = `${typeof doc.metadata?.namespace === 'string' ? doc.metadata.namespace : 'default'}/${String(doc.metadata?.name)}`;
      const fromStatus = (doc.status?.loadBalancer?.ingress ?? []).flatMap((g) => (typeof g.ip === 'string' ? [hostRoute(g.ip)] : []));
      const vip = [...(allocated.get(key) ?? []), ...fromStatus].find((p) => vips.has(p));
      if (!vip) continue;
      const without = chunks.filter((_, j) => j !== i).join('---');
      return { file, original, without, name: String(doc.metadata?.name), vip };
    }
  }
  return null;
}

defineCase('lb.withdraw', {
  needs: ['k8s-control-plane'],
  async run({ lab, measure, artifact, skip }) {
    const clusterDir = agentClusterDir(lab.runDir);
    if (!existsSync(clusterDir)) return skip(`no agent cluster folder at ${clusterDir}`);
    const sessions = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    const read = () =>
      sessions.map((s) => {
        const file = captureFileName(lab.runDir, s.speakerNode, s.ifname!);
        return { s, events: sentPrefixEvents(file, s) };
      });
    // What the speaker announces now, from the wire.
    const before = read();
    const isHostRoute = (p: string) => p.endsWith(p.includes(':') ? '/128' : '/32');
    const announcedVips = new Set(before.flatMap((x) => x.events.filter((e) => isHostRoute(e.prefix) && isAnnounced(x.events, e.prefix)).map((e) => e.prefix)));
    const service = findService(clusterDir, announcedVips);
    if (!service) return skip(
        `no LoadBalancer Service in ${clusterDir} has a VIP the speaker announced (announced host routes: ${[...announcedVips].join(', ') || 'none'}); ` +
          'a Service of type LoadBalancer with an address from a pool (or status.loadBalancer.ingress) that a BGP advertisement selecting a speaker node selects would provide one',
      );
    const carriers = before.filter((x) => isAnnounced(x.events, service.vip)).map((x) => x.s);
    for (const s of carriers) artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));
    const peers = [...new Set(carriers.map((s) => s.peerNode!))];
    measure('service', service.name);
    measure('vip', service.vip);
    measure('sessionsCarrying', carriers.length);
    let back = false;
    const deletedAt = Date.now() / 1000;
    writeFileSync(service.file, service.without);
    try {
      const { value: after, met } = await pollUntil(
        read,
        (now) => carriers.every((s) => firstWithdrawalAfter(now.find((x) => x.s === s)!.events, service.vip, deletedAt - 0.5) !== null),
        WITHDRAW_BOUND_S * 1000 + 5_000,
      );
      const latencies = carriers.map((s) => {
        const w = firstWithdrawalAfter(after.find((x) => x.s === s)!.events, service.vip, deletedAt - 0.5);
        return w ? Math.max(0, w.ts - deletedAt) : Infinity;
      });
      const { met: gone } = await pollUntil(
        async () => Promise.all(peers.map(async (p) => (await lab.node(p).rib()).some((r) => r.prefix === service.vip))),
        (present) => present.every((x) => !x),
        5_000,
      );
      measure('withdrawnSessions', latencies.filter(Number.isFinite).length);
      measure('maxWithdrawLatencyS', Number(Math.max(...latencies.filter(Number.isFinite), 0).toFixed(3)));
      measure('boundS', WITHDRAW_BOUND_S);
      expect(met, `withdrawal of ${service.vip} seen on ${latencies.filter(Number.isFinite).length} of ${carriers.length} sessions`).toBe(true);
      expect(Math.max(...latencies), `slowest withdrawal (s) within ${WITHDRAW_BOUND_S}`).toBeLessThanOrEqual(WITHDRAW_BOUND_S);
      expect(gone, `${service.vip} left the RIB of ${peers.join(', ')}`).toBe(true);
    } finally {
      writeFileSync(service.file, service.original);
      // Healed: the VIP comes back on every session that carried it (bounded; judged below).
      back = (await pollUntil(read, (now) => carriers.every((s) => isAnnounced(now.find((x) => x.s === s)!.events, service.vip)), 15_000)).met;
      measure('reannounced', back);
    }
    expect(back, `${service.vip} announced again on every session once the Service is back`).toBe(true);
  },
});
