// negative.malformed-update: malformed UPDATEs reach the speaker under test from its fabric
// router's address, and it takes the RFC 7606 action (treat-as-withdraw, attribute discard) or
// resets the session with the RFC 4271 6.3 NOTIFICATION. The speaker only peers configured
// neighbours, so for the duration the router's daemon is killed and a raw BGP peer of ours takes
// its place: a relay in the router's namespace opens a connection from the router's address to the
// speaker (or accepts the speaker's own) and hands it to this process over a unix socket in the
// run folder. The router is restarted afterwards and its sessions come back.
// Treat-as-withdraw and discard are told apart by a sentinel route in the speaker's Adj-RIB-In
// (agent status API, or the stand-in daemon's RIB); a marker route announced after each step
// proves the step was processed before the verdict is read.
import { join } from 'node:path';
import { expect } from 'vitest';
import { RawPeer } from '../../reference/bgp/raw-peer.ts';
import type { Capability } from '../../reference/bgp/wire/index.ts';
import { pollUntil, timedWait } from '../checks/captured.ts';
import { announceBytes, judgeStep, MALFORMED_STEPS, type MalformedStep, type StepObservation, type UpdateParts } from '../checks/malformed-updates.ts';
import { nodeInterfaces, sameSubnet, speakerSessions, type SpeakerSession } from '../checks/sessions.ts';
import { helperFailure } from '../lab/harness-error.ts';
import type { Lab } from '../lab/lab.ts';
import { routerKindOf } from '../lab/model.ts';
import { relayArgs, startRelay, type RelayInNode } from '../lab/relay-in-node.ts';
import { startNeighbor } from '../lab/kinds/openbgpd.ts';
import { killDaemon, restartDaemon } from '../lab/restart.ts';
import { speakerRibReader, type RibReader } from '../lab/speakers/rib-reader.ts';
import type { SuiteParams } from './harness.ts';
import { defineCase } from './harness.ts';

const SENTINEL = '198.51.100.0/24';
const OTHER = '203.0.113.0/24';
/** Marker announced after step i: 198.18.i.0/24 (benchmarking range, never used elsewhere). */
const marker = (i: number) => `198.18.${i}.0/24`;
const SESSION_BOUND_MS = 45_000; // GoBGP retries about every 10 s
/** One active open: the speaker answers our OPEN at once, or refuses the connection. */
const DIAL_MS = 5_000;
/** Between two active opens, how long the speaker's own connection is waited for. */
const ACCEPT_WINDOW_MS = 1_000;
const RESTORE_BOUND_MS = 40_000;

/** How to read the prefixes the speaker holds from the peer, or why that cannot be done. */
function ribReader(lab: Lab, suite: SuiteParams, s: SpeakerSession): RibReader | string {
  return speakerRibReader(lab, { node: s.speakerNode, peerAddress: s.peerAddress, hooked: suite.hookedNodes.includes(s.speakerNode), profileFile: suite.profileFile });
}

defineCase('negative.malformed-update', {
  timeoutMs: 240_000,
  async run({ lab, suite, measure, skip }) {
    const session = speakerSessions(lab.topology).find((s) => s.peerNode && lab.spec(s.peerNode).kind !== 'speaker' && routerKindOf(lab.spec(s.peerNode)));
    if (!session) return skip('no speaker session to a fabric router whose place the injector could take');
    const router = session.peerNode!;
    const routerSpec = lab.spec(router);
    const onLink = Object.values(nodeInterfaces(routerSpec)).flat().find((c) => sameSubnet(c, session.speakerAddress));
    const parts: UpdateParts = { as4: true, asn: session.peerAsn, nextHop: onLink?.split('/')[0] ?? session.peerAddress, ibgp: session.peerAsn === session.speakerAsn };
    const reader = ribReader(lab, suite, session);
    measure('session', `${session.speakerNode} ${session.speakerAddress} <- ${session.peerAddress} (${router}'s place)`);
    const routerUpBefore = (await lab.node(router).sessions()).filter((x) => x.state === 'Established').map((x) => x.peer);

    const socketPath = join(lab.nodeDir(router), 'inject.sock');
    const dialPath = join(lab.nodeDir(router), 'dial.sock');
    const open = {
      asn: session.peerAsn,
      bgpId: routerSpec.routerId ?? session.peerAddress,
      holdTime: 9,
      capabilities: [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }, { code: 65, name: 'as4', asn: session.peerAsn }, { code: 2, name: 'route-refresh' }] as Capability[],
    };
    const findings: string[] = [];
    // OpenBGPD holds a session Idle after an error it saw (30 s, doubled per error, not configurable
    // in 7.7): five steps would outlast the case. The case judges the action per UPDATE, not the
    // reconnect delay, so it ends the hold as an operator would (`bgpctl neighbor ADDR up`) and says so.
    const speakerSpec = lab.spec(session.speakerNode);
    const idleHeld = !suite.hookedNodes.includes(session.speakerNode) && routerKindOf(speakerSpec) === 'openbgpd';
    let holdsEnded = 0;
    const endIdleHold = async () => {
      if (!idleHeld) return;
      await startNeighbor(lab.kindContext(speakerSpec), session.peerAddress);
      holdsEnded++;
    };
    let relay: RelayInNode | null = null;
    const relayLog = join(lab.nodeDir(router), 'tcp-relay.log');
    let peer: RawPeer | null = null;
    /**
     * A session with the speaker through the relay, Established. We open it (the router's side may:
     * a speaker in Active or Connect accepts it at once, where its own connect-retry can take 5-10
     * s, GoBGP 3.x's floor); while the speaker refuses that (still Idle after a reset, not
     * listening, or keeping its own connection after a collision), the relay's waiting client gets
     * its connection for a moment instead, then we dial again, until SESSION_BOUND_MS.
     */
    const dialOrAccept = async (): Promise<RawPeer> => {
      const deadline = Date.now() + SESSION_BOUND_MS;
      const errors: string[] = [];
      for (let dial = true; ; dial = !dial) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(errors.slice(-2).join('; '));
        try {
          return await RawPeer.open({ path: dial ? dialPath : socketPath }, open, Math.min(dial ? DIAL_MS : ACCEPT_WINDOW_MS, left));
        } catch (err) {
          if (relay?.exit() || ['ENOENT', 'ECONNREFUSED'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
          errors.push(`${dial ? 'dialled' : 'accepting'}: ${(err as Error).message}`);
        }
      }
    };
    const connect = async (): Promise<RawPeer> => {
      // Waiting on the speaker's idle-hold or connect-retry timer: counted as a protocol wait.
      const p = await timedWait(dialOrAccept).catch((err: Error) => {
        // Our relay gone, or its socket unreachable, is not the speaker's fault.
        const relayExit = relay?.exit();
        if (relayExit) throw helperFailure(`TCP relay in ${router} exited early (${relayExit})`, relayLog);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED')
          throw helperFailure(`TCP relay in ${router} cannot be reached on ${socketPath}: ${err.message}`, relayLog);
        throw new Error(`the speaker did not establish a session with the injector within ${SESSION_BOUND_MS / 1000} s: ${err.message}`);
      });
      p.as4 = p.openReceived()?.as4 != null;
      parts.as4 = p.as4;
      p.startKeepalives(1000);
      return p;
    };

    await killDaemon(lab, router);
    try {
      relay = await startRelay(lab, router, relayArgs(session.peerAddress, session.speakerAddress, socketPath, dialPath), dialPath, relayLog);
      const establishAt = Date.now();
      // The router's daemon was killed under the speaker's session: an error that starts the hold too.
      await endIdleHold();
      peer = await connect();
      measure('injectorEstablishedS', Number(((Date.now() - establishAt) / 1000).toFixed(2)));

      // Sentinels: announced well-formed, and (when the speaker's routes can be read) seen.
      peer.send(announceBytes(parts, SENTINEL));
      peer.send(announceBytes(parts, OTHER));
      let read: RibReader | null = typeof reader === 'string' ? null : reader;
      if (read) {
        const seen = await pollUntil(read, (p) => p.has(SENTINEL) && p.has(OTHER), 10_000);
        if (!seen.met) {
          measure('routesObservable', `no: the speaker keeps no route received from ${session.peerAddress} (its import policy); only session outcomes judged`);
          read = null;
        }
      } else measure('routesObservable', `no: ${reader}`);
      if (read) measure('routesObservable', true);

      const observe = async (step: MalformedStep, target: string, i: number): Promise<StepObservation> => {
        if (step.expected.kind === 'session-reset' || !read) {
          // A reset shows as a NOTIFICATION and close; within the hold time (3 s) at the latest.
          await pollUntil(() => peer!.closed, (c) => c, step.expected.kind === 'session-reset' ? 10_000 : 3_000, 50);
        } else {
          peer!.send(announceBytes(parts, marker(i)));
          await pollUntil(async () => peer!.closed || (await read!()).has(marker(i)), (x) => x, 10_000);
        }
        const n = peer!.notification();
        return {
          closed: peer!.closed,
          ...(n ? { notification: { code: n.code, subcode: n.subcode } } : {}),
          present: read && !peer!.closed ? (await read()).has(target) : null,
        };
      };

      for (const [i, step] of MALFORMED_STEPS.entries()) {
        if (peer.closed) {
          await endIdleHold();
          peer = await connect();
        }
        const target = step.expected.kind === 'attribute-discard' ? OTHER : SENTINEL;
        if (read && step.expected.kind !== 'session-reset') {
          peer.send(announceBytes(parts, target));
          await pollUntil(read, (p) => p.has(target), 10_000);
        }
        peer.send(step.build(parts, target));
        const seen = await observe(step, target, i);
        const verdict = judgeStep(step, seen);
        measure(step.id, verdict.action);
        if (verdict.finding) findings.push(verdict.finding);
        if (seen.closed && read) {
          // The session is gone: every route it carried must go with it (we offered no graceful restart).
          const { value: left, met } = await pollUntil(read, (p) => !p.has(SENTINEL) && !p.has(OTHER), 10_000);
          if (!met) findings.push(`after ${step.id} closed the session the speaker still holds ${[...left].filter((p) => p === SENTINEL || p === OTHER).join(', ')} from it`);
        }
      }
      measure('undecodableReplies', peer.undecodable.length);
    } finally {
      peer?.close();
      await relay?.stop();
      const restartAt = Date.now();
      await restartDaemon(lab, router);
      await endIdleHold().catch(() => undefined);
      // Every other OpenBGPD speaker that peered with the killed router holds its session Idle too.
      for (const other of speakerSessions(lab.topology)) {
        if (other.peerNode !== router || (other.speakerNode === session.speakerNode && other.peerAddress === session.peerAddress) || suite.hookedNodes.includes(other.speakerNode)) continue;
        const spec = lab.spec(other.speakerNode);
        if (routerKindOf(spec) === 'openbgpd') await startNeighbor(lab.kindContext(spec), other.peerAddress).catch(() => undefined);
      }
      if (idleHeld) measure('speakerIdleHoldEnded', `${holdsEnded}x bgpctl neighbor ${session.peerAddress} up (OpenBGPD's Idle hold after an error)`);
      const back = await pollUntil(
        async () => (await lab.node(router).sessions().catch(() => [])).filter((x) => x.state === 'Established').map((x) => x.peer),
        (up) => routerUpBefore.every((p) => up.includes(p)),
        RESTORE_BOUND_MS,
      );
      measure('routerRestoredS', Number(((Date.now() - restartAt) / 1000).toFixed(2)));
      if (!back.met) findings.push(`${router}'s sessions ${routerUpBefore.filter((p) => !back.value.includes(p)).join(', ')} did not come back within ${RESTORE_BOUND_MS / 1000} s of its restart`);
    }
    expect(findings, `RFC 7606 / RFC 4271 6.3 actions of the speaker under test: ${findings.join('; ')}`).toEqual([]);
  },
});
