// The README's main job exactly as a new user types it, in a fresh clone inside a mode-700
// folder whose path has a space (like a clone under /root): bootstrap, then `npx peerproof run`
// with every default (all seed fixtures, reference speaker, FRR peer, netns, Allure on, report in
// reports/latest). Nothing about it is made easier for the test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot } from '../lab/netns.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'pp home ')); // mode 700, as mktemp -d makes it
const clone = join(home, 'peer proof');

afterAll(() => rmSync(home, { recursive: true, force: true }));

function readmeCommand(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /Main job:\s*```sh\n([^\n]+)\n```/.exec(readme);
  if (!block) throw new Error('README.md has no "Main job:" sh block');
  return block[1]!.trim();
}

describe.skipIf(!isRoot())('the README main job in a fresh clone under a mode-700 folder', () => {
  it('reports 0 broken and writes summary, JUnit, matrix and the Allure HTML', () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', repo, clone], { encoding: 'utf8' });
    expect(cloned.status, cloned.stderr).toBe(0);
    const command = readmeCommand();
    expect(command).toBe('bash scripts/bootstrap.sh && npx peerproof run');
    const r = spawnSync('bash', ['-c', command], { cwd: clone, encoding: 'utf8', timeout: 600_000, env: { ...process.env, CI: '' } });
    const output = `${r.stdout}\n${r.stderr}`;
    const totals = /^(\d+) cases in [\d.]+ s: (\d+) passed, (\d+) failed, (\d+) broken, (\d+) skipped.*$/m.exec(r.stdout);
    expect(totals, output.slice(-3000)).not.toBeNull();
    const [, all, passed, failed, broken] = totals!.map(Number);
    expect(broken, output.slice(-3000)).toBe(0);
    expect(failed, output.slice(-3000)).toBe(0);
    expect(passed).toBeGreaterThan(all! / 2);
    expect(r.status, output.slice(-3000)).toBe(0);
    const report = join(clone, 'reports', 'latest');
    for (const file of ['summary.json', 'junit.xml', 'matrix.html', 'allure-report/index.html']) expect(existsSync(join(report, file)), file).toBe(true);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8')) as { cases: Array<{ status: string; artifacts: string[] }> };
    expect(summary.cases.length).toBe(all);
    // Every artifact a case lists (logs and configs of daemons that ran as other users included) is in the report.
    const passedCase = summary.cases.find((c) => c.status === 'passed')!;
    expect(passedCase.artifacts.some((a) => a.endsWith('.log'))).toBe(true);
    for (const a of passedCase.artifacts) expect(existsSync(join(report, a)), a).toBe(true);
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const runDir of new Set(passedCase.artifacts.map((a) => a.split('/')[1]))) expect(namespaces).not.toContain(`pp-${runDir}-`);
  }, 900_000);
});
