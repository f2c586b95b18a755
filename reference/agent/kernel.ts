// The kernel objects a node's desired state needs — blackhole routes for Calico blocks, service
// VIPs on lo hidden from ARP — kept in step with it through the datapath programmer, which
// removes exactly what was added (sysctls restored to what they were before the agent).
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { DatapathProgrammer, type AppliedDsr, type Step } from '../datapath/programmer.ts';
import type { DesiredState } from './desired.ts';

export function kernelSteps(desired: Pick<DesiredState, 'blackholes' | 'localVips'>): Step[] {
  const steps: Step[] = [];
  if (desired.localVips.some((vip) => !vip.includes(':'))) {
    // The VIP on lo must not make the kernel answer ARP for it on the node's links: that is the
    // L2 announcer's job on one node only.
    steps.push({ kind: 'sysctl', key: 'net.ipv4.conf.all.arp_ignore', value: '1' });
    steps.push({ kind: 'sysctl', key: 'net.ipv4.conf.all.arp_announce', value: '2' });
  }
  for (const vip of desired.localVips) {
    const host = `${vip}/${vip.includes(':') ? 128 : 32}`;
    steps.push({
      kind: 'command',
      description: `${host} on lo`,
      apply: ['ip', 'addr', 'replace', host, 'dev', 'lo'],
      remove: ['ip', 'addr', 'del', host, 'dev', 'lo'],
    });
  }
  for (const prefix of desired.blackholes) {
    steps.push({
      kind: 'command',
      description: `blackhole ${prefix}`,
      apply: ['ip', 'route', 'replace', 'blackhole', prefix, 'proto', 'static'],
      remove: ['ip', 'route', 'del', 'blackhole', prefix],
    });
  }
  return steps;
}

function stepKey(step: Step): string {
  return step.kind === 'sysctl' ? `sysctl ${step.key}` : step.kind === 'nft-table' ? `nft ${step.name}` : step.description;
}

/** Applies the difference between what is in place and what is wanted, in the current namespace. */
export class KernelObjects {
  private applied: AppliedDsr = { namespace: null, steps: [], originalSysctls: {} };

  /**
   * `foundSysctlsFile` keeps the sysctl values found before the first apply across a crash: an
   * agent restarted after SIGKILL would otherwise find its own values (arp_ignore=1) and restore
   * those on stop. Removed once stop has restored them.
   */
  constructor(
    private readonly programmer = new DatapathProgrammer(null),
    private readonly foundSysctlsFile?: string,
  ) {
    if (foundSysctlsFile) this.applied.originalSysctls = readFoundSysctls(foundSysctlsFile);
  }

  get inPlace(): string[] {
    return this.applied.steps.map(stepKey);
  }

  sync(steps: Step[]): void {
    const wanted = new Map(steps.map((s) => [stepKey(s), s]));
    const stale = this.applied.steps.filter((s) => wanted.get(stepKey(s)) === undefined || JSON.stringify(wanted.get(stepKey(s))) !== JSON.stringify(s));
    if (stale.length > 0) {
      this.programmer.remove({ ...this.applied, steps: stale });
      this.applied = { ...this.applied, steps: this.applied.steps.filter((s) => !stale.includes(s)) };
      for (const s of stale) if (s.kind === 'sysctl') delete this.applied.originalSysctls[s.key];
      this.saveFoundSysctls();
    }
    // Found values of sysctls a crashed agent set and this one no longer wants: restore them now.
    const leftover = this.leftoverSysctls(steps);
    if (leftover.length > 0) {
      this.programmer.remove({ ...this.applied, steps: leftover });
      for (const s of leftover) delete this.applied.originalSysctls[s.key];
      this.saveFoundSysctls();
    }
    const present = new Set(this.applied.steps.map(stepKey));
    const missing = steps.filter((s) => !present.has(stepKey(s)));
    if (missing.length === 0) return;
    try {
      const added = this.programmer.apply(missing, this.applied);
      this.applied = { namespace: null, steps: [...this.applied.steps, ...added.steps], originalSysctls: added.originalSysctls };
    } finally {
      this.saveFoundSysctls();
    }
  }

  /**
   * Like sync, but each missing step is applied on its own and a failure (a next hop not
   * reachable yet) only skips that step; returns the failures. For routes learned from peers.
   */
  syncEach(steps: Step[]): string[] {
    const failures: string[] = [];
    const present = new Set<string>();
    const wanted = new Set(steps.map(stepKey));
    const stale = this.applied.steps.filter((s) => !wanted.has(stepKey(s)));
    if (stale.length > 0) {
      this.programmer.remove({ ...this.applied, steps: stale });
      this.applied = { ...this.applied, steps: this.applied.steps.filter((s) => !stale.includes(s)) };
    }
    for (const s of this.applied.steps) present.add(stepKey(s));
    for (const step of steps) {
      if (present.has(stepKey(step))) continue;
      try {
        const added = this.programmer.apply([step], this.applied);
        this.applied = { ...this.applied, steps: [...this.applied.steps, ...added.steps], originalSysctls: added.originalSysctls };
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    return failures;
  }

  /** Removes everything the agent added. */
  clear(): void {
    const applied = { ...this.applied, steps: [...this.leftoverSysctls([]), ...this.applied.steps] };
    this.applied = { namespace: null, steps: [], originalSysctls: {} };
    this.programmer.remove(applied);
    this.saveFoundSysctls();
  }

  /** Sysctls with a found value on record that neither this agent applied nor `wanted` has. */
  private leftoverSysctls(wanted: Step[]): Array<Extract<Step, { kind: 'sysctl' }>> {
    const inUse = new Set([...this.applied.steps, ...wanted].flatMap((s) => (s.kind === 'sysctl' ? [s.key] : [])));
    return Object.keys(this.applied.originalSysctls)
      .filter((key) => !inUse.has(key))
      .map((key) => ({ kind: 'sysctl' as const, key, value: this.applied.originalSysctls[key]! }));
  }

  private saveFoundSysctls(): void {
    const file = this.foundSysctlsFile;
    if (!file) return;
    if (Object.keys(this.applied.originalSysctls).length === 0) {
      rmSync(file, { force: true });
      return;
    }
    writeFileSync(`${file}.tmp`, `${JSON.stringify(this.applied.originalSysctls, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}

function readFoundSysctls(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not the sysctl values found before the agent (${(err as Error).message}); restore them by hand and remove the file`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${file}: expected an object of sysctl name -> value found; restore them by hand and remove the file`);
  }
  return parsed as Record<string, string>;
}
