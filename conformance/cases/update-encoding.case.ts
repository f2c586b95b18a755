// update.encoding: the UPDATEs the speaker under test sent on each session, decoded from the
// capture of its link, judged against RFC 4271/4760/6793/4724 (conformance/checks/update-encoding).
import { join } from 'node:path';
import { expect } from 'vitest';
import { isEndOfRib, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { captureFileName } from '../lab/capture.ts';
import type { DecodedMessage } from '../capture/bgp-stream.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { carriesPrefix, speakerSessions } from '../checks/sessions.ts';
import { checkUpdateEncoding, sentBy, type Finding } from '../checks/update-encoding.ts';
import { defineCase } from './harness.ts';

/** How long after its last UPDATE a speaker's End-of-RIB is waited for. */
const EOR_AFTER_S = 3;

defineCase('update.encoding', {
  async run({ lab, measure, artifact }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    expect(sessions.length, 'the fixture gives the speaker no fabric session: a BGP instance with peers for a speaker node in cluster/ (or `neighbors:` on a speaker node, x-peerproof or peerproof.yml) whose address a router of the topology carries would provide one').toBeGreaterThan(0);
    const must: Finding[] = [];
    const should: Finding[] = [];
    let updates = 0;
    let prefixes = 0;
    let endOfRib = 0;
    let largest = 0;
    const watched = sessions.map((s) => {
      const ends = { speaker: s.speakerAddress, peer: s.peerAddress };
      const updatesIn = (ms: DecodedMessage[]) => sentBy(ms, ends).flatMap((m) => (m.type === 'UPDATE' && m.message ? [m.message as UpdateMessage] : []));
      return { s, ends, updatesIn, file: captureFileName(lab.runDir, s.speakerNode, s.ifname!), announce: lab.spec(s.speakerNode).announce.filter((p) => carriesPrefix(s, p)) };
    });
    const readAll = () => {
      const byFile = new Map<string, DecodedMessage[]>();
      for (const w of watched) if (!byFile.has(w.file)) byFile.set(w.file, capturedMessages(w.file));
      return byFile;
    };
    // Wait on the wire, all sessions at once: every announced prefix seen; then a shorter bounded
    // wait for the End-of-RIB the speaker sends right after (its absence is a SHOULD finding):
    // until EOR_AFTER_S past the speaker's last UPDATE on each session, the initial update having
    // often ended before the case began (GoBGP without graceful restart sends none).
    const eorDecided = (w: (typeof watched)[number], byFile: Map<string, DecodedMessage[]>) => {
      const sent = sentBy(byFile.get(w.file)!, w.ends).filter((m) => m.type === 'UPDATE');
      if (sent.some((m) => m.message && isEndOfRib(m.message as UpdateMessage))) return true;
      const last = sent.at(-1)?.ts;
      return last !== undefined && Date.now() / 1000 - last > EOR_AFTER_S;
    };
    await pollUntil(readAll, (byFile) =>
      watched.every((w) => {
        const seen = new Set(w.updatesIn(byFile.get(w.file)!).flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((r) => r.prefix)));
        return w.announce.every((p) => seen.has(p));
      }), 10_000);
    const { value: captured } = await pollUntil(readAll, (byFile) => watched.every((w) => eorDecided(w, byFile)), EOR_AFTER_S * 1000);
    for (const { s, ends, file, announce } of watched) {
      artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));
      const messages = captured.get(file)!;
      const verdict = checkUpdateEncoding(sentBy(messages, ends), sentBy(messages, { speaker: s.peerAddress, peer: s.speakerAddress }), {
        speaker: s.speakerAddress,
        peer: s.peerAddress,
        speakerAsn: s.speakerAsn,
        peerAsn: s.peerAsn,
        directEbgp: !s.multihop && s.speakerAsn !== s.peerAsn,
      });
      const label = (f: Finding) => ({ ...f, text: `${s.speakerNode} -> ${s.peerAddress}: ${f.text}` });
      must.push(...verdict.findings.filter((f) => f.level === 'MUST').map(label));
      should.push(...verdict.findings.filter((f) => f.level === 'SHOULD').map(label));
      updates += verdict.updates;
      prefixes += verdict.prefixes;
      largest = Math.max(largest, verdict.largestMessage);
      if (verdict.endOfRib) endOfRib++;
      if (announce.length > 0 && verdict.prefixes === 0)
        must.push({ level: 'MUST', rfc: 'RFC 4271 9.2', text: `${s.speakerNode} announced none of ${announce.join(', ')} to ${s.peerAddress}` });
    }
    measure('sessions', sessions.length);
    measure('updates', updates);
    measure('prefixes', prefixes);
    measure('sessionsWithEndOfRib', endOfRib);
    measure('largestMessage', largest);
    measure('shouldFindings', should.length);
    if (should.length > 0) measure('firstShouldFinding', `${should[0]!.rfc}: ${should[0]!.text}`);
    const failures = must.map((f) => `${f.rfc}: ${f.text}`);
    expect(failures, failures.join('; ')).toEqual([]);
  },
});
