// `peerproof chaos FIXTURE --seed N --duration S`: seeded faults on a running lab, properties
// judged after each, a broken property shrunk to the fewest faults (conformance/chaos).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DAEMON_KINDS, isDaemonKind, type DaemonKindName } from '../../lab/model.ts';

interface ChaosFlags {
  seed?: string;
  duration?: string;
  schedule?: string;
  report?: string;
  speaker: string;
  peer: string;
  bound: string;
  labTimeout: string;
  shrink: boolean;
  shrinkRuns: string;
}

const wholeNumber = (text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`${flag} "${text}": expected a whole number ${min}..${max}`);
  return n;
};

export function register(program: Command): void {
  program
    .command('chaos')
    .argument('<fixture>', 'fixture folder (or its name under fixtures/)')
    .option('--seed <n>', 'seed of the fault schedule (same seed, same faults)')
    .option('--duration <seconds>', 'seconds of faults to plan (each fault: its hold plus ~12 s to settle)')
    .option('--schedule <file>', 'replay this schedule file exactly (schedule.json or minimal-*.schedule.json of a report) instead of --seed/--duration')
    .option('--report <dir>', 'report folder (default reports/chaos-<fixture>-<seed>, or reports/chaos-<fixture>-<schedule file name>)')
    .option('--speaker <profile>', 'speaker under test: a profile (reference, frr, gobgp, bird, openbgpd)', 'reference')
    .option('--peer <kind>', `fabric peer: ${DAEMON_KINDS.join(', ')}`, 'frr')
    .option('--bound <seconds>', 'every expected session and route must be back this long after a fault is undone', '30')
    .option('--lab-timeout <seconds>', 'how long the lab may take to converge before the first fault', '60')
    .option('--no-shrink', 'do not shrink a broken property to a minimal schedule')
    .option('--shrink-runs <n>', 'most lab re-runs the shrinker may spend', '16')
    .description('seeded faults (link down, daemon kill/stop, speaker restart, packet loss) on a lab; properties after each; violations shrunk to a replayable schedule')
    .action(async (fixtureArg: string, flags: ChaosFlags) => {
      const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../../fixtures', import.meta.url));
      const fixtureDir = existsSync(fixtureArg) ? resolve(fixtureArg) : resolve(DEFAULT_FIXTURES_DIR, fixtureArg);
      if (!existsSync(fixtureDir)) throw new Error(`fixture "${fixtureArg}": no such folder (nor under ${DEFAULT_FIXTURES_DIR})`);
      if (!isDaemonKind(flags.peer)) throw new Error(`--peer "${flags.peer}": expected one of ${DAEMON_KINDS.join(', ')}`);
      if (flags.schedule && (flags.seed !== undefined || flags.duration !== undefined)) throw new Error('--schedule replays a schedule file: give it without --seed and --duration');
      if (!flags.schedule && (flags.seed === undefined || flags.duration === undefined)) throw new Error('give --seed N and --duration S (or --schedule FILE)');
      const routesBoundS = wholeNumber(flags.bound, '--bound', 1, 3600);
      const labTimeoutS = wholeNumber(flags.labTimeout, '--lab-timeout', 1, 3600);
      const maxShrinkRuns = wholeNumber(flags.shrinkRuns, '--shrink-runs', 1, 1000);
      const { generateSchedule, parseSchedule } = await import('../../chaos/schedule.ts');
      let plan: Parameters<typeof import('../../chaos/chaos.ts').runChaos>[0]['plan'];
      let tag: string;
      if (flags.schedule) {
        if (!existsSync(flags.schedule)) throw new Error(`--schedule ${flags.schedule}: no such file`);
        const schedule = parseSchedule(readFileSync(flags.schedule, 'utf8'), flags.schedule);
        if (schedule.faults.length === 0) throw new Error(`--schedule ${flags.schedule}: no faults in it`);
        plan = () => schedule;
        tag = basename(flags.schedule).replace(/\.json$/, '').replace(/\.schedule$/, '');
      } else {
        const seed = wholeNumber(flags.seed!, '--seed', 0, 0xffffffff);
        const durationS = wholeNumber(flags.duration!, '--duration', 1, 7 * 24 * 3600);
        plan = (targets, fixture) => generateSchedule(fixture, targets, { seed, durationS });
        tag = String(seed);
      }
      const { requireRoot } = await import('../../lab/lab.ts');
      requireRoot();
      const { runChaos } = await import('../../chaos/chaos.ts');
      const summary = await runChaos({
        fixtureDir,
        speaker: flags.speaker,
        peer: flags.peer as DaemonKindName,
        reportDir: resolve(flags.report ?? join('reports', `chaos-${basename(fixtureDir)}-${tag}`)),
        plan,
        routesBoundS,
        labTimeoutS,
        shrink: flags.shrink,
        maxShrinkRuns,
      });
      if (summary.violations.length > 0) process.exitCode = 1;
    });
}
