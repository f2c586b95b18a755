import { describe, expect, it } from 'vitest';
import { CalicoBlockIpam, CalicoIpamError } from './calico-blocks.ts';
import { parseCalicoSelector } from '../k8s/selectors.ts';
import { testCalicoPool } from './test-helpers.ts';

const worker01 = { name: 'worker01', labels: { 'rr-group': 'rr1' } };
const worker02 = { name: 'worker02', labels: { 'rr-group': 'rr1' } };

describe('CalicoBlockIpam', () => {
  it('seed 001: /29 blocks: the node advertises the block, blackholes it and routes a /32 per pod', () => {
    const ipam = new CalicoBlockIpam({ pools: [testCalicoPool('ippool-test-0', '1.1.1.0/24', 29)], strictAffinity: false, maxBlocksPerHost: 0 });
    expect(ipam.assign('default/a', worker01)).toMatchObject({ address: '1.1.1.0', block: '1.1.1.0/29', borrowed: false });
    expect(ipam.assign('default/nettool', worker01)).toMatchObject({ address: '1.1.1.1', block: '1.1.1.0/29' });
    expect(ipam.routesFor('worker01', '192.168.1.4')).toEqual([
      { kind: 'advertise', prefix: '1.1.1.0/29', nextHop: '192.168.1.4', reason: 'affine-block' },
      { kind: 'blackhole', prefix: '1.1.1.0/29' },
      { kind: 'local', prefix: '1.1.1.0/32', pod: 'default/a' },
      { kind: 'local', prefix: '1.1.1.1/32', pod: 'default/nettool' },
    ]);
  });

  it('seed 001: pool 1.1.1.0/31 with /32 blocks: 1.1.1.1/32 advertised via 192.168.1.4, no blackhole', () => {
    const ipam = new CalicoBlockIpam({ pools: [testCalicoPool('ippool-test-0', '1.1.1.0/31', 32)], strictAffinity: false, maxBlocksPerHost: 0 });
    ipam.assign('kube-system/earlier', worker02);
    expect(ipam.assign('default/nettool', worker01)).toMatchObject({ address: '1.1.1.1', block: '1.1.1.1/32', borrowed: false });
    expect(ipam.routesFor('worker01', '192.168.1.4')).toEqual([
      { kind: 'advertise', prefix: '1.1.1.1/32', nextHop: '192.168.1.4', reason: 'affine-block' },
      { kind: 'local', prefix: '1.1.1.1/32', pod: 'default/nettool' },
    ]);
  });

  it('borrows from another node\'s block when none can be claimed, and advertises the borrowed /32', () => {
    const ipam = new CalicoBlockIpam({ pools: [testCalicoPool('p', '1.1.1.0/29', 29)], strictAffinity: false, maxBlocksPerHost: 0 });
    ipam.assign('ns/w1', worker01);
    const borrowed = ipam.assign('ns/w2', worker02);
    expect(borrowed).toMatchObject({ address: '1.1.1.1', block: '1.1.1.0/29', borrowed: true });
    expect(ipam.blocksOf('worker02')).toEqual([]);
    expect(ipam.routesFor('worker02', '192.168.1.5')).toEqual([
      { kind: 'local', prefix: '1.1.1.1/32', pod: 'ns/w2' },
      { kind: 'advertise', prefix: '1.1.1.1/32', nextHop: '192.168.1.5', reason: 'borrowed-address' },
    ]);
    // the owner still advertises the whole block and blackholes it
    expect(ipam.routesFor('worker01', '192.168.1.4').filter((r) => r.kind !== 'local').map((r) => r.kind)).toEqual(['advertise', 'blackhole']);
  });

  it('maxBlocksPerHost stops claiming; strictAffinity then forbids borrowing', () => {
    const pools = [testCalicoPool('p', '10.0.0.0/24', 31)];
    const strict = new CalicoBlockIpam({ pools, strictAffinity: true, maxBlocksPerHost: 1 });
    strict.assign('a', worker01);
    strict.assign('b', worker01);
    expect(() => strict.assign('c', worker01)).toThrow(CalicoIpamError);
    const lax = new CalicoBlockIpam({ pools, strictAffinity: false, maxBlocksPerHost: 1 });
    lax.assign('x', worker02);
    lax.assign('a', worker01);
    lax.assign('b', worker01);
    expect(lax.assign('c', worker01)).toMatchObject({ address: '10.0.0.1', borrowed: true });
    expect(lax.blocksOf('worker01')).toEqual(['10.0.0.2/31']);
  });

  it('uses only pools whose nodeSelector selects the node', () => {
    const ipam = new CalicoBlockIpam({
      pools: [testCalicoPool('rr1-only', '10.1.0.0/24', 26, { nodeSelector: parseCalicoSelector("rr-group == 'rr1'") }), testCalicoPool('rest', '10.2.0.0/24', 26)],
      strictAffinity: false,
      maxBlocksPerHost: 0,
    });
    expect(ipam.assign('a', worker01).block).toBe('10.1.0.0/26');
    expect(ipam.assign('b', { name: 'other', labels: {} }).block).toBe('10.2.0.0/26');
  });

  it('release frees the address; snapshot/restore is exact; bad pools are refused', () => {
    const config = { pools: [testCalicoPool('p', '10.0.0.0/24', 30)], strictAffinity: false, maxBlocksPerHost: 1 };
    const ipam = new CalicoBlockIpam(config);
    for (let i = 0; i < 5; i++) ipam.assign(`p${i}`, i % 2 ? worker01 : worker02);
    ipam.release('p2');
    const restored = CalicoBlockIpam.restore(config, ipam.snapshot());
    expect(restored.snapshot()).toEqual(ipam.snapshot());
    expect(restored.routesFor('worker01', '192.168.1.4')).toEqual(ipam.routesFor('worker01', '192.168.1.4'));
    expect(restored.assign('p9', worker02).address).toBe(ipam.assign('p9', worker02).address);
    expect(() => new CalicoBlockIpam({ ...config, pools: [testCalicoPool('p', '10.0.0.0/24', 16)] })).toThrow(/between 20 and 32/);
    expect(() => new CalicoBlockIpam({ ...config, pools: [testCalicoPool('p', '10.0.0.0/24', 22)] })).toThrow(/larger than the pool/);
  });

  it('honours known pod addresses (fixture status.podIP): claims the block, or borrows it', () => {
    const ipam = new CalicoBlockIpam({ pools: [testCalicoPool('ippool-test-0', '1.1.1.0/24', 29)], strictAffinity: false, maxBlocksPerHost: 4 });
    expect(ipam.assign('default/nettool', worker01, '1.1.1.1')).toMatchObject({ block: '1.1.1.0/29', borrowed: false });
    expect(ipam.assign('default/nettool-borrowed', worker02, '1.1.1.2')).toMatchObject({ block: '1.1.1.0/29', borrowed: true });
    expect(ipam.routesFor('worker02', '192.168.1.5')).toContainEqual({ kind: 'advertise', prefix: '1.1.1.2/32', nextHop: '192.168.1.5', reason: 'borrowed-address' });
    expect(ipam.assign('default/next', worker01).address).toBe('1.1.1.0');
    expect(() => ipam.assign('default/dup', worker02, '1.1.1.1')).toThrow(/already assigned to pod default\/nettool/);
    expect(() => ipam.assign('default/far', worker02, '9.9.9.9')).toThrow(/in no IPPool/);
    const strict = new CalicoBlockIpam({ pools: [testCalicoPool('p', '1.1.1.0/24', 29)], strictAffinity: true, maxBlocksPerHost: 0 });
    strict.assign('a', worker01, '1.1.1.1');
    expect(() => strict.assign('b', worker02, '1.1.1.2')).toThrow(/strictAffinity forbids borrowing/);
  });
});
