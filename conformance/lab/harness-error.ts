// The harness's own failures, told apart from the speaker's. A case that throws an error named
// HarnessError is reported `broken` (the harness could not judge), never `failed` (the speaker
// under test or the fabric did something wrong): conformance/cases/collect.ts maps the name.
// It lives here, at the top of the stages, so lab, traffic and checks code that starts helpers
// of ours in nodes can throw it; conformance/cases/harness.ts re-exports it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';

/** The harness (not the speaker) failed: reported `broken`, never `failed`. */
export class HarnessError extends Error {
  override name = 'HarnessError';
  /**
   * Files of the run that show what went wrong (a helper's log), absolute or relative to the run
   * folder; defineCase attaches them to the case's artifacts.
   */
  readonly files: string[];

  constructor(message: string, files: string[] = []) {
    super(message);
    this.files = files;
  }

  /** The attached files as paths relative to `runDir` (artifacts are), existing ones only. */
  artifactsIn(runDir: string): string[] {
    return this.files
      .map((f) => (isAbsolute(f) ? f : `${runDir}/${f}`))
      .filter((f) => existsSync(f))
      .map((f) => relative(runDir, f));
  }
}

/** True for a HarnessError also when it crossed a module copy (vitest may load this file twice). */
export function isHarnessError(err: unknown): err is HarnessError {
  return err instanceof Error && err.name === 'HarnessError';
}

/**
 * A helper of ours run in a node (flow generator, TCP relay, ...) failed to start, exited early
 * or could not be reached: writes what is known of it (argv, exit code, output) to `logFile` when
 * given output, and returns the HarnessError naming that log.
 */
export function helperFailure(
  what: string,
  logFile: string,
  details?: { argv?: string[]; code?: number | string | null; stdout?: string; stderr?: string },
): HarnessError {
  if (details) {
    mkdirSync(dirname(logFile), { recursive: true });
    writeFileSync(
      logFile,
      [
        details.argv ? `argv: ${JSON.stringify(details.argv)}` : '',
        details.code !== undefined ? `exit: ${details.code}` : '',
        details.stdout ? `--- stdout\n${details.stdout.trimEnd()}` : '',
        details.stderr ? `--- stderr\n${details.stderr.trimEnd()}` : '',
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
  }
  const tail = details?.stderr?.trim().split('\n').slice(-3).join(' ') ?? '';
  return new HarnessError(`${what} (helper log: ${logFile})${tail ? `: ${tail}` : ''}`, [logFile]);
}
