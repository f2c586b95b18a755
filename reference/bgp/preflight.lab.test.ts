// `peerproof preflight` (the real command line, run inside a lab node) against real FRR, GoBGP
// and BIRD top-of-racks, all on one bridge, one bring-up for every test:
//
//   node1  10.0.0.11 (the session, AS 65001), 10.0.0.12 (the observer, AS 65002),
//          10.0.0.13 (a second session address that FRR filters),
//          10.0.0.14 (an observer in the session's own AS 65001, preflight's default)
//   frr1   10.0.0.2  AS 65010  neighbours .11 .12 .14, and .13 with a prefix list denying 203.0.113.0/24 le 32
//   gobgp1 10.0.0.3  AS 65020  neighbours .11 .12 .14
//   bird1  10.0.0.4  AS 65030  neighbours .11 .12 .14
//
// Each router announces 198.51.100.0/24 (what the session receives). The observer mostly uses its
// own AS: GoBGP does not send a route to a peer whose AS is already in its path (the last test).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../../conformance/capture/bgp-stream.ts';
import { decodeCaptureFile } from '../../conformance/capture/decode-capture.ts';
import { namespaceName } from '../../conformance/lab/backends/netns.ts';
import { startLab, type Lab } from '../../conformance/lab/lab.ts';
import { emptyNode, type LabNode, type LabTopology } from '../../conformance/lab/model.ts';
import { spawnInNamespace } from '../../conformance/lab/netns.ts';
import { eventually, JsonLines } from '../../conformance/lab/process-output.ts';
import { leftovers } from '../../conformance/lab/teardown.ts';

const cli = join(import.meta.dirname, '..', '..', 'bin', 'peerproof.js');
const TEST_PREFIX = '203.0.113.10/32';
const ROUTERS = { frr: { node: 'frr1', address: '10.0.0.2', asn: 65010 }, gobgp: { node: 'gobgp1', address: '10.0.0.3', asn: 65020 }, bird: { node: 'bird1', address: '10.0.0.4', asn: 65030 } } as const;

let runsRoot = '';
let lab: Lab;

function frrConf(): string {
  const neighbor = (address: string, asn: number) => [
    ` neighbor ${address} remote-as ${asn}`,
    ` neighbor ${address} timers connect 1`,
    ` neighbor ${address} advertisement-interval 0`,
  ];
  return [
    'frr defaults traditional',
    'hostname frr1',
    'ip prefix-list no-test-prefixes seq 5 deny 203.0.113.0/24 le 32',
    'ip prefix-list no-test-prefixes seq 10 permit any',
    'router bgp 65010',
    ' bgp router-id 10.0.0.2',
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' timers bgp 1 3',
    ...neighbor('10.0.0.11', 65001),
    ...neighbor('10.0.0.12', 65002),
    ...neighbor('10.0.0.13', 65001),
    ...neighbor('10.0.0.14', 65001),
    ' address-family ipv4 unicast',
    '  network 198.51.100.0/24',
    '  neighbor 10.0.0.13 prefix-list no-test-prefixes in',
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

function topology(frrConfig: string): LabTopology {
  const sw = emptyNode('sw', 'bridge');
  const node1 = emptyNode('node1', 'host');
  node1.interfaces = { net0: ['10.0.0.11/24', '10.0.0.12/24', '10.0.0.13/24', '10.0.0.14/24'] };
  const router = (name: string, kind: 'frr' | 'gobgp' | 'bird', address: string, asn: number): LabNode => {
    const node = emptyNode(name, kind);
    node.asn = asn;
    node.routerId = address;
    node.interfaces = { net0: [`${address}/24`] };
    // The sessions come up only while a preflight runs.
    node.neighbors = [
      { address: '10.0.0.11', asn: 65001, expectEstablished: false },
      { address: '10.0.0.12', asn: 65002, expectEstablished: false },
      { address: '10.0.0.14', asn: 65001, expectEstablished: false },
    ];
    node.announce = ['198.51.100.0/24'];
    return node;
  };
  const frr = router('frr1', 'frr', ROUTERS.frr.address, ROUTERS.frr.asn);
  frr.frrConfig = frrConfig;
  const nodes = [sw, node1, frr, router('gobgp1', 'gobgp', ROUTERS.gobgp.address, ROUTERS.gobgp.asn), router('bird1', 'bird', ROUTERS.bird.address, ROUTERS.bird.asn)];
  return {
    name: 'preflight',
    nodes,
    links: nodes.filter((n) => n.kind !== 'bridge').map((n) => ({ a: { node: n.name, ifname: 'net0' }, b: { node: 'sw', ifname: `p-${n.name}` } })),
  };
}

function preflightArgs(router: (typeof ROUTERS)[keyof typeof ROUTERS], from: string, extra: string[] = []): string[] {
  return [
    process.execPath, cli, 'preflight',
    '--peer', router.address, '--peer-as', String(router.asn), '--local-as', '65001',
    '--local-address', from, '--observer', '10.0.0.12', '--observer-as', '65002',
    '--prefix', TEST_PREFIX, '--timeout', '10', ...extra,
  ];
}

async function runPreflight(router: (typeof ROUTERS)[keyof typeof ROUTERS], from: string) {
  return lab.backend.exec('node1', preflightArgs(router, from), { timeoutMs: 90_000 });
}

async function ribHas(node: string, prefix: string): Promise<boolean> {
  return (await lab.node(node).rib()).some((r) => r.prefix === prefix);
}

/** The NOTIFICATIONs an address sent (decoded from a capture; `src` is "ip:port"). */
function notificationsFrom(pcap: string, address: string): string[] {
  const seen: string[] = [];
  decodeCaptureFile(pcap, (m: DecodedMessage) => {
    if (m.src.startsWith(`${address}:`) && m.message?.type === 'NOTIFICATION') seen.push(`${m.message.code}/${m.message.subcode}`);
  });
  return seen;
}

beforeAll(async () => {
  runsRoot = mkdtempSync(join(tmpdir(), 'pp-preflight-'));
  chmodSync(runsRoot, 0o755); // FRR runs as user frr
  const frrConfig = join(runsRoot, 'frr1.conf');
  writeFileSync(frrConfig, frrConf());
  lab = await startLab(topology(frrConfig), { runsRoot });
});

afterAll(async () => {
  await lab?.stop();
  if (runsRoot) rmSync(runsRoot, { recursive: true, force: true });
});

describe('peerproof preflight against lab routers', () => {
  it.each(['frr', 'gobgp', 'bird'] as const)('%s: reports the negotiation, proves the test prefix accepted through the observer, withdraws it and closes with Cease', async (kind) => {
    const router = ROUTERS[kind];
    const capture = await lab.capture(router.node, 'net0');
    const result = await runPreflight(router, '10.0.0.11');
    const pcap = await capture.stop();
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    const out = result.stdout;
    // The lab routers hold 3 s (FRR `timers bgp 1 3`, GoBGP hold-time 3, BIRD hold time 3).
    expect(out).toContain(`negotiated (peer router id ${router.address}, AS ${router.asn}, our address 10.0.0.11)`);
    expect(out).toContain("hold time    ours 90 s, peer's 3 s -> 3 s (keepalive 1 s)");
    expect(out).toContain('4-octet AS   yes');
    expect(out).toMatch(/^ {2}multiprotocol ipv4-unicast +yes +yes +yes$/m);
    expect(out).toMatch(new RegExp(`^ {2}4-octet AS +AS 65001 +AS ${router.asn} +yes$`, 'm'));
    expect(out).toMatch(/^ {2}ADD-PATH {5}ipv4-unicast: /m);
    // FRR also sends it back on the session itself when the observer shares its update group:
    // whichever arrives first is the proof.
    expect(out).toMatch(new RegExp(`ACCEPTED ${TEST_PREFIX.replace('.', '\\.')}: the peer sent it to our ${kind === 'frr' ? '(observer session|session)' : 'observer session'} [0-9.]+ s after we advertised it`));
    expect(out).toContain(`AS path ${router.asn} 65001`);
    expect(out).toContain(`withdrew ${TEST_PREFIX} (the peer withdrew it from us too)`);
    expect(out).toContain('received 1 prefix from the peer');
    expect(out).toMatch(/OK: session up, 1 prefix accepted by the peer\n$/);
    // On the wire: our Cease/Administrative Shutdown reached the router; the route is gone there.
    expect(notificationsFrom(pcap, '10.0.0.11')).toEqual(['6/2']);
    expect(await ribHas(router.node, TEST_PREFIX)).toBe(false);
  });

  it('frr with a prefix filter on the session: the test prefix is not accepted, preflight says so and exits 1', async () => {
    const result = await runPreflight(ROUTERS.frr, '10.0.0.13');
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(`+`); // events were printed
    expect(result.stdout).toContain(`NOT ACCEPTED ${TEST_PREFIX}: the peer did not pass ${TEST_PREFIX} on to the observer session within 10 s: rejected by its import policy (a prefix filter)`);
    expect(result.stdout).toMatch(/FAILED: 1 of 1 prefixes not shown accepted: 203\.0\.113\.10\/32\n$/);
    // FRR itself: the session was up and received the prefix, and its filter dropped it.
    expect(await ribHas('frr1', TEST_PREFIX)).toBe(false);
  });

  it('--watch: keeps the session, prints every UPDATE as it comes, and on Ctrl-C withdraws and closes with Cease', async () => {
    const proc = spawnInNamespace(lab.ledger, namespaceName(lab.runId, 'node1'), preflightArgs(ROUTERS.frr, '10.0.0.11', ['--watch', '--json']), {
      label: 'preflight-watch',
      node: 'node1',
      logFile: join(lab.nodeDir('node1'), 'preflight-watch.log'),
      pipeStdout: true,
    });
    try {
      const events = new JsonLines(proc.child.stdout!);
      await events.waitFor((r) => r.event === 'watching', 40_000);
      expect(events.records.find((r) => r.event === 'accepted')).toMatchObject({ prefix: TEST_PREFIX, via: expect.stringMatching(/^(observer|session)$/) });
      // The router announces something new: the watch shows it on the session.
      const vtysh = (command: string) => lab.node('frr1').exec(['vtysh', '--vty_socket', lab.kindContext(lab.spec('frr1')).dir, '-c', 'configure terminal', '-c', 'router bgp 65010', '-c', 'address-family ipv4 unicast', '-c', command]);
      const mark = events.records.length;
      expect((await vtysh('network 198.51.100.128/25')).code).toBe(0);
      await events.waitFor((r) => r.event === 'update' && r.session === 'session' && (r.announced as string[]).includes('198.51.100.128/25'), 15_000, mark);
      expect((await vtysh('no network 198.51.100.128/25')).code).toBe(0);
      await events.waitFor((r) => r.event === 'update' && r.session === 'session' && (r.withdrawn as string[]).includes('198.51.100.128/25'), 15_000, mark);

      process.kill(proc.pid, 'SIGINT');
      const code = await proc.exited;
      expect(code).toBe(0);
      expect(events.records.find((r) => r.event === 'withdrawn')).toMatchObject({ prefixes: [TEST_PREFIX], confirmed: true });
      expect(events.records.find((r) => r.event === 'closed')).toMatchObject({ notification: 'NOTIFICATION 6/2 (Cease: administrative shutdown)' });
      expect(events.records.at(-1)).toMatchObject({ event: 'result', established: true, exitCode: 0, withdrawn: true });
      // FRR's view: the session went down on our Cease and the prefix is gone.
      const neighbor = JSON.parse((await lab.node('frr1').exec(['vtysh', '--vty_socket', lab.kindContext(lab.spec('frr1')).dir, '-c', 'show bgp neighbors 10.0.0.11 json'])).stdout) as Record<string, { lastNotificationReason?: string; lastResetDueTo?: string }>;
      expect(JSON.stringify(neighbor['10.0.0.11'])).toMatch(/Administrative Shutdown/i);
      expect(await eventually(async () => ((await ribHas('frr1', TEST_PREFIX)) ? null : true), 'test prefix gone at FRR', 5000)).toBe(true);
    } finally {
      await proc.stop('SIGKILL', 1000);
    }
  });

  it.each([
    ['frr', 0],
    ['bird', 0],
    ['gobgp', 1],
  ] as const)('an observer in our own AS (the default): %s exits %i', async (kind, code) => {
    const router = ROUTERS[kind];
    const args = preflightArgs(router, '10.0.0.11');
    args.splice(args.indexOf('--observer'), 4, '--observer', '10.0.0.14');
    const result = await lab.backend.exec('node1', args, { timeoutMs: 90_000 });
    expect(result.code, result.stdout).toBe(code);
    if (code === 0) expect(result.stdout).toContain(`ACCEPTED ${TEST_PREFIX}`);
    else {
      expect(result.stdout).toContain(
        `or the observer uses our AS 65001: a peer with sender-side loop detection (GoBGP; FRR sender-as-path-loop-detection) keeps it from the observer, give --observer-as another AS the peer knows`,
      );
    }
  });

  it('a session the OPENs refuse: the reason (ours or the peer\'s NOTIFICATION) at once, exit 1', async () => {
    const base = ['--peer', ROUTERS.bird.address, '--local-address', '10.0.0.11', '--timeout', '20'];
    const wrongPeerAs = await lab.backend.exec('node1', [process.execPath, cli, 'preflight', ...base, '--peer-as', '65031', '--local-as', '65001'], { timeoutMs: 60_000 });
    expect(wrongPeerAs.code).toBe(1);
    expect(wrongPeerAs.stdout).toMatch(/FAILED: no session with the peer: OPEN: bad peer AS 65030 \(configured 65031\)/);
    const started = Date.now();
    const wrongLocalAs = await lab.backend.exec('node1', [process.execPath, cli, 'preflight', ...base, '--peer-as', '65030', '--local-as', '65009'], { timeoutMs: 60_000 });
    expect(wrongLocalAs.code).toBe(1);
    expect(wrongLocalAs.stdout).toContain('FAILED: no session with the peer: the peer sent NOTIFICATION 2/2 (OPEN: bad peer AS)');
    // Well before the 20 s timeout: the first refusal ends the wait.
    expect(Date.now() - started).toBeLessThan(12_000);
  });

  it('a test prefix the peer already sends us (its own 198.51.100.0/24) is not taken as proof', async () => {
    const args = preflightArgs(ROUTERS.bird, '10.0.0.11');
    args.splice(args.indexOf('--prefix'), 2, '--prefix', '198.51.100.0/24');
    const result = await lab.backend.exec('node1', args, { timeoutMs: 60_000 });
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(
      'NOT ACCEPTED 198.51.100.0/24: the peer already sent us 198.51.100.0/24 (AS path 65030) before we advertised it: use a test prefix nobody else announces (not advertised)',
    );
    expect(result.stdout).not.toContain('advertised 198.51.100.0/24\n');
  });

  it('stops to nothing', async () => {
    await lab.stop();
    expect(leftovers(lab.runDir)).toEqual({ namespaces: [], pids: [] });
  });
});
