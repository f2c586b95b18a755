// Applies rendered datapath steps into a network namespace and removes exactly what they
// added. The applied record is plain JSON (the caller may persist it across restarts) and is
// all that removal needs: routes, rules and addresses by their full specification, nftables
// tables by name, sysctls back to the values found before the first apply.
import { spawnSync } from 'node:child_process';

export type Step =
  | { kind: 'sysctl'; key: string; value: string }
  | { kind: 'command'; description: string; apply: string[]; remove: string[]; present?: { show: string[]; contains: string } }
  /** An nftables table of our own, replaced as a whole in one transaction. */
  | { kind: 'nft-table'; family: 'ip' | 'ip6' | 'inet'; name: string; body: string };

export interface AppliedDsr {
  namespace: string | null;
  steps: Step[];
  /** Values the sysctls had before the first apply. */
  originalSysctls: Record<string, string>;
}

export class DatapathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatapathError';
  }
}

export type CommandRunner = (argv: string[], input?: string) => { status: number; stdout: string; stderr: string };

export const runCommand: CommandRunner = (argv, input) => {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input });
  if (result.error) throw new DatapathError(`${argv.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
};

/** Runs the programs' commands inside a network namespace, or in the current one when null. */
export class DatapathProgrammer {
  constructor(
    readonly namespace: string | null,
    private readonly run: CommandRunner = runCommand,
  ) {}

  /**
   * Applies `steps`. Applying again (with the record of the previous apply) changes nothing that
   * is already in place and keeps the sysctl values found before the first apply.
   */
  apply(steps: Step[], previous?: AppliedDsr): AppliedDsr {
    const originalSysctls: Record<string, string> = { ...previous?.originalSysctls };
    const applied: AppliedDsr = { namespace: this.namespace, steps: [], originalSysctls };
    try {
      for (const step of steps) {
        if (step.kind === 'sysctl') {
          if (!(step.key in originalSysctls)) originalSysctls[step.key] = this.readSysctl(step.key);
          this.writeSysctl(step.key, step.value);
        } else if (step.kind === 'nft-table') {
          // Declaring the table first makes the delete valid whether or not it exists: one atomic replace.
          const table = `${step.family} ${step.name}`;
          this.checked(['nft', '-f', '-'], `add table ${table}\ndelete table ${table}\ntable ${table} {\n${step.body}\n}\n`);
        } else if (!step.present || !this.checked(step.present.show).includes(step.present.contains)) {
          this.checked(step.apply);
        }
        applied.steps.push(step);
      }
    } catch (err) {
      this.remove(applied); // leave nothing half-made behind
      throw err;
    }
    return applied;
  }

  /** Removes what `applied` added, newest first; what is already gone is fine. */
  remove(applied: AppliedDsr): void {
    const failures: string[] = [];
    for (const step of [...applied.steps].reverse()) {
      if (step.kind === 'sysctl') {
        const original = applied.originalSysctls[step.key];
        if (original === undefined) continue;
        try {
          this.writeSysctl(step.key, original);
        } catch (err) {
          if (!/cannot stat|No such file/i.test((err as Error).message)) failures.push(`${step.key}: ${(err as Error).message}`);
        }
        continue;
      }
      const argv = step.kind === 'nft-table' ? ['nft', 'delete', 'table', step.family, step.name] : step.remove;
      const result = this.run(this.inNamespace(argv));
      if (result.status !== 0 && !/No such|Cannot find|not exist|Cannot assign/i.test(result.stderr)) {
        failures.push(`${step.kind === 'nft-table' ? `nftables table ${step.name}` : step.description}: ${result.stderr.trim()}`);
      }
    }
    if (failures.length > 0) throw new DatapathError(`could not remove: ${failures.join('; ')}`);
  }

  private inNamespace(argv: string[]): string[] {
    return this.namespace === null ? argv : ['ip', 'netns', 'exec', this.namespace, ...argv];
  }

  private checked(argv: string[], input?: string): string {
    const result = this.run(this.inNamespace(argv), input);
    if (result.status !== 0) {
      throw new DatapathError(`${argv.join(' ')}${this.namespace ? ` (in ${this.namespace})` : ''} failed: ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  private readSysctl(key: string): string {
    return this.checked(['sysctl', '-n', key]).trim();
  }

  private writeSysctl(key: string, value: string): void {
    this.checked(['sysctl', '-q', '-w', `${key}=${value}`]);
  }
}
