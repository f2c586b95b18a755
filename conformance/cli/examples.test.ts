// The pipelines in examples/ as a user copies them: each file parses, every `peerproof`
// subcommand and flag it uses is in that subcommand's real `--help`, the shard values cover
// 1..N exactly once for the N every `--shard` names (evaluated by a real shell, as CI would), and
// the merge step expects as many summaries as there are shard jobs.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseShard } from './commands/run.ts';

const exec = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const cli = join(repo, 'bin', 'peerproof.js');
const examples = join(repo, 'examples');

type Yaml = Record<string, unknown>;

/** Every document of a YAML file; a syntax error fails the test naming the file and line. */
function load(file: string): Yaml[] {
  const docs = parseAllDocuments(readFileSync(join(examples, file), 'utf8'), { uniqueKeys: true });
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  return docs.map((d) => d.toJS() as Yaml);
}

/** The shell scripts a file runs: GitHub `run:`, GitLab `script:`, Kubernetes command + args. */
function scripts(docs: Yaml[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown, key = ''): void => {
    if (typeof value === 'string') {
      if (key === 'run' || key === 'script' || key === 'args') out.push(value);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
      return;
    }
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  for (const doc of docs) walk(doc);
  return out;
}

interface Invocation {
  subcommand: string;
  flags: string[];
  /** The arguments as written (shell words, unexpanded). */
  args: string;
}

/** Each `peerproof SUB ...` up to the end of its shell command (`||`, `|`, `;`, `>`, newline). */
function invocations(script: string): Invocation[] {
  const found: Invocation[] = [];
  for (const line of script.split('\n')) {
    for (const m of line.matchAll(/(?:^|\s)peerproof\s+([a-z][a-z-]*)([^\n]*)/g)) {
      const args = m[2]!.split(/\|\||\||;|&&|>/)[0]!.trim();
      found.push({ subcommand: m[1]!, flags: [...args.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((f) => f[1]!), args });
    }
  }
  return found;
}

const helpCache = new Map<string, Promise<string>>();
function help(subcommand: string): Promise<string> {
  if (!helpCache.has(subcommand)) helpCache.set(subcommand, exec('node', [cli, subcommand, '--help']).then((r) => r.stdout));
  return helpCache.get(subcommand)!;
}

async function checkCommands(file: string, docs: Yaml[]): Promise<Invocation[]> {
  const all = scripts(docs).flatMap(invocations);
  expect(all.length, `${file}: no peerproof command found`).toBeGreaterThan(0);
  for (const inv of all) {
    const text = await help(inv.subcommand);
    expect(text, `${file}: peerproof ${inv.subcommand} is not a command`).toContain(`Usage: peerproof ${inv.subcommand}`);
    for (const flag of inv.flags) expect(text, `${file}: peerproof ${inv.subcommand} has no ${flag}`).toMatch(new RegExp(`(^|[\\s,])${flag}[\\s<=,]`, 'm'));
  }
  return all;
}

/** The value of `--shard` in an invocation, its words expanded by a real shell with these variables set. */
async function shardValue(inv: Invocation, env: Record<string, string>): Promise<{ index: number; count: number }> {
  const { stdout } = await exec('sh', ['-c', `printf '%s\\n' ${inv.args}`], { env: { PATH: process.env.PATH, ...env } });
  const words = stdout.split('\n');
  const at = words.indexOf('--shard');
  expect(at, `peerproof ${inv.subcommand} ${inv.args}: no --shard`).toBeGreaterThanOrEqual(0);
  return parseShard(words[at + 1]!);
}

/** The shard values cover 1..N exactly once, N the same in every one. */
function expectExactCover(values: Array<{ index: number; count: number }>): number {
  const count = values[0]!.count;
  expect(values.every((v) => v.count === count)).toBe(true);
  expect(values.map((v) => v.index).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  return count;
}

describe('examples/', () => {
  it('github-actions.yml: a speakers x shards matrix, merge with report and a Markdown gate into the job summary', async () => {
    const [workflow] = load('github-actions.yml');
    const jobs = workflow!.jobs as Record<string, Yaml>;
    const runs = await checkCommands('github-actions.yml', [workflow!]);
    expect(runs.map((r) => r.subcommand)).toEqual(['run', 'report', 'gate']);

    const matrix = (jobs.conformance!.strategy as Yaml).matrix as { speaker: string[]; shard: number[] };
    const [run] = scripts([jobs.conformance!]).flatMap(invocations);
    // GitHub substitutes ${{ matrix.x }} before the shell sees the script.
    const substituted = (value: number): Invocation => ({ ...run!, args: run!.args.replaceAll('${{ matrix.shard }}', String(value)).replaceAll('${{ matrix.speaker }}', 'reference') });
    const shards = await Promise.all(matrix.shard.map((s) => shardValue(substituted(s), {})));
    const count = expectExactCover(shards);
    expect(matrix.speaker.length).toBeGreaterThan(1);
    expect(Number((jobs.merge!.env as Yaml).SHARD_JOBS)).toBe(count * matrix.speaker.length);

    const merge = scripts([jobs.merge!]).join('\n');
    expect(merge).toContain('peerproof gate --format markdown');
    expect(merge).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(jobs.merge!.needs).toBe('conformance');
    const uploads = (jobs.merge!.steps as Yaml[]).filter((s) => String(s.uses).startsWith('actions/upload-artifact'));
    expect(uploads.map((s) => (s.with as Yaml).path)).toEqual(['reports/all']);
  });

  it('gitlab-ci.yml: the same matrix on a privileged runner, merge, JUnit report and the gate', async () => {
    const [pipeline] = load('gitlab-ci.yml');
    const runs = await checkCommands('gitlab-ci.yml', [pipeline!]);
    expect(runs.map((r) => r.subcommand)).toEqual(['run', 'report', 'gate']);
    const job = pipeline!.conformance as Yaml;
    const [matrix] = (job.parallel as { matrix: Array<{ SPEAKER: string[]; SHARD: string[] }> }).matrix;
    const shards = await Promise.all(matrix!.SHARD.map((s) => shardValue(runs[0]!, { SHARD: s, SPEAKER: 'reference' })));
    const count = expectExactCover(shards);
    const report = pipeline!.report as Yaml;
    expect(Number((report.variables as Yaml).SHARD_JOBS)).toBe(count * matrix!.SPEAKER.length);
    expect(((report.artifacts as Yaml).reports as Yaml).junit).toBe('reports/all/junit.xml');
  });

  it('kubernetes/: an Indexed Job whose completion indexes are the shards, privileged, results on a volume, and its merge job', async () => {
    const docs = load('kubernetes/shards-job.yaml');
    const job = docs.find((d) => d.kind === 'Job')!;
    const spec = job.spec as Yaml;
    expect(spec.completionMode).toBe('Indexed');
    const pod = (spec.template as Yaml).spec as Yaml;
    const [container] = pod.containers as Yaml[];
    expect((container!.securityContext as Yaml).privileged).toBe(true);
    expect((container!.volumeMounts as Yaml[]).map((m) => m.mountPath)).toEqual(['/results']);
    const claim = ((pod.volumes as Yaml[])[0]!.persistentVolumeClaim as Yaml).claimName;
    expect(docs.some((d) => d.kind === 'PersistentVolumeClaim' && (d.metadata as Yaml).name === claim)).toBe(true);

    const [run] = await checkCommands('kubernetes/shards-job.yaml', docs);
    expect(run!.subcommand).toBe('run');
    const completions = spec.completions as number;
    const shards = await Promise.all(Array.from({ length: completions }, (_, i) => shardValue(run!, { JOB_COMPLETION_INDEX: String(i) })));
    expect(expectExactCover(shards)).toBe(completions);

    const mergeDocs = load('kubernetes/merge-job.yaml');
    const merged = await checkCommands('kubernetes/merge-job.yaml', mergeDocs);
    expect(merged.map((r) => r.subcommand)).toEqual(['report', 'gate']);
    const [mergeContainer] = (((mergeDocs[0]!.spec as Yaml).template as Yaml).spec as Yaml).containers as Yaml[];
    expect((mergeContainer!.env as Yaml[]).find((e) => e.name === 'SHARDS')?.value).toBe(String(completions));
  });
});
