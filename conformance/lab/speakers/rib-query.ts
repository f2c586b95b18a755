// A third-party speaker's RIB, read by the command its profile names (`container.rib` inside the
// container, `external.rib` on the host for a device) and parsed like the lab daemon kind whose
// output it prints.
import { parseBirdRoutes } from '../kinds/bird.ts';
import { parseFrrRib } from '../kinds/frr.ts';
import { parseGobgpRib } from '../kinds/gobgp.ts';
import { parseOpenbgpdRib } from '../kinds/openbgpd.ts';
import type { RouteEntry } from '../kinds/kind.ts';
import type { DaemonKindName } from '../model.ts';
import { run } from '../netns.ts';
import type { RibQuery } from './profile.ts';

const ribParsers: Record<DaemonKindName, (text: string) => RouteEntry[]> = {
  frr: parseFrrRib,
  gobgp: parseGobgpRib,
  bird: parseBirdRoutes,
  openbgpd: parseOpenbgpdRib,
};

/** Runs the query (after `prefix`, e.g. the nsenter into a container) and parses its output; `what` names the speaker in errors. */
export async function readRibQuery(query: RibQuery, what: string, prefix: string[] = []): Promise<RouteEntry[]> {
  const result = await run([...prefix, ...query.command], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`${query.command.join(' ')} (${what}): ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  return ribParsers[query.format](result.stdout);
}
