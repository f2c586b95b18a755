import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { capturedMessages, pollHarness, pollUntil, timedWait, totalDecodeMs, totalWaitedMs } from './captured.ts';

const PCAP = fileURLToPath(new URL('../../pcaps/frr-gobgp-as4-addpath.pcap', import.meta.url));

describe('wait accounting', () => {
  afterEach(() => void vi.useRealTimers());
  const fakeClock = () => vi.useFakeTimers({ toFake: ['setTimeout', 'Date', 'performance'] });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('counts a poll up to the start of its last read: reads that find nothing and the pauses are waiting', async () => {
    fakeClock();
    let reads = 0;
    const before = totalWaitedMs();
    const polled = pollUntil(async () => (await sleep(50), ++reads), (n) => n === 3, 10_000, 200);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await polled).toEqual({ value: 3, met: true });
    // Reads 1 and 2 (50 ms each) and two pauses (200 ms each); read 3 found it and is harness work.
    expect(totalWaitedMs() - before).toBe(500);
  });

  it('counts nothing for a condition that already holds, however slow the read', async () => {
    fakeClock();
    const before = totalWaitedMs();
    const polled = pollUntil(async () => (await sleep(300), true), (x) => x, 10_000);
    await vi.advanceTimersByTimeAsync(300);
    expect((await polled).met).toBe(true);
    expect(totalWaitedMs() - before).toBe(0);
  });

  it('counts a poll that times out as waiting until its final read', async () => {
    fakeClock();
    const before = totalWaitedMs();
    const polled = pollUntil(() => false, (x) => x, 1_000, 100);
    await vi.advanceTimersByTimeAsync(1_500);
    expect((await polled).met).toBe(false);
    // Reads at 0, 100, ... 1100 ms: the one at 1100 is past the deadline and ends the poll.
    expect(totalWaitedMs() - before).toBe(1_100);
  });

  it('does not count a poll on the harness\'s own process (pollHarness)', async () => {
    fakeClock();
    let reads = 0;
    const before = totalWaitedMs();
    const polled = pollHarness(() => ++reads, (n) => n === 4, 10_000, 50);
    await vi.advanceTimersByTimeAsync(500);
    expect(await polled).toEqual({ value: 4, met: true });
    expect(totalWaitedMs() - before).toBe(0);
  });

  it('counts a wait done elsewhere (timedWait) in full, also when it throws', async () => {
    fakeClock();
    const before = totalWaitedMs();
    const ok = timedWait(async () => (await sleep(700), 'up'));
    await vi.advanceTimersByTimeAsync(700);
    expect(await ok).toBe('up');
    const failing = timedWait(async () => {
      await sleep(300);
      throw new Error('no session');
    });
    const settled = failing.catch((err: Error) => err.message);
    await vi.advanceTimersByTimeAsync(300);
    expect(await settled).toBe('no session');
    expect(totalWaitedMs() - before).toBe(1_000);
  });
});

describe('capturedMessages', () => {
  const dir = mkdtempSync(join(tmpdir(), `pp-captured-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a file once per size and again once it has grown, counting decode time apart from waits', () => {
    const file = join(dir, 'link.pcap');
    const full = readFileSync(PCAP);
    writeFileSync(file, full.subarray(0, Math.floor(full.length / 2)));
    const waitedBefore = totalWaitedMs();
    const half = capturedMessages(file);
    const decodedAfterFirst = totalDecodeMs();
    expect(decodedAfterFirst).toBeGreaterThan(0);
    expect(capturedMessages(file)).toEqual(half);
    expect(totalDecodeMs()).toBe(decodedAfterFirst); // served from the cache, nothing decoded

    copyFileSync(PCAP, file); // tcpdump appended the rest
    const all = capturedMessages(file);
    expect(all.length).toBeGreaterThan(half.length);
    expect(all.slice(0, half.length).map((m) => m.type)).toEqual(half.map((m) => m.type));
    expect(totalWaitedMs()).toBe(waitedBefore);
  });

  it('hands out a copy: a caller changing its array does not change the next caller\'s', () => {
    const file = join(dir, 'copy.pcap');
    copyFileSync(PCAP, file);
    const first = capturedMessages(file);
    const count = first.length;
    first.splice(0, first.length);
    expect(capturedMessages(file)).toHaveLength(count);
  });

  it('returns nothing for a missing or header-only file', () => {
    expect(capturedMessages(join(dir, 'absent.pcap'))).toEqual([]);
    const tiny = join(dir, 'tiny.pcap');
    writeFileSync(tiny, readFileSync(PCAP).subarray(0, 10));
    expect(capturedMessages(tiny)).toEqual([]);
  });
});
