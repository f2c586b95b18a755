// Session events and graceful restart (RFC 4724): a peer that comes up gets the whole table; a
// peer that goes down takes its routes along, or, as a restarting GR peer, leaves them stale
// until its End-of-RIB or its restart time.
import { parseIpv4 } from './prefix.ts';
import type { Speaker } from './speaker.ts';
import { FAMILY_OF_AFI, type Peer } from './speaker-peer.ts';

export class RestartHandler {
  constructor(private readonly speaker: Speaker) {}

  onEndOfRib(peer: Peer, afi: number): void {
    peer.endOfRibReceived.add(afi);
    if (peer.staleFamilies.delete(afi)) {
      const removed = this.speaker.rib(afi).removeSource(peer.source, true, (key) => this.speaker.exporter.changed(afi, key));
      this.speaker.log('info', `${peer.session.name}: End-of-RIB for ${FAMILY_OF_AFI[afi]}, ${removed} stale routes removed`);
      if (peer.staleFamilies.size === 0 && peer.staleTimer) {
        clearTimeout(peer.staleTimer);
        peer.staleTimer = null;
      }
    }
  }

  onEstablished(peer: Peer): void {
    const negotiated = peer.session.negotiated!;
    this.speaker.sources.set(peer.source, {
      local: false,
      ebgp: peer.session.ebgp,
      peerAs: peer.config.asn,
      routerId: parseIpv4(negotiated.peerOpen.bgpId) ?? 0,
      address: peer.config.address,
    });
    peer.maxPrefixExceeded = false;
    peer.disabled.clear();
    peer.endOfRibReceived.clear();
    peer.endOfRibSent.clear();
    peer.refreshing.clear();
    peer.out.clear();
    this.speaker.exporter.distribute(); // changes made while it was up (or before) leave with the clear
    peer.pending.clear();
    if (peer.staleFamilies.size > 0) {
      // RFC 4724 4.2: stale routes of families the peer no longer preserves go now.
      const gr = negotiated.peerGracefulRestart;
      for (const afi of [...peer.staleFamilies]) {
        const kept = gr?.families.some((f) => f.afi === afi && f.forwardingState);
        if (!kept) {
          peer.staleFamilies.delete(afi);
          this.speaker.rib(afi).removeSource(peer.source, true, (key) => this.speaker.exporter.changed(afi, key));
        }
      }
    }
    void this.speaker.exporter.dumpAll(peer);
  }

  onDown(peer: Peer, retain: boolean, restartTime: number): void {
    this.speaker.ingest.clearAttributeCache(peer);
    for (const out of peer.out.values()) this.speaker.exporter.releaseOut(out);
    peer.out.clear();
    this.speaker.exporter.distribute(); // changes made while it was up (or before) leave with the clear
    peer.pending.clear();
    for (const [afi, rib] of this.speaker.ribs) {
      if (rib.pathsFrom(peer.source) === 0) continue;
      if (retain) {
        const marked = rib.markStale(peer.source);
        peer.staleFamilies.add(afi);
        this.speaker.log('info', `${peer.session.name}: graceful restart helper: keeping ${marked} ${FAMILY_OF_AFI[afi]} routes stale for up to ${restartTime}s`);
      } else {
        rib.removeSource(peer.source, false, (key) => this.speaker.exporter.changed(afi, key));
      }
    }
    if (retain && peer.staleFamilies.size > 0) {
      if (peer.staleTimer) clearTimeout(peer.staleTimer);
      peer.staleTimer = setTimeout(() => this.expireStale(peer), Math.max(1, restartTime) * 1000);
      peer.staleTimer.unref();
    }
  }

  private expireStale(peer: Peer): void {
    peer.staleTimer = null;
    for (const afi of peer.staleFamilies) {
      const removed = this.speaker.rib(afi).removeSource(peer.source, true, (key) => this.speaker.exporter.changed(afi, key));
      this.speaker.log('warn', `${peer.session.name}: restart time expired, ${removed} stale ${FAMILY_OF_AFI[afi]} routes removed`);
    }
    peer.staleFamilies.clear();
  }
}
