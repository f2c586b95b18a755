import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';
import { evaluatePolicy, parsePrefixListEntry, prefixMatches, rejectsAll } from './policy.ts';

const base = `routerId: 10.0.0.1
localAs: 65001
`;

function error(text: string): ConfigError {
  try {
    parseConfig(text, 'speaker.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('speaker config', () => {
  it('reads a full config with defaults filled in', () => {
    const config = parseConfig(
      `${base}listen: { port: 1179 }
status: { socket: /tmp/s.sock }
gracefulRestart: { restartTime: 60 }
policies:
  lb-out:
    terms:
      - match: { prefixes: ["10.0.0.0/24 le 32"] }
        set: { communities: { add: ["65001:100"] }, prepend: 2, nextHop: 10.0.1.10 }
    default: reject
peers:
  - { address: 10.8.0.10, asn: 65002, addPath: both, export: lb-out, maxPrefixes: 100 }
  - { address: "fd00::1", asn: 65001, families: [ipv6-unicast], passive: true }
routes: [10.0.0.1/32, { prefix: "2001:db8::/64", med: 5 }]
`,
      'speaker.yaml',
    );
    expect(config.listen).toEqual({ address: '0.0.0.0', port: 1179 });
    expect(config.gracefulRestart).toEqual({ enabled: true, restartTime: 60, restarting: false });
    expect(config.peers[0]).toMatchObject({ port: 179, holdTime: 90, addPath: { 'ipv4-unicast': 'both' }, exportPolicy: 'lb-out', gracefulRestart: true });
    expect(config.peers[1]).toMatchObject({ passive: true, families: ['ipv6-unicast'] });
    expect(config.routes.map((r) => [r.prefix, r.afi])).toEqual([['10.0.0.1/32', 1], ['2001:db8::/64', 2]]);
    expect(config.policies.get('lb-out')!.terms[0]!.match!.prefixes).toEqual([{ prefix: '10.0.0.0/24', ge: 24, le: 32 }]);
  });

  it.each([
    [`routerId: 0.0.0.0\nlocalAs: 1\n`, 'routerId', 1],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 70000000000 }\n`, 'peers[0].asn', 4],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 1, holdTime: 2 }\n`, 'peers[0].holdTime', 4],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 1, import: nope }\n`, 'peers[0].import', 4],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 1, families: [l2vpn-evpn] }\n`, 'peers[0].families[0]', 4],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 1 }\n  - { address: 10.0.0.2, asn: 2 }\n`, 'peers[1].address', 5],
    [`${base}routes: ["10.0.0.1/24"]\n`, 'routes[0].prefix', 3],
    [`${base}colour: blue\n`, 'colour', 3],
    [`${base}peers:\n  - { address: 10.0.0.2, asn: 65002, routeReflectorClient: true }\n`, 'peers[0].routeReflectorClient', 4],
    [`${base}clusterId: 0.0.0.0\n`, 'clusterId', 3],
    [`${base}policies:\n  p:\n    terms:\n      - match: { prefixes: ["10.0.0.0/8 le 7"] }\n`, 'policies.p.terms[0].match.prefixes[0]', 6],
  ])('names the file, field and line of %j', (text, field, line) => {
    const e = error(text);
    expect(e.field).toBe(field);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(new RegExp(`^speaker\\.yaml:${line}: ${field.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('reports YAML syntax errors with their line', () => {
    const e = error(`${base}peers: [\n`);
    expect(e.field).toBe('(yaml)');
    expect(e.line).toBeGreaterThan(2);
  });
});

describe('policy', () => {
  const ctx = { localAs: 65001, selfNextHop: '10.0.0.1' };
  const policy = {
    name: 'p',
    defaultAction: 'reject' as const,
    terms: [
      { match: { communities: ['65000:666'] }, action: 'reject' as const },
      { match: { prefixes: [parsePrefixListEntry('10.0.0.0/24 ge 32') as never] }, set: { localPref: 200, addLargeCommunities: ['65001:1:2'], nextHop: 'self' }, action: 'next' as const },
      { match: { prefixes: [parsePrefixListEntry('10.0.0.0/16 le 32') as never] }, set: { med: 7, prepend: { count: 2 } }, action: 'accept' as const },
    ],
  };
  const attrs = { origin: 'igp' as const, asPath: [{ type: 'sequence' as const, asns: [65002] }], nextHop: '10.9.9.9' };

  it('matches prefix lists with ge/le', () => {
    const entry = parsePrefixListEntry('10.0.0.0/24 ge 28 le 30');
    expect(entry).toEqual({ prefix: '10.0.0.0/24', ge: 28, le: 30 });
    expect(prefixMatches('10.0.0.16/28', entry as never)).toBe(true);
    expect(prefixMatches('10.0.0.0/24', entry as never)).toBe(false);
    expect(prefixMatches('10.0.1.0/28', entry as never)).toBe(false);
    expect(prefixMatches('2001:db8::/64', parsePrefixListEntry('2001:db8::/32 le 64') as never)).toBe(true);
  });

  it('applies sets through "next" terms and stops at accept', () => {
    expect(evaluatePolicy(policy, '10.0.0.5/32', attrs, ctx)).toEqual({
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65001, 65001, 65002] }],
      nextHop: '10.0.0.1',
      localPref: 200,
      med: 7,
      largeCommunities: ['65001:1:2'],
    });
  });

  it('rejects by community and by default', () => {
    expect(evaluatePolicy(policy, '10.0.0.5/32', { ...attrs, communities: ['65000:666'] }, ctx)).toBeNull();
    expect(evaluatePolicy(policy, '192.0.2.0/24', attrs, ctx)).toBeNull();
  });

  it('knows a policy that rejects everything (no terms, default reject)', () => {
    const none = { name: 'none', defaultAction: 'reject' as const, terms: [] };
    expect(rejectsAll(none)).toBe(true);
    expect(evaluatePolicy(none, '192.0.2.0/24', attrs, ctx)).toBeNull();
    expect(rejectsAll(policy)).toBe(false);
    expect(rejectsAll({ ...none, defaultAction: 'accept' as const })).toBe(false);
    expect(rejectsAll(undefined)).toBe(false);
  });
});
