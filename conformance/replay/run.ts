// Runs one replay fixture in the lab: the `peer` node runs a real daemon (the fixture's kind or
// `against`), the user's image (docker:IMAGE) or is bridged to a real device (external:ADDRESS), the `replay` node runs the replay engine (player-main.ts) through the lab's speaker
// hook, tcpdump captures the link. Waits for the engine's `done`, reads the peer's RIB and
// session state, tears everything down, and evaluates expect.yaml.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteEntry, SessionState } from '../lab/kinds/index.ts';
import { loadFixture } from '../lab/fixture/load.ts';
import { startLab, type Lab, type SpeakerHook } from '../lab/lab.ts';
import { DAEMON_KINDS, isDaemonKind, type LabTopology } from '../lab/model.ts';
import { pollHarness } from '../lab/poll.ts';
import type { ThirdPartyOptions } from '../lab/speakers/place.ts';
import { livePeerLabel, parseLivePeer, placeThirdPartyPeer, type ThirdPartyPeer } from './live-peer.ts';
import { LINK_IF, PEER_NODE, REPLAY_NODE } from './fixture.ts';
import type { PlayerEvent } from './player.ts';
import { readRecording, type Recording } from './recording.ts';
import { evaluate, readExpect, type Evaluation, type ExpectFile, type ReplayObservation } from './symptoms.ts';
import { daemonVersion } from './versions.ts';

const BGP_PORT = 179;
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const playerMain = join(here, 'player-main.ts');
const tsxLoader = join(repoRoot, 'node_modules/tsx/dist/loader.mjs');

export interface RunReplayOptions {
  /** frr | gobgp | bird | docker:IMAGE | external:ADDRESS (default: the fixture's peer kind). */
  against?: string;
  /** --speaker-profile / --speaker-config / --external-interface for docker: and external: peers. */
  thirdParty?: ThirdPartyOptions;
  runsRoot?: string;
  /** Lab backend: netns (default) or docker (the player then runs in a container; daemon peers only). */
  backend?: string;
  /** Override expect.yaml's replay.speed (recorded gaps divided by this). */
  speed?: number;
  /** Seconds to wait for the engine's `done` beyond the recording's own duration. */
  timeout?: number;
  /**
   * The replay opens the TCP connection itself (active) instead of waiting for the peer's
   * (passive). Default: whoever opened it in the recording (`openerOf`), else passive.
   */
  connect?: boolean;
}

/**
 * Who opened the recorded TCP connection: the recording's `opener` (the SYN's sender, when the
 * capture held it), else the side with an ephemeral port towards the other's 179; null when the
 * recording cannot tell (synthesised recordings use 179 on both sides).
 */
export function openerOf(recording: Recording): 'played' | 'peer' | null {
  if (recording.opener) return recording.opener;
  const { played, peer } = recording;
  if (played.port !== BGP_PORT && peer.port === BGP_PORT) return 'played';
  if (peer.port !== BGP_PORT && played.port === BGP_PORT) return 'peer';
  return null;
}

export interface ReplayRun {
  fixture: string;
  /** The replay opened the session (active) or waited for the peer's connection (passive). */
  mode: 'active' | 'passive';
  /** frr | gobgp | bird | docker:IMAGE | external:ADDRESS */
  against: string;
  version: string;
  recording: Recording;
  observation: ReplayObservation;
  peerSessions: SessionState[];
  evaluation: Evaluation | null;
  expect: ExpectFile | null;
  runDir: string;
  /** The link capture (pcap) of the run, kept in the run folder. */
  capture: string | null;
}

function readEvents(file: string): PlayerEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as PlayerEvent];
      } catch {
        return []; // a line being written right now
      }
    });
}

export async function runReplayFixture(fixtureDir: string, opts: RunReplayOptions = {}): Promise<ReplayRun> {
  const fixture = loadFixture(fixtureDir);
  const topology: LabTopology = structuredClone(fixture.topology);
  const replayNode = topology.nodes.find((n) => n.name === REPLAY_NODE);
  const peerNode = topology.nodes.find((n) => n.name === PEER_NODE);
  if (!replayNode || !peerNode) throw new Error(`${fixture.dir}: a replay fixture needs nodes "${REPLAY_NODE}" and "${PEER_NODE}"`);
  if (!opts.against && !isDaemonKind(peerNode.kind)) throw new Error(`${fixture.dir}: the peer must be one of ${DAEMON_KINDS.join(', ')}, not ${peerNode.kind}`);
  const livePeer = parseLivePeer(opts.against ?? peerNode.kind);
  const against = livePeerLabel(livePeer);
  const recordingFile = join(fixture.dir, 'recording.json');
  const recording = readRecording(recordingFile);
  const active = opts.connect ?? openerOf(recording) === 'played';
  let thirdParty: ThirdPartyPeer | null = null;
  if (livePeer.kind !== 'daemon') thirdParty = await placeThirdPartyPeer(livePeer, peerNode, opts.thirdParty ?? {}, active);
  else if (livePeer.daemon !== peerNode.kind) {
    peerNode.kind = livePeer.daemon;
    delete peerNode.frrConfig; // an FRR config says nothing to GoBGP or BIRD
  }
  const sidecar = JSON.parse(readFileSync(recordingFile, 'utf8')) as { addressMap?: Record<string, string>; linkIpv6?: { played: string; peer: string } };
  const addressMap = sidecar.addressMap ?? {};
  const expect = fixture.expectFile && /^\s*bug:/m.test(readFileSync(fixture.expectFile, 'utf8')) ? readExpect(fixture.expectFile) : null;
  const speed = opts.speed ?? expect?.replay?.speed ?? 1;
  const settle = expect?.replay?.settle ?? 2;
  const maxGap = expect?.replay?.maxGap ?? 5;
  const duration = recording.messages.reduce((max, m) => Math.max(max, m.t), 0);
  const played = recording.messages.filter((m) => m.from === 'played').length;
  const timeoutMs = (Math.min(duration / speed, played * maxGap) + settle + (opts.timeout ?? 30)) * 1000;

  let eventsFile = '';
  const hook: SpeakerHook = async ({ backend, node, dir }) => {
    mkdirSync(dir, { recursive: true });
    eventsFile = join(dir, 'events.jsonl');
    const linkIpv6 = sidecar.linkIpv6 ? [[node.name, sidecar.linkIpv6.played], [PEER_NODE, sidecar.linkIpv6.peer]] as const : [];
    for (const [name, cidr] of linkIpv6.filter(([name]) => name !== PEER_NODE || !thirdParty?.ownsAddresses)) {
      const added = await backend.exec(name, ['ip', '-6', 'addr', 'add', cidr, 'dev', LINK_IF, 'nodad']);
      if (added.code !== 0) throw new Error(`adding ${cidr} to ${name}:${LINK_IF} failed: ${added.stderr.trim()}`);
    }
    const map = Object.entries(addressMap).flatMap(([a, b]) => ['--map', `${a}=${b}`]);
    // Active: from the replay's address on the link to the peer's (its one neighbour), until the run's deadline.
    const connect = active
      ? ['--connect', node.neighbors[0]?.address ?? '', '--local', (node.interfaces[LINK_IF]?.[0] ?? '').split('/')[0]!, '--deadline', String(Math.floor(timeoutMs / 1000))]
      : [];
    const argv = [
      process.execPath, '--import', tsxLoader, playerMain,
      '--recording', recordingFile, '--events', eventsFile,
      '--speed', String(speed), '--settle', String(settle), '--max-gap', String(maxGap),
      '--bgp-id', node.routerId ?? '10.77.255.1', ...map, ...connect,
    ];
    return [await backend.spawn(node.name, argv, { label: 'replay', logFile: join(dir, 'replay.log') })];
  };

  const version = livePeer.kind === 'daemon' ? await daemonVersion(livePeer.daemon) : against;
  const speakers: Record<string, SpeakerHook> = { [REPLAY_NODE]: hook, ...(thirdParty && { [PEER_NODE]: thirdParty.hook }) };
  let lab: Lab;
  try {
    if (opts.backend && opts.backend !== 'netns' && thirdParty) throw new Error(`a ${livePeer.kind} peer runs beside a netns lab only, not with --backend ${opts.backend}`);
    lab = await startLab(topology, { runsRoot: opts.runsRoot, wait: false, speakers, ...(opts.backend && { backend: opts.backend }) });
  } catch (err) {
    await thirdParty?.release();
    throw err;
  }
  let events: PlayerEvent[] = [];
  const ribs: Record<string, RouteEntry[]> = {};
  const unreadable: Record<string, string> = {};
  let peerSessions: SessionState[] = [];
  try {
    const finished = await pollHarness(() => readEvents(eventsFile), (read) => read.some((e) => e.kind === 'done' || (e.kind === 'error' && e.fatal)), timeoutMs, 200);
    events = finished.value;
    if (!finished.met) {
      events.push({ kind: 'error', t: 0, message: `the replay did not finish within ${Math.round(timeoutMs / 1000)} s (${active ? 'the peer never accepted the connection?' : 'no session from the peer?'})` });
    }
    if (thirdParty) {
      // An image's or a device's RIB comes from its profile's rib query; without one, route checks are not judged.
      const read = thirdParty.readRib;
      if (typeof read === 'string') unreadable[PEER_NODE] = read;
      else
        await read(lab.runId).then(
          (rib) => void (ribs[PEER_NODE] = rib),
          (err: Error) => void (unreadable[PEER_NODE] = `reading the peer's RIB failed: ${err.message}`),
        );
      unreadable[`${PEER_NODE}:fib`] = `the kernel FIB of a ${livePeer.kind} peer is not read`;
    } else {
      ribs[PEER_NODE] = await lab.node(PEER_NODE).rib().catch(() => []);
      ribs[`${PEER_NODE}:fib`] = await lab.node(PEER_NODE).fib().catch(() => []);
      peerSessions = await lab.node(PEER_NODE).sessions().catch(() => []);
    }
  } finally {
    await lab.stop();
    await thirdParty?.release();
  }
  // What the peer does after `done` (a Cease when the lab stops it) is not part of the replay.
  const pcap = join(lab.runDir, 'pcaps', `${PEER_NODE}-${LINK_IF}.pcap`);
  const observation: ReplayObservation = { events, ribs, ...(Object.keys(unreadable).length && { unreadable }) };
  return {
    fixture: fixture.name,
    mode: active ? 'active' : 'passive',
    against,
    version,
    recording,
    observation,
    peerSessions,
    evaluation: expect ? evaluate(expect, observation) : null,
    expect,
    runDir: lab.runDir,
    capture: existsSync(pcap) ? pcap : null,
  };
}
