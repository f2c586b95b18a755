// End-of-RIB markers (RFC 4724 2): an empty UPDATE for IPv4 unicast, an UPDATE holding only an
// empty MP_UNREACH_NLRI for every other family.

import { AFI_IPV4, SAFI_UNICAST, type AfiSafi, type UpdateMessage } from './types.ts';

export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === AFI_IPV4 && safi === SAFI_UNICAST) return { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/** The family an End-of-RIB marker closes, or null when the UPDATE is not one. */
export function endOfRibFamily(update: UpdateMessage): AfiSafi | null {
  if (update.withdrawn.length > 0 || update.nlri.length > 0) return null;
  // A decoded UPDATE whose attributes were all discarded as malformed is not a marker: the wire decides.
  const wireCodes = update.layout?.map((entry) => entry.code);
  if (wireCodes !== undefined && wireCodes.length > 0 && !(wireCodes.length === 1 && wireCodes[0] === 15)) return null;
  const keys = Object.keys(update.attributes).filter((key) => update.attributes[key as keyof typeof update.attributes] !== undefined);
  if (keys.length === 0) return { afi: AFI_IPV4, safi: SAFI_UNICAST };
  const unreach = update.attributes.mpUnreach;
  if (keys.length === 1 && unreach !== undefined && unreach.withdrawn.length === 0) return { afi: unreach.afi, safi: unreach.safi };
  return null;
}

export function isEndOfRib(update: UpdateMessage): boolean {
  return endOfRibFamily(update) !== null;
}
