import { describe, expect, it } from 'vitest';
import { describeFault, generateSchedule, parseSchedule, prng, scheduleProblems, serializeSchedule, SETTLE_ESTIMATE_S, type FaultTargets } from './schedule.ts';

const targets: FaultTargets = {
  links: [
    { node: 'leaf0', ifname: 'eth1' },
    { node: 'leaf0', ifname: 'eth2' },
    { node: 'spine0', ifname: 'eth1' },
    { node: 'server1', ifname: 'net0' },
  ],
  routers: ['spine0', 'spine1', 'leaf0', 'leaf1'],
  speakers: [
    { node: 'server1', gr: false },
    { node: 'server2', gr: true },
  ],
};

describe('seeded fault schedule', () => {
  it('the same seed, targets and duration give the same faults; another seed gives others', () => {
    const a = generateSchedule('seed-002', targets, { seed: 7, durationS: 600 });
    const b = generateSchedule('seed-002', targets, { seed: 7, durationS: 600 });
    const c = generateSchedule('seed-002', targets, { seed: 8, durationS: 600 });
    expect(serializeSchedule(a)).toBe(serializeSchedule(b));
    expect(serializeSchedule(c)).not.toBe(serializeSchedule(a));
    expect(a.faults.length).toBeGreaterThan(10);
  });

  it('a longer duration extends the same sequence (its first faults are the shorter run\'s)', () => {
    const short = generateSchedule('x', targets, { seed: 3, durationS: 120 });
    const long = generateSchedule('x', targets, { seed: 3, durationS: 1800 });
    expect(long.faults.slice(0, short.faults.length)).toEqual(short.faults);
  });

  it('plans every fault inside the duration, in order, with ids 0..n-1 and every kind over a long run', () => {
    const s = generateSchedule('x', targets, { seed: 11, durationS: 1800 });
    s.faults.forEach((f, i) => {
      expect(f.id).toBe(i);
      expect(f.atS! + f.holdS + SETTLE_ESTIMATE_S).toBeLessThanOrEqual(1800);
      if (i > 0) expect(f.atS!).toBeGreaterThan(s.faults[i - 1]!.atS!);
    });
    expect(new Set(s.faults.map((f) => f.kind))).toEqual(new Set(['link-down', 'loss', 'daemon-kill', 'daemon-stop', 'speaker-restart']));
    // Graceful speaker restarts only where the config offers graceful restart.
    for (const f of s.faults) if (f.kind === 'speaker-restart' && f.graceful) expect(f.node).toBe('server2');
    for (const f of s.faults) if (f.kind === 'loss') expect(f.percent).toBeGreaterThanOrEqual(10);
  });

  it('faults that kill a next hop are held at least minDeadHoldS', () => {
    const s = generateSchedule('x', targets, { seed: 5, durationS: 1800, minDeadHoldS: 9 });
    for (const f of s.faults) if (['link-down', 'daemon-kill', 'daemon-stop'].includes(f.kind)) expect(f.holdS).toBeGreaterThanOrEqual(9);
  });

  it('a duration shorter than one slot still plans one fault; no targets, none', () => {
    expect(generateSchedule('x', targets, { seed: 1, durationS: 1 }).faults).toHaveLength(1);
    expect(generateSchedule('x', { links: [], routers: [], speakers: [] }, { seed: 1, durationS: 100 }).faults).toEqual([]);
  });

  it('only kinds with targets are drawn', () => {
    const s = generateSchedule('x', { links: [], routers: ['r1'], speakers: [] }, { seed: 2, durationS: 600 });
    expect(new Set(s.faults.map((f) => f.kind))).toEqual(new Set(['daemon-kill', 'daemon-stop']));
  });

  it('rejects a bad seed or duration', () => {
    expect(() => generateSchedule('x', targets, { seed: -1, durationS: 10 })).toThrow(/seed/);
    expect(() => generateSchedule('x', targets, { seed: 1.5, durationS: 10 })).toThrow(/seed/);
    expect(() => generateSchedule('x', targets, { seed: 1, durationS: 0 })).toThrow(/duration/);
  });

  it('prng is mulberry32 (0.6270739405881613, 0.002735721180215478, ... for seed 1): a seed means the same schedule across versions', () => {
    const r = prng(1);
    expect([r(), r(), r()].map((x) => Math.floor(x * 2 ** 32))).toEqual([2693262067, 11749833, 2265367787]);
  });
});

describe('schedule files', () => {
  it('round-trip through serialize/parse', () => {
    const s = generateSchedule('seed-002', targets, { seed: 9, durationS: 300 });
    expect(parseSchedule(serializeSchedule(s))).toEqual(s);
  });

  it('name every bad field', () => {
    const text = JSON.stringify({ version: 1, fixture: 'x', faults: [{ id: 0, kind: 'meteor', node: 'a', holdS: 1 }, { id: 0, kind: 'loss', node: 'a', ifname: 'e', holdS: -1, percent: 300 }] });
    expect(() => parseSchedule(text, 'f.json')).toThrow(/faults\[0\]\.kind: "meteor"[\s\S]*faults\[1\]\.id: 0 is used twice[\s\S]*faults\[1\]\.holdS[\s\S]*faults\[1\]\.percent/);
    expect(() => parseSchedule('nope', 'f.json')).toThrow(/f.json: not JSON/);
    expect(() => parseSchedule('{"faults": []}', 'f.json')).toThrow(/version/);
  });

  it('scheduleProblems names targets the fixture does not have', () => {
    const s = parseSchedule(JSON.stringify({ version: 1, fixture: 'x', faults: [
      { id: 0, kind: 'link-down', node: 'leaf0', ifname: 'eth9', holdS: 1 },
      { id: 1, kind: 'daemon-kill', node: 'server1', holdS: 1 },
      { id: 2, kind: 'speaker-restart', node: 'leaf0', graceful: false, holdS: 1 },
      { id: 3, kind: 'daemon-stop', node: 'spine1', holdS: 1, permanent: true },
    ] }));
    const problems = scheduleProblems(s, targets);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/leaf0:eth9 is not a link end/);
    expect(problems[1]).toMatch(/server1 is not a fabric router/);
    expect(problems[2]).toMatch(/leaf0 runs no reference agent/);
    expect(describeFault(s.faults[3]!)).toBe('#3 daemon-stop (SIGSTOP) spine1 for 1s, never undone');
  });
});
