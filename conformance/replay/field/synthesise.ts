// Builds recordings with the codec for field scenarios nobody has a capture of: the played
// side's OPEN and UPDATEs exactly as the misbehaving speaker would send them (path ids it may
// not send, AS_TRANS, End-of-RIB first...), and the OPEN its recorded peer is assumed to offer.

import { encodeMessage, type Capability, type CodecContext, type OpenMessage, type UpdateMessage } from '../../../reference/bgp/wire/index.ts';
import { bytesToHex, endpointFromOpen, RECORDING_VERSION, type RecordedMessage, type Recording } from '../recording.ts';

export interface SpeakerSpec {
  address: string;
  asn: number;
  bgpId: string;
  /** Send capability 65 (default true). */
  as4?: boolean;
  /** The 2-octet My AS field when it is not what RFC 6793 says (AS or AS_TRANS). */
  myAsField?: number;
  holdTime?: number;
  capabilities: Capability[];
}

export function openOf(s: SpeakerSpec): OpenMessage {
  const as4 = s.as4 !== false;
  const caps = as4 ? [...s.capabilities, { code: 65, name: 'as4', asn: s.asn } as Capability] : s.capabilities;
  return {
    type: 'OPEN',
    version: 4,
    myAs: s.myAsField ?? (s.asn > 0xffff ? 23456 : s.asn),
    holdTime: s.holdTime ?? 90,
    bgpId: s.bgpId,
    as4: as4 ? s.asn : null,
    capabilities: caps,
  };
}

export const ipv4Unicast: Capability = { code: 1, name: 'multiprotocol', afi: 1, safi: 1 };
export const ipv6Unicast: Capability = { code: 1, name: 'multiprotocol', afi: 2, safi: 1 };
export const routeRefresh: Capability = { code: 2, name: 'route-refresh' };

/** One UPDATE as the played side puts it on the wire, with the codec state it (wrongly or not) assumes. */
export interface PlayedUpdate {
  update: UpdateMessage;
  ctx: CodecContext;
}

export function synthesise(by: string, played: SpeakerSpec, peer: SpeakerSpec, updates: PlayedUpdate[]): Recording {
  const playedOpen = openOf(played);
  const peerOpen = openOf(peer);
  const keepalive: UpdateMessage | { type: 'KEEPALIVE' } = { type: 'KEEPALIVE' };
  const msg = (t: number, from: 'played' | 'peer', type: string, bytes: Uint8Array): RecordedMessage => ({ t, from, type, hex: bytesToHex(bytes) });
  const messages: RecordedMessage[] = [
    msg(0, 'played', 'OPEN', encodeMessage(playedOpen)),
    msg(0.001, 'peer', 'OPEN', encodeMessage(peerOpen)),
    msg(0.002, 'played', 'KEEPALIVE', encodeMessage(keepalive)),
    msg(0.003, 'peer', 'KEEPALIVE', encodeMessage(keepalive)),
    ...updates.map((u, i) => msg(0.1 + i * 0.1, 'played', 'UPDATE', encodeMessage(u.update, u.ctx))),
  ];
  return {
    version: RECORDING_VERSION,
    source: { kind: 'synthesised', by },
    played: endpointFromOpen(played.address, 179, playedOpen),
    peer: endpointFromOpen(peer.address, 179, peerOpen),
    messages,
  };
}
