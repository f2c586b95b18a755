// The version of each daemon a replay ran against: results are only meaningful per version.

import type { DaemonKindName } from '../lab/model.ts';
import { run } from '../lab/netns.ts';

const commands: Record<DaemonKindName, string[]> = {
  frr: ['/usr/lib/frr/bgpd', '--version'],
  gobgp: ['gobgpd', '--version'],
  bird: ['bird', '--version'],
  openbgpd: ['/usr/sbin/bgpd', '-V'],
};
const cache = new Map<DaemonKindName, string>();

/** "FRR 8.4.4", "GoBGP 3.10.0", "BIRD 2.0.12", "OpenBGPD 7.7", or "<kind> (version unknown)". */
export async function daemonVersion(kind: DaemonKindName): Promise<string> {
  const known = cache.get(kind);
  if (known) return known;
  const result = await run(commands[kind], { timeoutMs: 10_000 });
  // `bgpd -V` says "OpenBGPD 7.7", the others "... version 8.4.4".
  const number = /(?:version|OpenBGPD)\s+v?(\d+(?:\.\d+)+)/i.exec(result.stdout + result.stderr)?.[1];
  const name = { frr: 'FRR', gobgp: 'GoBGP', bird: 'BIRD', openbgpd: 'OpenBGPD' }[kind];
  const text = number ? `${name} ${number}` : `${name} (version unknown)`;
  cache.set(kind, text);
  return text;
}
