import { describe, expect, it } from 'vitest';
import { ConnectionFsm, PeerFsm, idleHoldMs, negotiateHoldTime, resolveCollision, type Scheduler } from './fsm.ts';

/** A scheduler driven by hand: advance(ms) fires what is due, in order. */
class FakeClock implements Scheduler {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.now + ms, fn, live: true };
    this.timers.push(timer);
    return () => (timer.live = false);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.now = due.at;
      due.fn();
    }
    this.now = end;
  }
}

describe('PeerFsm', () => {
  it('connects, retries on the ConnectRetry timer, and backs off after failed sessions', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const fsm = new PeerFsm({ passive: false, connectRetryMs: 5000, idleHoldBaseMs: 1000, idleHoldMaxMs: 8000 }, { connect: () => log.push(`connect@${clock.now}`), state: (s) => log.push(s) }, clock);
    fsm.manualStart();
    expect(log).toEqual(['Connect', 'connect@0']);
    fsm.connectFailed();
    expect(fsm.state).toBe('Active');
    clock.advance(5000);
    expect(log.slice(-2)).toEqual(['Connect', 'connect@5000']);
    fsm.connectionUp();
    for (const expected of [1000, 2000, 4000, 8000, 8000]) {
      log.length = 0;
      const start = clock.now;
      fsm.connectionDown(true);
      clock.advance(expected - 1);
      expect(log).toEqual(['Idle']);
      clock.advance(1);
      expect(log).toEqual(['Idle', 'Connect', `connect@${start + expected}`]);
      fsm.connectionUp();
    }
    fsm.established();
    expect(fsm.failures).toBe(0);
    fsm.manualStop();
    log.length = 0;
    clock.advance(60_000);
    expect(log).toEqual([]);
  });

  it('waits in Active when passive', () => {
    const fsm = new PeerFsm({ passive: true, connectRetryMs: 1000, idleHoldBaseMs: 1000, idleHoldMaxMs: 1000 }, { connect: () => { throw new Error('must not connect'); }, state: () => undefined }, new FakeClock());
    fsm.manualStart();
    expect(fsm.state).toBe('Active');
  });
});

describe('ConnectionFsm', () => {
  function setup() {
    const clock = new FakeClock();
    const sent: string[] = [];
    const fsm = new ConnectionFsm(
      {
        sendOpen: () => sent.push('OPEN'),
        sendKeepalive: () => sent.push(`KEEPALIVE@${clock.now}`),
        sendNotification: (n) => sent.push(`NOTIFICATION ${n.code}/${n.subcode}`),
        close: () => sent.push('close'),
        state: (s) => sent.push(s),
      },
      clock,
    );
    return { clock, sent, fsm };
  }

  it('walks OpenSent -> OpenConfirm -> Established and keeps alive at a third of the hold time', () => {
    const { clock, sent, fsm } = setup();
    fsm.tcpConnected();
    fsm.openReceived(9);
    fsm.keepaliveReceived();
    expect(sent).toEqual(['OPEN', 'OpenSent', 'KEEPALIVE@0', 'OpenConfirm', 'Established']);
    sent.length = 0;
    clock.advance(3000);
    fsm.keepaliveReceived();
    clock.advance(3000);
    expect(sent).toEqual(['KEEPALIVE@3000', 'KEEPALIVE@6000']);
  });

  it('expires the hold timer with NOTIFICATION 4/0', () => {
    const { clock, sent, fsm } = setup();
    fsm.tcpConnected();
    fsm.openReceived(3);
    fsm.keepaliveReceived();
    clock.advance(3000);
    expect(sent.slice(-3)).toEqual(['NOTIFICATION 4/0', 'close', 'Idle']);
    expect(fsm.lastError).toBe('hold timer expired');
  });

  it('answers an UPDATE before Established with an FSM error (RFC 6608 subcode)', () => {
    const { sent, fsm } = setup();
    fsm.tcpConnected();
    expect(fsm.updateReceived()).toBe(false);
    expect(sent).toContain('NOTIFICATION 5/1');
  });

  it('uses the large OPEN hold timer while waiting for the OPEN', () => {
    const { clock, sent, fsm } = setup();
    fsm.tcpConnected();
    clock.advance(239_999);
    expect(fsm.state).toBe('OpenSent');
    clock.advance(1);
    expect(sent).toContain('NOTIFICATION 4/0');
  });
});

describe('FSM rules', () => {
  it('negotiates the smaller hold time and rejects 1 and 2 seconds', () => {
    expect(negotiateHoldTime(90, 30)).toBe(30);
    expect(negotiateHoldTime(90, 0)).toBe(0);
    expect(negotiateHoldTime(90, 2)).toBeNull();
  });

  it('keeps the connection initiated by the higher BGP identifier (6.8)', () => {
    expect(resolveCollision('10.0.0.9', '10.0.0.2')).toBe('locally-initiated');
    expect(resolveCollision('9.255.255.255', '10.0.0.1')).toBe('remotely-initiated');
  });

  it('caps the idle hold backoff', () => {
    expect([0, 1, 2, 3, 10].map((n) => idleHoldMs(n, 1000, 30_000))).toEqual([0, 1000, 2000, 4000, 30_000]);
  });
});
