// addpath.multi-nexthop: a session from a floating IP (ADD-PATH, RFC 7911) carries one path per
// load-balancer node for one VIP, each with its own path id; the receiving router keeps every
// path of that session and installs every next hop. Judged on the captured UPDATEs of each such
// session and on the receiver's per-neighbor paths (RIB) and kernel route (FIB).
import { expect } from 'vitest';
import { announcedPaths, birdPaths, mostPathsPrefix, multiPathFindings, type ReceivedPath } from '../checks/add-path.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { nodeInterfaces } from '../checks/sessions.ts';
import { sentBy } from '../checks/update-encoding.ts';
import { captureFileName } from '../lab/capture.ts';
import { socketOf as openbgpdSocket } from '../lab/kinds/openbgpd.ts';
import type { Lab } from '../lab/lab.ts';
import { FIB_PROGRAMMING_KINDS, routerKindOf } from '../lab/model.ts';
import { defineCase } from './harness.ts';

interface FloatingSession {
  speakerNode: string;
  ifname: string;
  floating: string;
  receiver: string;
  receiverAddress: string;
}

/** ADD-PATH sessions of speaker nodes sourced from an address other than the node's own. */
function floatingSessions(lab: Lab): FloatingSession[] {
  const out: FloatingSession[] = [];
  for (const node of lab.topology.nodes.filter((n) => n.kind === 'speaker')) {
    for (const nb of node.neighbors.filter((x) => x.addPath && x.updateSource)) {
      const ifname = Object.entries(nodeInterfaces(node)).find(([, cidrs]) => cidrs.some((c) => c.split('/')[0] === nb.updateSource))?.[0];
      const receiver = lab.topology.nodes.find((n) => n.kind !== 'speaker' && routerKindOf(n) && [...Object.values(nodeInterfaces(n)).flat(), ...n.loopback].some((c) => c.split('/')[0] === nb.address));
      if (ifname && receiver) out.push({ speakerNode: node.name, ifname, floating: nb.updateSource!, receiver: receiver.name, receiverAddress: nb.address });
    }
  }
  return out;
}

/** A load-balancer node's own address: its first address that is no floating IP. */
function nodeAddress(lab: Lab, node: string, floating: ReadonlySet<string>): string | null {
  return Object.values(nodeInterfaces(lab.spec(node))).flat().map((c) => c.split('/')[0]!).find((a) => !floating.has(a)) ?? null;
}

/** The paths of `prefix` the receiver holds from `neighbor`, from the daemon itself. */
async function receivedPaths(lab: Lab, node: string, neighbor: string, prefix: string): Promise<ReceivedPath[]> {
  const handle = lab.node(node);
  const kind = routerKindOf(handle.spec);
  if (kind === 'frr') {
    const r = await handle.exec(['vtysh', '--vty_socket', lab.nodeDir(node), '-c', `show bgp ipv4 unicast ${prefix} json`]);
    const paths = ((JSON.parse(r.stdout || '{}') as { paths?: Array<{ peer?: { peerId?: string }; nexthops?: Array<{ ip?: string }>; addpathRxId?: number }> }).paths ?? []);
    return paths.filter((p) => p.peer?.peerId === neighbor).map((p) => ({ nextHop: p.nexthops?.[0]?.ip ?? '', ...(p.addpathRxId === undefined ? {} : { pathId: p.addpathRxId }) }));
  }
  if (kind === 'gobgp') {
    const r = await handle.exec(['gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib', '-a', 'ipv4', prefix, '-j']);
    const rib = (JSON.parse(r.stdout || '{}') ?? {}) as Record<string, Array<{ 'neighbor-ip'?: string; id?: number; attrs?: Array<{ type?: number; nexthop?: string }> }>>;
    return (rib[prefix] ?? []).filter((p) => p['neighbor-ip'] === neighbor).map((p) => ({ nextHop: p.attrs?.find((a) => a.type === 3)?.nexthop ?? '', ...(p.id === undefined ? {} : { pathId: p.id }) }));
  }
  if (kind === 'openbgpd') {
    const r = await handle.exec(['bgpctl', '-j', '-s', openbgpdSocket(lab.nodeDir(node)), 'show', 'rib', prefix]);
    const rib = ((JSON.parse(r.stdout || '{}') as { rib?: Array<{ prefix?: string; exit_nexthop?: string; path_id?: number; neighbor?: { remote_addr?: string } }> }).rib ?? []);
    return rib.filter((p) => p.prefix === prefix && p.neighbor?.remote_addr === neighbor).map((p) => ({ nextHop: p.exit_nexthop ?? '', ...(p.path_id === undefined ? {} : { pathId: p.path_id }) }));
  }
  if (kind === 'bird') {
    // BIRD names protocols peer<index of the neighbor>.
    const protocol = `peer${handle.spec.neighbors.findIndex((n) => n.address === neighbor)}`;
    const r = await handle.exec(['birdc', '-s', `${lab.nodeDir(node)}/bird.ctl`, 'show', 'route', 'for', prefix, 'all']);
    return birdPaths(r.stdout, protocol);
  }
  return [];
}

defineCase('addpath.multi-nexthop', {
  needs: ['addpath-send', 'k8s-control-plane'],
  async run({ lab, measure, artifact, skip }) {
    const all = floatingSessions(lab);
    if (all.length === 0) return skip('no ADD-PATH session from a floating IP in this fixture');
    const floating = new Set(all.map((s) => s.floating));
    const expected = [...new Set(all.map((s) => nodeAddress(lab, s.speakerNode, floating)).filter((a): a is string => a !== null))].sort();
    measure('floatingSessions', all.length);
    measure('loadBalancerNodes', expected.join(' '));
    // Sessions the receivers report Established (establishment itself is session.establish's).
    const established = await pollUntil(
      async () => {
        const up = new Set((await lab.sessions()).filter((s) => s.state === 'Established').map((s) => `${s.node}>${s.peer}`));
        return all.filter((s) => up.has(`${s.receiver}>${s.floating}`));
      },
      (up) => up.length > 0,
      20_000,
    );
    const sessions = established.value;
    measure('sessionsJudged', sessions.length);
    expect(sessions.length, 'at least one floating-IP session Established').toBeGreaterThan(0);

    const findings: string[] = [];
    /** Next hops a receiver holds but cannot resolve: not installable, whatever the speaker does. */
    const unresolved = new Map<string, string[]>();
    let vip: string | null = null;
    let pathIds = 0;
    for (const s of sessions) {
      const file = captureFileName(lab.runDir, s.speakerNode, s.ifname);
      artifact(`pcaps/${s.speakerNode}-${s.ifname}.pcap`);
      const label = `${s.floating}->${s.receiver}`;
      // The paths arrive right after Established: wait (bounded) until they are all on file.
      const { value: paths } = await pollUntil(
        () => announcedPaths(sentBy(capturedMessages(file), { speaker: s.floating, peer: s.receiverAddress })),
        (p) => { const v = vip ?? mostPathsPrefix(p); return v !== null && multiPathFindings(p, v, expected).length === 0; },
        10_000,
      );
      vip ??= mostPathsPrefix(paths);
      if (!vip) {
        findings.push(`${label}: no prefix announced`);
        continue;
      }
      findings.push(...multiPathFindings(paths, vip, expected).map((f) => `${label} (capture): ${f}`));
      pathIds = Math.max(pathIds, new Set(paths.filter((p) => p.prefix === vip).map((p) => p.pathId)).size);

      const { value: received } = await pollUntil(
        () => receivedPaths(lab, s.receiver, s.floating, vip!),
        (r) => expected.every((h) => r.some((p) => p.nextHop === h)),
        10_000,
      );
      const receivedHops = received.map((p) => p.nextHop).sort();
      measure(`received ${label}`, received.map((p) => `${p.nextHop}${p.unresolved ? ' (unresolved)' : ''}`).sort().join(' ') || 'none');
      for (const p of received.filter((x) => x.unresolved)) unresolved.set(s.receiver, [...(unresolved.get(s.receiver) ?? []), p.nextHop]);
      if (!expected.every((h) => receivedHops.includes(h))) findings.push(`${label} (${s.receiver} RIB): paths from ${s.floating} have next hops [${receivedHops.join(', ')}], expected [${expected.join(', ')}]`);
      const ids = received.filter((p) => p.pathId !== undefined).map((p) => p.pathId);
      if (ids.length > 0 && new Set(ids).size !== ids.length) findings.push(`${label} (${s.receiver} RIB): path ids ${ids.join(', ')} not distinct`);
    }
    if (vip) measure('vip', vip);
    measure('distinctPathIds', pathIds);

    // Every receiver installs one kernel next hop per load-balancer node (ECMP); GoBGP and OpenBGPD have no FIB here.
    for (const receiver of [...new Set(sessions.map((s) => s.receiver))]) {
      if (!vip) break;
      const receiverKind = routerKindOf(lab.spec(receiver));
      if (receiverKind && !FIB_PROGRAMMING_KINDS.includes(receiverKind)) {
        measure(`fib ${receiver}`, `n/a: ${receiverKind} installs no kernel routes in the lab`);
        continue;
      }
      // BIRD in the lab resolves multihop next hops only through its own table, which lacks the
      // fixture's static routes (kernel import none): such a hop is the lab's limit, said so.
      const cannot = [...new Set(unresolved.get(receiver) ?? [])];
      const installable = expected.length - cannot.length;
      const { value: hops } = await pollUntil(
        async () => (await lab.node(receiver).fib()).find((r) => r.prefix === vip)?.nexthops ?? [],
        (h) => h.length >= installable,
        10_000,
      );
      measure(`fib ${receiver}`, `${hops.join(' ') || 'none'}${cannot.length ? `; held but unresolvable by the lab's ${routerKindOf(lab.spec(receiver))}: ${cannot.join(' ')}` : ''}`);
      if (hops.length < installable) findings.push(`${receiver} FIB: ${vip} has ${hops.length} next hop(s) [${hops.join(', ')}], expected ${installable}`);
    }
    expect(findings, `ADD-PATH paths on the floating-IP sessions and at their receivers: ${findings.join('; ')}`).toEqual([]);
  },
});
