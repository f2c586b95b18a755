import { Command } from 'commander';
import { loadClusterFolder } from '../../../reference/k8s/load.ts';
import { ClusterInputError } from '../../../reference/k8s/manifests.ts';
import type { ClusterModel } from '../../../reference/k8s/model.ts';
import { allocateCluster, type ClusterIpamView } from '../../../reference/ipam/cluster-ipam.ts';
import { IpamStateError } from '../../../reference/ipam/state-file.ts';

// `peerproof cluster DIR`: what the reference makes of a fixture's cluster/ folder: the model
// (sessions, advertisements, L2, pools) and the allocations, or every input error at once.

export function register(program: Command): void {
  program
    .command('cluster')
    .description("Translate a cluster/ folder (Nodes, Services, CRDs of any flavour) into peerproof's model and allocate addresses")
    .argument('<dir>', 'folder of Kubernetes YAML (a fixture cluster/ folder)')
    .option('--json', 'print the model and the allocations as JSON')
    .option('--state <file>', 'IPAM state file to restore from and save to (stable allocations across runs)')
    .action((dir: string, opts: { json?: boolean; state?: string }) => {
      let model: ClusterModel;
      let view: ClusterIpamView;
      try {
        model = loadClusterFolder(dir);
        view = allocateCluster(model, opts.state);
      } catch (error) {
        if (error instanceof ClusterInputError || error instanceof IpamStateError) return fail(error.message);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fail(`cannot read ${dir}: no such folder`);
        throw error;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ model, allocations: view }, null, 2)}\n`);
        return;
      }
      process.stdout.write(summary(model, view));
    });
}

export function summary(model: ClusterModel, view: ClusterIpamView): string {
  const lines: string[] = [];
  const intents = new Map(model.advertisements.map((a) => [a.id, a]));
  lines.push(`flavours: ${model.flavours.join(', ') || '(none)'}    nodes: ${model.nodes.length}    services: ${model.services.length}    pod IPAM: ${model.podIpam.mode}`);
  for (const pool of view.pools) {
    const spec = model.pools.find((p) => p.name === pool.name)!;
    const flags = [pool.conflicting ? `CONFLICTING with ${pool.conflictsWith}` : '', pool.disabled ? 'disabled' : ''].filter(Boolean).join(', ');
    lines.push(`pool ${pool.name} [${spec.flavour}] ${spec.blocks.join(' ')}: ${pool.used}/${pool.capacity} used${flags ? ` (${flags})` : ''}`);
  }
  for (const service of view.services) {
    const addresses = service.addresses.map((a) => `${a.address} (${a.pool})`).join(', ') || '-';
    const conditions = service.conditions.map((c) => `${c.reason}: ${c.message}`).join('; ');
    lines.push(`service ${service.service}: ${addresses}${conditions ? `  [${conditions}]` : ''}`);
  }
  for (const instance of model.bgpInstances) {
    lines.push(`bgp ${instance.node} ${instance.name}: AS ${instance.localASN} router-id ${instance.routerId}`);
    for (const peer of instance.peers) {
      const kinds = peer.advertisements.map((id) => intents.get(id)?.kind ?? id).join(', ') || 'nothing';
      const extras = [peer.localAddress ? `from ${peer.localAddress}` : '', peer.multihopTtl ? `multihop ${peer.multihopTtl}` : '', peer.addPath ? `add-path ${peer.addPath}` : '', peer.gracefulRestart?.enabled ? `graceful restart ${peer.gracefulRestart.restartTimeSeconds} s` : '']
        .filter(Boolean)
        .join(', ');
      lines.push(`  peer ${peer.address} AS ${peer.asn}${extras ? ` (${extras})` : ''}: announces ${kinds}`);
    }
  }
  for (const l2 of model.l2Announcements) lines.push(`l2 ${l2.name}: interfaces ${l2.interfaces.join(' ') || '(all)'}${l2.pools.length ? ` pools ${l2.pools.join(' ')}` : ''}`);
  for (const fip of model.floatingIPs) lines.push(`floating IP ${fip.address} on ${fip.node}`);
  for (const [node, cidrs] of Object.entries(view.podCidrs)) if (cidrs.length) lines.push(`pod CIDRs ${node}: ${cidrs.join(' ')}`);
  for (const a of view.calico?.assignments ?? []) lines.push(`pod ${a.pod} on ${a.node}: ${a.address} (block ${a.block}${a.borrowed ? ', borrowed' : ''})`);
  for (const problem of view.problems) lines.push(`problem: ${problem}`);
  for (const u of model.unsupported) lines.push(`unsupported: ${u.file}:${u.line} ${u.object}${u.path ? ` ${u.path}` : ''}: ${u.feature}`);
  return `${lines.join('\n')}\n`;
}

function fail(message: string): void {
  process.stderr.write(`peerproof cluster: ${message}\n`);
  process.exitCode = 2;
}
