// Decodes the BGP messages of each TCP connection with the state that connection negotiated:
// 4-octet AS and ADD-PATH come from the two OPENs seen on it (never guessed from UPDATE bytes).
// When the OPENs were not captured, the connection is decoded with 4-octet AS and without path
// ids, unless the user said (--add-path) that the stream carries them.

import { BgpError, decodeMessage, directionContext, errorText } from '../../reference/bgp/wire/index.ts';
import {
  AFI_IPV4,
  AFI_IPV6,
  SAFI_UNICAST,
  familyKey,
  type BgpMessage,
  type CodecContext,
  type ErrorAction,
  type MessageType,
  type OpenMessage,
} from '../../reference/bgp/wire/types.ts';
import type { TcpDirection } from './tcp-reassembly.ts';

export interface DecodedMessage {
  ts: number;
  src: string;
  dst: string;
  /** TCP connection index (both directions share it). */
  stream: number;
  type: MessageType;
  /** The header's length field. */
  length: number;
  /** Null when the message failed to parse; then `errors` names the RFC error. */
  message: BgpMessage | null;
  /**
   * What is wrong with the message as a whole (header errors, a body that does not parse, an
   * undefined type, ORFs not negotiated, a message the capture cut): the RFC 4271 error a
   * receiver raises. RFC 7606 outcomes of a parsed UPDATE stay in its `errors`.
   */
  errors?: MessageError[];
  /** errors[0].message, for readers of the older single-error field. */
  error?: string;
  /** The message's octets as captured (hex), when it did not parse. */
  hex?: string;
}

export interface MessageError {
  /**
   * What the error calls for: 'session-reset' (a NOTIFICATION with code/subcode) or an RFC 7606
   * action; 'none' when the capture, not the sender, cut the message short.
   */
  action: ErrorAction | 'none';
  code: number;
  subcode: number;
  message: string;
  attribute?: number;
}

/** Connections whose UPDATEs carry path ids although their OPENs were not captured. */
export type AddPathOverride = 'all' | ReadonlySet<number>;

const TYPE_NAMES: Record<number, MessageType> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

/** The families an --add-path override turns on: the unicast families peerproof decodes. */
const OVERRIDE_FAMILIES: ReadonlySet<string> = new Set([familyKey(AFI_IPV4, SAFI_UNICAST), familyKey(AFI_IPV6, SAFI_UNICAST)]);

interface ConnectionState {
  opens: Map<string, OpenMessage>;
  /** Negotiated context per sending endpoint, once both OPENs were seen. */
  contexts: Map<string, CodecContext>;
  /** Context used while the OPENs are unknown. */
  assumed: CodecContext | null;
}

export class BgpSessionTracker {
  private readonly connections = new Map<number, ConnectionState>();

  constructor(
    private readonly warn: (text: string) => void,
    private readonly addPathOverride: AddPathOverride = new Set(),
  ) {}

  decode(dir: TcpDirection, bytes: Uint8Array, ts: number, truncated = false): DecodedMessage {
    const typeCode = bytes.length > 18 ? bytes[18]! : -1;
    const out: DecodedMessage = {
      ts,
      src: dir.src,
      dst: dir.dst,
      stream: dir.connection,
      type: TYPE_NAMES[typeCode] ?? 'UNKNOWN',
      // A message cut before its length field has only the octets captured to show.
      length: bytes.length >= 18 ? (bytes[16]! << 8) | bytes[17]! : bytes.length,
      message: null,
    };
    if (truncated) {
      const announced = bytes.length >= 18 ? `of the ${out.length} octets the header announces` : 'octets, before the length field';
      return fail(out, bytes, { action: 'none', code: 1, subcode: 2, message: errorText(1, 2, `capture ends after ${bytes.length} ${announced}`) });
    }
    const state = this.stateOf(dir.connection);
    if (typeCode !== 2) {
      // Only UPDATE and ROUTE-REFRESH (which ORFs were negotiated) depend on negotiated state.
      const ctx = typeCode === 5 ? (state.contexts.get(dir.src) ?? ANY_ORF) : undefined;
      try {
        out.message = decodeMessage(bytes, ctx);
      } catch (err) {
        fail(out, bytes, errorOf(err));
        if (typeCode === 5 && err instanceof BgpError && err.code === 1 && err.subcode === 2 && ctx !== ANY_ORF) {
          // ORFs this direction did not negotiate: the error stands, and the ORFs are shown.
          try {
            out.message = decodeMessage(bytes, ANY_ORF);
            delete out.hex;
          } catch {
            // they do not parse either: the error says enough
          }
        }
        return out;
      }
      if (out.message.type === 'UNKNOWN') {
        // RFC 4271 6.1: a type code not defined is a Message Header Error / Bad Message Type.
        addError(out, { action: 'session-reset', code: 1, subcode: 3, message: errorText(1, 3, `type ${typeCode}`) });
      } else if (out.message.type === 'OPEN') this.observeOpen(state, dir, out.message);
      return out;
    }
    const negotiated = state.contexts.get(dir.src);
    if (negotiated !== undefined) {
      try {
        out.message = decodeMessage(bytes, negotiated);
      } catch (err) {
        fail(out, bytes, errorOf(err));
      }
      return out;
    }
    const assumed = this.assumedContext(state, dir);
    try {
      out.message = decodeMessage(bytes, assumed);
      if (!hasUpdateErrors(out.message)) return out;
    } catch (err) {
      fail(out, bytes, errorOf(err));
    }
    // Without the OPENs, a 2-octet session is only visible as an AS_PATH that does not parse
    // with 4-octet ASNs: that throws, or (RFC 7606) comes back as an UPDATE with errors. Retry
    // with 2-octet ASNs; after errors (not a throw) keep that reading only when it is clean.
    try {
      const twoOctet = decodeMessage(bytes, { ...assumed, as4: false });
      if (out.message === null || !hasUpdateErrors(twoOctet)) {
        out.message = twoOctet;
        delete out.errors;
        delete out.error;
        delete out.hex;
      }
    } catch {
      // keep the first reading: it names what the 4-octet reading found wrong
    }
    return out;
  }

  private stateOf(connection: number): ConnectionState {
    let state = this.connections.get(connection);
    if (state === undefined) {
      state = { opens: new Map(), contexts: new Map(), assumed: null };
      this.connections.set(connection, state);
    }
    return state;
  }

  private observeOpen(state: ConnectionState, dir: TcpDirection, open: OpenMessage): void {
    state.opens.set(dir.src, open);
    const peer = state.opens.get(dir.dst);
    if (peer === undefined) return;
    state.contexts.set(dir.src, directionContext(open, peer));
    state.contexts.set(dir.dst, directionContext(peer, open));
  }

  private assumedContext(state: ConnectionState, dir: TcpDirection): CodecContext {
    if (state.assumed !== null) return state.assumed;
    const override = this.addPathOverride === 'all' || this.addPathOverride.has(dir.connection);
    state.assumed = override ? { as4: true, addPath: OVERRIDE_FAMILIES } : { as4: true };
    this.warn(
      `stream ${dir.connection} (${dir.src} <-> ${dir.dst}): OPEN messages not captured; ` +
        (override
          ? 'decoding with 4-octet AS and ADD-PATH path ids for IPv4/IPv6 unicast (--add-path)'
          : `decoding with 4-octet AS and without ADD-PATH path ids (pass --add-path ${dir.connection} if the session negotiated ADD-PATH)`),
    );
    return state.assumed;
  }
}

function hasUpdateErrors(message: BgpMessage): boolean {
  return message.type === 'UPDATE' && message.errors !== undefined && message.errors.length > 0;
}

/** ROUTE-REFRESH of a connection whose OPENs were not captured: any ORF is taken as negotiated. */
const ANY_ORF: CodecContext = { orf: 'any' };

function errorOf(err: unknown): MessageError {
  if (err instanceof BgpError) return { action: err.action, code: err.code, subcode: err.subcode, message: err.message };
  // The codec promises BgpError for bad bytes; anything else is a codec bug worth showing as is.
  return { action: 'session-reset', code: 0, subcode: 0, message: `decoder failure: ${err instanceof Error ? err.message : String(err)}` };
}

function addError(out: DecodedMessage, error: MessageError): void {
  (out.errors ??= []).push(error);
  out.error ??= error.message;
}

/** The message did not parse: its error, and its octets for whoever wants to look. */
function fail(out: DecodedMessage, bytes: Uint8Array, error: MessageError): DecodedMessage {
  addError(out, error);
  out.hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  return out;
}
