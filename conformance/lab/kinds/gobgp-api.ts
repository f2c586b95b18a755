import http2 from 'node:http2';
import { createConnection } from 'node:net';

// GoBGP's gRPC API (apipb.GobgpApi, GoBGP 3.x) spoken from this process over the unix socket
// gobgpd listens on in the node folder (`--api-hosts unix://DIR/gobgp.sock`): the two calls the
// lab needs (AddPath to originate a prefix, ListPeer to read sessions), hand-encoded, so reading
// or configuring a stand-in costs no process. The `gobgp` CLI costs an `ip netns exec` and a Go
// start per call: at 434 stand-ins that was ~45 CPU s of a 500-node bring-up.
//
// Wire: gRPC over HTTP/2 (one POST per call, each message a 5-byte prefix + protobuf), protobuf
// proto3 with only varint and length-delimited fields. Field numbers from GoBGP 3.x api/gobgp.proto
// and api/attribute.proto.

// ---- protobuf, the subset used here ------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A varint field (omitted when 0, as proto3 does). */
export function pbVarint(field: number, value: number): Buffer {
  return value === 0 ? Buffer.alloc(0) : Buffer.from([...varint(field << 3), ...varint(value)]);
}

/** A length-delimited field: bytes, a string, or an embedded message. */
export function pbBytes(field: number, value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(body.length)]), body]);
}

/** google.protobuf.Any of an apipb message. */
function pbAny(field: number, type: string, value: Buffer): Buffer {
  return pbBytes(field, Buffer.concat([pbBytes(1, `type.googleapis.com/apipb.${type}`), pbBytes(2, value)]));
}

export type PbValue = number | Buffer;

/** Top-level fields of a message: field number -> values in order (varints as numbers, length-delimited as bytes). */
export function pbFields(buf: Buffer): Map<number, PbValue[]> {
  const out = new Map<number, PbValue[]>();
  let i = 0;
  const readVarint = () => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * scale;
      scale *= 0x80;
      if (b < 0x80) return result;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: PbValue;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error('protobuf: truncated field');
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      value = buf.subarray(i, (i += 8));
    } else if (wire === 5) {
      value = buf.subarray(i, (i += 4));
    } else throw new Error(`protobuf: wire type ${wire} not supported`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const first = (fields: Map<number, PbValue[]>, n: number) => fields.get(n)?.[0];
const str = (v: PbValue | undefined) => (Buffer.isBuffer(v) ? v.toString('utf8') : '');
const num = (v: PbValue | undefined) => (typeof v === 'number' ? v : 0);
const msg = (v: PbValue | undefined) => pbFields(Buffer.isBuffer(v) ? v : Buffer.alloc(0));

// ---- gRPC over HTTP/2 on a unix socket -----------------------------------------------------

/** One gRPC call; resolves with the response messages (one for unary calls, any for streams). */
export function grpcCall(socket: string, method: string, request: Buffer, timeoutMs = 10_000): Promise<Buffer[]> {
  return new Promise((resolvePromise, reject) => {
    const session = http2.connect('http://localhost', { createConnection: () => createConnection(socket) });
    let settled = false;
    const finish = (err: Error | null, value?: Buffer[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      session.destroy();
      if (err) reject(err);
      else resolvePromise(value!);
    };
    const timer = setTimeout(() => finish(new Error(`gobgpd ${method} on ${socket}: no answer within ${timeoutMs} ms`)), timeoutMs);
    session.on('error', (err) => finish(new Error(`gobgpd ${method} on ${socket}: ${err.message}`)));
    const stream = session.request({
      ':method': 'POST',
      ':path': `/apipb.GobgpApi/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const takeStatus = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) {
        status = String(headers['grpc-status']);
        message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      }
    };
    stream.on('response', takeStatus);
    stream.on('trailers', takeStatus);
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('error', (err) => finish(new Error(`gobgpd ${method} on ${socket}: ${err.message}`)));
    stream.on('end', () => {
      if (status !== '0') return finish(new Error(`gobgpd ${method}: grpc-status ${status ?? 'missing'}${message ? `: ${message}` : ''}`));
      const body = Buffer.concat(chunks);
      const messages: Buffer[] = [];
      for (let i = 0; i + 5 <= body.length; ) {
        const len = body.readUInt32BE(i + 1);
        messages.push(body.subarray(i + 5, i + 5 + len));
        i += 5 + len;
      }
      finish(null, messages);
    });
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(request.length, 1);
    stream.end(Buffer.concat([frame, request]));
  });
}

// ---- the calls -----------------------------------------------------------------------------

/** AddPathRequest for an IPv4 unicast prefix of our own (origin IGP, next hop 0.0.0.0: gobgpd sets its own, like `gobgp global rib add`). */
export function addPathRequest(prefix: string): Buffer {
  const [address, len] = prefix.split('/');
  if (!address || len === undefined || address.includes(':')) throw new Error(`addPathRequest: IPv4 prefixes only, got ${prefix}`);
  const path = Buffer.concat([
    pbAny(1, 'IPAddressPrefix', Buffer.concat([pbVarint(1, Number(len)), pbBytes(2, address)])),
    pbAny(2, 'OriginAttribute', pbVarint(1, 0)),
    pbAny(2, 'NextHopAttribute', pbBytes(1, '0.0.0.0')),
    pbBytes(9, Buffer.concat([pbVarint(1, 1), pbVarint(2, 1)])), // family: AFI_IP, SAFI_UNICAST
  ]);
  return pbBytes(3, path); // table_type GLOBAL (0) left out
}

export async function addPath(socket: string, prefix: string): Promise<void> {
  await grpcCall(socket, 'AddPath', addPathRequest(prefix));
}

export interface GobgpPeer {
  address: string;
  asn?: number;
  /** PeerState.SessionState: 1 Idle .. 6 Established (0 unknown). */
  state: number;
}

/** Decodes a ListPeerResponse: Peer (1) -> conf (2: neighbor_address 4, peer_asn 5), state (5: neighbor_address 5, peer_asn 6, session_state 13). */
export function parseListPeerResponse(message: Buffer): GobgpPeer {
  const peer = msg(first(pbFields(message), 1));
  const conf = msg(first(peer, 2));
  const state = msg(first(peer, 5));
  const asn = num(first(conf, 5)) || num(first(state, 6));
  return { address: str(first(conf, 4)) || str(first(state, 5)), asn: asn || undefined, state: num(first(state, 13)) };
}

export async function listPeers(socket: string): Promise<GobgpPeer[]> {
  return (await grpcCall(socket, 'ListPeer', Buffer.alloc(0))).map(parseListPeerResponse);
}
