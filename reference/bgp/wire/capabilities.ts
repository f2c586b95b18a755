// OPEN capabilities (RFC 5492): value bytes to the typed shapes of types.ts and back.
// Unknown codes keep their raw bytes so they re-encode byte-identical.

import { ByteWriter, checkUint, fromHex, readU16, toHex } from './bytes.ts';
import { BgpError, ErrorCode, OpenSubcode } from './errors.ts';
import { decodeOrfCapability, encodeOrfCapability } from './orf.ts';
import type { AddPathMode, Capability } from './types.ts';

const ADD_PATH_MODES: Record<number, AddPathMode> = { 1: 'receive', 2: 'send', 3: 'both' };
const ADD_PATH_MODE_CODES: Record<AddPathMode, number> = { receive: 1, send: 2, both: 3 };

const GR_RESTARTING = 0x8000;
const GR_NOTIFICATION = 0x4000;
const GR_TIME_MASK = 0x0fff;
const FORWARDING_STATE = 0x80;

function malformed(code: number, detail: string): BgpError {
  return new BgpError(ErrorCode.OPEN, OpenSubcode.UNSPECIFIC, `capability ${code}: ${detail}`);
}

function requireLength(code: number, length: number, ok: boolean, expected: string): void {
  if (!ok) throw malformed(code, `length ${length}, expected ${expected}`);
}

/** Decodes one capability whose value is bytes[start, end). Throws BgpError 2/0 when malformed. */
export function decodeCapability(code: number, bytes: Uint8Array, start: number, end: number): Capability {
  const length = end - start;
  switch (code) {
    case 1:
      requireLength(code, length, length === 4, '4');
      return { code: 1, name: 'multiprotocol', afi: readU16(bytes, start), safi: bytes[start + 3] };
    case 2:
      requireLength(code, length, length === 0, '0');
      return { code: 2, name: 'route-refresh' };
    case 3:
      return { code: 3, name: 'orf', entries: decodeOrfCapability(bytes, start, end, (detail) => malformed(code, detail)) };
    case 130:
      return { code: 130, name: 'orf-cisco', entries: decodeOrfCapability(bytes, start, end, (detail) => malformed(code, detail)) };
    case 5: {
      requireLength(code, length, length > 0 && length % 6 === 0, 'a non-zero multiple of 6');
      const entries = [];
      for (let p = start; p < end; p += 6) {
        entries.push({ afi: readU16(bytes, p), safi: readU16(bytes, p + 2), nextHopAfi: readU16(bytes, p + 4) });
      }
      return { code: 5, name: 'extended-nexthop', entries };
    }
    case 64: {
      requireLength(code, length, length >= 2 && (length - 2) % 4 === 0, '2 plus a multiple of 4');
      const header = readU16(bytes, start);
      const families = [];
      for (let p = start + 2; p < end; p += 4) {
        families.push({ afi: readU16(bytes, p), safi: bytes[p + 2], forwardingState: (bytes[p + 3] & FORWARDING_STATE) !== 0 });
      }
      return {
        code: 64,
        name: 'graceful-restart',
        restarting: (header & GR_RESTARTING) !== 0,
        notification: (header & GR_NOTIFICATION) !== 0,
        restartTime: header & GR_TIME_MASK,
        families,
      };
    }
    case 65:
      requireLength(code, length, length === 4, '4');
      return {
        code: 65,
        name: 'as4',
        asn: ((bytes[start] << 24) | (bytes[start + 1] << 16) | (bytes[start + 2] << 8) | bytes[start + 3]) >>> 0,
      };
    case 69: {
      requireLength(code, length, length > 0 && length % 4 === 0, 'a non-zero multiple of 4');
      const entries = [];
      for (let p = start; p < end; p += 4) {
        const mode = ADD_PATH_MODES[bytes[p + 3]];
        if (mode === undefined) throw malformed(code, `send/receive value ${bytes[p + 3]}`);
        entries.push({ afi: readU16(bytes, p), safi: bytes[p + 2], mode });
      }
      return { code: 69, name: 'add-path', entries };
    }
    case 70:
      requireLength(code, length, length === 0, '0');
      return { code: 70, name: 'enhanced-route-refresh' };
    case 71: {
      requireLength(code, length, length % 7 === 0, 'a multiple of 7');
      const families = [];
      for (let p = start; p < end; p += 7) {
        families.push({
          afi: readU16(bytes, p),
          safi: bytes[p + 2],
          forwardingState: (bytes[p + 3] & FORWARDING_STATE) !== 0,
          staleTime: (bytes[p + 4] << 16) | (bytes[p + 5] << 8) | bytes[p + 6],
        });
      }
      return { code: 71, name: 'long-lived-graceful-restart', families };
    }
    case 73: {
      requireLength(code, length, length >= 2, 'at least 2');
      const hostLength = bytes[start];
      const domainAt = start + 1 + hostLength;
      if (domainAt + 1 > end || domainAt + 1 + bytes[domainAt] !== end) throw malformed(code, 'hostname/domain lengths do not add up');
      const text = (from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8');
      return { code: 73, name: 'fqdn', hostname: text(start + 1, domainAt), domain: text(domainAt + 1, end) };
    }
    default:
      return { code, hex: toHex(bytes, start, end) };
  }
}

/** The value bytes of one capability (without code and length). */
export function encodeCapabilityValue(capability: Capability): Uint8Array {
  const w = new ByteWriter(16);
  const what = `capability ${capability.code}`;
  switch (capability.name) {
    case 'multiprotocol':
      w.u16(checkUint(capability.afi, 16, `${what} afi`)).u8(0).u8(checkUint(capability.safi, 8, `${what} safi`));
      break;
    case 'route-refresh':
    case 'enhanced-route-refresh':
      break;
    case 'orf':
    case 'orf-cisco':
      encodeOrfCapability(w, capability.entries, what);
      break;
    case 'extended-nexthop':
      for (const e of capability.entries) {
        w.u16(checkUint(e.afi, 16, `${what} afi`)).u16(checkUint(e.safi, 16, `${what} safi`)).u16(checkUint(e.nextHopAfi, 16, `${what} next hop afi`));
      }
      break;
    case 'graceful-restart':
      w.u16(
        (capability.restarting ? GR_RESTARTING : 0) |
          (capability.notification ? GR_NOTIFICATION : 0) |
          checkUint(capability.restartTime, 12, `${what} restart time`),
      );
      for (const f of capability.families) {
        w.u16(checkUint(f.afi, 16, `${what} afi`)).u8(checkUint(f.safi, 8, `${what} safi`)).u8(f.forwardingState ? FORWARDING_STATE : 0);
      }
      break;
    case 'as4':
      w.u32(checkUint(capability.asn, 32, `${what} asn`));
      break;
    case 'add-path':
      for (const e of capability.entries) {
        const mode = ADD_PATH_MODE_CODES[e.mode];
        if (mode === undefined) throw new RangeError(`${what}: unknown mode "${e.mode}"`);
        w.u16(checkUint(e.afi, 16, `${what} afi`)).u8(checkUint(e.safi, 8, `${what} safi`)).u8(mode);
      }
      break;
    case 'long-lived-graceful-restart':
      for (const f of capability.families) {
        w.u16(checkUint(f.afi, 16, `${what} afi`))
          .u8(checkUint(f.safi, 8, `${what} safi`))
          .u8(f.forwardingState ? FORWARDING_STATE : 0)
          .u24(checkUint(f.staleTime, 24, `${what} stale time`));
      }
      break;
    case 'fqdn': {
      const host = Buffer.from(capability.hostname, 'utf8');
      const domain = Buffer.from(capability.domain, 'utf8');
      checkUint(host.length, 8, `${what} hostname length`);
      checkUint(domain.length, 8, `${what} domain length`);
      w.u8(host.length).bytes(host).u8(domain.length).bytes(domain);
      break;
    }
    default:
      w.bytes(fromHex(capability.hex, what));
  }
  return w.finish();
}
