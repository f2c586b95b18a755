// PeeringLab (root): a real GoBGP <-> BIRD session captured by tcpdump and decoded, and every
// namespace and process gone afterwards, also when the test body fails.

import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PeeringLab } from './peering-lab.ts';
import { decodeCapture } from './decode-capture.ts';
import { pidAlive } from '../lab/netns.ts';

let lab: PeeringLab | undefined;
afterAll(async () => {
  await lab?.down();
  if (process.env.KEEP_RUN === undefined) lab?.removeRunDir();
});

describe('PeeringLab', () => {
  it('captures a real GoBGP <-> BIRD session and removes everything', async () => {
    lab = await PeeringLab.create(
      {
        kind: 'gobgp',
        name: 'gobgp',
        addresses: ['10.0.7.1/30'],
        config: `[global.config]\n  as = 65071\n  router-id = "10.0.7.1"\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "10.0.7.2"\n    peer-as = 65072\n`,
      },
      {
        kind: 'bird',
        name: 'bird',
        addresses: ['10.0.7.2/30'],
        config: `router id 10.0.7.2;
protocol device {}
protocol static statics4 { ipv4; route 100.64.7.0/24 unreachable; }
protocol bgp gobgp_peer { local 10.0.7.2 as 65072; neighbor 10.0.7.1 as 65071; ipv4 { import all; export all; }; }
`,
      },
    );
    const file = join(lab.runDir, 'session.pcap');
    const capture = await lab.startCapture({ node: 'bird', interface: 'link', tool: 'tcpdump', file });
    await lab.start('gobgp');
    await lab.start('bird');
    const gobgpPid = lab.pidOf('gobgp');
    const birdPid = lab.pidOf('bird');
    await lab.waitForCli('gobgp', ['global', 'rib', '-a', 'ipv4'], (out) => out.includes('100.64.7.0/24'), 60_000);
    const namespaces = [lab.namespaceOf('gobgp'), lab.namespaceOf('bird')];
    await lab.down();

    expect(pidAlive(capture.pid)).toBe(false);
    expect(pidAlive(gobgpPid)).toBe(false);
    expect(pidAlive(birdPid)).toBe(false);
    const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const ns of namespaces) expect(listed).not.toContain(ns);

    expect(existsSync(file)).toBe(true);
    const types: string[] = [];
    const prefixes: string[] = [];
    decodeCapture(readFileSync(file), (m) => {
      types.push(m.type);
      if (m.message?.type === 'UPDATE') prefixes.push(...m.message.nlri.map((r) => r.prefix));
    });
    expect(types.filter((t) => t === 'OPEN')).toHaveLength(2);
    expect(prefixes).toContain('100.64.7.0/24');
  });
});
