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

defineCase('session.establish', {
  async run({ lab, measure, artifact }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    expect(sessions.length, 'the fixture gives the speaker at least one fabric session').toBeGreaterThan(0);
    const seen = await lab.sessions();
    const problems: string[] = [];
    for (const s of sessions) {
      const state = seen.find((x) => x.node === s.peerNode && x.peer === s.speakerAddress)?.state ?? 'not seen';
      if (state !== 'Established') problems.push(`${s.peerNode} -> ${s.speakerNode} (${s.speakerAddress}): ${state}`);
    }
    measure('sessions', sessions.length);
    measure('established', sessions.length - problems.length);
    let opensChecked = 0;
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
    }
    measure('opensChecked', opensChecked);
    measure('ibgp', sessions.filter((s) => s.speakerAsn === s.peerAsn).length);
    measure('fourOctetAsn', sessions.some((s) => s.speakerAsn > 65535));
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
