// `--against SPEC` -> a running SUT: the reference speaker on loopback here; lab daemons,
// docker:IMAGE and external:ADDRESS come from the lab SUT (conformance/tester/sut-lab.ts).
import { startLoopbackSut } from '../tester/sut-loopback.ts';
import type { Sut } from '../tester/sut.ts';

export const AGAINST_FORMS = 'reference, frr, gobgp, bird, docker:IMAGE or external:ADDRESS';

export function checkAgainst(spec: string): string | null {
  if (['reference', 'frr', 'gobgp', 'bird', 'openbgpd'].includes(spec) || /^(docker|external):.+/.test(spec)) return null;
  return `"${spec}": expected ${AGAINST_FORMS}`;
}

export async function startSut(spec: string, log: (line: string) => void): Promise<Sut> {
  if (spec === 'reference') return startLoopbackSut();
  void log;
  throw new Error(`--against ${spec} needs the lab SUT (conformance/tester/sut-lab.ts), which this build does not have yet; --against reference runs on loopback`);
}
