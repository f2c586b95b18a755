import { join } from 'node:path';
import { pollHarness } from '../conformance/lab/poll.ts';
import { run, runChecked, type NamespaceProcess } from '../conformance/lab/netns.ts';
import { fetchStatus } from '../reference/bgp/status.ts';
import { BirdControl, statusProbe } from './speaker-probes.ts';

// How the speaker benchmarks (speaker.bench.ts, bgperf.bench.ts) start a target daemon in the
// rig's 'tgt' namespace and wait for it to answer: the argv of each daemon and the client it is
// probed with. The configs differ per benchmark and stay with them.

/** The part of a benchmark rig these starters use. */
export interface TargetRig {
  readonly dir: string;
  readonly closers: Array<() => void>;
  ns(role: 'tgt'): string;
  spawn(role: 'tgt', argv: string[], label: string): NamespaceProcess;
}

/** A started target: its pid, and the routes it has received so far (summed over its sessions). */
export interface RunningTarget {
  pid: number;
  received(): Promise<number>;
}

/** Waits for a rig's daemon to come up: set-up of the rig, not measured ingest, so harness work. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs: number, timeoutMs: number): Promise<T> {
  const { value, met } = await pollHarness(() => probe().catch(() => undefined), (v) => !!v, timeoutMs, intervalMs);
  if (!met) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

/** BIRD with `bird.conf` from the rig's directory, and its control socket kept open. */
export async function startBird(rig: TargetRig): Promise<{ pid: number; control: BirdControl }> {
  const ctl = join(rig.dir, 'bird.ctl');
  const proc = rig.spawn('tgt', ['bird', '-f', '-c', join(rig.dir, 'bird.conf'), '-s', ctl, '-P', join(rig.dir, 'bird.pid')], 'bird');
  const control = await until('bird control socket', () => BirdControl.open(ctl), 50, 5000);
  rig.closers.push(() => control.close());
  return { pid: proc.pid, control };
}

/** Our speaker with `speaker.yaml` from the rig's directory (`nodeArgs` before the script), and its status API. */
export async function startSpeaker(rig: TargetRig, script: string, socket: string, nodeArgs: string[] = []): Promise<{ pid: number; status: ReturnType<typeof statusProbe> }> {
  const proc = rig.spawn('tgt', [process.execPath, ...nodeArgs, script, 'speaker', '--config', join(rig.dir, 'speaker.yaml')], 'speaker');
  await until('speaker status API', async () => !!(await fetchStatus({ socket }, '/healthz')), 50, 10_000);
  const status = statusProbe(socket);
  rig.closers.push(() => status.close());
  return { pid: proc.pid, status };
}

/** bgpd alone (-Z, no zebra) with `bgpd.conf` from `dir`, its vty socket in `dir`. */
export function frrBgpdArgv(dir: string): string[] {
  return ['/usr/lib/frr/bgpd', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-Z', '-n', '--vty_socket', dir, '-P', '0', '-u', 'frr', '-g', 'frr', '--log', `file:${join(dir, 'bgpd-daemon.log')}`];
}

/** `show bgp ipv4 unicast summary json` of the bgpd whose vty socket is in `dir`; undefined while it does not answer. */
export async function frrSummaryPeers(ns: string, dir: string): Promise<Record<string, { state?: string; pfxRcd?: number }> | undefined> {
  const result = await run(['ip', 'netns', 'exec', ns, 'vtysh', '--vty_socket', dir, '-c', 'show bgp ipv4 unicast summary json']);
  if (result.code !== 0) return undefined;
  return (JSON.parse(result.stdout || '{}') as { peers?: Record<string, { state?: string; pfxRcd?: number }> }).peers;
}

/** gobgpd with `gobgpd.toml` from the rig's directory, and its CLI once the API answers. */
export async function startGobgpd(rig: TargetRig): Promise<{ pid: number; gobgp: (args: string[]) => Promise<string> }> {
  const proc = rig.spawn('tgt', ['gobgpd', '-f', join(rig.dir, 'gobgpd.toml'), '-t', 'toml', '-l', 'warn', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], 'gobgpd');
  const gobgp = (args: string[]) => runChecked(['ip', 'netns', 'exec', rig.ns('tgt'), 'gobgp', '-u', '127.0.0.1', '-p', '50051', ...args]);
  await until('gobgpd API', async () => !!(await gobgp(['global'])), 100, 10_000);
  return { pid: proc.pid, gobgp };
}
