// The Allure HTML report of a run, built from the allure-results that allure-vitest writes,
// with allure-commandline (a Java program shipped in its npm package). `--single-file`
// gives one index.html that opens from disk; the multi-file report needs an HTTP server.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const ALLURE_RESULTS_DIR = 'allure-results';
export const ALLURE_REPORT_DIR = 'allure-report';

export type AllureOutcome = { built: true; index: string } | { built: false; note: string };

/** The report dirs' allure-results folders that hold at least one file. */
export function findAllureResults(reportDirs: readonly string[]): string[] {
  return reportDirs
    .map((d) => join(d, ALLURE_RESULTS_DIR))
    .filter((d) => existsSync(d) && readdirSync(d).length > 0);
}

function allureLauncher(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('allure-commandline/package.json');
    const launcher = join(dirname(pkg), 'dist', 'bin', 'allure');
    return existsSync(launcher) ? launcher : null;
  } catch {
    return null;
  }
}

async function javaWorks(): Promise<boolean> {
  try {
    await execFileAsync('java', ['-version'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Java .properties escaping for the keys and values of Allure's environment panel. */
function property(key: string, value: string): string {
  const esc = (t: string) => t.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/([=:#!])/g, '\\$1');
  return `${esc(key).replace(/ /g, '\\ ')}=${esc(value)}`;
}

/**
 * Builds `outDir/allure-report/index.html`. `environment` (host versions) goes to Allure's
 * Environment panel through an extra results dir, so the run's own results stay untouched.
 */
export async function buildAllureReport(
  resultsDirs: readonly string[],
  outDir: string,
  environment: Record<string, string> = {},
): Promise<AllureOutcome> {
  if (resultsDirs.length === 0) return { built: false, note: `no ${ALLURE_RESULTS_DIR} in the report dir(s): Allure report skipped` };
  const launcher = allureLauncher();
  if (!launcher) return { built: false, note: 'allure-commandline is not installed (npm install -D allure-commandline): Allure report skipped' };
  if (!(await javaWorks())) return { built: false, note: 'no working `java` on PATH (Allure needs Java 8+): Allure report skipped' };
  const target = join(outDir, ALLURE_REPORT_DIR);
  const envDir = await mkdtemp(join(tmpdir(), 'pp-allure-env-'));
  await writeFile(join(envDir, 'environment.properties'), Object.entries(environment).map(([k, v]) => `${property(k, v)}\n`).join(''));
  try {
    await execFileAsync(launcher, ['generate', '--single-file', '--clean', '-o', target, ...resultsDirs, envDir], {
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
      // Allure otherwise reports to Google Analytics while generating and embeds gtag.js in the
      // page; the HTML side only honours the value "true".
      env: { ...process.env, ALLURE_NO_ANALYTICS: 'true' },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const said = (e.stderr || e.message).trim().split('\n').slice(-3).join(' | ');
    return { built: false, note: `allure generate failed: ${said}` };
  } finally {
    await rm(envDir, { recursive: true, force: true });
  }
  const index = join(target, 'index.html');
  return existsSync(index) ? { built: true, index } : { built: false, note: `allure generate wrote no ${index}` };
}
