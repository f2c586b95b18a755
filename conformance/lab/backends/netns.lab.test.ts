// The backend lab suite (lab-suite.ts) on the default netns backend; docker.lab.test.ts runs the
// same tests on containers.
import { execFileSync } from 'node:child_process';
import { namespaceName } from './netns.ts';
import { describeBackendLab } from './lab-suite.ts';

async function leftovers(runId: string): Promise<string[]> {
  const prefix = namespaceName(runId, '');
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((ns) => ns.startsWith(prefix));
}

describeBackendLab('netns', { leftovers });
