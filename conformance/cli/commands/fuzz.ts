// `peerproof fuzz`: grammar-aware and byte mutations of BGP messages sent to a speaker from tester
// slots, each batch judged against what the RFCs prescribe; findings are shrunk into replay
// fixtures inside --report. Exit code 0 = no finding, 1 = findings, 2 = bad input.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';

function wholeNumber(what: string, min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`expected ${what} (a whole number >= ${min})`);
    return Number(value);
  };
}

interface FuzzFlags {
  against: string;
  seed: number;
  messages?: number;
  duration?: number;
  report: string;
  shrinkTries: number;
  speakerProfile?: string;
  speakerConfig?: string;
  externalInterface?: string;
  runsDir?: string;
}

export function register(program: Command): void {
  program
    .command('fuzz')
    .description('send mutated BGP messages to a speaker, judge each batch against the RFC, shrink findings into replay fixtures')
    .requiredOption('--against <speaker>', 'speaker under test: reference, frr, gobgp, bird, docker:IMAGE or external:ADDRESS')
    .requiredOption('--seed <n>', 'PRNG seed: the same seed sends the same messages', wholeNumber('a seed', 0))
    .option('--messages <n>', 'stop after this many messages', wholeNumber('a message count', 1))
    .option('--duration <s>', 'stop after this many seconds', wholeNumber('a duration in seconds', 1))
    .requiredOption('--report <dir>', 'folder for summary.json and one replay fixture per finding')
    .option('--shrink-tries <n>', 're-runs allowed to shrink one finding', wholeNumber('a number of tries', 1), 150)
    .option('--speaker-profile <file>', 'profile of a docker:IMAGE or external:ADDRESS speaker, as for `peerproof run`')
    .option('--speaker-config <file>', 'config template of a docker:IMAGE speaker (overrides the profile\'s)')
    .option('--external-interface <ifname>', 'host interface that reaches an external:ADDRESS device')
    .option('--runs-dir <dir>', 'where the lab run folder goes (default: reports/runs)')
    .action(async (flags: FuzzFlags) => {
      const { checkAgainst, startSut } = await import('../../fuzz/against.ts');
      const problem = checkAgainst(flags.against);
      const fail = (text: string) => {
        process.stderr.write(`peerproof fuzz: ${text}\n`);
        process.exitCode = 2;
      };
      if (problem) return fail(`--against ${problem}`);
      if ((flags.messages === undefined) === (flags.duration === undefined)) return fail('give one of --messages N or --duration S');
      if (flags.against.startsWith('docker:') && !flags.speakerProfile) return fail(`--against ${flags.against} needs --speaker-profile FILE (config path, start command; see conformance/lab/speakers/README.md)`);
      if (flags.against.startsWith('external:') && !flags.externalInterface) return fail(`--against ${flags.against} needs --external-interface IFNAME (the host interface that reaches the device)`);
      const [{ fuzz }, { writeFuzzReport }] = await Promise.all([import('../../fuzz/fuzzer.ts'), import('../../fuzz/report.ts')]);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      let sut;
      try {
        sut = await startSut(flags.against, log, {
          runsRoot: flags.runsDir,
          thirdParty: { profile: flags.speakerProfile, config: flags.speakerConfig, externalInterface: flags.externalInterface },
        });
      } catch (err) {
        return fail((err as Error).message);
      }
      try {
        const result = await fuzz(sut, { seed: flags.seed, messages: flags.messages, durationS: flags.duration, shrinkTries: flags.shrinkTries, log });
        const { lines } = writeFuzzReport(resolve(flags.report), result, sut, flags.against);
        process.stdout.write(lines.join('\n') + '\n');
        process.exitCode = result.findings.length > 0 ? 1 : 0;
      } finally {
        await sut.stop();
      }
    });
}
