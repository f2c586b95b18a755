// A tiny BGP client for the golden header-error captures (pcaps/make-golden.ts runs it inside a
// network namespace): it opens a session from LOCAL to PEER with reference/bgp/raw-peer.ts (OPEN,
// KEEPALIVE, wait for the peer's KEEPALIVE), sends one message with a broken header, and waits for
// the peer's NOTIFICATION and close.
//
//   node --import tsx pcaps/send-bad-header.ts LOCAL PEER ASN marker|length|type

import { RawPeer, until } from '../reference/bgp/raw-peer.ts';

const [local, peer, asnText, kind] = process.argv.slice(2);
const asn = Number(asnText);
if (!local || !peer || !Number.isInteger(asn) || !['marker', 'length', 'type'].includes(kind ?? '')) {
  process.stderr.write('usage: send-bad-header.ts LOCAL PEER ASN marker|length|type\n');
  process.exit(2);
}

/** The broken message: a KEEPALIVE whose marker is not all ones, a KEEPALIVE of 20 octets, or type 9. */
function badMessage(): Uint8Array {
  const keepalive = [...new Array<number>(16).fill(0xff), 0, 19, 4];
  switch (kind) {
    case 'marker':
      keepalive[0] = 0xfe; // RFC 4271 6.1: Connection Not Synchronized (1/1)
      return new Uint8Array(keepalive);
    case 'length':
      return new Uint8Array([...keepalive.slice(0, 16), 0, 20, 4, 0]); // KEEPALIVE must be 19 octets: 1/2
    default:
      return new Uint8Array([...keepalive.slice(0, 18), 9]); // no message type 9: Bad Message Type (1/3)
  }
}

const session = await RawPeer.open(
  { host: peer, port: 179, localAddress: local },
  { asn, bgpId: local, holdTime: 90, capabilities: [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, { code: 2, name: 'route-refresh' }, { code: 65, name: 'as4', asn }] },
);
await new Promise((r) => setTimeout(r, 300));
session.send(badMessage());
await until(() => session.closed, 10_000, 'the peer to close the session');
const n = session.notification();
process.stdout.write(`${kind}: NOTIFICATION ${n ? `${n.code}/${n.subcode} data ${n.data || '(none)'}` : 'none'}\n`);
session.close();
