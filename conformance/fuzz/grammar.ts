// Grammar-aware mutations: an UPDATE (or OPEN) is built as a list of fields — path attributes as
// flags/code/value, NLRI and withdrawn routes as bytes — one or two of them are pushed to and past
// their bounds, and the message is framed again. The framing lengths (header, withdrawn routes,
// total path attribute length) are right unless a mutation breaks one on purpose, so the bytes
// reach the field the mutation is about.
import { attribute, ipv4, ipv4Nlri, u32 } from '../tester/bytes.ts';
import { pick } from '../../reference/bgp/wire/testdata/mutations.ts';

type Random = () => number;

export interface Attr {
  flags: number;
  code: number;
  value: number[];
  /** a length octet(s) that lies about the value (set by a length mutation) */
  length?: number;
}

export interface UpdateParts {
  withdrawn: number[];
  attrs: Attr[];
  nlri: number[];
  /** override of the withdrawn routes length field */
  withdrawnLength?: number;
  /** override of the total path attribute length field */
  attrsLength?: number;
}

/** What a grammar mutation knows about the session it is generated for. */
export interface GrammarSession {
  /** the tester's AS (first AS of every AS_PATH it sends) */
  asn: number;
  /** the tester's address: the NEXT_HOP of what it announces */
  address: string;
  /** the session runs ADD-PATH receive on the SUT's side for IPv4/IPv6 unicast (an addpath slot) */
  addPath: boolean;
}

const u16 = (n: number) => [(n >> 8) & 255, n & 255];
const oneOf = <T>(random: Random, values: readonly T[]): T => values[pick(random, values.length)]!;

function encodeAttr(a: Attr): number[] {
  if (a.length === undefined) return attribute(a.flags, a.code, a.value);
  return a.flags & 0x10 ? [a.flags, a.code, ...u16(a.length), ...a.value] : [a.flags, a.code, a.length & 255, ...a.value];
}

/** The UPDATE's bytes; lengths from the parts unless a mutation overrode one. */
export function encodeParts(p: UpdateParts): Uint8Array {
  const attrs = p.attrs.flatMap(encodeAttr);
  const body = [...u16(p.withdrawnLength ?? p.withdrawn.length), ...p.withdrawn, ...u16(p.attrsLength ?? attrs.length), ...attrs, ...p.nlri];
  const length = Math.min(19 + body.length, 4096);
  return new Uint8Array([...new Array<number>(16).fill(0xff), ...u16(length), 2, ...body.slice(0, length - 19)]);
}

/** A fuzz prefix: 100.64.0.0/10 space, /24, distinct from what clause tests use. */
function fuzzPrefix(random: Random): string {
  return `100.${64 + pick(random, 64)}.${pick(random, 256)}.0/24`;
}

function asPathValue(asns: number[], as4 = true, segmentType = 2): number[] {
  return asns.length ? [segmentType, asns.length, ...asns.flatMap((a) => (as4 ? u32(a) : u16(a)))] : [];
}

/** A well-formed announcement of one or two fuzz prefixes from the tester (IPv4 NLRI). */
export function baseUpdate(random: Random, s: GrammarSession): UpdateParts {
  const prefixes = Array.from({ length: 1 + pick(random, 2) }, () => fuzzPrefix(random));
  const nlri = prefixes.flatMap((p, i) => (s.addPath ? [...u32(i + 1), ...ipv4Nlri(p)] : ipv4Nlri(p)));
  return {
    withdrawn: [],
    attrs: [
      { flags: 0x40, code: 1, value: [0] },
      { flags: 0x40, code: 2, value: asPathValue([s.asn]) },
      { flags: 0x40, code: 3, value: ipv4(s.address) },
    ],
    nlri,
  };
}

/** Adds an attribute, or replaces the one with its code. */
function put(p: UpdateParts, a: Attr): void {
  const i = p.attrs.findIndex((x) => x.code === a.code);
  if (i >= 0) p.attrs[i] = a;
  else p.attrs.push(a);
}

/** One of the attributes (an ORIGIN is added first when a mutation left none). */
function someAttr(p: UpdateParts, random: Random): Attr {
  if (p.attrs.length === 0) p.attrs.push({ flags: 0x40, code: 1, value: [0] });
  return p.attrs[pick(random, p.attrs.length)]!;
}

type GrammarMutation = (p: UpdateParts, random: Random, s: GrammarSession) => string;

const FLAG_SETS = [0x00, 0x20, 0x40, 0x50, 0x60, 0x80, 0x90, 0xa0, 0xc0, 0xd0, 0xe0, 0xf0];

export const GRAMMAR_MUTATIONS: Record<string, GrammarMutation> = {
  origin: (p, random) => {
    const value = oneOf(random, [[0], [1], [2], [3], [4], [255], [], [0, 0]]);
    put(p, { flags: 0x40, code: 1, value });
    return `ORIGIN value [${value.join(',')}]`;
  },
  flags: (p, random) => {
    const a = someAttr(p, random);
    a.flags = oneOf(random, FLAG_SETS);
    return `attribute ${a.code} flags 0x${a.flags.toString(16)}`;
  },
  attrLength: (p, random) => {
    const a = someAttr(p, random);
    const real = a.value.length;
    a.length = Math.max(0, oneOf(random, [0, real - 1, real + 1, 255, real + 2]));
    if (a.length > 255) a.flags |= 0x10;
    return `attribute ${a.code} length ${a.length} (value ${real})`;
  },
  truncateValue: (p, random) => {
    const a = someAttr(p, random);
    a.value = a.value.slice(0, pick(random, a.value.length + 1));
    return `attribute ${a.code} value cut to ${a.value.length}`;
  },
  duplicate: (p, random) => {
    const a = someAttr(p, random);
    p.attrs.splice(pick(random, p.attrs.length + 1), 0, { ...a, value: random() < 0.5 ? a.value : a.value.map((v) => v ^ 1) });
    return `attribute ${a.code} twice`;
  },
  reorder: (p, random) => {
    for (let i = p.attrs.length - 1; i > 0; i--) {
      const j = pick(random, i + 1);
      [p.attrs[i], p.attrs[j]] = [p.attrs[j]!, p.attrs[i]!];
    }
    return `attributes in order ${p.attrs.map((a) => a.code).join(',')}`;
  },
  missing: (p, random) => {
    const code = oneOf(random, [1, 2, 3]);
    p.attrs = p.attrs.filter((a) => a.code !== code);
    return `attribute ${code} missing`;
  },
  nlriEdge: (p, random, s) => {
    const len = oneOf(random, [0, 1, 8, 25, 31, 32, 33, 40, 64, 255]);
    const octets = Math.min(Math.ceil(len / 8), oneOf(random, [4, 4, 4, 5, 3]));
    const entry = [len, ...[100, 64 + pick(random, 64), pick(random, 256), 1 + pick(random, 254), 7].slice(0, octets)];
    p.nlri = [...p.nlri, ...(s.addPath ? [...u32(9), ...entry] : entry)];
    return `NLRI length ${len} with ${octets} octets`;
  },
  withdrawnEdge: (p, random, s) => {
    const len = oneOf(random, [0, 24, 32, 33, 255]);
    const entry = [len, ...[100, 64 + pick(random, 64), pick(random, 256), 1].slice(0, Math.min(4, Math.ceil(len / 8)))];
    p.withdrawn = s.addPath ? [...u32(1), ...entry] : entry;
    return `withdrawn length ${len}`;
  },
  addPathIds: (p, random) => {
    // path ids whether or not ADD-PATH was negotiated on this session
    const prefix = fuzzPrefix(random);
    p.nlri = [...u32(oneOf(random, [0, 1, 0xffffffff, pick(random, 1 << 30)])), ...ipv4Nlri(prefix)];
    if (random() < 0.3) p.withdrawn = [...u32(2), ...ipv4Nlri(fuzzPrefix(random))];
    return `NLRI with a path id (${prefix})`;
  },
  framingLengths: (p, random) => {
    if (random() < 0.5) {
      p.withdrawnLength = oneOf(random, [1, 2, 0xffff, p.withdrawn.length + 1]);
      return `withdrawn routes length ${p.withdrawnLength}`;
    }
    const real = p.attrs.flatMap(encodeAttr).length;
    p.attrsLength = oneOf(random, [0, real - 1, real + 1, 0xffff]);
    return `total path attribute length ${p.attrsLength} (real ${real})`;
  },
  asPath: (p, random, s) => {
    const kind = pick(random, 6);
    const asns = [s.asn, oneOf(random, [0, 23456, 65535, 65536, 4294967295, 64512])];
    let value: number[];
    if (kind === 0) value = asPathValue(asns, true, oneOf(random, [0, 1, 3, 4, 5, 9]));
    else if (kind === 1) value = [2, oneOf(random, [0, 3, 255]), ...asns.flatMap(u32)];
    else if (kind === 2) value = asPathValue(asns, false); // 2-octet path on a 4-octet session
    else if (kind === 3) value = [...asPathValue([s.asn]), 2, 0];
    else if (kind === 4) value = [];
    else value = [...asPathValue([s.asn]), ...asPathValue(Array.from({ length: 255 }, (_, i) => 64512 + i))];
    put(p, { flags: value.length > 255 ? 0x50 : 0x40, code: 2, value });
    return `AS_PATH form ${kind} (${value.length} octets)`;
  },
  as4Mix: (p, random, s) => {
    const kind = pick(random, 4);
    if (kind === 0) put(p, { flags: 0xc0, code: 17, value: asPathValue([s.asn, 4200000000]) });
    else if (kind === 1) put(p, { flags: 0xc0, code: 18, value: [...u32(4200000000), 10, 0, 0, 1] });
    else if (kind === 2) put(p, { flags: 0xc0, code: 7, value: oneOf(random, [[...u16(23456), 10, 0, 0, 1], [...u32(s.asn), 10, 0, 0, 1], [...u32(s.asn), 10, 0, 0]]) });
    else put(p, { flags: 0x40, code: 2, value: asPathValue([s.asn, 23456]) });
    return `AS4 mix ${kind}`;
  },
  mpReach: (p, random, s) => {
    const v6 = random() < 0.7;
    const nhLength = oneOf(random, v6 ? [0, 4, 15, 16, 17, 24, 32, 33, 255] : [0, 3, 4, 5, 12, 16, 32]);
    const nh = Array.from({ length: Math.min(nhLength, 40) }, (_, i) => (v6 ? [0x20, 0x01, 0x0d, 0xb8][i] ?? (i === 15 ? 1 : 0) : ipv4(s.address)[i % 4]!));
    const prefix = v6 ? [48, 0x20, 0x01, 0x0d, 0xb8, 0x0f, pick(random, 256)] : ipv4Nlri(fuzzPrefix(random));
    const nlri = s.addPath ? [...u32(1), ...prefix] : prefix;
    put(p, { flags: 0x80, code: 14, value: [...u16(v6 ? 2 : 1), 1, nhLength & 255, ...nh, 0, ...nlri] });
    if (random() < 0.5) p.nlri = [];
    return `MP_REACH ${v6 ? 'IPv6' : 'IPv4'} next hop length ${nhLength}`;
  },
  mpUnreach: (p, random) => {
    put(p, { flags: 0x80, code: 15, value: [...u16(oneOf(random, [1, 2, 3, 25])), oneOf(random, [1, 2, 128]), ...oneOf(random, [[], [48, 0x20, 0x01, 0x0d, 0xb8, 0x0f, 1], [129, 1]])] });
    return 'MP_UNREACH';
  },
  communities: (p, random) => {
    const code = oneOf(random, [8, 8, 16, 32]);
    const length = oneOf(random, code === 8 ? [0, 3, 4, 5, 8, 12] : code === 16 ? [0, 7, 8, 9, 16] : [0, 11, 12, 13, 24]);
    put(p, { flags: oneOf(random, [0xc0, 0xc0, 0x80, 0x40]), code, value: Array.from({ length }, (_, i) => (i * 37 + 1) & 255) });
    return `attribute ${code} length ${length}`;
  },
  medLocalPref: (p, random) => {
    const code = oneOf(random, [4, 5, 6, 9, 10]);
    const value = oneOf(random, [[], [1], [0, 0, 0], [0, 0, 0, 0], [255, 255, 255, 255], [0, 0, 0, 0, 0]]);
    put(p, { flags: code === 4 || code === 9 || code === 10 ? 0x80 : 0x40, code, value });
    return `attribute ${code} value length ${value.length}`;
  },
  nextHop: (p, random, s) => {
    const value = oneOf(random, [[0, 0, 0, 0], [255, 255, 255, 255], [127, 0, 0, 1], [224, 0, 0, 5], ipv4(s.address).slice(0, 3), [...ipv4(s.address), 0]]);
    put(p, { flags: 0x40, code: 3, value });
    return `NEXT_HOP [${value.join('.')}]`;
  },
  unknownAttr: (p, random) => {
    const code = oneOf(random, [0, 11, 19, 99, 128, 200, 255]);
    const flags = oneOf(random, [0x40, 0x80, 0xc0, 0xe0, 0x00]);
    put(p, { flags, code, value: Array.from({ length: pick(random, 6) }, () => pick(random, 256)) });
    return `attribute ${code} flags 0x${flags.toString(16)} (unrecognized)`;
  },
  withdrawOnly: (p, random, s) => {
    p.attrs = random() < 0.5 ? [] : p.attrs;
    p.withdrawn = p.nlri;
    p.nlri = [];
    if (random() < 0.3) p.withdrawn = [...p.withdrawn, ...(s.addPath ? u32(3) : []), 0];
    return 'withdraw only';
  },
};

/** One grammar-mutated UPDATE (one or two mutations of a well-formed announcement). */
export function grammarUpdate(random: Random, s: GrammarSession): { bytes: Uint8Array; label: string } {
  const names = Object.keys(GRAMMAR_MUTATIONS);
  const parts = baseUpdate(random, s);
  const labels: string[] = [];
  for (let i = 0, n = random() < 0.8 ? 1 : 2; i < n; i++) {
    const name = names[pick(random, names.length)]!;
    labels.push(`${name}: ${GRAMMAR_MUTATIONS[name]!(parts, random, s)}`);
  }
  return { bytes: encodeParts(parts), label: labels.join('; ') };
}

/** A well-formed announcement or withdrawal of a fuzz prefix (state for the RIB oracle). */
export function validUpdate(random: Random, s: GrammarSession): { bytes: Uint8Array; label: string } {
  const parts = baseUpdate(random, s);
  if (random() < 0.3) {
    GRAMMAR_MUTATIONS.withdrawOnly!(parts, () => 0.9, s);
    return { bytes: encodeParts(parts), label: 'valid withdrawal' };
  }
  return { bytes: encodeParts(parts), label: 'valid announcement' };
}

/** Capability TLVs of an OPEN, one or two of them mutated: duplicates, unknown codes, bad lengths, odd families. */
export function grammarOpen(random: Random, s: { asn: number; bgpId: string; holdTime: number }): { bytes: Uint8Array; label: string } {
  const caps: number[][] = [
    [1, 4, 0, 1, 0, 1],
    [1, 4, 0, 2, 0, 1],
    [2, 0],
    [65, 4, ...u32(s.asn)],
  ];
  const labels: string[] = [];
  let myAs = s.asn > 65535 ? 23456 : s.asn;
  let holdTime = s.holdTime;
  let paramType = 2;
  for (let i = 0, n = 1 + pick(random, 2); i < n; i++) {
    switch (pick(random, 9)) {
      case 0:
        caps.push(caps[pick(random, caps.length)]!);
        labels.push('duplicate capability');
        break;
      case 1:
        caps.push([oneOf(random, [0, 3, 4, 7, 128, 200, 255]), 2, 1, 2]);
        labels.push('unknown capability');
        break;
      case 2: {
        const c = caps[pick(random, caps.length)]!;
        c[1] = oneOf(random, [0, 1, c[1]! + 1, 255]);
        labels.push(`capability ${c[0]} length ${c[1]}`);
        break;
      }
      case 3:
        caps.push([1, 4, ...u16(oneOf(random, [0, 3, 25, 16388])), 0, oneOf(random, [0, 2, 4, 70, 128, 255])]);
        labels.push('multiprotocol odd family');
        break;
      case 4:
        caps.splice(3, 1, [65, 4, ...u32(oneOf(random, [0, 23456, s.asn + 1]))]);
        labels.push('AS4 capability value');
        break;
      case 5:
        caps.push([69, 4, 0, 1, 1, oneOf(random, [0, 1, 2, 3, 4, 255])]);
        labels.push('ADD-PATH mode');
        break;
      case 6:
        caps.push([64, oneOf(random, [0, 2, 6, 5]), 0x80, 0x78, 0, 1, 1, 0x80].slice(0, 2 + pick(random, 7)));
        labels.push('graceful restart');
        break;
      case 7:
        holdTime = oneOf(random, [0, 1, 2, 3, 65535]);
        labels.push(`hold time ${holdTime}`);
        break;
      default:
        paramType = oneOf(random, [1, 3, 255]);
        myAs = oneOf(random, [myAs, 0, 23456]);
        labels.push(`optional parameter type ${paramType}, My AS ${myAs}`);
    }
  }
  const capBytes = caps.flat().map((b) => b & 255);
  const params = [paramType, capBytes.length & 255, ...capBytes];
  const body = [4, ...u16(myAs), ...u16(holdTime), ...ipv4(s.bgpId), params.length & 255, ...params];
  return { bytes: new Uint8Array([...new Array<number>(16).fill(0xff), ...u16(19 + body.length), 1, ...body]), label: `OPEN: ${labels.join('; ')}` };
}
