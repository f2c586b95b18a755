// Golden captures of real sessions, decoded by peerproof and by tshark's BGP dissector (the
// independent witness): every message must agree on type, length, capabilities, path attributes
// (wire order included), prefixes and path ids.

import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { decodeCapture } from './decode-capture.ts';
import type { DecodedMessage } from './bgp-stream.ts';
import { formatJsonl } from './format-jsonl.ts';
import type { BgpMessage, PrefixOrfEntry, Route, RouteRefreshMessage, UpdateMessage } from '../../reference/bgp/wire/types.ts';
import { encodeMessage } from '../../reference/bgp/wire/index.ts';
import { readCapture } from './pcap-reader.ts';
import { writePcap, type Frame } from './testing/capture-writer.ts';

const pcapDir = fileURLToPath(new URL('../../pcaps/', import.meta.url));
const goldenFiles = readdirSync(pcapDir).filter((f) => /\.pcap(ng)?$/.test(f));

type Fields = Record<string, string[]>;
interface TsharkMessage {
  src: string;
  fields: Fields;
}

/** Every BGP message tshark dissects, with its fields flattened to name -> values in tree order. */
function tsharkMessages(file: string, extraArgs: string[] = []): TsharkMessage[] {
  const json = execFileSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys', '-Y', 'bgp', ...extraArgs], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const frames = JSON.parse(json) as Array<{ _source: { layers: Record<string, unknown> } }>;
  const out: TsharkMessage[] = [];
  for (const frame of frames) {
    const layers = frame._source.layers;
    const ip = (layers.ip ?? layers.ipv6) as Record<string, string>;
    const tcp = layers.tcp as Record<string, string>;
    const srcIp = ip['ip.src'] ?? ip['ipv6.src']!;
    const src = srcIp.includes(':') ? `[${srcIp}]:${tcp['tcp.srcport']}` : `${srcIp}:${tcp['tcp.srcport']}`;
    const bgp = layers.bgp;
    for (const message of Array.isArray(bgp) ? bgp : [bgp]) {
      const fields: Fields = {};
      flatten(message, fields);
      out.push({ src, fields });
    }
  }
  return out;
}

function flatten(node: unknown, out: Fields): void {
  if (Array.isArray(node)) {
    for (const item of node) {
      if (item !== null && typeof item === 'object') flatten(item, out);
    }
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') (out[key] ??= []).push(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) (out[key] ??= []).push(...(value as string[]));
    else flatten(value, out);
  }
}

function ours(file: string, opts: Parameters<typeof decodeCapture>[2] = {}): { messages: DecodedMessage[]; warnings: string[] } {
  const messages: DecodedMessage[] = [];
  const warnings: string[] = [];
  decodeCapture(readFileSync(file), (m) => messages.push(m), { ...opts, onWarning: (w) => warnings.push(w) });
  return { messages, warnings };
}

const f = (fields: Fields, name: string): string[] => fields[name] ?? [];
const P = 'bgp.update.path_attribute.';
const ADD_PATH_MODES: Record<string, string> = { '1': 'receive', '2': 'send', '3': 'both' };

/** The UPDATE's prefixes in wire order: withdrawn, then MP attributes in attribute order, then NLRI. */
function wireOrderRoutes(u: UpdateMessage): Route[] {
  const routes = [...u.withdrawn];
  for (const attr of u.layout ?? []) {
    if (attr.code === 14) routes.push(...(u.attributes.mpReach?.nlri ?? []));
    if (attr.code === 15) routes.push(...(u.attributes.mpUnreach?.withdrawn ?? []));
  }
  return routes.concat(u.nlri);
}

function compareWithTshark(ourMessage: BgpMessage, fields: Fields): void {
  switch (ourMessage.type) {
    case 'OPEN': {
      expect(f(fields, 'bgp.open.version')).toEqual([String(ourMessage.version)]);
      expect(f(fields, 'bgp.open.myas')).toEqual([String(ourMessage.myAs)]);
      expect(f(fields, 'bgp.open.holdtime')).toEqual([String(ourMessage.holdTime)]);
      expect(f(fields, 'bgp.open.identifier')).toEqual([ourMessage.bgpId]);
      expect(f(fields, 'bgp.cap.type')).toEqual(ourMessage.capabilities.map((c) => String(c.code)));
      expect(f(fields, 'bgp.cap.4as')).toEqual(ourMessage.as4 === null ? [] : [String(ourMessage.as4)]);
      const mp = ourMessage.capabilities.flatMap((c) => (c.code === 1 && 'afi' in c ? [c] : []));
      expect(f(fields, 'bgp.cap.mp.afi')).toEqual(mp.map((c) => String(c.afi)));
      expect(f(fields, 'bgp.cap.mp.safi')).toEqual(mp.map((c) => String(c.safi)));
      const addPath = ourMessage.capabilities.flatMap((c) => (c.code === 69 && 'entries' in c ? c.entries : []));
      expect(f(fields, 'bgp.cap.ap.afi')).toEqual(addPath.map((e) => String(e.afi)));
      expect(f(fields, 'bgp.cap.ap.sendreceive').map((v) => ADD_PATH_MODES[v])).toEqual(addPath.map((e) => e.mode));
      const orf = ourMessage.capabilities.flatMap((c) => (c.name === 'orf' || c.name === 'orf-cisco' ? c.entries : []));
      expect(f(fields, 'bgp.cap.orf.afi')).toEqual(orf.map((e) => String(e.afi)));
      expect(f(fields, 'bgp.cap.orf.safi')).toEqual(orf.map((e) => String(e.safi)));
      expect(f(fields, 'bgp.cap.orf.type')).toEqual(orf.flatMap((e) => e.types.map((t) => String(t.type))));
      expect(f(fields, 'bgp.cap.orf.sendreceive').map((v) => ADD_PATH_MODES[v])).toEqual(orf.flatMap((e) => e.types.map((t) => t.mode)));
      const fqdn = ourMessage.capabilities.find((c) => c.code === 73);
      if (fqdn !== undefined && 'hostname' in fqdn) expect(f(fields, 'bgp.cap.orf.fqdn.hostname')).toEqual([fqdn.hostname]);
      break;
    }
    case 'UPDATE': {
      const a = ourMessage.attributes;
      expect(f(fields, `${P}type_code`)).toEqual((ourMessage.layout ?? []).map((l) => String(l.code)));
      expect(f(fields, `${P}length`)).toEqual((ourMessage.layout ?? []).map((l) => String(l.length)));
      if (a.origin !== undefined) expect(f(fields, `${P}origin`)).toEqual([String(['igp', 'egp', 'incomplete'].indexOf(a.origin))]);
      const codes = (ourMessage.layout ?? []).map((l) => l.code);
      const merged = (a.asPath ?? []).flatMap((s) => s.asns.map(String));
      if (codes.includes(17)) {
        // 2-octet session with AS4_PATH: tshark lists AS_PATH (as2, with AS_TRANS) and AS4_PATH
        // (as4) apart; ours is their RFC 6793 4.2.3 merge: AS_PATH's leading extra ASNs, then AS4_PATH.
        const as2 = f(fields, `${P}as_path_segment.as2`);
        const as4 = f(fields, `${P}as_path_segment.as4`);
        expect(as2).toContain('23456');
        expect(merged).toEqual([...as2.slice(0, Math.max(0, as2.length - as4.length)), ...as4]);
      } else {
        expect([...f(fields, `${P}as_path_segment.as4`), ...f(fields, `${P}as_path_segment.as2`)]).toEqual(merged);
      }
      if (a.aggregator !== undefined) {
        // tshark lists AGGREGATOR then AS4_AGGREGATOR; the 4-octet value is the last one.
        expect(f(fields, `${P}aggregator_as`).at(-1)).toBe(String(a.aggregator.asn));
        expect(f(fields, `${P}aggregator_origin`).at(-1)).toBe(a.aggregator.address);
      }
      expect(f(fields, `${P}next_hop`)).toEqual(a.nextHop === undefined ? [] : [a.nextHop]);
      expect(f(fields, `${P}multi_exit_disc`)).toEqual(a.med === undefined ? [] : [String(a.med)]);
      expect(f(fields, `${P}local_pref`)).toEqual(a.localPref === undefined ? [] : [String(a.localPref)]);
      // tshark shows well-known communities (RFC 1997, 0xFFFFxxxx) as one hex value, others as AS:value.
      const communities = a.communities ?? [];
      const regular = communities.filter((c) => !c.startsWith('65535:'));
      expect(f(fields, `${P}community_as`).map((as, i) => `${as}:${f(fields, `${P}community_value`)[i]}`)).toEqual(regular);
      expect(f(fields, `${P}community_wellknown`).map((hex) => `65535:${Number(hex) & 0xffff}`)).toEqual(
        communities.filter((c) => c.startsWith('65535:')),
      );
      const ga = f(fields, 'bgp.large_communities.ga');
      expect(ga.map((g, i) => `${g}:${f(fields, 'bgp.large_communities.ldp1')[i]}:${f(fields, 'bgp.large_communities.ldp2')[i]}`)).toEqual(
        a.largeCommunities ?? [],
      );
      if (a.mpReach !== undefined) {
        expect(f(fields, `${P}mp_reach_nlri.afi`)).toEqual([String(a.mpReach.afi)]);
        expect([...f(fields, `${P}mp_reach_nlri.next_hop.ipv6`), ...f(fields, `${P}mp_reach_nlri.next_hop.ipv6.link_local`)]).toEqual(
          a.mpReach.nextHops,
        );
      }
      const routes = wireOrderRoutes(ourMessage);
      const tsharkPrefixes = [
        ...f(fields, 'bgp.withdrawn_prefix'),
        ...f(fields, 'bgp.mp_reach_nlri_ipv6_prefix'),
        ...f(fields, 'bgp.mp_unreach_nlri_ipv6_prefix'),
        ...f(fields, 'bgp.nlri_prefix'),
      ];
      expect(tsharkPrefixes.sort()).toEqual(routes.map((r) => r.prefix.split('/')[0]!).sort());
      expect(f(fields, 'bgp.prefix_length')).toEqual(routes.map((r) => r.prefix.split('/')[1]!));
      expect(f(fields, 'bgp.nlri_path_id')).toEqual(routes.flatMap((r) => (r.pathId === undefined ? [] : [String(r.pathId)])));
      break;
    }
    case 'NOTIFICATION':
      expect(f(fields, 'bgp.notify.major_error')).toEqual([String(ourMessage.code)]);
      expect(Object.entries(fields).filter(([k]) => k.startsWith('bgp.notify.minor_error')).flatMap(([, v]) => v)).toEqual([
        String(ourMessage.subcode),
      ]);
      break;
    case 'ROUTE-REFRESH':
      expect(f(fields, 'bgp.route_refresh.afi')).toEqual([String(ourMessage.afi)]);
      expect(f(fields, 'bgp.route_refresh.safi')).toEqual([String(ourMessage.safi)]);
      expect(f(fields, 'bgp.route_refresh.subtype')).toEqual([String(ourMessage.subtype)]);
      // ORFs: tshark 4.0 reads When-to-refresh, type and length (entries only for Cisco's type 128).
      const orfs = ourMessage.orfs ?? [];
      expect(f(fields, 'bgp.route_refresh.orf.flag')).toEqual(orfs.length === 0 ? [] : [String(ourMessage.whenToRefresh === 'immediate' ? 1 : ourMessage.whenToRefresh === 'defer' ? 2 : ourMessage.whenToRefresh)]);
      expect(f(fields, 'bgp.route_refresh.orf.type')).toEqual(orfs.map((o) => String(o.type)));
      expect(f(fields, 'bgp.route_refresh.orf.length')).toEqual(orfs.map((o) => String(o.name === 'address-prefix' ? o.entries.reduce((n, e) => n + entryOctets(e), 0) : o.hex.length / 2)));
      break;
    case 'KEEPALIVE':
    case 'UNKNOWN':
      break;
  }
}

function entryOctets(e: PrefixOrfEntry): number {
  return e.action === 'remove-all' ? 1 : 8 + ((Number(e.prefix!.split('/')[1]) + 7) >> 3);
}

const TYPE_CODES = ['', 'OPEN', 'UPDATE', 'NOTIFICATION', 'KEEPALIVE', 'ROUTE-REFRESH'];

/**
 * Pairs our messages with tshark's per sending endpoint, in stream order, and compares each pair.
 * A message with errors (a broken header) is compared on what tshark reads of it: type and length
 * when it shows them (it shows a BGP PDU without either for a bad marker).
 */
function expectAgreement(ourMessages: DecodedMessage[], theirs: TsharkMessage[]): void {
  const bySender = new Map<string, TsharkMessage[]>();
  for (const t of theirs) bySender.set(t.src, [...(bySender.get(t.src) ?? []), t]);
  const seen = new Map<string, number>();
  for (const m of ourMessages) {
    const index = seen.get(m.src) ?? 0;
    seen.set(m.src, index + 1);
    const t = bySender.get(m.src)?.[index];
    expect(t, `tshark has no message #${index} from ${m.src}`).toBeDefined();
    const typeCode = m.message?.type === 'UNKNOWN' ? m.message.typeCode : TYPE_CODES.indexOf(m.type);
    if (m.errors !== undefined) {
      const theirType = f(t!.fields, 'bgp.type');
      if (theirType.length > 0) {
        expect(theirType).toEqual([String(typeCode)]);
        expect(f(t!.fields, 'bgp.length')).toEqual([String(m.length)]);
      } else {
        expect(m.errors[0]).toMatchObject({ code: 1, subcode: 1 }); // tshark does not read a header without its marker
      }
      continue;
    }
    expect(f(t!.fields, 'bgp.type')).toEqual([String(typeCode)]);
    expect(f(t!.fields, 'bgp.length')).toEqual([String(m.length)]);
    compareWithTshark(m.message!, t!.fields);
    // Our encoder writes what our decoder read at the length it had on the wire.
    if (m.message!.type === 'ROUTE-REFRESH' || m.message!.type === 'NOTIFICATION') expect(encodeMessage(m.message!).length).toBe(m.length);
  }
  expect(ourMessages.length).toBe(theirs.length);
}

describe('golden captures agree with tshark', () => {
  it('has the golden captures the issue asks for', () => {
    expect(goldenFiles).toEqual(
      expect.arrayContaining([
        'frr-gobgp-as4-addpath.pcap', 'gobgp-bird-ipv6-addpath.pcapng', 'frr-bird-cooked-holdtimer.pcap', 'frr-bird-as2-as4path.pcap',
        'frr-frr-orf.pcap', 'frr-header-errors.pcap',
      ]),
    );
  });

  for (const name of goldenFiles) {
    it(name, () => {
      const file = join(pcapDir, name);
      const { messages, warnings } = ours(file);
      expect(warnings).toEqual([]);
      expect(messages.length).toBeGreaterThan(5);
      // Only the capture made of broken headers has messages with errors.
      if (name !== 'frr-header-errors.pcap') expect(messages.filter((m) => m.errors !== undefined)).toEqual([]);
      expectAgreement(messages, tsharkMessages(file));
      for (const m of messages) {
        // every line is valid JSON with the contract's envelope
        const line = JSON.parse(formatJsonl(m)) as Record<string, unknown>;
        expect(line).toMatchObject({ ts: expect.any(Number), src: m.src, dst: m.dst, type: m.type, length: m.length });
      }
    });
  }

  it('the FRR <-> GoBGP capture shows every feature it was made for', () => {
    const { messages } = ours(join(pcapDir, 'frr-gobgp-as4-addpath.pcap'));
    const types = new Set(messages.map((m) => m.type));
    expect([...types].sort()).toEqual(['KEEPALIVE', 'NOTIFICATION', 'OPEN', 'ROUTE-REFRESH', 'UPDATE']);
    const updates = messages.flatMap((m) => (m.message?.type === 'UPDATE' ? [{ m, u: m.message }] : []));
    // ADD-PATH negotiated on the IPv4 session: every IPv4 route has a path id ...
    const v4 = updates.filter(({ m }) => !m.src.startsWith('[')).flatMap(({ u }) => [...u.nlri, ...u.withdrawn]);
    expect(v4.length).toBeGreaterThan(0);
    expect(v4.every((r) => r.pathId !== undefined)).toBe(true);
    // ... and not on the IPv6 session (GoBGP did not offer it there): no path ids.
    const v6 = updates.filter(({ m }) => m.src.startsWith('[')).flatMap(({ u }) => u.attributes.mpReach?.nlri ?? []);
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every((r) => r.pathId === undefined)).toBe(true);
    const tagged = updates.find(({ u }) => u.nlri.some((r) => r.prefix === '203.0.113.0/24'))!.u;
    expect(tagged.attributes).toMatchObject({ med: 70, communities: ['65002:300'], largeCommunities: ['4200000002:3:4'], asPath: [{ type: 'sequence', asns: [4200000002] }] });
    const notification = messages.find((m) => m.type === 'NOTIFICATION')!.message;
    expect(notification).toMatchObject({ code: 6, subcode: 2 });
  });

  it('the 2-octet FRR <-> BIRD capture merges AS4_PATH and AS4_AGGREGATOR (nanosecond pcap)', () => {
    const file = join(pcapDir, 'frr-bird-as2-as4path.pcap');
    expect(readFileSync(file).readUInt32LE(0)).toBe(0xa1b23c4d);
    const { messages } = ours(file);
    const aggregate = messages.find((m) => m.message?.type === 'UPDATE' && m.message.nlri[0]?.prefix === '198.51.100.0/23')!.message!;
    expect(aggregate).toMatchObject({
      attributes: { asPath: [{ type: 'sequence', asns: [4200000001] }], atomicAggregate: true, aggregator: { asn: 4200000001, address: '10.0.4.1' } },
    });
    expect((aggregate as UpdateMessage).layout!.map((l) => l.code)).toEqual([1, 2, 3, 4, 6, 7, 17, 18]);
  });

  it('the FRR <-> FRR capture: prefix-list ORFs both ways, added and removed, as configured (pcaps/frr-frr-orf.md)', () => {
    const { messages } = ours(join(pcapDir, 'frr-frr-orf.pcap'));
    const orf = (from: string) =>
      messages.flatMap((m) => (m.src.startsWith(from) && m.message?.type === 'ROUTE-REFRESH' && m.message.orfs ? [{ length: m.length, r: m.message as RouteRefreshMessage }] : []));
    const entries = (r: RouteRefreshMessage) => [r.whenToRefresh, ...r.orfs!.flatMap((o) => (o.name === 'address-prefix' ? o.entries : []))];
    const add = (sequence: number, match: 'permit' | 'deny', prefix: string, minLength = 0, maxLength = 0): PrefixOrfEntry => ({ action: 'add', match, sequence, minLength, maxLength, prefix });
    const fromFrr1 = orf('10.0.6.1:');
    const fromFrr2 = orf('10.0.6.2:');
    // frr1 (prefix-list FROM-FRR2): at session start; after seq 8 was added, DEFER REMOVE-ALL then
    // IMMEDIATE with the whole list (FRR's clear ... prefix-filter did that twice).
    expect(fromFrr1.map((x) => x.length)).toEqual([49, 28, 60, 28, 60]);
    const frr1List = ['immediate', add(5, 'permit', '203.0.113.0/24'), add(10, 'deny', '198.51.100.0/22', 24, 25)];
    const frr1Added = ['immediate', add(5, 'permit', '203.0.113.0/24'), add(8, 'permit', '198.51.101.0/24'), add(10, 'deny', '198.51.100.0/22', 24, 25)];
    const removeAll = (when: string) => [when, { action: 'remove-all', match: 'permit', wireAction: 3 }];
    expect(fromFrr1.map((x) => entries(x.r))).toEqual([frr1List, removeAll('defer'), frr1Added, removeAll('defer'), frr1Added]);
    // frr2 (prefix-list FROM-FRR1): at session start, then taken off the neighbor: IMMEDIATE REMOVE-ALL.
    expect(fromFrr2.map((x) => entries(x.r))).toEqual([['immediate', add(5, 'permit', '192.0.2.0/25')], removeAll('immediate')]);
    expect([...fromFrr1, ...fromFrr2].every((x) => x.r.orfs!.every((o) => o.type === 64))).toBe(true);
  });

  it('the FRR header-error capture: each broken message appears with the error FRR answered it with', () => {
    const { messages } = ours(join(pcapDir, 'frr-header-errors.pcap'));
    const streams = [...new Set(messages.map((m) => m.stream))];
    expect(streams).toEqual([0, 1, 2]);
    const seen = streams.map((stream) => {
      const inStream = messages.filter((m) => m.stream === stream);
      const broken = inStream.filter((m) => m.errors !== undefined);
      expect(broken).toHaveLength(1);
      const answer = inStream.at(-1)!;
      expect(answer.type).toBe('NOTIFICATION');
      expect(inStream.indexOf(broken[0]!)).toBe(inStream.length - 2); // in order: the broken message, then FRR's answer
      const n = answer.message as { code: number; subcode: number; data: string };
      expect(broken[0]!.errors).toEqual([expect.objectContaining({ action: 'session-reset', code: n.code, subcode: n.subcode })]);
      const line = JSON.parse(formatJsonl(broken[0]!)) as Record<string, unknown>;
      expect(line.errors).toEqual(broken[0]!.errors);
      return [broken[0]!.type, broken[0]!.length, `${n.code}/${n.subcode}`, n.data];
    });
    expect(seen).toEqual([
      ['KEEPALIVE', 19, '1/1', ''],
      ['KEEPALIVE', 20, '1/2', '0014'],
      ['UNKNOWN', 19, '1/3', '09'],
    ]);
  });

  it('the FRR <-> BIRD capture ends with a hold timer expiry', () => {
    const { messages } = ours(join(pcapDir, 'frr-bird-cooked-holdtimer.pcap'));
    // BIRD, frozen by SIGSTOP, may still flush a queued KEEPALIVE after SIGCONT: look for the NOTIFICATION itself.
    const notifications = messages.filter((m) => m.type === 'NOTIFICATION');
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ src: expect.stringMatching(/^10\.0\.3\.1:/), message: { code: 4, subcode: 0 } });
  });

  it('without the OPENs, peerproof does not guess ADD-PATH where tshark does', () => {
    // Re-write the ADD-PATH capture without the packets that carried OPENs: the session state is
    // gone. tshark's dissector then guesses path ids from the NLRI bytes (its heuristic happens to be
    // right here, but it is a guess); the contract forbids guessing, so peerproof decodes without
    // path ids, says so on stderr, and takes them only when the user passes --add-path.
    const file = join(pcapDir, 'gobgp-bird-ipv6-addpath.pcapng');
    const openFrames = new Set(tsharkFrameNumbers(file, 'bgp.type == 1'));
    const frames: Frame[] = [];
    let index = 0;
    readCapture(readFileSync(file), (data, ts, linkType) => {
      index++;
      if (!openFrames.has(index)) frames.push({ data: data.slice(), ts, linkType });
    });
    const stripped = writeTemp('no-open.pcap', writePcap(frames, 'us'));
    const theirs = tsharkMessages(stripped);
    const theirPathIds = theirs.flatMap((t) => f(t.fields, 'bgp.nlri_path_id'));
    expect(theirPathIds.length).toBeGreaterThan(0); // tshark guessed

    const plain = ours(stripped);
    expect(plain.warnings.some((w) => /OPEN messages not captured/.test(w) && /--add-path 0/.test(w))).toBe(true);
    const plainRoutes = plain.messages.flatMap((m) => (m.message?.type === 'UPDATE' ? m.message.attributes.mpReach?.nlri ?? [] : []));
    expect(plainRoutes.every((r) => r.pathId === undefined)).toBe(true);

    const told = ours(stripped, { addPath: new Set([0]) });
    expectAgreement(told.messages, theirs);
  });

  it('without the OPENs, a 2-octet session is still read with 2-octet ASNs', () => {
    // A 2-octet AS_PATH read with 4-octet ASNs is malformed, which RFC 7606 reports in
    // UpdateMessage.errors instead of throwing: the stream decoder must retry on those too.
    const file = join(pcapDir, 'frr-bird-as2-as4path.pcap');
    const openFrames = new Set(tsharkFrameNumbers(file, 'bgp.type == 1'));
    expect(openFrames.size).toBeGreaterThan(0);
    const frames: Frame[] = [];
    let index = 0;
    readCapture(readFileSync(file), (data, ts, linkType) => {
      index++;
      if (!openFrames.has(index)) frames.push({ data: data.slice(), ts, linkType });
    });
    const stripped = ours(writeTemp('as2-no-open.pcap', writePcap(frames, 'ns')));
    expect(stripped.warnings.some((w) => /OPEN messages not captured/.test(w))).toBe(true);

    // Frames that carried an OPEN may have carried other messages too: each UPDATE of the
    // stripped capture must be one the full capture decodes, from the same speaker.
    const withOpens = ours(file).messages.filter((m) => m.type === 'UPDATE');
    const withoutOpens = stripped.messages.filter((m) => m.type === 'UPDATE');
    expect(withoutOpens.filter((m) => m.message?.type === 'UPDATE' && (m.message.attributes.asPath?.length ?? 0) > 0).length).toBeGreaterThan(2);
    for (const m of withoutOpens) expect(withOpens.filter((o) => o.src === m.src).map((o) => o.message)).toContainEqual(m.message);
    expect(withoutOpens.every((m) => m.message?.type === 'UPDATE' && m.message.errors === undefined)).toBe(true);
  });
});

function tsharkFrameNumbers(file: string, filter: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter(Boolean).map(Number);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'peerproof-golden-'));
  tempDirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
