import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { fileURLToPath } from 'node:url';
import { DAEMON_KINDS as DAEMONS, type DaemonKindName as Daemon } from '../../lab/model.ts';

// `peerproof fixture from-pcap` (capture -> replay fixture), `peerproof fixture run` (replay a
// fixture against a live daemon) and `peerproof replay` (both in one step, for a first look).
// The replay modules load when a command runs, so other subcommands do not pay for them.

function parseStream(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a TCP stream number (as `peerproof decode` prints it, e.g. 0)');
  return Number(value);
}

/** frr | gobgp | bird | openbgpd | docker:IMAGE | external:ADDRESS (the same forms `peerproof run --speaker` takes). */
function parseAgainst(value: string): string {
  if ((DAEMONS as readonly string[]).includes(value) || /^(docker|external):.+/.test(value)) return value;
  throw new InvalidArgumentError(`"${value}": expected ${DAEMONS.join(', ')}, docker:IMAGE or external:ADDRESS`);
}

interface ThirdPartyFlags {
  /** Lab backend (netns or docker). */
  backend?: string;
  speakerProfile?: string;
  speakerConfig?: string;
  externalInterface?: string;
}

/** The flags a docker:/external: peer needs, as `peerproof run` takes them; a message for the user when one is missing. */
function thirdPartyProblem(against: string | undefined, flags: ThirdPartyFlags): string | null {
  if (against?.startsWith('docker:') && !flags.speakerProfile) return `--against ${against} needs --speaker-profile FILE (config path, start command; see conformance/lab/speakers/README.md)`;
  if (against?.startsWith('external:') && !flags.externalInterface) return `--against ${against} needs --external-interface IFNAME (the host interface that reaches the device)`;
  return null;
}

function withThirdPartyOptions(command: Command): Command {
  return command
    .option('--speaker-profile <file>', 'profile of a docker:IMAGE peer (config path, start command, rib query), as for `peerproof run`')
    .option('--speaker-config <file>', 'config template of a docker:IMAGE peer, rendered for the fixture\'s peer node (overrides the profile\'s)')
    .option('--external-interface <ifname>', 'host interface that reaches an external:ADDRESS device (moved into the lab for the run; must carry no host address)')
    .option('--backend <name>', 'lab backend: netns (default) or docker (a daemon peer only)');
}

function parseSpeed(value: string): number {
  const speed = Number(value);
  if (!(speed > 0)) throw new InvalidArgumentError('expected a factor > 0 (2 = recorded gaps halved)');
  return speed;
}

function fail(command: string, text: string, code = 2): void {
  process.stderr.write(`peerproof ${command}: ${text}\n`);
  process.exitCode = code;
}

interface FromPcapOptions {
  stream?: number;
  side?: string;
  peer: Daemon;
}

/** Reads a capture and writes a fixture; returns the summary lines, or throws with a message for the user. */
async function captureToFixture(file: string, out: string, opts: FromPcapOptions): Promise<string[]> {
  const [{ recordingFromCapture, findConversations, describe }, { writeReplayFixture }, { defaultExpect }] = await Promise.all([
    import('../../replay/from-pcap.ts'),
    import('../../replay/fixture.ts'),
    import('../../replay/default-expect.ts'),
  ]);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const conversations = findConversations(bytes);
  const recording = recordingFromCapture(bytes, { stream: opts.stream, side: opts.side, file: basename(file) });
  writeReplayFixture(out, recording, {
    peerKind: opts.peer,
    title: `Replay of ${basename(file)}, stream ${recording.source.kind === 'capture' ? recording.source.stream : 0}`,
    readme: 'expect.yaml was derived from the recording: healthy = the session establishes without a NOTIFICATION; symptom = what the recorded peer did. Edit it to state the field symptom.',
    expect: defaultExpect(recording),
  });
  const played = recording.played;
  return [
    ...conversations.map((c) => `  ${describe(c)}`),
    `played side: ${played.address} AS ${played.asn} id ${played.bgpId} hold ${played.holdTime}s, ${recording.messages.filter((m) => m.from === 'played').length} messages; peer ${recording.peer.address} AS ${recording.peer.asn}`,
    `fixture written: ${out}`,
  ];
}

export function register(program: Command): void {
  const fixture = program.command('fixture').description('Replay fixtures: make one from a capture, run one against a live daemon');

  fixture
    .command('from-pcap')
    .description('Turn a BGP conversation of a pcap/pcapng capture into a replay fixture')
    .argument('<capture>', 'capture file (pcap, nanosecond pcap or pcapng)')
    .requiredOption('--out <dir>', 'fixture folder to write (e.g. fixtures/field-mysite)')
    .option('--stream <n>', 'TCP stream to use (default: the first with UPDATEs)', parseStream)
    .option('--side <address>', 'address of the side to play back (default: the side that sent more UPDATEs)')
    .addOption(new Option('--peer <kind>', 'daemon standing in for the recorded peer').choices([...DAEMONS]).default('frr'))
    .action(async (capture: string, opts: FromPcapOptions & { out: string }) => {
      try {
        const lines = await captureToFixture(capture, resolve(opts.out), opts);
        process.stdout.write(lines.join('\n') + '\n');
      } catch (err) {
        fail('fixture from-pcap', (err as Error).message);
      }
    });

  withThirdPartyOptions(
    fixture
      .command('run')
      .description('Replay a fixture against a live FRR, GoBGP, BIRD or OpenBGPD in the lab, the user\'s image or a real device, and judge expect.yaml (root)')
      .argument('<fixture>', 'replay fixture folder')
      .option('--against <kind>', `${DAEMONS.join(' | ')} | docker:IMAGE | external:ADDRESS (default: the fixture's peer kind)`, parseAgainst)
      .option('--speed <x>', 'divide recorded gaps by this (default: expect.yaml replay.speed, else 1)', parseSpeed)
      .option('--connect', 'the replay opens the session (connects to the peer\'s port 179); default: whoever opened it in the capture, else the peer')
      .option('--no-connect', 'the replay waits for the peer to open the session')
      .option('--runs-dir <dir>', 'where run folders go (default: reports/runs)'),
  ).action(async (given: string, opts: { against?: string; runsDir?: string; speed?: number; connect?: boolean } & ThirdPartyFlags) => {
    // A bare name means a folder under fixtures/, as with `run --fixture`.
    const named = join(fileURLToPath(new URL('../../../fixtures', import.meta.url)), given);
    const dir = !existsSync(given) && existsSync(named) ? named : given;
    if (!existsSync(join(dir, 'recording.json'))) {
      if (existsSync(join(dir, 'expect.yaml'))) return fail('fixture run', `${given} is a conformance fixture (cases, no recording): run \`peerproof run --fixture ${given}\``);
      return fail('fixture run', `${dir} is not a replay fixture (no recording.json)`);
    }
    const problem = thirdPartyProblem(opts.against, opts);
    if (problem) return fail('fixture run', problem);
    await runAndPrint('fixture run', dir, opts.against, opts.runsDir, opts.speed, opts, opts.connect);
  });

  withThirdPartyOptions(
    program
      .command('replay')
      .description('Replay one side of a captured BGP conversation against a live daemon, the user\'s image or a real device and show what it did (root)')
      .argument('<capture>', 'capture file (pcap, nanosecond pcap or pcapng)')
      .requiredOption('--against <kind>', `${DAEMONS.join(' | ')} | docker:IMAGE | external:ADDRESS`, parseAgainst)
      .option('--stream <n>', 'TCP stream to use (default: the first with UPDATEs)', parseStream)
      .option('--side <address>', 'address of the side to play back (default: the side that sent more UPDATEs)')
      .option('--speed <x>', 'divide recorded gaps by this (default 10, gaps capped at 1 s)', parseSpeed)
      .option('--connect', 'the replay opens the session (connects to the peer\'s port 179); default: whoever opened it in the capture')
      .option('--no-connect', 'the replay waits for the peer to open the session')
      .option('--runs-dir <dir>', 'where run folders go (default: reports/runs)'),
  ).action(async (capture: string, opts: { against: string; stream?: number; side?: string; runsDir?: string; speed?: number; connect?: boolean } & ThirdPartyFlags) => {
    const problem = thirdPartyProblem(opts.against, opts);
    if (problem) return fail('replay', problem);
    // FRR runs as user frr and must read the fixture: the temporary folder is opened up.
    const tmp = mkdtempSync(join(tmpdir(), 'pp-replay-'));
    chmodSync(tmp, 0o755);
    try {
      const dir = join(tmp, 'fixture');
      let lines: string[];
      try {
        // A docker:/external: peer replaces the fixture's daemon node; its kind only fills the files.
        const peer = (DAEMONS as readonly string[]).includes(opts.against) ? (opts.against as Daemon) : 'frr';
        lines = await captureToFixture(capture, dir, { stream: opts.stream, side: opts.side, peer });
      } catch (err) {
        return fail('replay', (err as Error).message);
      }
      process.stdout.write(lines.slice(0, -1).join('\n') + '\n');
      await runAndPrint('replay', dir, opts.against, opts.runsDir, opts.speed, opts, opts.connect);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

async function runAndPrint(command: string, dir: string, against: string | undefined, runsDir: string | undefined, speed: number | undefined, flags: ThirdPartyFlags, connect?: boolean): Promise<void> {
  const [{ runReplayFixture }, { sessionTable, verdictLines }, { requireRoot }] = await Promise.all([
    import('../../replay/run.ts'),
    import('../../replay/report.ts'),
    import('../../lab/lab.ts'),
  ]);
  try {
    requireRoot();
    const started = Date.now() / 1000;
    const thirdParty = { profile: flags.speakerProfile && resolve(flags.speakerProfile), config: flags.speakerConfig, externalInterface: flags.externalInterface };
    const run = await runReplayFixture(dir, { against, runsRoot: runsDir, speed, thirdParty, connect, backend: flags.backend });
    process.stdout.write([...sessionTable(run, started), '', ...verdictLines(run)].join('\n') + '\n');
    // 0 healthy, 1 bug present or neither, 3 undecided (the deciding checks could not be judged); 2 is bad input.
    process.exitCode = run.evaluation?.verdict === 'pass' ? 0 : run.evaluation?.verdict === 'undecided' ? 3 : 1;
  } catch (err) {
    fail(command, (err as Error).message);
  }
}
