import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyNode, type DaemonKindName, type LabNode, type Neighbor } from '../model.ts';
import { renderBirdConf } from './bird.ts';
import { renderBgpd, renderStaticd, renderZebra } from './frr.ts';
import { renderGobgpToml } from './gobgp.ts';
import { renderBgpdConf } from './openbgpd.ts';

// Golden files of the rendered daemon configs (MetalLB's internal/bgp/frr testdata): one node
// per feature, rendered by each kind and diffed against testdata/<node>.<kind>.golden.
// `UPDATE_GOLDEN=1 npx vitest run --project unit conformance/lab/kinds/golden.test.ts` rewrites them;
// review the diff like code.

const testdata = join(import.meta.dirname, 'testdata');

function router(name: string, asn: number, routerId: string, neighbors: Neighbor[], extra: Partial<LabNode> = {}): LabNode {
  return { ...emptyNode(name, 'frr'), asn, routerId, interfaces: { eth0: [`${routerId}/24`] }, neighbors, ...extra };
}

/** Representative nodes: what each feature key makes every kind write. */
const nodes: Record<string, LabNode> = {
  'plain-ebgp': router('r1', 65001, '10.0.0.1', [{ address: '10.0.0.2', asn: 65002 }]),
  announce: router('r1', 65001, '10.0.0.1', [{ address: '10.0.0.2', asn: 65002 }], {
    announce: ['198.51.100.0/24', '2001:db8:1::/48'],
    routes: [{ to: '192.0.2.0/24', via: '10.0.0.9' }],
  }),
  'ipv6-session': router('r1', 65001, '10.0.0.1', [{ address: 'fd00:90::2', asn: 65002, families: ['ipv4-unicast', 'ipv6-unicast'], extendedNexthop: true }], {
    interfaces: { eth0: ['fd00:90::1/64'] },
  }),
  'add-path': router('r1', 65001, '10.0.0.1', [
    { address: '10.0.0.2', asn: 65002, addPath: true, families: ['ipv4-unicast', 'ipv6-unicast'] },
    { address: '10.0.0.3', asn: 65003, addPath: 'send' },
    { address: '10.0.0.4', asn: 65001, addPath: 'receive', rrClient: true },
  ], { multipath: true }),
  multihop: router('r1', 65020, '10.30.9.9', [{ address: '10.30.1.1', asn: 65000, multihop: 2, updateSource: '10.30.9.9' }], {
    loopback: ['10.30.9.9/32'],
    routes: [{ to: '0.0.0.0/0', via: '10.30.2.1' }],
  }),
  'daemon-default-timers': router('r1', 65001, '10.0.0.1', [{ address: '10.0.0.2', asn: 65002 }], { timers: { keepalive: 60, hold: 180 } }),
  'passive-graceful-restart': router('r1', 65001, '10.0.0.1', [{ address: '10.0.0.2', asn: 65002, passive: true, name: 'to_r2' }], {
    gracefulRestart: { restartTime: 30, stalePathTime: 60 },
  }),
};

/** The 2-octet peer: GoBGP has no setting for it (its renderer says so). */
const noCapabilities = router('r1', 65001, '10.0.0.1', [{ address: '10.0.0.2', asn: 65002, dontCapabilityNegotiate: true }]);

const renderers: Record<DaemonKindName, (node: LabNode) => string> = {
  frr: (node) => `! zebra.conf\n${renderZebra(node)}! bgpd.conf\n${renderBgpd(node)}! staticd.conf\n${renderStaticd(node)}`,
  gobgp: (node) => renderGobgpToml({ ...node, kind: 'gobgp' }),
  bird: (node) => renderBirdConf({ ...node, kind: 'bird' }, '/run/lab/r1/bird.log'),
  openbgpd: (node) => renderBgpdConf({ ...node, kind: 'openbgpd' }, '/run/lab/r1/bgpd.sock'),
};

function expectGolden(name: string, text: string): void {
  const file = join(testdata, `${name}.golden`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    writeFileSync(file, text);
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${file} did not exist: written, review and commit it`);
    return;
  }
  expect(text, `${file} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, 'utf8'));
}

describe('rendered daemon configs match their golden files', () => {
  for (const [name, node] of Object.entries(nodes)) {
    it.each(['frr', 'gobgp', 'bird', 'openbgpd'] as const)(`${name}: %s`, (kind) => expectGolden(`${name}.${kind}`, renderers[kind](node)));
  }

  it.each(['frr', 'bird', 'openbgpd'] as const)('no-capabilities: %s', (kind) => expectGolden(`no-capabilities.${kind}`, renderers[kind](noCapabilities)));

  it('two-paths-per-prefix: bird (several static protocols of one prefix, for ADD-PATH)', () =>
    expectGolden('announce-paths.bird', renderers.bird({ ...nodes['add-path']!, announce: ['198.51.100.0/24'], announcePaths: 2 })));

  it.each(['frr', 'gobgp', 'openbgpd'] as const)('%s refuses announcePaths > 1', (kind) => {
    expect(() => renderers[kind]({ ...nodes['plain-ebgp']!, announce: ['198.51.100.0/24'], announcePaths: 2 })).toThrow(/announcePaths .* BIRD only/);
  });

  it('gobgp refuses a session without capabilities, naming the node and neighbour', () => {
    expect(() => renderers.gobgp(noCapabilities)).toThrow(/gobgp node r1: GoBGP cannot send an OPEN without capabilities \(neighbour 10\.0\.0\.2\)/);
  });
});
