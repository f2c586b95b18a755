// A speaker of the lab as clause-suite SUT: a lab daemon kind (frr, gobgp, bird, openbgpd), the
// reference speaker, docker:IMAGE or external:ADDRESS, in a lab of its own with one tester node
// (topology.ts). The test process stays in the root namespace: one relay in the tester node
// (tcp-relay.ts) opens each tester connection from its slot's address and accepts the SUT's own
// connections (ebgp-active slots), over unix sockets in the run folder. The SUT's link is captured
// from the first SYN.
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startLab, type Lab, type SpeakerHook } from '../../lab/lab.ts';
import { pollHarness } from '../../lab/poll.ts';
import { HarnessError } from '../../lab/harness-error.ts';
import { startRelay, type RelayInNode } from '../../lab/relay-in-node.ts';
import { daemonProcesses, killDaemon, restartDaemon } from '../../lab/restart.ts';
import { placeSpeaker, type SpeakerSpec, type ThirdPartyOptions } from '../../lab/speakers/place.ts';
import { loadProfile, loadProfileFile, type SpeakerProfile } from '../../lab/speakers/profile.ts';
import { speakerRibReader } from '../../lab/speakers/rib-reader.ts';
import { UnsupportedCombination } from '../../lab/speakers/under-test.ts';
import type { Sut, SutFeature, TesterSlot } from '../sut.ts';
import { referenceSutHook } from './reference-hook.ts';
import { clauseLabTopology, LAB_ORIGINATES, LAB_SUT_ADDRESS, LAB_SUT_ASN, LAB_SUT_ROUTER_ID, LAB_TIMERS, labSlots, LINK_IF, SUT_NODE, TESTER_NODE } from './topology.ts';

/** What the clause lab's rendering of each kind does not configure (beyond the profile's own lacks). */
const KIND_LACKS: Record<string, Partial<Record<SutFeature, string>>> = {
  frr: {},
  gobgp: { 'extended-message': 'GoBGP 3.10 does not implement RFC 8654 extended messages' },
  bird: { 'extended-message': "the clause lab renders BIRD without `enable extended messages` (off by default)" },
  openbgpd: {},
  reference: { 'extended-message': 'the reference speaker does not offer extended messages (RFC 8654)' },
};
const NOT_RENDERED: Partial<Record<SutFeature, string>> = {
  role: 'the clause lab renders no BGP role (RFC 9234) for the SUT',
  'extended-nexthop': 'the clause lab renders no extended next hop (RFC 8950) on the SUT tester sessions',
};

/** Profile capability -> the SUT features it stands for. */
const FROM_CAPABILITY: Array<[string, SutFeature[]]> = [
  ['ipv6', ['ipv6']],
  ['ibgp', ['ibgp', 'route-reflector']],
  ['addpath-send', ['addpath']],
  ['addpath-receive', ['addpath']],
  ['graceful-restart', ['graceful-restart']],
];

export function sutLacks(profile: SpeakerProfile, kind: string): Partial<Record<SutFeature, string>> {
  const lacks: Partial<Record<SutFeature, string>> = { ...NOT_RENDERED, ...KIND_LACKS[kind] };
  for (const [capability, features] of FROM_CAPABILITY) {
    if (profile.capabilities.includes(capability)) continue;
    for (const f of features) lacks[f] ??= profile.lacks[capability] ?? `the speaker's profile (${profile.file}) does not list ${capability}`;
  }
  // The reference SUT is configured with extended next hop on every slot (reference-hook.ts).
  if (kind === 'reference') delete lacks['extended-nexthop'];
  const features = ['ipv6', 'ibgp', 'active-connect', 'route-reflector', 'addpath', 'graceful-restart', 'route-refresh', 'enhanced-route-refresh', 'extended-message', 'extended-nexthop', 'role', 'rib'];
  for (const [key, why] of Object.entries(profile.lacks)) if (features.includes(key)) lacks[key as SutFeature] = why;
  return lacks;
}

export interface LabSut extends Sut {
  lab: Lab;
  /** The pcap of the SUT's link (absolute), complete once stop() returned. */
  pcap: string;
  /** The SUT's BGP process still runs. */
  alive(): boolean;
  /** Starts a crashed lab daemon again from its rendered config and waits until it listens (a hooked SUT cannot be). */
  recover(): Promise<void>;
  /** The last lines of the SUT's daemon log, to say how it crashed. */
  logTail(): string;
}

/** The ledger label of each kind's BGP process (FRR's bgpd may die while zebra lives). */
const BGP_LABEL: Record<string, string> = { frr: 'bgpd', gobgp: 'gobgpd', bird: 'bird', openbgpd: 'bgpd' };
/**
 * Kinds whose neighbour state Idle means the SUT holds the neighbour back (GoBGP's idle hold after
 * a reset or its start, BIRD's error wait) and closes a connection from it at once. FRR shows its
 * passive neighbours Idle all along, so it is not waited on.
 */
const IDLE_MEANS_BACKOFF = new Set(['gobgp', 'bird']);
/** How long a slot rests after its last tester connection closed, before the next one opens. */
const SETTLE_MS = 1000;
const LOG_FILE: Record<string, string> = { frr: 'bgpd.out', gobgp: 'gobgpd.log', bird: 'bird.out', openbgpd: 'bgpd.log', reference: 'speaker.log' };

export interface LabSutOptions {
  runsRoot: string;
  thirdParty?: ThirdPartyOptions;
  log?: (line: string) => void;
  slots?: TesterSlot[];
  /** Seconds the daemon holds a tester slot back after a session error (the lab model's `timers.errorWait`; default the kind's own). */
  errorWait?: number;
}

/** The unix socket of a slot's tester connections (`s`), or of the SUT's connections to it (`a`, ebgp-active slots). */
const socketOf = (lab: Lab, slot: TesterSlot, inbound = false) => join(lab.nodeDir(TESTER_NODE), `${inbound ? 'a' : 's'}${slot.index}.sock`);

/** Whether the SUT's namespace has a TCP listener on port 179 (IPv4 or IPv6). */
async function bgpListening(lab: Lab): Promise<boolean> {
  const r = await lab.node(SUT_NODE).exec(['cat', '/proc/net/tcp', '/proc/net/tcp6']).catch(() => null);
  return r !== null && /^\s*\d+: [0-9A-F]+:00B3 [0-9A-F]+:0000 0A /m.test(r.stdout);
}

export async function startLabSut(spec: SpeakerSpec, opts: LabSutOptions): Promise<LabSut> {
  const slots = opts.slots ?? labSlots();
  const profile = spec.kind === 'profile' ? loadProfile(spec.name) : loadProfileFile(opts.thirdParty?.profile ?? (await import('../../lab/speakers/place.ts')).DEFAULT_EXTERNAL_PROFILE);
  let topology = clauseLabTopology(slots, spec.kind === 'profile' && profile.runs ? profile.runs : 'speaker', opts.errorWait);
  let hooks: Record<string, SpeakerHook> = {};
  let profileFile: string | undefined;
  if (spec.kind === 'profile' && !profile.runs) {
    if (profile.name !== 'reference') throw new UnsupportedCombination(`speaker ${profile.name}: the clause lab runs lab daemon kinds, the reference, docker:IMAGE and external:ADDRESS`);
    hooks = { [SUT_NODE]: referenceSutHook(slots) };
  } else if (spec.kind !== 'profile') {
    const placed = await placeSpeaker(spec, topology, { thirdParty: opts.thirdParty });
    topology = placed.topology;
    hooks = placed.hooks;
    profileFile = placed.profileFile;
  }
  const kind = spec.kind === 'profile' ? (profile.runs ?? profile.name) : spec.kind;
  const lab = await startLab(topology, { runsRoot: opts.runsRoot, speakers: hooks, captures: [{ node: SUT_NODE, ifname: LINK_IF }], wait: false, timeoutMs: 60_000 });
  let relay: RelayInNode | null = null;
  try {
    const listening = await pollHarness(() => bgpListening(lab), (x) => x, 30_000, 200);
    if (!listening.met) throw new HarnessError(`the SUT (${kind}) did not listen on ${LAB_SUT_ADDRESS}:179 within 30 s`);
    // Every slot can connect to the SUT (a collision test connects from an ebgp-active slot too).
    const active = slots.filter((s) => s.role === 'ebgp-active');
    const outbound = slots;
    const args = [
      '--to', `${LAB_SUT_ADDRESS}:179`, '--from', LAB_SUT_ADDRESS,
      ...active.flatMap((s) => ['--in', `${s.address}:179=${socketOf(lab, s, true)}`]),
      ...outbound.flatMap((s) => ['--out', `${s.address}=${socketOf(lab, s)}`]),
    ];
    const last = socketOf(lab, outbound[outbound.length - 1]!);
    relay = await startRelay(lab, TESTER_NODE, args, last, join(lab.nodeDir(TESTER_NODE), 'tcp-relay.log'));
    // Tests expecting the SUT's own route in its first UPDATE need it originated first.
    if (profile.runs) await pollHarness(() => lab.node(SUT_NODE).rib().catch(() => []), (rib) => rib.some((r) => r.prefix === LAB_ORIGINATES.ipv4), 30_000, 300);
  } catch (err) {
    await relay?.stop();
    await lab.stop();
    throw err;
  }
  const hooked = spec.kind === 'profile' && !profile.runs;
  const lacks = sutLacks(profile, kind);
  const readers = new Map(slots.map((s) => [s.index, speakerRibReader(lab, { node: SUT_NODE, peerAddress: s.address, hooked, profileFile, byNextHop: true })]));
  const anyReader = readers.values().next().value;
  if (typeof anyReader === 'string') lacks.rib ??= anyReader;
  const closedAt = new Map<number, number>();
  // Neighbour states, read once for every slot that asks within 300 ms.
  let states: { at: number; read: Promise<Map<string, string>> } | null = null;
  const neighbourStates = () => {
    if (!states || Date.now() - states.at > 300)
      states = { at: Date.now(), read: lab.node(SUT_NODE).sessions().then((ss) => new Map(ss.map((x) => [x.peer, x.state])), () => new Map<string, string>()) };
    return states.read;
  };
  /** Waits (the SUT's own backoff, up to 15 s) until the SUT no longer holds the slot's neighbour Idle. */
  const notHeldBack = async (slot: TesterSlot) => {
    if (!profile.runs || !IDLE_MEANS_BACKOFF.has(profile.runs)) return;
    await pollHarness(async () => (await neighbourStates()).get(slot.address), (state) => state !== 'Idle', 15_000, 250);
  };
  const unixConnect = (path: string) =>
    new Promise<net.Socket>((resolve, reject) => {
      if (!existsSync(path)) return reject(new HarnessError(`the tester relay's socket ${path} is gone (relay ${relay?.exit() ?? 'running'})`));
      const socket = net.connect({ path });
      socket.once('connect', () => resolve(socket));
      socket.once('error', (err) => reject(new HarnessError(`the tester relay's socket ${path}: ${err.message}`)));
    });
  const alive = () => {
    if (!profile.runs) {
      try {
        lab.assertRunning();
        return true;
      } catch {
        return false;
      }
    }
    return daemonProcesses(lab.ledger.entries(), SUT_NODE).some((p) => p.label === BGP_LABEL[profile.runs!]);
  };
  return {
    lab,
    alive,
    async recover() {
      if (!profile.runs) throw new HarnessError(`the SUT (${kind}) exited and is not a lab daemon the clause lab can restart`);
      // The lab going down (Ctrl-C) stopped the daemon; a crash watcher must not start it again.
      if (lab.stopped) return;
      if (daemonProcesses(lab.ledger.entries(), SUT_NODE).length > 0) await killDaemon(lab, SUT_NODE);
      await restartDaemon(lab, SUT_NODE);
      const up = await pollHarness(async () => (alive() ? bgpListening(lab) : 'exited'), (x) => x !== false, 30_000, 200);
      if (up.value === 'exited') throw new HarnessError(`the SUT (${kind}) exited again during its restart`);
      if (!up.met) {
        // A daemon that runs but never listens would pass for alive and refuse every session: end it, so the next recover() starts it afresh.
        await killDaemon(lab, SUT_NODE).catch(() => undefined);
        throw new HarnessError(`the SUT (${kind}) did not listen again within 30 s of its restart`);
      }
    },
    logTail() {
      const file = join(lab.nodeDir(SUT_NODE), LOG_FILE[kind] ?? 'speaker.log');
      if (!existsSync(file)) return '';
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
      const panic = lines.findIndex((l) => /panic|segfault|assert|fatal/i.test(l));
      return (panic >= 0 ? lines.slice(panic, panic + 3) : lines.slice(-3)).join(' | ').slice(0, 300);
    },
    pcap: join(lab.runDir, 'pcaps', `${SUT_NODE}-${LINK_IF}.pcap`),
    info: { name: spec.kind === 'profile' ? profile.name : spec.kind === 'docker' ? `docker:${spec.image}` : `external:${spec.address}`, asn: LAB_SUT_ASN, routerId: LAB_SUT_ROUTER_ID, originates: LAB_ORIGINATES, holdTime: LAB_TIMERS.hold },
    lacks,
    slots,
    async connect(slot) {
      // A daemon still clearing the slot's last session answers a new connection with Cease/
      // Connection Collision (FRR): give it a moment after that session closed.
      const since = Date.now() - (closedAt.get(slot.index) ?? 0);
      if (since < SETTLE_MS) await new Promise((r) => setTimeout(r, SETTLE_MS - since));
      await notHeldBack(slot);
      const socket = await unixConnect(socketOf(lab, slot));
      socket.once('close', () => closedAt.set(slot.index, Date.now()));
      return socket;
    },
    async accept(slot, timeoutMs) {
      if (slot.role !== 'ebgp-active') throw new Error(`slot ${slot.index} is not an ebgp-active slot`);
      const socket = await unixConnect(socketOf(lab, slot, true));
      // The relay pairs this client with the SUT's next connection, which starts with its OPEN:
      // bytes to read say the SUT connected. They are left unread ('readable', not 'data'), so
      // the tester peer's own 'data' listener gets them.
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          socket.off('readable', onReadable);
          socket.off('close', onClose);
        };
        const onReadable = () => {
          done();
          resolve(socket);
          // Whoever took the socket listens for 'data' by now; make sure it flows.
          setImmediate(() => {
            if (socket.readableFlowing !== true && socket.listenerCount('data') > 0) socket.resume();
          });
        };
        const onClose = () => {
          done();
          reject(new Error(`the relay closed ${slot.address}'s accept socket before the SUT connected`));
        };
        const timer = setTimeout(() => {
          done();
          socket.destroy();
          reject(new Error(`the SUT did not connect to ${slot.address} within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on('readable', onReadable);
        socket.on('close', onClose);
      });
    },
    async receivedFrom(slot) {
      const read = readers.get(slot.index);
      return typeof read === 'function' ? read() : null;
    },
    async stop() {
      await relay?.stop();
      await lab.stop();
    },
  };
}
