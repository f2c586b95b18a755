// Text forms of IPv4/IPv6 addresses and prefixes, to and from bytes. IPv6 text is the
// canonical RFC 5952 form. Parsers throw RangeError naming the bad text.

const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** IPv4 address at `offset` (4 bytes) as dotted quad. */
export function ipv4ToString(bytes: Uint8Array, offset = 0): string {
  return (
    OCTET_TEXT[bytes[offset]] +
    '.' +
    OCTET_TEXT[bytes[offset + 1]] +
    '.' +
    OCTET_TEXT[bytes[offset + 2]] +
    '.' +
    OCTET_TEXT[bytes[offset + 3]]
  );
}

/** IPv4 address held as an unsigned 32-bit number, as dotted quad. */
export function ipv4NumberToString(value: number): string {
  return (
    OCTET_TEXT[(value >>> 24) & 255] +
    '.' +
    OCTET_TEXT[(value >>> 16) & 255] +
    '.' +
    OCTET_TEXT[(value >>> 8) & 255] +
    '.' +
    OCTET_TEXT[value & 255]
  );
}

/** Dotted quad to an unsigned 32-bit number; throws RangeError when not exactly a.b.c.d. */
export function parseIpv4(text: string): number {
  const value = tryParseIpv4(text);
  if (value === null) throw new RangeError(`not an IPv4 address: "${text}"`);
  return value;
}

/** Exactly four decimal octets of 1-3 digits each, or null; hand-rolled because encoders call it per prefix. */
export function tryParseIpv4(text: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return null;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

export function ipv4ToBytes(text: string): Uint8Array {
  const value = parseIpv4(text);
  return new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
}

const groups = new Uint16Array(8); // scratch for ipv6ToString (synchronous, so never shared)
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const BYTE_HEX_PADDED: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A group without leading zeros, from two table lookups instead of Number#toString. */
function groupHex(group: number): string {
  const high = group >>> 8;
  return high === 0 ? BYTE_HEX[group] : BYTE_HEX[high] + BYTE_HEX_PADDED[group & 255];
}

/** IPv6 address at `offset` (16 bytes) in RFC 5952 form (IPv4-mapped shown as ::ffff:a.b.c.d). */
export function ipv6ToString(bytes: Uint8Array, offset = 0): string {
  for (let i = 0; i < 8; i++) groups[i] = (bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1];

  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return '::ffff:' + ipv4ToString(bytes, offset + 12);
  }

  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }

  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
    } else {
      text += i === 0 || i === bestStart + bestLength ? groupHex(groups[i]) : ':' + groupHex(groups[i]);
    }
  }
  return text;
}

/** Any valid IPv6 text form (including embedded IPv4) to 16 bytes; throws RangeError otherwise. */
export function parseIpv6(text: string): Uint8Array {
  const bytes = tryParseIpv6(text);
  if (bytes === null) throw new RangeError(`not an IPv6 address: "${text}"`);
  return bytes;
}

function tryParseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      if (i === fields.length - 1 && field.includes('.')) {
        const v4 = tryParseIpv4(field);
        if (v4 === null) return null;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(field)) return null;
        groups.push(parseInt(field, 16));
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === null || tail === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >>> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return bytes;
}

export function isIpv6Text(text: string): boolean {
  return text.includes(':');
}

/** An IP address of either family to its bytes (4 or 16). */
export function ipToBytes(text: string): Uint8Array {
  return isIpv6Text(text) ? parseIpv6(text) : ipv4ToBytes(text);
}

/** A prefix "addr/len" split into its address bytes (4 or 16) and length. */
export interface ParsedPrefix {
  bytes: Uint8Array;
  length: number;
}

export function parsePrefix(text: string): ParsedPrefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new RangeError(`not a prefix (missing /len): "${text}"`);
  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const bytes = isIpv6Text(address) ? tryParseIpv6(address) : ipv4OrNull(address);
  if (bytes === null) throw new RangeError(`not a prefix (bad address): "${text}"`);
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : -1;
  if (length < 0 || length > bytes.length * 8) throw new RangeError(`not a prefix (bad length): "${text}"`);
  return { bytes, length };
}

function ipv4OrNull(text: string): Uint8Array | null {
  const value = tryParseIpv4(text);
  if (value === null) return null;
  return new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
}

/** Address bytes (4 or 16) and prefix length as "addr/len". */
export function formatPrefix(bytes: Uint8Array, length: number): string {
  return (bytes.length === 4 ? ipv4ToString(bytes, 0) : ipv6ToString(bytes, 0)) + '/' + length;
}
