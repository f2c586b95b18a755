// fault.peer-kill: the BGP daemon of a fabric router the speaker under test peers with is killed
// (SIGKILL, by the PIDs in the lab ledger: no NOTIFICATION, no clean close of the RIB). The other
// routers notice, drop the paths through it (or keep them stale, RFC 4724, only where it offered
// graceful restart for IPv4 unicast), keep every route that has another way in, and once the
// daemon is restarted every session and route comes back.
import { expect } from 'vitest';
import { capturedMessages, pollUntil } from '../checks/captured.ts';
import { allowedPeerLossOutcomes, bgpRibsOfPeers, missingPaths, pathsVia, pathText, restartOffer, type RestartOffer, type RouterPath } from '../checks/peer-loss.ts';
import { nodeInterfaces, speakerSessions } from '../checks/sessions.ts';
import { sentBy } from '../checks/update-encoding.ts';
import { captureFileName } from '../lab/capture.ts';
import type { RouteEntry, SessionState } from '../lab/kinds/index.ts';
import type { Lab } from '../lab/lab.ts';
import { routerKindOf } from '../lab/model.ts';
import { killDaemon, restartDaemon } from '../lab/restart.ts';
import { defineCase } from './harness.ts';

const DETECT_BOUND_S = 5; // hold time 3 s; a killed daemon's sockets are usually closed at once
const WITHDRAW_BOUND_S = 6;
const RECONVERGE_BOUND_MS = 40_000;

const isFabricRouter = (lab: Lab, n: string) => lab.spec(n).kind !== 'speaker' && routerKindOf(lab.spec(n)) !== null;

/** The fabric router with the most sessions from speaker nodes (the speaker under test's peer). */
function victimRouter(lab: Lab): string | null {
  const counts = new Map<string, number>();
  for (const s of speakerSessions(lab.topology)) if (s.peerNode && isFabricRouter(lab, s.peerNode)) counts.set(s.peerNode, (counts.get(s.peerNode) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/** The GR capability the victim sent to the speaker nodes (the same config serves every peer). */
function victimOffer(lab: Lab, victim: string): RestartOffer | false | null {
  for (const s of speakerSessions(lab.topology).filter((x) => x.peerNode === victim && x.ifname)) {
    const offer = restartOffer(capturedMessages(captureFileName(lab.runDir, s.speakerNode, s.ifname!)), s.peerAddress);
    if (offer !== null) return offer;
  }
  return null;
}

/** Seconds from the restart to the last speaker node's OPEN towards the victim (the wire's view). */
function speakerReopen(lab: Lab, victim: string, since: number): number | string {
  const delays = speakerSessions(lab.topology)
    .filter((s) => s.peerNode === victim && s.ifname)
    .map((s) => sentBy(capturedMessages(captureFileName(lab.runDir, s.speakerNode, s.ifname!)), { speaker: s.speakerAddress, peer: s.peerAddress }).find((m) => m.type === 'OPEN' && m.ts >= since));
  if (delays.length === 0 || delays.some((m) => !m)) return `n/a: ${delays.filter((m) => !m).length} of ${delays.length} speaker sessions sent no OPEN after the restart yet`;
  return Number(Math.max(...delays.map((m) => m!.ts - since)).toFixed(2));
}

defineCase('fault.peer-kill', {
  timeoutMs: 150_000,
  async run({ lab, measure, skip }) {
    const victim = victimRouter(lab);
    if (!victim) return skip('no fabric router holds a session with a speaker node in this fixture');
    const victimAddresses = new Set([...Object.values(nodeInterfaces(lab.spec(victim))).flat(), ...lab.spec(victim).loopback].map((c) => c.split('/')[0]!));
    const survivors = lab.topology.nodes.map((n) => n.name).filter((n) => n !== victim && isFabricRouter(lab, n));
    if (survivors.length === 0) return skip(`no fabric router besides ${victim} to observe the loss from`);
    measure('killed', `${victim} (${routerKindOf(lab.spec(victim))})`);
    const ribs = async () => new Map<string, RouteEntry[]>(await Promise.all(survivors.map(async (n) => [n, await lab.node(n).rib().catch(() => [])] as [string, RouteEntry[]])));
    const sessionsToVictim = async () => (await lab.sessions()).filter((s) => s.node !== victim && victimAddresses.has(s.peer));

    // A previous attempt may have just restarted it: start once its sessions are up again. The
    // case judges against this state (sessions a fixture never brings up are not its business).
    const up = (sessions: SessionState[]) => sessions.filter((s) => s.state === 'Established').map((s) => `${s.node}->${s.peer}${s.local ? ` from ${s.local}` : ''}`);
    const ready = await pollUntil(async () => up(await lab.node(victim).sessions().catch(() => [])), (u) => u.length > 0, RECONVERGE_BOUND_MS);
    if (!ready.met) throw new Error(`${victim} has no Established session to start from`);
    const sessionsBefore = up(await lab.sessions());
    const before = await ribs();
    const watched = (await sessionsToVictim()).filter((s) => s.state === 'Established');
    // Only the victim's BGP sessions can take paths with them: its kernel keeps forwarding.
    const staticsOf = (node: string) => new Set(lab.spec(node).routes.map((r) => (r.to === 'default' ? '0.0.0.0/0' : r.to)));
    const bgpPathsVia = (now: Map<string, RouteEntry[]>) => pathsVia(bgpRibsOfPeers(now, new Set(watched.map((s) => s.node)), staticsOf), victimAddresses);
    const viaVictim = bgpPathsVia(before);
    // Prefixes of speaker nodes that also peer with another router have a way around the victim.
    const elsewhere = new Set(
      lab.topology.nodes
        .filter((n) => n.kind === 'speaker' && speakerSessions(lab.topology).some((s) => s.speakerNode === n.name && s.peerNode !== victim))
        .flatMap((n) => n.announce),
    );
    const mustStay: RouterPath[] = [...before].flatMap(([node, rib]) => rib.filter((r) => elsewhere.has(r.prefix)).map((r) => ({ node, prefix: r.prefix })));
    const offer = victimOffer(lab, victim);
    const allowed = allowedPeerLossOutcomes(offer);
    measure('pathsViaKilled', viaVictim.length);
    measure('routesWithAnotherWay', mustStay.length);
    measure('sessionsWatched', watched.length);
    measure('sessionsEstablished', sessionsBefore.length);
    measure('killedOffersGrIpv4', offer === null ? 'unknown (no OPEN captured)' : offer !== false && offer.families.includes('1/1'));

    const killedAt = Date.now();
    const killed = await killDaemon(lab, victim);
    measure('killedPids', killed.map((p) => `${p.label}:${p.pid}`).join(' '));
    let reconverged = false;
    let lost: RouterPath[] = [];
    let sessionsMissing: string[] = [];
    try {
      const detection = await pollUntil(sessionsToVictim, (now) => watched.every((w) => now.find((s) => s.node === w.node && s.peer === w.peer)?.state !== 'Established'), DETECT_BOUND_S * 1000, 100);
      // Sessions of hooked speakers are not queryable: only daemons' sessions are timed.
      measure('detectS', watched.length > 0 ? Number(((Date.now() - killedAt) / 1000).toFixed(2)) : 'n/a: no queryable session to it');
      const stillUp = detection.value.filter((s) => s.state === 'Established').map((s) => `${s.node}->${s.peer}`);
      expect(detection.met, `sessions still Established ${DETECT_BOUND_S} s after ${victim} was killed: ${stillUp.join(', ')}`).toBe(true);

      const withdrawal = await pollUntil(async () => bgpPathsVia(await ribs()), (left) => left.length === 0, WITHDRAW_BOUND_S * 1000, 100);
      const outcome = withdrawal.met ? 'withdrawn' : 'stale-kept';
      measure('outcome', viaVictim.length > 0 ? outcome : `n/a: no router ${watched.length > 0 ? 'had a path from it' : 'holds a session with it'}`);
      if (withdrawal.met) measure('withdrawS', Number(((Date.now() - killedAt) / 1000).toFixed(2)));
      else measure('staleKept', withdrawal.value.length);
      expect(
        allowed,
        `paths via ${victim} ${outcome === 'withdrawn' ? 'withdrawn' : `kept ${WITHDRAW_BOUND_S} s after the kill (${withdrawal.value.map(pathText).join(', ')})`}; ` +
          `${victim} offered graceful restart ${offer === null ? '(OPEN not captured)' : offer === false ? 'not at all' : `for [${offer.families.join(', ')}]`}`,
      ).toContain(outcome);

      const gone = missingPaths(await ribs(), mustStay);
      expect(gone.map(pathText), `routes with a way around the killed router stay: ${gone.map(pathText).join(', ')} gone`).toEqual([]);
    } finally {
      const restartAt = Date.now();
      await restartDaemon(lab, victim);
      const sessionsBack = await pollUntil(async () => up(await lab.sessions()), (now) => sessionsBefore.every((x) => now.includes(x)), RECONVERGE_BOUND_MS);
      sessionsMissing = sessionsBefore.filter((x) => !sessionsBack.value.includes(x));
      measure('sessionsReS', Number(((Date.now() - restartAt) / 1000).toFixed(2)));
      measure('speakerReopenS', speakerReopen(lab, victim, restartAt / 1000));
      // Nothing lost: every router holds every prefix again. Not necessarily through the
      // restarted router: its transit paths follow its best-path choice, which may differ now.
      const notBack = (now: Map<string, RouteEntry[]>) => missingPaths(now, [...viaVictim, ...mustStay]);
      const back = await pollUntil(ribs, (now) => notBack(now).length === 0, 15_000);
      lost = notBack(back.value);
      reconverged = back.met;
      measure('reconvergeS', Number(((Date.now() - restartAt) / 1000).toFixed(2)));
    }
    expect(sessionsMissing, `sessions Established before the kill are again once ${victim} runs again: ${sessionsMissing.join(', ')} not`).toEqual([]);
    expect(lost.map(pathText), `every path is back once ${victim} runs again: ${lost.map(pathText).join(', ')} missing`).toEqual([]);
    expect(reconverged).toBe(true);
  },
});
