// The expect.yaml a fixture made from a capture starts with: healthy = the live peer keeps the
// session without a NOTIFICATION; symptom = what the recorded peer did (its NOTIFICATION, or
// the session never coming up). The user edits it to state the field's symptom precisely.

import type { Recording } from './recording.ts';
import type { ExpectFile, Symptom } from './symptoms.ts';

export function defaultExpect(recording: Recording): ExpectFile {
  const peerNotification = recording.messages.find((m) => m.from === 'peer' && m.type === 'NOTIFICATION');
  const peerKeepalive = recording.messages.some((m) => m.from === 'peer' && m.type === 'KEEPALIVE');
  let symptoms: Symptom[];
  let bug: string;
  if (peerNotification) {
    const code = parseInt(peerNotification.hex.slice(38, 40), 16);
    const subcode = parseInt(peerNotification.hex.slice(40, 42), 16);
    symptoms = [{ 'peer-sends-notification': { code, subcode } }];
    bug = `the recorded peer sent NOTIFICATION ${code}/${subcode}`;
  } else if (!peerKeepalive) {
    symptoms = [{ 'session-not-established': null }];
    bug = 'the recorded session never reached Established';
  } else {
    symptoms = [{ 'peer-sends-notification': { code: 3 } }];
    bug = 'placeholder: the recorded session showed no error; state the field symptom here';
  }
  return { bug, symptoms, healthy: [{ 'session-established': null }, { 'peer-sends-no-notification': null }], replay: { speed: 10, maxGap: 1, settle: 2 } };
}
