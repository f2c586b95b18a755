// `peerproof run`: the conformance suite over fixtures x speakers under test x fabric peers,
// writing summary.json, JUnit, the matrix and Allure results (contract run-summary.md).
import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DAEMON_KINDS, isDaemonKind, type DaemonKindName } from '../../lab/model.ts';

interface RunFlags {
  fixture?: string[];
  speaker?: string[];
  peer?: string[];
  case?: string[];
  suite: 'scenarios' | 'clauses' | 'all';
  clause?: string[];
  report: string;
  baseline?: string;
  shard?: string;
  backend: string;
  allure: boolean;
  labTimeout: string;
  speakerProfile?: string;
  speakerConfig?: string;
  externalInterface?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').filter(Boolean)];

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard "${text}": expected i/n with 1 <= i <= n, e.g. 2/8`);
  return { index, count };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the conformance cases for each fixture x speaker under test x fabric peer and write the report')
    .option('--fixture <name...>', 'fixture name under fixtures/ or a fixture folder (default: every fixture with expect.yaml)')
    .addOption(new Option('--speaker <spec>', 'speaker under test: a profile (reference, frr, gobgp, bird, openbgpd), docker:IMAGE or external:ADDRESS; repeatable (default: reference)').argParser(collect))
    .addOption(new Option('--peer <kind>', `fabric peer: ${DAEMON_KINDS.join(', ')}; repeatable (default: frr)`).argParser(collect))
    .addOption(new Option('--case <id>', 'only this case id; repeatable').argParser(collect))
    .addOption(
      new Option('--suite <suite>', 'scenarios: the fixture cases; clauses: the RFC clause tests against one clause lab per speaker; all: both')
        .choices(['scenarios', 'clauses', 'all'])
        .default('scenarios'),
    )
    .addOption(new Option('--clause <pattern>', 'clause suite: only clause ids matching this pattern (* wildcard, e.g. bgp.open.* or one failing id); repeatable').argParser(collect))
    .option('--report <dir>', 'report folder', 'reports/latest')
    .option('--baseline <file>', 'summary.json of an earlier run: exit 1 exactly on regressions')
    .option('--shard <i/n>', "run this shard of the case files (vitest's sharding)")
    .option('--backend <name>', 'lab backend: netns or docker', 'netns')
    .option('--no-allure', 'skip the Allure results and HTML')
    .option('--lab-timeout <seconds>', 'how long a lab may take to be ready', '30')
    .option('--speaker-profile <file>', 'profile of a docker:IMAGE or external:ADDRESS speaker (capabilities; for docker: config path and start command)')
    .option('--speaker-config <file>', 'config template of a docker:IMAGE speaker, rendered per speaker node (overrides the profile\'s template)')
    .option('--external-interface <ifname>', 'host interface that reaches an external:ADDRESS device (moved into the lab for the run; must carry no host address)')
    .action(async (flags: RunFlags) => {
      const { requireRoot } = await import('../../lab/lab.ts');
      const { DEFAULT_FIXTURES_DIR, declaredCases, listFixtures, parseSpeakerSpec, runSuite } = await import('../../cases/runner.ts');
      const { catalogEntry } = await import('../../cases/catalog.ts');
      const { existsSync } = await import('node:fs');
      const peers = [...new Set(flags.peer ?? ['frr'])].map((p) => {
        if (!isDaemonKind(p)) throw new Error(`--peer "${p}": expected one of ${DAEMON_KINDS.join(', ')}`);
        return p as DaemonKindName;
      });
      const speakers = [...new Set(flags.speaker ?? ['reference'])].map(parseSpeakerSpec);
      for (const file of [flags.speakerProfile, flags.speakerConfig]) if (file && !existsSync(file)) throw new Error(`${file}: no such file`);
      if (speakers.some((s) => s.kind === 'docker') && !flags.speakerProfile) throw new Error('--speaker docker:IMAGE needs --speaker-profile FILE (see conformance/lab/speakers/README.md)');
      if (speakers.some((s) => s.kind === 'external') && !flags.externalInterface) throw new Error('--speaker external:ADDRESS needs --external-interface IFNAME');
      for (const id of flags.case ?? []) catalogEntry(id);
      if (flags.clause && flags.suite === 'scenarios') throw new Error('--clause selects clause tests: use it with --suite clauses or --suite all');
      if (flags.clause) (await import('../../clauses/suite.ts')).selectClauses(flags.clause);
      const fixtures = flags.fixture
        ? flags.fixture.map((f) => {
            const dir = existsSync(f) ? resolve(f) : resolve(DEFAULT_FIXTURES_DIR, f);
            if (!existsSync(`${dir}/expect.yaml`)) throw new Error(`--fixture "${f}": no expect.yaml in ${dir}`);
            if (declaredCases(dir).length === 0) {
              if (existsSync(`${dir}/recording.json`))
                throw new Error(`--fixture "${f}" is a replay fixture (a recorded session, no cases): run \`peerproof fixture run ${relative(process.cwd(), dir) || dir}\` (--against ${DAEMON_KINDS.join('|')})`);
              throw new Error(`--fixture "${f}": its expect.yaml declares no cases (add \`cases: [{ id: session.establish }, ...]\`; \`peerproof coverage\` lists the ids)`);
            }
            return dir;
          })
        : flags.suite === 'clauses'
          ? []
          : listFixtures();
      const labTimeoutS = Number(flags.labTimeout);
      if (!(labTimeoutS > 0)) throw new Error(`--lab-timeout "${flags.labTimeout}": expected seconds > 0`);
      requireRoot();
      const outcome = await runSuite({
        fixtures,
        speakers,
        peers,
        reportDir: flags.report,
        baseline: flags.baseline,
        shard: flags.shard ? parseShard(flags.shard) : undefined,
        cases: flags.case,
        suite: flags.suite,
        clauses: flags.clause,
        backend: flags.backend,
        allure: flags.allure,
        labTimeoutMs: labTimeoutS * 1000,
        thirdParty: { profile: flags.speakerProfile, config: flags.speakerConfig, externalInterface: flags.externalInterface },
      });
      const t = outcome.summary.totals;
      const known = outcome.summary.cases.filter((c) => c.status === 'failed' && c.deviation).length;
      process.stdout.write(
        (outcome.clauseLines.length > 0 ? `\n${outcome.clauseLines.join('\n')}\n` : '') +
        `\n${outcome.summary.cases.length} cases in ${outcome.summary.durationS.toFixed(1)} s: ${t.passed} passed, ${t.failed - known} failed${known > 0 ? ` (+${known} known deviations)` : ''}, ${t.broken} broken, ${t.skipped} skipped` +
          ` (${outcome.summary.cases.filter((c) => c.flaky).length} flaky)\n` +
          `summary: ${outcome.report.summaryFile}\nmatrix:  ${outcome.report.matrixFile}\njunit:   ${outcome.report.junitFile}\n` +
          (outcome.report.allure.built ? `allure:  ${outcome.report.allure.index}\n` : '') +
          (outcome.gate ? `\n${outcome.gate}\n` : ''),
      );
      process.exitCode = outcome.exitCode;
    });
}
