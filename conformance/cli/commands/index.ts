import type { Command } from 'commander';

type CommandModule = { register(program: Command): void };

// Each subcommand lives in its own module beside this one. Modules are imported only when their
// command runs: some pull in heavy dependencies (dockerode, vitest, the k8s translators), and a
// `peerproof decode` should not pay seconds of start-up for them. The top-level help and
// --version list the commands by these one-line summaries without importing any module.
const modules: Array<{ commands: Record<string, string>; load: () => Promise<CommandModule> }> = [
  { commands: { run: 'run the conformance cases and write the report (summary.json, JUnit, matrix)' }, load: () => import('./run.ts') },
  { commands: { chaos: 'seeded faults on a lab (links, daemons, speaker restarts, loss); properties after each; violations shrunk' }, load: () => import('./chaos.ts') },
  { commands: { gate: 'compare two run summaries; exit 1 on regressions' }, load: () => import('./gate.ts') },
  { commands: { report: 'build the interop matrix and Allure HTML of a run; merge shard summaries' }, load: () => import('./report.ts') },
  { commands: { coverage: 'write the RFC coverage table of the case catalogue' }, load: () => import('./coverage.ts') },
  { commands: { compliance: 'publish clause-suite runs as one table: a row per clause test, a column per speaker' }, load: () => import('./compliance.ts') },
  { commands: { decode: 'decode the BGP messages of a pcap/pcapng capture' }, load: () => import('./decode.ts') },
  { commands: { demo: 'FRR <-> GoBGP in namespaces, captured and decoded (root)' }, load: () => import('./demo.ts') },
  { commands: { lab: 'bring fixtures up on real FRR/GoBGP/BIRD in namespaces, and take them down' }, load: () => import('./lab.ts') },
  { commands: { speaker: 'run the reference BGP speaker; `speaker status` prints its sessions' }, load: () => import('./speaker.ts') },
  { commands: { preflight: 'open a BGP session to a real peer, report what was negotiated, prove it accepts a test prefix' }, load: () => import('./preflight.ts') },
  { commands: { 'l2-announce': 'answer ARP / NDP for VIPs while this node holds their lease' }, load: () => import('./l2-announce.ts') },
  { commands: { docker: "the lab's private Docker engine, its images and the peerproof image" }, load: () => import('./docker.ts') },
  { commands: { cluster: "translate a cluster/ folder into peerproof's model and allocate addresses" }, load: () => import('./cluster.ts') },
  { commands: { agent: 'run the reference agent for one node (inside its namespace)' }, load: () => import('./agent.ts') },
  { commands: { fuzz: 'send mutated BGP messages to a speaker, judge them against the RFC, shrink findings into replay fixtures' }, load: () => import('./fuzz.ts') },
  {
    commands: { fixture: 'make a replay fixture from a capture, run one against a live daemon', replay: 'replay one side of a captured BGP conversation against a live peer (root)' },
    load: () => import('./fixture.ts'),
  },
];

/**
 * Registers the subcommand named in argv (also in `help NAME`); with none named, lists every
 * command by its summary so `--help` and `--version` load nothing else.
 */
export async function registerCommands(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  const words = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const requested = words[0] === 'help' ? words[1] : words[0];
  const matching = modules.filter((m) => requested !== undefined && requested in m.commands);
  if (matching.length > 0) {
    for (const m of matching) (await m.load()).register(program);
    return;
  }
  for (const m of modules) for (const [name, summary] of Object.entries(m.commands)) program.command(name).summary(summary);
}
