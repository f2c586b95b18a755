// Path attributes to the wire, in type-code order. On a 2-octet session, ASNs above 65535 go
// out as AS_TRANS with AS4_PATH / AS4_AGGREGATOR alongside (RFC 6793 4.2.2).

import { ipv4ToBytes } from './addr.ts';
import { as4PathSegments, needsAs4Path, writeAsPath } from './aspath.ts';
import {
  AttributeCode,
  AttributeFlag,
  OPTIONAL_NON_TRANSITIVE,
  OPTIONAL_TRANSITIVE,
  ORIGINS,
  WELL_KNOWN,
  beginAttribute,
  endAttribute,
  writeAttribute,
} from './attribute-format.ts';
import { ByteWriter, checkUint, fromHex } from './bytes.ts';
import { addPathFor, writeMpReachAttribute, writeMpUnreachAttribute } from './mp-nlri.ts';
import { prepareRoutes } from './nlri.ts';
import { AS_TRANS, type CodecContext, type PathAttributes } from './types.ts';

const A = AttributeCode;

/** RFC 7606 7.8, 7.10, 7.14 and RFC 8092 6 make a zero-length list malformed: refuse to send one. */
function nonEmpty<T>(list: readonly T[], name: string): readonly T[] {
  if (list.length === 0) throw new RangeError(`${name}: an empty list would be a malformed attribute; leave the field out instead`);
  return list;
}

function parseCommunity(text: string): number {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match || Number(match[1]) > 0xffff || Number(match[2]) > 0xffff) throw new RangeError(`COMMUNITIES: bad community "${text}"`);
  return ((Number(match[1]) << 16) | Number(match[2])) >>> 0;
}

function writeLargeCommunity(w: ByteWriter, text: string): void {
  const parts = text.split(':');
  if (parts.length !== 3 || !parts.every((part) => /^\d+$/.test(part) && Number(part) <= 0xffffffff)) {
    throw new RangeError(`LARGE_COMMUNITIES: bad community "${text}"`);
  }
  for (const part of parts) w.u32(Number(part));
}

function writeExtendedCommunity(w: ByteWriter, hex: string): void {
  const bytes = fromHex(hex, 'EXTENDED_COMMUNITIES');
  if (bytes.length !== 8) throw new RangeError(`EXTENDED_COMMUNITIES: "${hex}" is not 8 bytes`);
  w.bytes(bytes);
}

/**
 * Writes every attribute of `attributes` in type-code order (unknown ones placed by their code,
 * with their flags as given). On a 2-octet session, ASNs above 65535 go out as AS_TRANS with
 * AS4_PATH / AS4_AGGREGATOR alongside (RFC 6793 4.2.2).
 */
export function writeAttributes(w: ByteWriter, attributes: PathAttributes, ctx: CodecContext): void {
  const as4 = ctx.as4 === true;
  // [type code, writer] pairs, sorted before writing. Unnamed closures on purpose: tsx's keepNames
  // wraps every named one in a defineProperty call, which dominated encoding time.
  const writers: Array<[number, () => void]> = [];
  function add(code: number, flags: number, value: (v: ByteWriter) => void): void {
    writers.push([code, () => writeAttribute(w, flags, code, value)]);
  }

  const a = attributes;
  if (a.origin !== undefined) {
    const value = ORIGINS.indexOf(a.origin);
    if (value < 0) throw new RangeError(`ORIGIN: unknown value "${a.origin}"`);
    add(A.ORIGIN, WELL_KNOWN, (v) => v.u8(value));
  }
  const sendsAs4Path = !as4 && a.asPath !== undefined && needsAs4Path(a.asPath);
  if (a.asPath !== undefined) {
    const path = a.asPath;
    add(A.AS_PATH, WELL_KNOWN, (v) => writeAsPath(v, path, as4 ? 4 : 2));
    if (sendsAs4Path) add(A.AS4_PATH, OPTIONAL_TRANSITIVE, (v) => writeAsPath(v, as4PathSegments(path), 4));
  }
  if (a.nextHop !== undefined) {
    const hop = ipv4ToBytes(a.nextHop);
    add(A.NEXT_HOP, WELL_KNOWN, (v) => v.bytes(hop));
  }
  if (a.med !== undefined) {
    const med = checkUint(a.med, 32, 'MED');
    add(A.MED, OPTIONAL_NON_TRANSITIVE, (v) => v.u32(med));
  }
  if (a.localPref !== undefined) {
    const pref = checkUint(a.localPref, 32, 'LOCAL_PREF');
    add(A.LOCAL_PREF, WELL_KNOWN, (v) => v.u32(pref));
  }
  if (a.atomicAggregate) add(A.ATOMIC_AGGREGATE, WELL_KNOWN, () => {});
  if (a.aggregator !== undefined) {
    const asn = checkUint(a.aggregator.asn, 32, 'AGGREGATOR asn');
    const address = ipv4ToBytes(a.aggregator.address);
    if (as4) add(A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
    else {
      // With AS4_PATH on the wire, a plain AGGREGATOR would make the receiver drop AS4_PATH
      // (RFC 6793 4.2.3), so the aggregator then travels as AS_TRANS + AS4_AGGREGATOR too.
      const viaAs4Aggregator = asn > 0xffff || sendsAs4Path;
      add(A.AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u16(viaAs4Aggregator ? AS_TRANS : asn).bytes(address));
      if (viaAs4Aggregator) add(A.AS4_AGGREGATOR, OPTIONAL_TRANSITIVE, (v) => v.u32(asn).bytes(address));
    }
  }
  if (a.communities !== undefined) {
    const values = nonEmpty(a.communities, 'COMMUNITIES').map(parseCommunity);
    add(A.COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((c) => v.u32(c)));
  }
  if (a.originatorId !== undefined) {
    const id = ipv4ToBytes(a.originatorId);
    add(A.ORIGINATOR_ID, OPTIONAL_NON_TRANSITIVE, (v) => v.bytes(id));
  }
  if (a.clusterList !== undefined) {
    const ids = nonEmpty(a.clusterList, 'CLUSTER_LIST').map((id) => ipv4ToBytes(id));
    add(A.CLUSTER_LIST, OPTIONAL_NON_TRANSITIVE, (v) => ids.forEach((id) => v.bytes(id)));
  }
  if (a.mpReach !== undefined) {
    const reach = a.mpReach;
    const addPath = addPathFor(ctx, reach.afi, reach.safi);
    const routes = prepareRoutes(reach.nlri, reach.afi, addPath, 'MP_REACH_NLRI');
    writers.push([A.MP_REACH_NLRI, () => writeMpReachAttribute(w, reach, routes, addPath)]);
  }
  if (a.mpUnreach !== undefined) {
    const { afi, safi, withdrawn } = a.mpUnreach;
    const addPath = addPathFor(ctx, afi, safi);
    const routes = prepareRoutes(withdrawn, afi, addPath, 'MP_UNREACH_NLRI');
    writers.push([A.MP_UNREACH_NLRI, () => writeMpUnreachAttribute(w, afi, safi, routes, addPath)]);
  }
  if (a.extendedCommunities !== undefined) {
    const values = nonEmpty(a.extendedCommunities, 'EXTENDED_COMMUNITIES');
    values.forEach((hex) => fromHex(hex, 'EXTENDED_COMMUNITIES'));
    add(A.EXTENDED_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((hex) => writeExtendedCommunity(v, hex)));
  }
  if (a.largeCommunities !== undefined) {
    const values = nonEmpty(a.largeCommunities, 'LARGE_COMMUNITIES');
    add(A.LARGE_COMMUNITIES, OPTIONAL_TRANSITIVE, (v) => values.forEach((text) => writeLargeCommunity(v, text)));
  }
  for (const unknown of a.unknown ?? []) {
    const code = checkUint(unknown.code, 8, 'attribute code');
    const flags = checkUint(unknown.flags, 8, `attribute ${code} flags`);
    const value = fromHex(unknown.hex, `attribute ${code}`);
    writers.push([
      code,
      () => {
        const at = beginAttribute(w, flags, code);
        w.bytes(value);
        endAttribute(w, at, (flags & AttributeFlag.EXTENDED_LENGTH) !== 0);
      },
    ]);
  }

  writers.sort((x, y) => x[0] - y[0]); // stable: unknown attributes keep their order
  for (const [, write] of writers) write();
}

