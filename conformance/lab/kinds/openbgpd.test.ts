// bgpd.conf rendering, golden-file style (MetalLB internal/bgp/frr): each case renders a node and
// diffs the text with testdata/<name>.golden. After a deliberate change to the renderer:
// `UPDATE_GOLDEN=1 npx vitest run --project unit conformance/lab/kinds/openbgpd.test.ts`, then
// read the diff of testdata/ before committing it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyNode } from '../model.ts';
import { parseOpenbgpdRib, parseOpenbgpdSummary, renderBgpdConf } from './openbgpd.ts';
import { sampleRouter } from './sample-router.ts';

const testdata = join(import.meta.dirname, 'testdata');

function expectGolden(name: string, text: string): void {
  const file = join(testdata, `${name}.golden`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(existsSync(file), `${file} is missing (UPDATE_GOLDEN=1 writes it)`).toBe(true);
  expect(text, `rendered config differs from ${file}`).toBe(readFileSync(file, 'utf8'));
}

describe('OpenBGPD bgpd.conf rendering', () => {
  it('a router: second-scale timers, FIB off, its networks, allow rules both ways (bgpd denies by default)', () => {
    expectGolden('openbgpd-router', renderBgpdConf(sampleRouter('openbgpd', 'r1'), '/run/pp/r1/bgpd.sock'));
  });

  it('a stand-in speaker announces its prefixes and imports nothing (no "allow from" rule)', () => {
    const n = { ...sampleRouter('openbgpd', 'r1'), name: 'node1', kind: 'speaker' as const, neighbors: [{ address: '10.1.10.1', asn: 500 }] };
    expectGolden('openbgpd-standin', renderBgpdConf(n, '/run/pp/node1/bgpd.sock'));
    expect(renderBgpdConf({ ...n, importRoutes: true }, '/s')).toContain('allow from any');
  });

  it('families, one-way ADD-PATH, multihop from a loopback, IPv6 transport', () => {
    const n = emptyNode('r2', 'openbgpd');
    n.asn = 4200000001;
    n.routerId = '10.0.0.2';
    n.announce = ['10.97.0.0/24', '2001:db8:97::/48'];
    n.neighbors = [
      { address: '10.90.0.1', asn: 65001, families: ['ipv4-unicast', 'ipv6-unicast'], addPath: 'receive' },
      { address: '10.90.1.1', asn: 65001, families: ['ipv6-unicast'], addPath: 'send' },
      { address: '10.0.0.9', asn: 65009, multihop: 4, updateSource: '10.0.0.2' },
      // extended next hop has no setting in OpenBGPD 7.7: not rendered
      { address: 'fd00:90::1', asn: 65001, families: ['ipv4-unicast', 'ipv6-unicast'], extendedNexthop: true },
    ];
    expectGolden('openbgpd-families', renderBgpdConf(n, '/run/pp/r2/bgpd.sock'));
  });
});

describe('bgpctl -j output parsing', () => {
  it('sessions from `show`', () => {
    const text = JSON.stringify({
      neighbors: [
        { remote_as: '65002', description: 'peer0', remote_addr: '10.0.0.2', bgpid: '10.0.0.2', state: 'Established' },
        { remote_as: '65003', description: 'peer1', remote_addr: '10.0.1.2', state: 'Active' },
      ],
    });
    expect(parseOpenbgpdSummary(text, 'r1')).toEqual([
      { node: 'r1', peer: '10.0.0.2', peerAsn: 65002, state: 'Established' },
      { node: 'r1', peer: '10.0.1.2', peerAsn: 65003, state: 'Active' },
    ]);
  });

  it('RIB from `show rib`: every valid path per prefix by its BGP next hop; invalid paths are not usable', () => {
    const text = JSON.stringify({
      rib: [
        { prefix: '10.98.0.0/24', exit_nexthop: '0.0.0.0', true_nexthop: '0.0.0.0', valid: true, best: true },
        { prefix: '10.97.1.0/24', exit_nexthop: '10.90.0.1', valid: true, best: true },
        { prefix: '10.97.1.0/24', exit_nexthop: '10.90.0.3', valid: true },
        { prefix: '2001:db8:97::/48', exit_nexthop: 'fd00:90::1', valid: true },
        { prefix: '10.95.1.0/24', exit_nexthop: '10.99.99.1', valid: false },
      ],
    });
    expect(parseOpenbgpdRib(text)).toEqual([
      { prefix: '10.98.0.0/24', nexthops: ['0.0.0.0'], table: 'rib' },
      { prefix: '10.97.1.0/24', nexthops: ['10.90.0.1', '10.90.0.3'], table: 'rib' },
      { prefix: '2001:db8:97::/48', nexthops: ['fd00:90::1'], table: 'rib' },
      { prefix: '10.95.1.0/24', nexthops: [], table: 'rib' },
    ]);
    expect(parseOpenbgpdRib('{}')).toEqual([]);
    expect(() => parseOpenbgpdRib('bgpctl: connect: No such file')).toThrow(/not JSON/);
  });
});
