// Per-direction codec state from the two OPENs of a session.

import { familyKey, type CodecContext, type OpenMessage } from './types.ts';

/**
 * What the bytes `sender` sends to `receiver` look like: 4-octet AS when both offered capability
 * 65 (RFC 6793 3); path identifiers for the families the sender may send and the receiver may
 * receive (RFC 7911 4).
 */
export function directionContext(sender: OpenMessage, receiver: OpenMessage): CodecContext {
  const offersAs4 = (open: OpenMessage) => open.capabilities.some((c) => c.code === 65);
  const modes = (open: OpenMessage) => {
    const byFamily = new Map<string, string>();
    for (const capability of open.capabilities) {
      if (capability.name !== 'add-path') continue;
      for (const entry of capability.entries) byFamily.set(familyKey(entry.afi, entry.safi), entry.mode);
    }
    return byFamily;
  };
  const receiverModes = modes(receiver);
  const addPath = new Set<string>();
  for (const [family, mode] of modes(sender)) {
    const peerMode = receiverModes.get(family);
    if ((mode === 'send' || mode === 'both') && (peerMode === 'receive' || peerMode === 'both')) addPath.add(family);
  }
  return { as4: offersAs4(sender) && offersAs4(receiver), addPath };
}
