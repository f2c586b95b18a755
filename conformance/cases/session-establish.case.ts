// session.establish: every session of the speaker under test is Established as its peer sees
// it, and the speaker's OPEN (from the capture of its link) is well-formed.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { OpenMessage } from '../../reference/bgp/wire/types.ts';
import { captureFileName } from '../lab/capture.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { sentBy } from '../checks/update-encoding.ts';
import { defineCase } from './harness.ts';

const AS_TRANS = 23456;

/** Families an OPEN offers: its multiprotocol capabilities, IPv4 unicast when it has none (RFC 4760 8). */
function offeredFamilies(open: OpenMessage): string[] {
  const mp = open.capabilities.filter((c) => c.code === 1) as Array<{ afi: number; safi: number }>;
  if (mp.length === 0) return ['ipv4-unicast'];
  return mp.map((c) => `${c.afi === 1 ? 'ipv4' : c.afi === 2 ? 'ipv6' : `afi${c.afi}`}-${c.safi === 1 ? 'unicast' : `safi${c.safi}`}`);
}

/** Whether an OPEN offers IPv4 unicast with IPv6 next hops (RFC 8950 capability 5). */
function offersExtendedNexthop(open: OpenMessage): boolean {
  return open.capabilities.some((c) => c.code === 5 && (c as { entries: Array<{ afi: number; safi: number; nextHopAfi: number }> }).entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2));
}

defineCase('session.establish', {
  async run({ lab, measure, artifact }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    expect(sessions.length, 'the fixture gives the speaker no fabric session: a BGP instance with peers for a speaker node in cluster/ (or `neighbors:` on a speaker node, x-peerproof or peerproof.yml) whose address a router of the topology carries would provide one').toBeGreaterThan(0);
    const seen = await lab.sessions();
    const problems: string[] = [];
    for (const s of sessions) {
      const state = seen.find((x) => x.node === s.peerNode && x.peer === s.speakerAddress)?.state ?? 'not seen';
      if (state !== 'Established') problems.push(`${s.peerNode} -> ${s.speakerNode} (${s.speakerAddress}): ${state}`);
    }
    measure('sessions', sessions.length);
    measure('established', sessions.length - problems.length);
    let opensChecked = 0;
    let extendedNexthop = 0;
    const negotiatedPerSession: string[] = [];
    for (const s of sessions.filter((x) => x.ifname)) {
      const file = captureFileName(lab.runDir, s.speakerNode, s.ifname!);
      const ends = { speaker: s.speakerAddress, peer: s.peerAddress };
      const { value: messages, met } = await pollUntil(
        () => capturedMessages(file),
        (ms) => sentBy(ms, ends).some((m) => m.type === 'OPEN'),
        5_000,
      );
      artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));
      if (!met) {
        problems.push(`no OPEN from ${s.speakerAddress} to ${s.peerAddress} in ${file}`);
        continue;
      }
      const open = sentBy(messages, ends).find((m) => m.type === 'OPEN')!.message as OpenMessage;
      opensChecked++;
      if (open.version !== 4) problems.push(`RFC 4271 4.2: ${s.speakerNode} OPEN version ${open.version}`);
      if (open.holdTime !== 0 && open.holdTime < 3) problems.push(`RFC 4271 4.2: ${s.speakerNode} hold time ${open.holdTime}`);
      if (open.as4 === null) problems.push(`RFC 6793 3: ${s.speakerNode} OPEN lacks the 4-octet AS capability`);
      else if (open.as4 !== s.speakerAsn) problems.push(`RFC 6793 3: ${s.speakerNode} 4-octet AS ${open.as4}, configured ${s.speakerAsn}`);
      const expectedMyAs = s.speakerAsn > 65535 ? AS_TRANS : s.speakerAsn;
      if (open.myAs !== expectedMyAs) problems.push(`RFC 6793 3: ${s.speakerNode} My AS ${open.myAs}, expected ${expectedMyAs}`);
      // Address families: what both OPENs offer (RFC 4760 8), judged against what the session
      // is meant to carry; IPv4 unicast over an IPv6 session needs extended next hop (RFC 8950).
      const peerOpen = sentBy(messages, { speaker: s.peerAddress, peer: s.speakerAddress }).find((m) => m.type === 'OPEN')?.message as OpenMessage | undefined;
      if (!peerOpen) continue;
      const negotiated = offeredFamilies(open).filter((f) => offeredFamilies(peerOpen).includes(f));
      negotiatedPerSession.push(`${s.speakerNode}->${s.peerAddress}: ${negotiated.join('+') || 'none'}`);
      for (const f of s.families.filter((x) => !negotiated.includes(x)))
        problems.push(`RFC 4760 8: ${s.speakerNode} -> ${s.peerAddress}: ${f} not negotiated (speaker offers ${offeredFamilies(open).join(', ')}; peer offers ${offeredFamilies(peerOpen).join(', ')})`);
      if (s.peerAddress.includes(':') && negotiated.includes('ipv4-unicast')) {
        const speakerEnh = offersExtendedNexthop(open);
        const peerEnh = offersExtendedNexthop(peerOpen);
        if (speakerEnh && peerEnh) extendedNexthop++;
        else if (peerEnh) problems.push(`RFC 8950 4: ${s.speakerNode} -> ${s.peerAddress}: IPv4 unicast over IPv6, the peer offers extended next hop and the speaker does not`);
      }
    }
    measure('negotiated', negotiatedPerSession.join('; '));
    measure('extendedNexthopSessions', extendedNexthop);
    measure('opensChecked', opensChecked);
    measure('ibgp', sessions.filter((s) => s.speakerAsn === s.peerAsn).length);
    measure('fourOctetAsn', sessions.some((s) => s.speakerAsn > 65535));
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
