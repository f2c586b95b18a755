// The case side of `peerproof run`: a case file calls defineCase(id, ...) and gets the lab the
// runner brought up for this (fixture, speaker, peer), already Established and routed. The
// runner owns the lab (bring-up, teardown, `broken` when it would not come up); cases only
// query it, start captures of their own, run traffic and judge.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, test, type TestContext } from 'vitest';
import { backendFactory } from '../lab/backends/index.ts';
import { Lab, type SpeakerHook } from '../lab/lab.ts';
import { Ledger } from '../lab/ledger.ts';
import type { LabTopology } from '../lab/model.ts';
import { loadProfile, loadProfileFile, missingCapability, type SpeakerProfile } from '../lab/speakers/profile.ts';
import { totalDecodeMs, totalWaitedMs } from '../checks/captured.ts';
import { catalogEntry } from './catalog.ts';
import { HarnessError, isHarnessError } from '../lab/harness-error.ts';

/** What the runner hands every case of one lab (through vitest's provide/inject). */
export interface SuiteParams {
  fixture: string;
  fixtureDir: string;
  speaker: string;
  peer: string;
  runDir: string;
  /** Speaker nodes driven by a hook (sessions judged from their peers' side only). */
  hookedNodes: string[];
  /** Profile file of a docker:/external: speaker (a profiles/ speaker is found by its name). */
  profileFile?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    peerproofSuite: SuiteParams;
  }
}

export { HarnessError } from '../lab/harness-error.ts';

export interface CaseMeta {
  caseId: string;
  measurements: Record<string, number | string | boolean>;
  /** Extra files, relative to the lab's run folder. */
  artifacts: string[];
  /** Time the case spent waiting on the wire or on router state (pollUntil, timedWait), all attempts. */
  waitMs: number;
  /** Time the case spent reading and decoding captures (harness work). */
  decodeMs: number;
}

export interface CaseTools {
  lab: Lab;
  suite: SuiteParams;
  profile: SpeakerProfile;
  /** Records a measured figure into summary.json's `measurements`. */
  measure(name: string, value: number | string | boolean): void;
  artifact(pathInRunDir: string): void;
  /** Ends the case as `skipped` with this reason. */
  skip(reason: string): never;
}

export interface CaseDefinition {
  /** Profile capabilities the speaker needs (e.g. `l2`); a speaker lacking one is skipped. */
  needs?: string[];
  /** Fabric peers the case can judge; others are skipped with `peerReason`. */
  peers?: string[];
  peerReason?: string;
  timeoutMs?: number;
  run(tools: CaseTools): Promise<void>;
}

let attached: Lab | undefined;

/** A Lab object over the runner's running lab (its ledger and topology.json), without owning it. */
export function attachLab(suite: SuiteParams): Lab {
  if (attached?.runDir === suite.runDir) return attached;
  const ledger = new Ledger(suite.runDir);
  const run = ledger.summary();
  if (!run.runId || run.down) throw new HarnessError(`lab run ${suite.runDir} is not running`);
  const topology = JSON.parse(readFileSync(join(suite.runDir, 'topology.json'), 'utf8')) as LabTopology;
  const hooked: SpeakerHook = async () => [];
  const speakers = Object.fromEntries(suite.hookedNodes.map((n) => [n, hooked]));
  attached = new Lab(topology, backendFactory(run.backend).create(ledger), ledger, { handleSignals: false, speakers });
  return attached;
}

export function suiteParams(): SuiteParams {
  return inject('peerproofSuite');
}

export function defineCase(id: string, def: CaseDefinition): void {
  const entry = catalogEntry(id);
  const combo = suiteParams();
  test(`${id} [${combo.fixture} ${combo.speaker}/${combo.peer}]`, { timeout: def.timeoutMs ?? 120_000 }, async (ctx: TestContext) => {
    const suite = suiteParams();
    const meta = ctx.task.meta as unknown as CaseMeta;
    meta.caseId = entry.id;
    meta.measurements = {};
    meta.artifacts = [];
    // Summed over attempts, like the duration vitest reports for a case that was retried.
    meta.waitMs ??= 0;
    meta.decodeMs ??= 0;
    const profile = suite.profileFile ? loadProfileFile(suite.profileFile) : loadProfile(suite.speaker);
    const lacking = missingCapability(profile, def.needs ?? []);
    if (lacking) return ctx.skip(lacking);
    if (def.peers && !def.peers.includes(suite.peer)) return ctx.skip(`fabric peer ${suite.peer}: ${def.peerReason ?? 'not supported by this case'}`);
    const lab = attachLab(suite);
    const waitedBefore = totalWaitedMs();
    const decodedBefore = totalDecodeMs();
    try {
      await def.run({
        lab,
        suite,
        profile,
        measure: (name, value) => void (meta.measurements[name] = value),
        artifact: (path) => void meta.artifacts.push(path),
        skip: (reason) => {
          ctx.skip(reason);
          throw new Error('unreachable: skip() throws');
        },
      });
    } catch (err) {
      // A helper of ours that failed: its log goes with the `broken` result.
      if (isHarnessError(err) && err instanceof HarnessError) meta.artifacts.push(...err.artifactsIn(lab.runDir).filter((a) => !meta.artifacts.includes(a)));
      throw err;
    } finally {
      meta.waitMs += totalWaitedMs() - waitedBefore;
      meta.decodeMs += totalDecodeMs() - decodedBefore;
    }
  });
}
