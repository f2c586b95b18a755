// A vitest reporter that turns each finished case into a summary.json CaseResult (status,
// reason, flaky, measurements, artifacts) and prints one progress line per case.
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import type { CaseResult, CaseStatus } from '../report/summary.ts';
import type { CaseMeta } from './harness.ts';

/**
 * Error names meaning the harness (lab, tools), not the speaker, failed. A LabNotReadyError from
 * a case's own wait (a route that never came) is the speaker's failure, not the harness's.
 */
const HARNESS_ERRORS = new Set(['HarnessError']);

export interface CaseOutcome {
  id: string;
  status: CaseStatus;
  reason: string;
  flaky: boolean;
  durationS: number;
  measurements: CaseResult['measurements'];
  /** Relative to the lab's run folder. */
  artifacts: string[];
  /** Seconds the case waited on the wire or router state. */
  waitS: number;
  /** Seconds the case spent decoding captures. */
  decodeS: number;
}

const oneLine = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 400);

export function caseIdOfFile(file: string): string {
  return (file.split('/').pop() ?? file).replace(/\.case\.ts$/, '').replace('-', '.');
}

/** A finished test's status: a failure by the harness's own error (HarnessError) is `broken`, not `failed`. */
export function caseStatus(state: 'passed' | 'failed' | 'skipped' | 'pending', error: { name?: string } | undefined): CaseStatus {
  if (state === 'passed') return 'passed';
  if (state === 'failed') return HARNESS_ERRORS.has(error?.name ?? '') ? 'broken' : 'failed';
  return 'skipped';
}

export class CaseCollector implements Reporter {
  private outcomes: CaseOutcome[] = [];
  private onOutcome: (o: CaseOutcome) => void = () => undefined;

  /** One vitest serves every lab of a run: each lab's cases are collected apart. */
  begin(onOutcome: (o: CaseOutcome) => void): void {
    this.outcomes = [];
    this.onOutcome = onOutcome;
  }

  /** The outcomes since begin(). */
  collected(): CaseOutcome[] {
    return this.outcomes;
  }

  onTestCaseResult(test: TestCase): void {
    const result = test.result();
    const diagnostic = test.diagnostic();
    const meta = test.meta() as unknown as Partial<CaseMeta>;
    const error = result.state === 'failed' ? result.errors?.[0] : undefined;
    const status = caseStatus(result.state, error);
    const reason =
      result.state === 'failed'
        ? oneLine(error?.message ?? 'failed without an error message')
        : result.state === 'skipped'
          ? oneLine(result.note ?? 'skipped')
          : diagnostic?.flaky
            ? oneLine(`passed on the automatic retry; first attempt: ${result.errors?.[0]?.message ?? 'failed'}`)
            : '';
    this.record({
      id: meta.caseId ?? caseIdOfFile(test.module.moduleId),
      status,
      reason,
      flaky: status === 'passed' && (diagnostic?.flaky ?? false),
      durationS: Math.round(diagnostic?.duration ?? 0) / 1000,
      measurements: meta.measurements ?? {},
      artifacts: meta.artifacts ?? [],
      waitS: (meta.waitMs ?? 0) / 1000,
      decodeS: (meta.decodeMs ?? 0) / 1000,
    });
  }

  /** A case file that could not even load: its case is broken. */
  onTestModuleEnd(module: TestModule): void {
    const errors = module.errors();
    if (errors.length === 0 || [...module.children.allTests()].length > 0) return;
    this.record({
      id: caseIdOfFile(module.moduleId),
      status: 'broken',
      reason: oneLine(`case file failed to load: ${errors[0]!.message}`),
      flaky: false,
      durationS: 0,
      measurements: {},
      artifacts: [],
      waitS: 0,
      decodeS: 0,
    });
  }

  private record(o: CaseOutcome): void {
    this.outcomes.push(o);
    this.onOutcome(o);
  }
}
