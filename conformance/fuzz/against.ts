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

export interface StartOptions {
  /** where the lab's run folder goes (default reports/runs) */
  runsRoot?: string;
  thirdParty?: ThirdPartyOptions;
}

export async function startSut(spec: string, log: (line: string) => void, opts: StartOptions = {}): Promise<Sut> {
  if (spec === 'reference') return startLoopbackSut();
  if (process.getuid?.() !== 0) throw new Error(`--against ${spec} brings the speaker up in a lab (network namespaces): run as root`);
  const [{ parseSpeakerSpec }, { startLabSut }] = await Promise.all([import('../cases/runner.ts'), import('../tester/lab/sut-lab.ts')]);
  return startLabSut(parseSpeakerSpec(spec), { runsRoot: opts.runsRoot ?? 'reports/runs', thirdParty: opts.thirdParty, log });
}
