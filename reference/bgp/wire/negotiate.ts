// Per-direction codec state from the two OPENs of a session.

import { familyKey, orfKey, type CodecContext, type OpenMessage } from './types.ts';

/**
 * What the bytes `sender` sends to `receiver` look like: 4-octet AS when both offered capability
 * 65 (RFC 6793 3); path identifiers for the families the sender may send and the receiver may
 * receive (RFC 7911 4); ORF types the sender may send and the receiver may receive, from
 * capability 3 or its pre-standard twin 130 (RFC 5291 5).
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
  const orfModes = (open: OpenMessage) => {
    const byType = new Map<string, string[]>();
    for (const capability of open.capabilities) {
      if (capability.name !== 'orf' && capability.name !== 'orf-cisco') continue;
      for (const entry of capability.entries) {
        for (const t of entry.types) {
          const key = orfKey(entry.afi, entry.safi, t.type);
          byType.set(key, [...(byType.get(key) ?? []), t.mode]);
        }
      }
    }
    return byType;
  };
  const receiverOrf = orfModes(receiver);
  const orf = new Set<string>();
  for (const [key, senderModes] of orfModes(sender)) {
    const canSend = senderModes.some((m) => m === 'send' || m === 'both');
    const canReceive = (receiverOrf.get(key) ?? []).some((m) => m === 'receive' || m === 'both');
    if (canSend && canReceive) orf.add(key);
  }
  return { as4: offersAs4(sender) && offersAs4(receiver), addPath, orf };
}
