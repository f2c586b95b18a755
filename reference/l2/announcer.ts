// One node's L2 announcer: for each service, an election on the service's lease; while this
// node holds a lease it answers ARP / neighbour solicitations for the service's VIPs on its
// links and, on taking over, announces them so neighbours switch to this node at once.
import { LeaderElector, type ElectionTiming } from './election.ts';
import type { FileLeaseStore } from './lease-store.ts';
import type { FrameLink } from './links.ts';
import { Responder, type Answer, type Vip } from './responder.ts';

export interface ServiceAnnouncement {
  /** The lease name, one per service (Cilium uses cilium-l2announce-<namespace>-<service>). */
  lease: string;
  vips: Vip[];
}

export type AnnouncerEvent =
  | { event: 'leader'; lease: string; vips: string[] }
  | { event: 'follower'; lease: string; holder: string | null }
  | { event: 'lost'; lease: string }
  | { event: 'announced'; lease: string; vips: string[]; round: number }
  | ({ event: 'answered' } & Answer)
  | { event: 'error'; lease: string; message: string };

export interface AnnouncerOptions {
  identity: string;
  store: FileLeaseStore;
  services: ServiceAnnouncement[];
  timing: ElectionTiming;
  onEvent?: (event: AnnouncerEvent) => void;
  /** Delays after a takeover at which the announcements go out; repeats cover a lost frame. */
  announceScheduleMs?: number[];
}

interface ServiceState {
  service: ServiceAnnouncement;
  elector: LeaderElector;
  answering: boolean;
  lastHolder: string | null | undefined;
  /** The last store error reported, so a lasting fault is reported once, not every retry. */
  lastError: string | null;
  timers: Set<NodeJS.Timeout>;
}

export class L2Announcer {
  private readonly responder = new Responder();
  private readonly states: ServiceState[];
  private links: FrameLink[] = [];
  private running = false;

  constructor(private readonly options: AnnouncerOptions) {
    const leases = new Set<string>();
    const vipOwners = new Map<string, string>();
    for (const service of options.services) {
      if (leases.has(service.lease)) throw new Error(`lease ${service.lease} is given to two services`);
      leases.add(service.lease);
      for (const vip of service.vips) {
        const owner = vipOwners.get(vip.text);
        if (owner) throw new Error(`VIP ${vip.text} is in both lease ${owner} and lease ${service.lease}`);
        vipOwners.set(vip.text, service.lease);
      }
    }
    this.states = options.services.map((service) => ({
      service,
      elector: new LeaderElector(options.store, service.lease, options.identity, options.timing),
      answering: false,
      lastHolder: undefined,
      lastError: null,
      timers: new Set(),
    }));
  }

  start(links: FrameLink[]): void {
    this.links = links;
    this.running = true;
    for (const state of this.states) this.tick(state);
  }

  /** Feed every received frame here. */
  handleFrame(frame: Uint8Array, link: FrameLink): void {
    this.dropExpiredLeadership();
    const answer = this.responder.handleFrame(frame, link);
    if (answer) this.emit({ event: 'answered', ...answer });
  }

  /** Stops answering; with `release`, hands the leases over so another node takes them at once. */
  stop(release: boolean): void {
    this.running = false;
    for (const state of this.states) {
      for (const timer of state.timers) clearTimeout(timer);
      state.timers.clear();
      if (state.answering) this.responder.stop(state.service.vips);
      state.answering = false;
      if (release) {
        try {
          state.elector.release();
        } catch (err) {
          this.emit({ event: 'error', lease: state.service.lease, message: (err as Error).message });
        }
      }
    }
  }

  private tick(state: ServiceState): void {
    if (!this.running) return;
    const { service, elector } = state;
    try {
      const result = elector.step();
      if (result.acquired) this.takeOver(state);
      if (!result.leader && result.holder !== state.lastHolder) {
        this.emit({ event: 'follower', lease: service.lease, holder: result.holder });
      }
      state.lastHolder = result.holder;
      state.lastError = null;
    } catch (err) {
      // The store failed (I/O, a damaged lease): keep leadership only as long as the last renewal lasts.
      const message = (err as Error).message;
      if (message !== state.lastError) this.emit({ event: 'error', lease: service.lease, message });
      state.lastError = message;
    }
    this.dropExpiredLeadership();
    const delay = elector.isLeader() ? elector.timing.renewIntervalMs : elector.timing.retryIntervalMs;
    this.schedule(state, delay, () => this.tick(state));
  }

  private takeOver(state: ServiceState): void {
    const { service } = state;
    this.responder.start(service.vips);
    state.answering = true;
    this.emit({ event: 'leader', lease: service.lease, vips: service.vips.map((v) => v.text) });
    const schedule = this.options.announceScheduleMs ?? [0, 150, 500];
    schedule.forEach((delay, round) => {
      const announce = () => {
        if (!state.answering) return;
        this.responder.announce(service.vips, this.links);
        this.emit({ event: 'announced', lease: service.lease, vips: service.vips.map((v) => v.text), round });
      };
      if (delay === 0) announce();
      else this.schedule(state, delay, announce);
    });
  }

  private dropExpiredLeadership(): void {
    for (const state of this.states) {
      if (!state.answering || state.elector.isLeader()) continue;
      this.responder.stop(state.service.vips);
      state.answering = false;
      this.emit({ event: 'lost', lease: state.service.lease });
    }
  }

  private schedule(state: ServiceState, delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      run();
    }, delayMs);
    state.timers.add(timer);
  }

  private emit(event: AnnouncerEvent): void {
    this.options.onEvent?.(event);
  }
}
