// update.encoding: the UPDATEs the speaker under test sent on each session, decoded from the
// capture of its link, judged against RFC 4271/4760/6793/4724 (conformance/checks/update-encoding).
import { join } from 'node:path';
import { expect } from 'vitest';
import { isEndOfRib, type UpdateMessage } from '../../reference/bgp/wire/index.ts';
import { captureFileName } from '../lab/capture.ts';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { checkUpdateEncoding, sentBy, type Finding } from '../checks/update-encoding.ts';
import { defineCase } from './harness.ts';

defineCase('update.encoding', {
  async run({ lab, measure, artifact }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.ifname && s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    expect(sessions.length, 'the speaker has captured fabric sessions').toBeGreaterThan(0);
    const must: Finding[] = [];
    const should: Finding[] = [];
    let updates = 0;
    let prefixes = 0;
    let endOfRib = 0;
    let largest = 0;
    for (const s of sessions) {
      const file = captureFileName(lab.runDir, s.speakerNode, s.ifname!);
      artifact(join('pcaps', `${s.speakerNode}-${s.ifname}.pcap`));
      const announce = lab.spec(s.speakerNode).announce;
      // Wait on the wire: every announced prefix seen; then a shorter bounded wait for the
      // End-of-RIB, which the speaker sends right after (its absence is a SHOULD finding).
      const ends = { speaker: s.speakerAddress, peer: s.peerAddress };
      const updatesSent = (ms: ReturnType<typeof capturedMessages>) =>
        sentBy(ms, ends).flatMap((m) => (m.type === 'UPDATE' && m.message ? [m.message as UpdateMessage] : []));
      await pollUntil(
        () => capturedMessages(file),
        (ms) => {
          const seen = new Set(updatesSent(ms).flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((r) => r.prefix)));
          return announce.every((p) => seen.has(p));
        },
        10_000,
      );
      const { value: messages } = await pollUntil(() => capturedMessages(file), (ms) => updatesSent(ms).some(isEndOfRib), 3_000);
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
