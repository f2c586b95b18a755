import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LbIpam } from './lb-ipam.ts';
import { ClusterPoolAllocator, PodCidrError } from './pod-cidr.ts';
import { CalicoBlockIpam, CalicoIpamError } from './calico-blocks.ts';
import { readIpamState, writeIpamState } from './state-file.ts';
import { labelSelector } from '../k8s/selectors.ts';
import { testCalicoPool, testPool, testService } from './test-helpers.ts';

// Random create / delete / restart sequences; after every step no address (or CIDR) has two
// live holders, and a restart through the state file restores allocations exactly.

const dir = mkdtempSync(join(tmpdir(), `peerproof-ipam-prop-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;

function throughFile<T>(pick: (s: ReturnType<typeof readIpamState>) => T, state: Parameters<typeof writeIpamState>[1]): T {
  const path = join(dir, `state-${fileCounter++}.json`);
  writeIpamState(path, state);
  return pick(readIpamState(path));
}

// Mostly addresses inside the pools, plus a reserved one, one of the losing overlap pool and one outside.
const REQUESTABLE = ['10.0.0.1', '10.0.0.2', '10.0.0.8', '10.0.0.9', '10.0.0.10', '10.0.1.0', '10.0.0.0', '10.0.0.5', '192.168.0.1'];

const op = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('create' as const), id: fc.nat(7), request: fc.option(fc.nat(REQUESTABLE.length - 1), { nil: undefined }), gold: fc.boolean(), v6: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(7) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('restart' as const) }), weight: 1 },
);

describe('IPAM never hands out an address twice', () => {
  it('LB IPAM across create/delete/restart', () => {
    const pools = [
      testPool('small', ['10.0.0.0/30'], { reserveFirstLast: true }),
      testPool('range', ['10.0.0.8-10.0.0.10', '2001:db8::/126']),
      testPool('gold', ['10.0.1.0/31'], { serviceSelector: labelSelector({ tier: 'gold' }) }),
      testPool('overlap', ['10.0.0.1-10.0.0.9']),
    ];
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let ipam = new LbIpam(pools);
        const live = new Map<string, ReturnType<typeof testService>>();
        for (const step of ops) {
          if (step.kind === 'create') {
            const key = `ns/s${step.id}`;
            const service = testService(key, {
              labels: step.gold ? { tier: 'gold' } : {},
              ipFamilies: step.v6 ? [6, 4] : [4],
              requestedIPs: step.request === undefined ? [] : [REQUESTABLE[step.request]!],
            });
            const previous = live.get(key);
            live.set(key, service);
            const before = ipam.addressesOf(key);
            const status = ipam.ensure(service);
            // an unchanged, non-requesting service keeps what it holds
            if (previous && previous.requestedIPs.length === 0 && service.requestedIPs.length === 0 && previous.labels.tier === service.labels.tier) {
              for (const held of before) if (service.ipFamilies.includes(held.address.includes(':') ? 6 : 4)) expect(status.addresses).toContainEqual(held);
            }
          } else if (step.kind === 'delete') {
            const key = `ns/s${step.id}`;
            live.delete(key);
            ipam.release(key);
            expect(ipam.addressesOf(key)).toEqual([]);
          } else {
            const before = ipam.snapshot();
            ipam = LbIpam.restore(pools, throughFile((s) => s.lb!, { version: 1, lb: before }), live.values());
            expect(ipam.snapshot()).toEqual(before);
          }
          const holders = new Map<string, string>();
          for (const key of live.keys()) {
            for (const { address, pool } of ipam.addressesOf(key)) {
              expect(holders.get(address), `${address} held by ${holders.get(address)} and ${key}`).toBeUndefined();
              holders.set(address, key);
              expect(pool).not.toBe('overlap');
              if (address === '10.0.0.0' || address === '10.0.0.3') throw new Error(`reserved ${address} handed out`);
            }
          }
          expect(ipam.snapshot().allocations.every((a) => live.has(a.service))).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('cluster-pool pod CIDRs across create/delete/restart', () => {
    const config = { ipv4Cidrs: ['172.31.254.0/23'], ipv4MaskSize: 26 };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let pool = new ClusterPoolAllocator(config);
        const live = new Set<string>();
        for (const step of ops) {
          if (step.kind === 'create') {
            try {
              pool.allocate(`node${step.id}`);
              live.add(`node${step.id}`);
            } catch (error) {
              if (!(error instanceof PodCidrError)) throw error;
              expect(live.size).toBe(8);
            }
          } else if (step.kind === 'delete') {
            pool.release(`node${step.id}`);
            live.delete(`node${step.id}`);
          } else {
            const before = pool.snapshot();
            pool = ClusterPoolAllocator.restore(config, throughFile((s) => s.podCidrs!, { version: 1, podCidrs: before }));
            expect(pool.snapshot()).toEqual(before);
          }
          const cidrs = [...live].flatMap((n) => pool.cidrsOf(n));
          expect(new Set(cidrs).size).toBe(cidrs.length);
          expect(pool.snapshot().nodes.map((n) => n.node).sort()).toEqual([...live].sort());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('Calico blocks across create/delete/restart', () => {
    const config = { pools: [testCalicoPool('p', '10.0.0.0/28', 30)], strictAffinity: false, maxBlocksPerHost: 2 };
    const nodes = ['w1', 'w2', 'w3'].map((name) => ({ name, labels: {} }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let ipam = new CalicoBlockIpam(config);
        const live = new Set<string>();
        for (const step of ops) {
          const pod = `ns/p${step.kind === 'restart' ? 0 : step.id}`;
          if (step.kind === 'create') {
            try {
              ipam.assign(pod, nodes[step.id % 3]!);
              live.add(pod);
            } catch (error) {
              if (!(error instanceof CalicoIpamError)) throw error;
              expect(live.size).toBe(16);
            }
          } else if (step.kind === 'delete') {
            ipam.release(pod);
            live.delete(pod);
          } else {
            const before = ipam.snapshot();
            ipam = CalicoBlockIpam.restore(config, throughFile((s) => s.calico!, { version: 1, calico: before }));
            expect(ipam.snapshot()).toEqual(before);
          }
          const addresses = [...live].map((p) => ipam.assignmentOf(p)!.address);
          expect(new Set(addresses).size).toBe(addresses.length);
          for (const p of live) {
            const a = ipam.assignmentOf(p)!;
            expect(a.borrowed).toBe(!ipam.blocksOf(a.node).includes(a.block));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
