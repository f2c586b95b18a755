// A mutated OPEN on a connection of its own. The RFCs leave a SUT much choice over capabilities
// (ignore an unknown one, refuse with 2/7, accept a duplicate), so the oracle here is liveness
// only: the SUT must answer with its OPEN or a NOTIFICATION, never close without one or go away.
import { TesterPeer } from '../tester/tester-peer.ts';
import type { Sut, TesterSlot } from '../tester/sut.ts';
import type { Verdict } from './oracle.ts';
import { sutGone } from './session.ts';

export async function runOpenCase(sut: Sut, slot: TesterSlot, open: Uint8Array, timeoutMs = 5000): Promise<Verdict | null> {
  let peer: TesterPeer;
  try {
    peer = new TesterPeer(await sut.connect(slot), `fuzz open ${slot.address}`);
  } catch {
    return { kind: 'sut-died', signature: 'sut-died|open', text: 'the SUT refused the connection for an OPEN case' };
  }
  try {
    peer.sendMessage(open, 'mutated OPEN');
    const answer = await peer.next((m) => m.type === 'NOTIFICATION' || m.type === 'KEEPALIVE', timeoutMs);
    if (peer.closed && !peer.notification()) await new Promise((r) => setTimeout(r, 50));
    peer.sync();
    if (peer.notification() || answer) return null;
    if (!peer.closed) return null; // still waiting (e.g. its OPEN came, our KEEPALIVE did not): not a liveness failure
    if (await sutGone(sut, slot)) return { kind: 'sut-died', signature: 'sut-died|open', text: 'after a mutated OPEN the SUT closed without NOTIFICATION and refused connections afterwards' };
    return { kind: 'closed-without-notification', signature: 'closed-without-notification|open', text: 'the SUT closed the connection without NOTIFICATION after a mutated OPEN' };
  } finally {
    if (!peer.closed && peer.openReceived() && !peer.notification()) peer.sendMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: '' });
    peer.close();
  }
}
