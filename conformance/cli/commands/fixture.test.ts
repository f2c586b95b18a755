import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'pp-fixture-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/peerproof.js'), ...args], { cwd: repo, encoding: 'utf8', timeout: 20_000 });

describe('peerproof fixture from-pcap / replay (arguments, no lab)', () => {
  it('writes a fixture from a golden capture and lists the conversations', () => {
    const out = join(tmp, 'fx');
    const result = cli('fixture', 'from-pcap', 'pcaps/frr-gobgp-as4-addpath.pcap', '--stream', '1', '--peer', 'gobgp', '--out', out);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('stream 1 [fd00:0:1::1]:46158 <-> [fd00:0:1::2]:179');
    expect(result.stdout).toContain(`fixture written: ${out}`);
    for (const f of ['topology.clab.yml', 'recording.json', 'expect.yaml', 'README.md']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('a replay fixture given to `run --fixture`, or a case fixture to `fixture run`, says which command to use', () => {
    const replay = cli('run', '--fixture', 'field-gr-eor-before-routes');
    expect(replay.status).toBe(1);
    expect(replay.stdout).toBe('');
    expect(replay.stderr).toContain('is a replay fixture (a recorded session, no cases): run `peerproof fixture run fixtures/field-gr-eor-before-routes`');
    const cases = cli('fixture', 'run', 'seed-001-calico-rr');
    expect(cases.status).toBe(2);
    expect(cases.stderr).toContain('seed-001-calico-rr is a conformance fixture (cases, no recording): run `peerproof run --fixture seed-001-calico-rr`');
  });

  it('refuses bad input with a clear message and exit code 2', () => {
    const noStream = cli('fixture', 'from-pcap', 'pcaps/frr-gobgp-as4-addpath.pcap', '--stream', '5', '--out', join(tmp, 'x'));
    expect(noStream.status).toBe(2);
    expect(noStream.stderr).toContain('no BGP conversation with stream 5; streams: stream 0');
    const notCapture = cli('fixture', 'from-pcap', 'package.json', '--out', join(tmp, 'y'));
    expect(notCapture.status).toBe(2);
    expect(notCapture.stderr).toContain('not a pcap or pcapng file');
    const unknown = cli('replay', 'pcaps/frr-gobgp-as4-addpath.pcap', '--against', 'quagga');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('expected frr, gobgp, bird, openbgpd, docker:IMAGE or external:ADDRESS');
  });

  it('asks for the flags a docker:/external: peer needs, as `peerproof run` does, before any lab', () => {
    const docker = cli('replay', 'pcaps/frr-gobgp-as4-addpath.pcap', '--against', 'docker:vendor/bgp:1');
    expect(docker.status).toBe(2);
    expect(docker.stderr).toContain('--against docker:vendor/bgp:1 needs --speaker-profile FILE');
    const external = cli('fixture', 'run', 'fixtures/field-extended-nexthop-one-side', '--against', 'external:10.90.0.2');
    expect(external.status).toBe(2);
    expect(external.stderr).toContain('--against external:10.90.0.2 needs --external-interface IFNAME');
  });
});
