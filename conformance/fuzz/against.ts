// `--against SPEC` -> a running SUT: the reference speaker on loopback (no root, in this
// process); lab daemons, docker:IMAGE and external:ADDRESS through the lab SUT
// (conformance/tester/lab/sut-lab.ts: the daemon in a namespace, tester slots through one relay).
import { startLoopbackSut } from '../tester/sut-loopback.ts';
import type { Sut } from '../tester/sut.ts';
import type { ThirdPartyOptions } from '../lab/speakers/place.ts';

export const AGAINST_FORMS = 'reference, frr, gobgp, bird, openbgpd, docker:IMAGE or external:ADDRESS';

export function checkAgainst(spec: string): string | null {
  if (['reference', 'frr', 'gobgp', 'bird', 'openbgpd'].includes(spec) || /^(docker|external):.+/.test(spec)) return null;
  return `"${spec}": expected ${AGAINST_FORMS}`;
}

/** The fuzzer's tester slots on a lab SUT: eBGP and ADD-PATH only, 24 eBGP per worker (of 4). */
const FUZZ_SLOTS = { ebgp: 96, addpath: 8, ibgp: 0, 'ebgp-active': 0, 'rr-client': 0, gr: 0 };

export interface StartOptions {
  /** where the lab's run folder goes (default reports/runs) */
  runsRoot?: string;
  thirdParty?: ThirdPartyOptions;
}

export async function startSut(spec: string, log: (line: string) => void, opts: StartOptions = {}): Promise<Sut> {
  if (spec === 'reference') return startLoopbackSut();
  if (process.getuid?.() !== 0) throw new Error(`--against ${spec} brings the speaker up in a lab (network namespaces): run as root`);
  const [{ parseSpeakerSpec }, { startLabSut }, { labSlots }] = await Promise.all([import('../cases/runner.ts'), import('../tester/lab/sut-lab.ts'), import('../tester/lab/topology.ts')]);
  // Most fuzz sessions end in a reset, after which a daemon holds the slot back for seconds (BIRD's
  // error wait, GoBGP's fixed idle hold): BIRD is told not to wait, and there are enough slots that
  // a worker rarely comes back to one GoBGP still holds. Either sets the pace, never a verdict.
  return startLabSut(parseSpeakerSpec(spec), { runsRoot: opts.runsRoot ?? 'reports/runs', thirdParty: opts.thirdParty, log, errorWait: 0, slots: labSlots(FUZZ_SLOTS) });
}
