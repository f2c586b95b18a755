// external:ADDRESS end to end without leaving the lab: the "external device" is a BIRD in a lab
// of its own (configured by hand as seed-000's node1, as a device owner would), reached through a
// veth whose other end the test hands to `peerproof run --external-interface`. That end is
// created down and without addresses in the host namespace and moved straight into the run's lab,
// where the node1 namespace bridges it to the fabric; the host namespace never sends on it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSummary } from '../../report/summary.ts';
import { namespaceName } from '../backends/netns.ts';
import { startLab, type Lab } from '../lab.ts';
import { emptyNode, type LabTopology } from '../model.ts';
import { run, runChecked } from '../netns.ts';
import { typescriptCommand } from '../process-output.ts';

const root = mkdtempSync(join(tmpdir(), 'pp-external-'));
chmodSync(root, 0o755);
const hostEnd = `ppx${randomBytes(4).toString('hex')}`;
let device: Lab;

function deviceTopology(): LabTopology {
  const node = emptyNode('device', 'speaker');
  Object.assign(node, {
    standIn: 'bird',
    asn: 65000,
    routerId: '10.0.1.10',
    neighbors: [{ address: '192.168.121.16', asn: 65100, multihop: 2 }],
    announce: ['172.31.254.0/26', '192.0.2.0/32'],
  });
  return { name: 'external-device', nodes: [node], links: [] };
}

beforeAll(async () => {
  device = await startLab(deviceTopology(), { runsRoot: join(root, 'device'), wait: false });
  const ns = namespaceName(device.runId, 'device');
  // The pair is born with its device end already in the device's namespace; the host end stays down.
  await runChecked(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
  for (const cmd of [['addr', 'add', '10.0.1.10/24', 'dev', 'eth1'], ['link', 'set', 'eth1', 'up'], ['route', 'add', 'default', 'via', '10.0.1.2']])
    await runChecked(['ip', '-n', ns, ...cmd]);
}, 60_000);

afterAll(async () => {
  await device?.stop();
  // Gone with the lab namespace it was moved into; removed here if the run never took it.
  await run(['ip', 'link', 'del', hostEnd]);
  rmSync(root, { recursive: true, force: true });
});

describe('--speaker external:ADDRESS', () => {
  it('judges a device outside the lab on the cases that need no topology control and skips the rest with the reason', async () => {
    const report = join(root, 'report');
    const cli = typescriptCommand(join(import.meta.dirname, '../../cli/main.ts'), [
      'run',
      '--fixture', 'seed-000-cilium-two-subnets',
      '--speaker', 'external:10.0.1.10',
      '--external-interface', hostEnd,
      '--peer', 'frr',
      '--case', 'session.establish,update.encoding,ecmp.spread,podcidr.export,negative.malformed-update',
      '--report', report,
      '--no-allure',
    ]);
    let output = '';
    try {
      output = execFileSync(cli[0]!, cli.slice(1), { encoding: 'utf8', timeout: 240_000 });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    const summary = validateSummary(JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8')));
    const byId = Object.fromEntries(summary.cases.map((c) => [c.id, c]));
    expect(summary.cases.map((c) => `${c.id} ${c.status}`).sort(), output).toEqual([
      'ecmp.spread skipped',
      'negative.malformed-update passed',
      'podcidr.export skipped',
      'session.establish passed',
      'update.encoding passed',
    ]);
    expect(byId['ecmp.spread']!.reason).toMatch(/needs topology control/);
    // The device's RIB is not read (its profile has no external.rib): the RFC 7606 actions are judged from the session only, and say why.
    expect(byId['negative.malformed-update']!.measurements.routesObservable).toMatch(/^no: the speaker's profile .*external-device\.yaml has no external\.rib query/);
    expect(byId['session.establish']!.speaker).toBe('external:10.0.1.10');
    // Only the device's own session: the fixture's other speaker node is not in the lab.
    expect(byId['session.establish']!.measurements).toMatchObject({ sessions: 1, established: 1, opensChecked: 1 });
    expect(byId['update.encoding']!.measurements).toMatchObject({ sessions: 1 });
    // The device's 2 prefixes, once per session: negative.malformed-update restarts the router, so the capture may hold more than one.
    expect(byId['update.encoding']!.measurements.prefixes as number).toBeGreaterThanOrEqual(2);
    // The BGP conversation crossed the bridge in node1's namespace: it is in node1's capture.
    expect(byId['update.encoding']!.artifacts.some((a) => a.endsWith('pcaps/node1-eth1.pcap'))).toBe(true);
    // The interface went with the run's namespace (a physical one would return to the host).
    expect((await run(['ip', 'link', 'show', 'dev', hostEnd])).code).not.toBe(0);
    const runId = byId['update.encoding']!.artifacts[0]!.split('/')[1]!;
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`pp-${runId}-`);
  }, 300_000);

  it('refuses an interface that carries host addresses, and the loopback, before touching anything', async () => {
    const { checkExternalInterface } = await import('./external.ts');
    await expect(checkExternalInterface('lo')).rejects.toThrow(/loopback|carries host addresses/);
    await expect(checkExternalInterface('ppx-nonexistent')).rejects.toThrow(/no such interface/);
  });
});
