import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { backendFactory } from '../../lab/backends/index.ts';
import { requireRoot, startLab, type Lab } from '../../lab/lab.ts';
import { defaultRunsRoot, Ledger, listRuns } from '../../lab/ledger.ts';
import { downAll, downRun } from '../../lab/teardown.ts';

/**
 * `lab down --all`: peerproof's dockerd is stopped (host settings put back) when no live process
 * and no lab left up holds a lease on it and `peerproof docker start` did not keep it; leases of
 * processes that are gone (a run killed with SIGKILL) are released on the way.
 */
async function releaseIdleEngine(): Promise<string[]> {
  const { engineRunning, releaseEngine, sweepLeases } = await import('../../lab/docker-engine.ts');
  const running = engineRunning();
  const before = sweepLeases();
  if (!running && before.stale.length === 0) return [];
  const result = await releaseEngine(undefined, null);
  const stale = [...before.stale, ...(result.stale ?? [])];
  const lines = stale.length ? [`docker engine: released ${stale.length} stale lease(s) of gone processes (${stale.join(', ')})`] : [];
  if (!running) return lines;
  if (result.outcome === 'stopped') {
    lines.push('docker engine: stopped (no live lease left)');
    for (const change of result.restored) lines.push(`docker engine: restored ${change}`);
  } else if (result.outcome === 'kept') lines.push('docker engine: left running (started with `peerproof docker start`; `peerproof docker stop` stops it)');
  else {
    const holders = [...result.users.map((p) => `pid ${p}`), ...(result.runs ?? []).map((r) => `lab ${r}`)];
    lines.push(`docker engine: left running, in use by ${holders.join(', ')}`);
  }
  return lines;
}

// `peerproof lab up|exec|down|ls`: bring a fixture up and leave it running (the ledger in its
// run folder makes a later `down` safe), run commands in its nodes, and remove it.

interface NodeDescription {
  name: string;
  kind: string;
  role?: string;
  asn?: number;
  shell: string;
  addresses: Array<{ ifname: string; address: string }>;
}

async function describe(lab: Lab) {
  const nodes: NodeDescription[] = [];
  for (const spec of lab.topology.nodes) {
    const result = await lab.node(spec.name).exec(['ip', '-4', '-j', 'addr', 'show']);
    const ifaces = JSON.parse(result.stdout || '[]') as Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>;
    nodes.push({
      name: spec.name,
      kind: spec.kind === 'speaker' ? `speaker (stand-in ${spec.standIn})` : spec.kind,
      role: spec.role,
      asn: spec.asn,
      shell: lab.backend.shellPrefix(spec.name).join(' '),
      addresses: ifaces.flatMap((i) =>
        (i.addr_info ?? []).filter((a) => !(i.ifname === 'lo' && a.local === '127.0.0.1')).map((a) => ({ ifname: i.ifname, address: `${a.local}/${a.prefixlen}` })),
      ),
    });
  }
  const sessions = await lab.sessions();
  return { runId: lab.runId, runDir: lab.runDir, fixture: lab.topology.dir ?? lab.topology.name, nodes, sessions, pcaps: lab.captures.map((c) => c.file) };
}

function printText(d: Awaited<ReturnType<typeof describe>>): void {
  const out: string[] = [`run ${d.runId}  (${d.runDir})`, `fixture ${d.fixture}`, '', 'nodes:'];
  for (const n of d.nodes) {
    out.push(`  ${n.name.padEnd(12)} ${n.kind}${n.asn !== undefined ? `  AS ${n.asn}` : ''}${n.role ? `  [${n.role}]` : ''}`);
    for (const a of n.addresses) out.push(`      ${a.ifname.padEnd(14)} ${a.address}`);
  }
  out.push('', 'sessions:');
  for (const s of d.sessions) out.push(`  ${s.node.padEnd(12)} -> ${s.peer.padEnd(15)} AS ${String(s.peerAsn ?? '?').padEnd(10)} ${s.state}`);
  if (d.pcaps.length) out.push('', 'captures (running):', ...d.pcaps.map((p) => `  ${p}`));
  out.push('', `exec:  peerproof lab exec ${d.runId} NODE -- CMD`, `down:  peerproof lab down ${d.runId}`);
  process.stdout.write(out.join('\n') + '\n');
}

export function register(program: Command): void {
  const lab = program.command('lab').description('bring fixtures up on real FRR/GoBGP/BIRD in network namespaces, and take them down');

  lab
    .command('up')
    .argument('<fixture>', 'fixture folder (or topology file)')
    .option('--json', 'print the description as JSON')
    .option('--runs-dir <dir>', 'where run folders go', defaultRunsRoot)
    .option('--backend <name>', 'netns (default) or docker', 'netns')
    .option('--timeout <seconds>', 'readiness timeout', '30')
    .option('--no-wait', 'return once daemons are started, without waiting for sessions')
    .description('build the lab, wait until every session is Established, print it and leave it running')
    .action(async (fixture: string, opts: { json?: boolean; runsDir: string; backend: string; timeout: string; wait: boolean }) => {
      requireRoot();
      const started = await startLab(resolve(fixture), {
        runsRoot: resolve(opts.runsDir),
        backend: opts.backend,
        timeoutMs: Number(opts.timeout) * 1000,
        wait: opts.wait,
      });
      try {
        const description = await describe(started);
        started.detach();
        if (opts.json) process.stdout.write(JSON.stringify(description, null, 2) + '\n');
        else printText(description);
      } catch (err) {
        await started.stop();
        throw err;
      }
    });

  lab
    .command('exec')
    .argument('<run>', 'run id')
    .argument('<node>', 'node name')
    .argument('<command...>', 'command and arguments (after --)')
    .option('--runs-dir <dir>', 'where run folders are', defaultRunsRoot)
    .description('run a command inside a node of a running lab')
    .action(async (runId: string, node: string, command: string[], opts: { runsDir: string }) => {
      requireRoot();
      const ledger = new Ledger(join(resolve(opts.runsDir), runId));
      const summary = ledger.summary();
      if (!summary.runId) throw new Error(`no run "${runId}" in ${resolve(opts.runsDir)} (see: peerproof lab ls)`);
      if (summary.down) throw new Error(`run ${runId} is already down`);
      const result = await backendFactory(summary.backend).create(ledger).exec(node, command, { timeoutMs: 10 * 60_000 });
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.code;
    });

  lab
    .command('down')
    .argument('[run]', 'run id')
    .option('--all', 'remove every run whose owning process is gone: crashed runs and labs left up in the runs folder, crashed runs of any other (a killed `peerproof run --report DIR`)')
    .option('--runs-dir <dir>', 'where run folders are', defaultRunsRoot)
    .description('remove a lab (namespaces, links, processes) from its ledger')
    .action(async (runId: string | undefined, opts: { all?: boolean; runsDir: string }) => {
      requireRoot();
      if (!runId && !opts.all) throw new Error('name a run id, or pass --all');
      const results = opts.all ? await downAll(resolve(opts.runsDir), { indexed: true }) : [await downRun(runId!, resolve(opts.runsDir))];
      for (const r of results) {
        if (r.skipped) process.stdout.write(`${r.runId}: left alone (${r.skipped})\n`);
        else process.stdout.write(`${r.runId}: down${r.removed.length ? ` (removed ${r.removed.join(', ')})` : ' (nothing left)'}\n`);
      }
      if (results.length === 0) process.stdout.write('no runs to take down\n');
      if (opts.all) for (const line of await releaseIdleEngine()) process.stdout.write(`${line}\n`);
    });

  lab
    .command('ls')
    .option('--runs-dir <dir>', 'where run folders are', defaultRunsRoot)
    .description('list runs and whether they are up')
    .action((opts: { runsDir: string }) => {
      for (const r of listRuns(resolve(opts.runsDir))) {
        const state = r.down ? 'down' : r.ownerAlive ? `up (owned by pid ${r.ownerPid})` : 'up (detached or crashed)';
        process.stdout.write(`${r.runId}  ${state.padEnd(28)} ${r.fixture}\n`);
      }
    });
}
