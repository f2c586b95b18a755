import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';
import { configuredTtl, nftScript, orphanTables, ttlControlUnavailable } from './ttl.ts';

const config = (peers: string): ReturnType<typeof parseConfig> => parseConfig(`routerId: 10.0.0.1\nlocalAs: 65001\npeers:\n${peers}`, 'speaker.yaml');

describe('TTL of our BGP packets', () => {
  it('is 1 for a direct eBGP peer, 255 for iBGP, and the multihop value when configured', () => {
    const { peers, localAs } = config(
      ['  - { address: 10.0.0.2, asn: 65002 }', '  - { address: 10.0.0.3, asn: 65001 }', '  - { address: 10.0.0.4, asn: 65002, multihop: 2 }', ''].join('\n'),
    );
    expect(peers.map((p) => configuredTtl(p, localAs))).toEqual([1, 255, 2]);
  });

  it('rejects a multihop outside 1..255 naming the field and line', () => {
    expect(() => config('  - { address: 10.0.0.2, asn: 65002 }\n  - { address: 10.0.0.4, asn: 65002, multihop: 0 }\n')).toThrowError(ConfigError);
    expect(() => config('  - { address: 10.0.0.4, asn: 65002, multihop: 256 }\n')).toThrowError(/speaker\.yaml:4: peers\[0\]\.multihop: must be an integer from 1 to 255, got 256/);
  });

  it('writes one nft rule per direction and address family', () => {
    const script = nftScript('peerproof_ttl_42_0', [
      { address: '10.0.0.2', peerPort: 179, listenPort: 179, ttl: 1 },
      { address: 'fd00::2', peerPort: 1179, ttl: 255 },
    ]);
    expect(script).toBe(
      [
        'table inet peerproof_ttl_42_0 {',
        '  chain output {',
        '    type filter hook output priority -150; policy accept;',
        '    ip daddr 10.0.0.2 tcp dport 179 ip ttl set 1',
        '    ip daddr 10.0.0.2 tcp sport 179 ip ttl set 1',
        '    ip6 daddr fd00::2 tcp dport 1179 ip6 hoplimit set 255',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('finds the tables of speakers that are gone, and only ours', () => {
    const listing = ['table inet peerproof_ttl_100_0', 'table inet peerproof_ttl_200_3', 'table inet other_300_0', 'table ip peerproof_ttl_400_0', 'table inet peerproof_ttl_100_1', ''].join('\n');
    expect(orphanTables(listing, (pid) => pid === 200)).toEqual(['peerproof_ttl_100_0', 'peerproof_ttl_100_1']);
  });

  it('stays off in the host network namespace (the host firewall is never ours to change)', () => {
    // The unit tests run in the host namespace (as root or not): either way, no table is installed.
    expect(ttlControlUnavailable()).toMatch(/not in a network namespace of its own|not root/);
  });
});
