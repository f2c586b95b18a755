import type { Command } from 'commander';

type CommandModule = { register(program: Command): void };

// Each subcommand lives in its own module beside this one. Modules are imported only when their
// command runs: some pull in heavy dependencies (dockerode, vitest, the k8s translators), and a
// `peerproof decode` should not pay seconds of start-up for them.
const modules: Array<{ names: string[]; load: () => Promise<CommandModule> }> = [
  { names: ['run'], load: () => import('./run.ts') },
  { names: ['gate'], load: () => import('./gate.ts') },
  { names: ['report'], load: () => import('./report.ts') },
  { names: ['coverage'], load: () => import('./coverage.ts') },
  { names: ['decode'], load: () => import('./decode.ts') },
  { names: ['demo'], load: () => import('./demo.ts') },
  { names: ['lab'], load: () => import('./lab.ts') },
  { names: ['speaker'], load: () => import('./speaker.ts') },
  { names: ['l2-announce'], load: () => import('./l2-announce.ts') },
  { names: ['docker'], load: () => import('./docker.ts') },
  { names: ['cluster'], load: () => import('./cluster.ts') },
  { names: ['agent'], load: () => import('./agent.ts') },
  { names: ['fixture', 'replay'], load: () => import('./fixture.ts') },
];

/** Registers the subcommand named in argv, or every subcommand when none is named (help). */
export async function registerCommands(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  const requested = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const matching = modules.filter((m) => requested !== undefined && m.names.includes(requested));
  for (const m of matching.length > 0 ? matching : modules) (await m.load()).register(program);
}
