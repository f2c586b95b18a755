// The captures every case lab gets besides the fixture's own: each link end of each speaker node,
// so the speaker's sessions and the traffic towards it are on file from the first SYN.
import type { LabTopology } from '../lab/model.ts';
import { linkInterfaces } from '../checks/sessions.ts';

export function speakerLinkCaptures(topology: LabTopology): Array<{ node: string; ifname: string }> {
  return topology.nodes
    .filter((n) => n.kind === 'speaker')
    .flatMap((n) => linkInterfaces(topology, n.name).map((ifname) => ({ node: n.name, ifname })));
}
