import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Lab } from '../../lab/lab.ts';
import type { LabTopology } from '../../lab/model.ts';

// The README's main job until the conformance suite exists: a real FRR <-> GoBGP session in two
// namespaces, captured by tcpdump from before the first SYN to the closing NOTIFICATION, decoded.
// The lab and decoder modules load when the command runs, so other subcommands do not pay for them.

const defaultOut = resolve(fileURLToPath(new URL('../../../reports/demo', import.meta.url)));

export function register(program: Command): void {
  program
    .command('demo')
    .description('Bring up FRR <-> GoBGP in namespaces, capture the session with tcpdump, decode it (needs root)')
    .option('--out <dir>', 'where session.pcap and session.jsonl go', defaultOut)
    .action(async (opts: { out: string }) => {
      const { requireRoot } = await import('../../lab/lab.ts');
      requireRoot();
      await runDemo(opts.out);
    });
}

function demoTopology(emptyNode: typeof import('../../lab/model.ts').emptyNode): LabTopology {
  const frr = emptyNode('frr', 'frr');
  frr.asn = 65001;
  frr.routerId = '10.0.0.1';
  frr.interfaces = { eth0: ['10.0.0.1/30'] };
  frr.neighbors = [{ address: '10.0.0.2', asn: 4200000002 }];
  frr.announce = ['198.51.100.0/24', '198.51.101.0/24'];
  frr.expectRoutes = ['203.0.113.0/24'];

  const gobgp = emptyNode('gobgp', 'gobgp');
  gobgp.asn = 4200000002;
  gobgp.routerId = '10.0.0.2';
  gobgp.interfaces = { eth0: ['10.0.0.2/30'] };
  gobgp.neighbors = [{ address: '10.0.0.1', asn: 65001 }];
  gobgp.announce = ['203.0.113.0/24'];
  gobgp.expectRoutes = ['198.51.100.0/24', '198.51.101.0/24'];

  return { name: 'demo-frr-gobgp', nodes: [frr, gobgp], links: [{ a: { node: 'frr', ifname: 'eth0' }, b: { node: 'gobgp', ifname: 'eth0' } }] };
}

async function runDemo(outDir: string): Promise<void> {
  const [{ startLab }, { emptyNode }, { gobgpApiPort }, { decodeCapture }, { formatJsonl }, { formatTableHeader, formatTableRow }] = await Promise.all([
    import('../../lab/lab.ts'),
    import('../../lab/model.ts'),
    import('../../lab/kinds/gobgp.ts'),
    import('../../capture/decode-capture.ts'),
    import('../../capture/format-jsonl.ts'),
    import('../../capture/format-table.ts'),
  ]);
  const say = (line: string) => process.stderr.write(`demo: ${line}\n`);
  say('starting FRR (AS 65001) and GoBGP (AS 4200000002) in two namespaces, tcpdump on the link');
  let lab: Lab | undefined;
  let pcap: string;
  try {
    lab = await startLab(demoTopology(emptyNode), { captures: [{ node: 'frr', ifname: 'eth0' }], timeoutMs: 60_000 });
    say(`session Established, routes exchanged (run folder ${lab.runDir})`);
    // End the session the way an operator would, so the capture shows a NOTIFICATION too.
    const shutdown = await lab.node('gobgp').exec(['gobgp', '-p', String(gobgpApiPort), 'neighbor', '10.0.0.1', 'disable']);
    if (shutdown.code !== 0) throw new Error(`gobgp neighbor disable failed: ${shutdown.stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 1000));
    const capture = lab.captures.find((c) => c.node === 'frr' && c.ifname === 'eth0');
    if (capture === undefined) throw new Error('the lab did not start the capture on frr:eth0');
    pcap = await capture.stop();
  } finally {
    await lab?.stop();
  }

  mkdirSync(outDir, { recursive: true });
  const pcapOut = join(outDir, 'session.pcap');
  const jsonlOut = join(outDir, 'session.jsonl');
  copyFileSync(pcap, pcapOut);
  const jsonl: string[] = [];
  const table: string[] = [formatTableHeader()];
  const summary = decodeCapture(
    readFileSync(pcapOut),
    (m) => {
      jsonl.push(formatJsonl(m));
      table.push(formatTableRow(m));
    },
    { onWarning: (w) => say(`warning: ${w}`) },
  );
  writeFileSync(jsonlOut, jsonl.length > 0 ? jsonl.join('\n') + '\n' : '');
  process.stdout.write(table.join('\n') + '\n');
  say(`${summary.messages} BGP messages in ${summary.packets} packets; wrote ${pcapOut} and ${jsonlOut}`);
  say(`decode it again with: peerproof decode ${pcapOut} [--format jsonl]`);
}
