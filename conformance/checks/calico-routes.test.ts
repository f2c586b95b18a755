import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { decodeMessage, encodeMessage, type PathAttributes, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import type { RouteEntry } from '../lab/kinds/kind.ts';
import {
  announcedRoutes,
  calicoFacts,
  calicoPlan,
  covers,
  isBlock,
  judgeBlockOwner,
  judgeBorrowedOnOwner,
  judgeReflected,
  longestMatch,
  parseRouteGet,
  readCalicoFacts,
  unassignedAddress,
  type BlockOwner,
} from './calico-routes.ts';

const ctx = { as4: true };

/** Through the real codec, as a capture decodes it. */
function wire(u: UpdateMessage, src = '192.168.1.4:40000', dst = '192.168.1.1:179'): DecodedMessage {
  const bytes = encodeMessage(u, ctx);
  return { ts: 1, src, dst, stream: 0, type: 'UPDATE', length: bytes.length, message: decodeMessage(bytes, ctx) };
}

const own: PathAttributes = { origin: 'igp', asPath: [], nextHop: '192.168.1.4', localPref: 100 };
const announce = (prefixes: string[], attributes = own): UpdateMessage => ({ type: 'UPDATE', withdrawn: [], attributes, nlri: prefixes.map((prefix) => ({ prefix })) });
const withdraw = (prefixes: string[]): UpdateMessage => ({ type: 'UPDATE', withdrawn: prefixes.map((prefix) => ({ prefix })), attributes: {}, nlri: [] });
const blackhole = (prefix: string): RouteEntry => ({ prefix, nexthops: ['blackhole'], table: 'fib' });
const via = (prefix: string, hop: string): RouteEntry => ({ prefix, nexthops: [hop], table: 'fib' });

describe('calicoFacts', () => {
  it('reads the seed-001 cluster: a /24 pool in /29 blocks and two placed pods', () => {
    const dir = new URL('../../fixtures/seed-001-calico-rr/cluster/', import.meta.url).pathname;
    const docs = ['calico.yaml', 'pods.yaml', 'nodes.yaml'].flatMap((f) => parseAllDocuments(readFileSync(dir + f, 'utf8')).map((d) => d.toJS() as unknown));
    expect(calicoFacts(docs)).toEqual({
      pools: [{ cidr: '1.1.1.0/24', blockSize: 29 }],
      pods: [
        { name: 'default/nettool', node: 'worker01', ip: '1.1.1.1' },
        { name: 'default/nettool-borrowed', node: 'worker02', ip: '1.1.1.2' },
      ],
    });
  });

  it('ignores pods not yet placed, bad pool CIDRs and non-objects; defaults the block size', () => {
    const facts = calicoFacts([
      null,
      'text',
      { kind: 'IPPool', spec: { cidr: 'nonsense' } },
      { kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } },
      { kind: 'Pod', metadata: { name: 'p' }, spec: {}, status: { podIP: '10.0.0.1' } },
    ]);
    expect(facts).toEqual({ pools: [{ cidr: '10.0.0.0/16', blockSize: 26 }], pods: [] });
  });
});

describe('calicoPlan', () => {
  it('finds seed-001\'s block owner and the borrowed /32 from its topology and cluster', () => {
    const facts = readCalicoFacts(new URL('../../fixtures/seed-001-calico-rr/cluster/', import.meta.url).pathname);
    const plan = calicoPlan({ master1: [], worker01: ['1.1.1.0/29'], worker02: ['1.1.1.2/32'] }, facts);
    expect(plan).toEqual({
      owners: [{ node: 'worker01', blocks: ['1.1.1.0/29'], podIps: ['1.1.1.1'] }],
      borrowed: [{ node: 'worker02', address: '1.1.1.2', block: '1.1.1.0/29', owner: 'worker01', pod: 'default/nettool-borrowed' }],
    });
  });

  it('does not call a host route of the node\'s own block borrowed, and notes a borrowed route no pod holds', () => {
    const facts = { pools: [{ cidr: '10.0.0.0/24', blockSize: 28 }], pods: [] };
    const plan = calicoPlan({ a: ['10.0.0.0/28', '10.0.0.1/32'], b: ['10.0.0.2/32', '10.9.9.9/32'] }, facts);
    expect(plan.borrowed).toEqual([{ node: 'b', address: '10.0.0.2', block: '10.0.0.0/28', owner: 'a', pod: null }]);
  });
});

describe('prefix arithmetic', () => {
  it('finds an address of a block nothing holds, from the top', () => {
    expect(unassignedAddress('1.1.1.0/29', ['1.1.1.1', '1.1.1.2/32'])).toBe('1.1.1.7');
    expect(unassignedAddress('1.1.1.0/30', ['1.1.1.3', '1.1.1.2/31'])).toBe('1.1.1.1');
    expect(unassignedAddress('1.1.1.0/31', ['1.1.1.0/31'])).toBeNull();
    expect(unassignedAddress('nonsense', [])).toBeNull();
  });

  it('covers addresses and prefixes inside a CIDR only', () => {
    expect(covers('1.1.1.0/29', '1.1.1.7')).toBe(true);
    expect(covers('1.1.1.0/29', '1.1.1.8')).toBe(false);
    expect(covers('1.1.1.0/29', '1.1.1.2/32')).toBe(true);
    expect(covers('1.1.1.0/29', '1.1.1.0/24')).toBe(false);
    expect(covers('1.1.1.0/29', 'garbage')).toBe(false);
  });

  it('knows a block by its pool and size', () => {
    const pools = [{ cidr: '1.1.1.0/24', blockSize: 29 }];
    expect(isBlock('1.1.1.8/29', pools)).toBe(true);
    expect(isBlock('1.1.1.2/32', pools)).toBe(false);
    expect(isBlock('2.2.2.0/29', pools)).toBe(false);
  });

  it('picks the most specific covering route', () => {
    const fib = [via('0.0.0.0/0', '192.168.1.1'), blackhole('1.1.1.0/29'), via('1.1.1.2/32', '192.168.1.5')];
    expect(longestMatch(fib, '1.1.1.2')?.prefix).toBe('1.1.1.2/32');
    expect(longestMatch(fib, '1.1.1.3')?.prefix).toBe('1.1.1.0/29');
    expect(longestMatch(fib, '9.9.9.9')?.prefix).toBe('0.0.0.0/0');
    expect(longestMatch([], '9.9.9.9')).toBeUndefined();
  });
});

describe('parseRouteGet', () => {
  it('reads a gateway, a blackhole (EINVAL), an unreachable and an unexpected answer', () => {
    expect(parseRouteGet({ code: 0, stdout: '1.1.1.2 via 192.168.1.5 dev eth1 src 192.168.1.4 uid 0 \n    cache \n', stderr: '' })).toEqual({ kind: 'via', gateway: '192.168.1.5', dev: 'eth1' });
    expect(parseRouteGet({ code: 2, stdout: '', stderr: 'RTNETLINK answers: Invalid argument\n' })).toEqual({ kind: 'blackhole' });
    expect(parseRouteGet({ code: 2, stdout: '', stderr: 'RTNETLINK answers: Network is unreachable\n' }).kind).toBe('unreachable');
    expect(parseRouteGet({ code: 0, stdout: 'local 1.1.1.1 dev lo table local src 1.1.1.1 uid 0\n', stderr: '' })).toEqual({ kind: 'dev', dev: 'lo' });
    expect(parseRouteGet({ code: 1, stdout: '', stderr: 'Cannot find device' })).toEqual({ kind: 'error', text: 'Cannot find device' });
  });
});

describe('announcedRoutes', () => {
  it('keeps the latest attributes and drops what was withdrawn', () => {
    const moved = { ...own, nextHop: '192.168.1.9' };
    const routes = announcedRoutes([wire(announce(['1.1.1.0/29', '1.1.1.1/32'])), wire(withdraw(['1.1.1.1/32'])), wire(announce(['1.1.1.0/29'], moved))]);
    expect([...routes.keys()]).toEqual(['1.1.1.0/29']);
    expect(routes.get('1.1.1.0/29')!.nextHop).toBe('192.168.1.9');
  });

  it('forgets what an earlier connection announced', () => {
    const again = { ...wire(announce(['1.1.1.0/29'])), stream: 1 };
    expect([...announcedRoutes([wire(announce(['1.1.1.1/32'])), again]).keys()]).toEqual(['1.1.1.0/29']);
    // interleaved during a collision: the connection heard from last is the one that counts
    const loser = { ...wire(announce(['1.1.1.1/32'])), stream: 1 };
    expect([...announcedRoutes([wire(announce(['1.1.1.0/29'])), loser, wire(announce(['1.1.1.3/32']))]).keys()]).toEqual(['1.1.1.0/29', '1.1.1.3/32']);
  });

  it('skips messages that did not parse', () => {
    const broken: DecodedMessage = { ts: 1, src: 'a:1', dst: 'b:2', stream: 0, type: 'UPDATE', length: 30, message: null, error: 'bad' };
    expect(announcedRoutes([broken]).size).toBe(0);
  });
});

describe('judgeBlockOwner', () => {
  const owner = (sent: UpdateMessage[], fib: RouteEntry[]): BlockOwner => ({
    node: 'worker01',
    blocks: ['1.1.1.0/29'],
    podIps: ['1.1.1.1'],
    announced: [{ peer: '192.168.1.1', local: '192.168.1.4', routes: announcedRoutes(sent.map((u) => wire(u))) }],
    fib,
  });

  it('accepts the block alone, with the node as next hop and a kernel blackhole', () => {
    expect(judgeBlockOwner(owner([announce(['1.1.1.0/29'])], [blackhole('1.1.1.0/29')]))).toEqual({ problems: [], perPodRoutes: [], blackholes: 1 });
  });

  it('flags per-pod routes from inside the block, naming a local pod', () => {
    const verdict = judgeBlockOwner(owner([announce(['1.1.1.0/29', '1.1.1.1/32'])], [blackhole('1.1.1.0/29')]));
    expect(verdict.perPodRoutes).toEqual(['1.1.1.1/32']);
    expect(verdict.problems).toEqual(['worker01 announced 1.1.1.1/32 (a local pod) from inside its own block instead of the block alone']);
  });

  it('flags a missing block announcement, a foreign next hop and a missing blackhole', () => {
    expect(judgeBlockOwner(owner([], [blackhole('1.1.1.0/29')])).problems).toEqual(['worker01 did not announce its block 1.1.1.0/29 to 192.168.1.1']);
    expect(judgeBlockOwner(owner([announce(['1.1.1.0/29'], { ...own, nextHop: '192.168.1.9' })], [blackhole('1.1.1.0/29')])).problems[0]).toContain('NEXT_HOP 192.168.1.9');
    const noBlackhole = judgeBlockOwner(owner([announce(['1.1.1.0/29'])], [via('1.1.1.0/29', '192.168.1.4')]));
    expect(noBlackhole.blackholes).toBe(0);
    expect(noBlackhole.problems).toEqual(["worker01's kernel has 1.1.1.0/29 via 192.168.1.4, expected a blackhole for its block"]);
  });
});

describe('judgeReflected', () => {
  const want = { prefix: '1.1.1.2/32', nextHop: '192.168.1.5', originatorId: '192.168.1.5', clusterId: '192.168.1.1' };
  const reflected: PathAttributes = { origin: 'igp', asPath: [], nextHop: '192.168.1.5', localPref: 100, originatorId: '192.168.1.5', clusterList: ['192.168.1.1'] };
  const fromRr = (attributes: PathAttributes) => [wire(announce(['1.1.1.2/32'], attributes), '192.168.1.1:179', '192.168.1.4:40000')];

  it('accepts a route reflected with ORIGINATOR_ID, CLUSTER_LIST and the originator next hop', () => {
    const verdict = judgeReflected(fromRr(reflected), want);
    expect(verdict.problems).toEqual([]);
    expect(verdict.attributes?.clusterList).toEqual(['192.168.1.1']);
  });

  it('names each RFC 4456 attribute that is missing or wrong', () => {
    const bare: PathAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [1111111] }], nextHop: '192.168.1.1' };
    expect(judgeReflected(fromRr(bare), want).problems.map((p) => p.split(':')[0])).toEqual([
      'RFC 4456 10',
      'RFC 4456 8',
      'RFC 4456 8',
      'RFC 4271 5.1.2',
      'RFC 4271 5.1.5',
    ]);
    expect(judgeReflected(fromRr({ ...reflected, clusterList: ['10.0.0.1', '192.168.1.1'] }), want).problems).toEqual([
      'RFC 4456 8: 1.1.1.2/32 reflected with CLUSTER_LIST 10.0.0.1 192.168.1.1, expected 192.168.1.1 first',
    ]);
  });

  it('says when the route never came', () => {
    expect(judgeReflected([], want)).toEqual({ problems: ['the reflector did not send 1.1.1.2/32'] });
  });
});

describe('judgeBorrowedOnOwner', () => {
  const base = { node: 'worker01', address: '1.1.1.2', block: '1.1.1.0/29', borrowerAddress: '192.168.1.5' };
  const viaBorrower = { kind: 'via', gateway: '192.168.1.5', dev: 'eth1' } as const;

  it('accepts the host route over the kept blackhole, chosen by the kernel', () => {
    expect(judgeBorrowedOnOwner({ ...base, fib: [blackhole('1.1.1.0/29'), via('1.1.1.2/32', '192.168.1.5')], routeGet: viaBorrower })).toEqual([]);
  });

  it('flags the borrowed address falling into the blackhole', () => {
    const problems = judgeBorrowedOnOwner({ ...base, fib: [blackhole('1.1.1.0/29')], routeGet: { kind: 'blackhole' } });
    expect(problems).toEqual([
      "worker01's kernel has no route for the borrowed 1.1.1.2/32",
      'RFC 4632 5.1: ip route get 1.1.1.2 on worker01 answers blackhole, expected via 192.168.1.5',
    ]);
  });

  it('flags a lost blackhole and a host route via the wrong node', () => {
    const problems = judgeBorrowedOnOwner({ ...base, fib: [via('1.1.1.2/32', '192.168.1.9')], routeGet: { kind: 'via', gateway: '192.168.1.9' } });
    expect(problems.map((p) => p.split(':')[0])).toEqual(["worker01's kernel routes 1.1.1.2/32 via 192.168.1.9, expected 192.168.1.5", 'RFC 4271 9.1.4', 'RFC 4632 5.1']);
  });
});
