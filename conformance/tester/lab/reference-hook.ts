// The reference speaker as the clause lab's SUT: the standalone `peerproof speaker` in the SUT
// node, configured like the loopback SUT (sut-loopback.ts) with one peer per tester slot, its
// status API on the node's agent socket so the shared RIB reader (rib-reader.ts) reads it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpeakerHook } from '../../lab/lab.ts';
import { agentStatusSocket } from '../../lab/speakers/reference.ts';
import type { TesterSlot } from '../sut.ts';
import { LAB_ORIGINATES, LAB_SUT_ADDRESS, LAB_SUT_ADDRESS6, LAB_SUT_ASN, LAB_SUT_ROUTER_ID, LAB_TIMERS } from './topology.ts';

const PEERPROOF_BIN = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));

export function referenceSutConfig(slots: TesterSlot[], statusSocket: string): Record<string, unknown> {
  return {
    routerId: LAB_SUT_ROUTER_ID,
    localAs: LAB_SUT_ASN,
    holdTime: LAB_TIMERS.hold,
    connectRetry: 1,
    // per peer below: gr slots only
    gracefulRestart: { restartTime: 30 },
    listen: { address: LAB_SUT_ADDRESS, port: 179 },
    status: { socket: statusSocket },
    peers: slots.map((s) => ({
      address: s.address,
      asn: s.asn,
      passive: s.role !== 'ebgp-active',
      families: ['ipv4-unicast', 'ipv6-unicast'],
      ...(s.role === 'addpath' ? { addPath: 'both' } : {}),
      gracefulRestart: s.role === 'gr',
      ...(s.role === 'rr-client' ? { routeReflectorClient: true } : {}),
      extendedNextHop: true,
      nextHop6: LAB_SUT_ADDRESS6,
    })),
    routes: [LAB_ORIGINATES.ipv4, LAB_ORIGINATES.ipv6],
  };
}

export function referenceSutHook(slots: TesterSlot[]): SpeakerHook {
  return async ({ backend, node, dir }) => {
    const config = join(dir, 'speaker.yaml');
    // JSON is YAML: the speaker reads it as its config file.
    writeFileSync(config, `${JSON.stringify(referenceSutConfig(slots, agentStatusSocket(dir)), null, 2)}\n`);
    return [await backend.spawn(node.name, [process.execPath, PEERPROOF_BIN, 'speaker', '--config', config], { label: 'speaker', logFile: join(dir, 'speaker.log') })];
  };
}
