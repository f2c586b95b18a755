import { describe, expect, it } from 'vitest';
import { ClusterPoolAllocator, PodCidrError } from './pod-cidr.ts';

describe('ClusterPoolAllocator', () => {
  it('cuts seed 000 172.31.254.0/23 into /26s, node1 first', () => {
    const pool = new ClusterPoolAllocator({ ipv4Cidrs: ['172.31.254.0/23'], ipv4MaskSize: 26 });
    expect(pool.allocate('node1')).toEqual(['172.31.254.0/26']);
    expect(pool.allocate('node2')).toEqual(['172.31.254.64/26']);
    expect(pool.allocate('node1')).toEqual(['172.31.254.0/26']);
    for (let i = 3; i <= 8; i++) pool.allocate(`node${i}`);
    expect(pool.cidrsOf('node8')).toEqual(['172.31.255.192/26']);
    expect(() => pool.allocate('node9')).toThrow(/no free \/26/);
    pool.release('node2');
    expect(pool.allocate('node9')).toEqual(['172.31.254.64/26']);
  });

  it('continues into the next cluster CIDR and gives dual-stack nodes one CIDR per family', () => {
    const pool = new ClusterPoolAllocator({ ipv4Cidrs: ['10.0.0.0/25', '10.9.0.0/24'], ipv4MaskSize: 25, ipv6Cidrs: ['fd00::/104'], ipv6MaskSize: 120 });
    expect(pool.allocate('a')).toEqual(['10.0.0.0/25', 'fd00::/120']);
    expect(pool.allocate('b')).toEqual(['10.9.0.0/25', 'fd00::100/120']);
  });

  it('does not leak the IPv4 CIDR when the IPv6 side is exhausted', () => {
    const pool = new ClusterPoolAllocator({ ipv4Cidrs: ['10.0.0.0/24'], ipv4MaskSize: 26, ipv6Cidrs: ['fd00::/120'], ipv6MaskSize: 120 });
    pool.allocate('a');
    expect(() => pool.allocate('b')).toThrow(PodCidrError);
    expect(pool.snapshot().nodes).toEqual([{ node: 'a', cidrs: ['10.0.0.0/26', 'fd00::/120'] }]);
    pool.release('a');
    expect(pool.allocate('b')).toEqual(['10.0.0.0/26', 'fd00::/120']);
  });

  it('restores a snapshot exactly and rejects bad configuration', () => {
    const config = { ipv4Cidrs: ['172.31.254.0/23'], ipv4MaskSize: 26 };
    const pool = new ClusterPoolAllocator(config);
    ['n1', 'n2', 'n3'].forEach((n) => pool.allocate(n));
    pool.release('n2');
    const restored = ClusterPoolAllocator.restore(config, pool.snapshot());
    expect(restored.snapshot()).toEqual(pool.snapshot());
    expect(restored.allocate('n4')).not.toEqual(restored.cidrsOf('n1'));
    expect(() => new ClusterPoolAllocator({ ipv4Cidrs: ['10.0.0.0/24'], ipv4MaskSize: 20 })).toThrow(/smaller than the per-node mask/);
    expect(() => new ClusterPoolAllocator({ ipv4Cidrs: ['nonsense'], ipv4MaskSize: 24 })).toThrow(/not a CIDR/);
  });
});
