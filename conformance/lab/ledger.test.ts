import { existsSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexedRuns, Ledger, listRuns, processStartTime, RUN_INDEX, runIdTaken } from './ledger.ts';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function root(): string {
  const r = mkdtempSync(join(tmpdir(), 'pp-ledger-'));
  roots.push(r);
  return r;
}

describe('Ledger', () => {
  it('records entries in order and reads them back', () => {
    const ledger = Ledger.create(root(), 'abc123', 'netns', 'fixtures/x');
    ledger.record({ t: 'netns', name: 'pp-abc123-r1' });
    ledger.record({ t: 'proc', node: 'r1', label: 'bgpd', argv: ['bgpd'], pid: 42 });
    const s = ledger.summary();
    expect(s).toMatchObject({ runId: 'abc123', backend: 'netns', fixture: 'fixtures/x', ownerPid: process.pid, ownerAlive: true, down: false });
    expect(s.entries.map((e) => e.t)).toEqual(['run', 'netns', 'proc']);
  });

  it('refuses to reuse a run folder', () => {
    const r = root();
    Ledger.create(r, 'same', 'netns', 'f');
    expect(() => Ledger.create(r, 'same', 'netns', 'f')).toThrow(/already exists/);
  });

  it('a detached run has no live owner; a down run says so', () => {
    const r = root();
    const ledger = Ledger.create(r, 'r1', 'netns', 'f');
    ledger.transferOwnership(0);
    expect(ledger.summary().ownerAlive).toBe(false);
    ledger.record({ t: 'down', at: new Date().toISOString() });
    expect(listRuns(r).map((s) => [s.runId, s.down])).toEqual([['r1', true]]);
  });

  it('skips a line torn by a crash', () => {
    const ledger = Ledger.create(root(), 'torn', 'netns', 'f');
    ledger.record({ t: 'netns', name: 'pp-torn-a' });
    appendFileSync(ledger.file, '{"t":"netns","na');
    expect(ledger.entries().filter((e) => e.t === 'netns')).toHaveLength(1);
  });

  it('tells a recycled pid from the owner by its start time', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 1)).toBeNull();
  });

  it.skipIf(process.getuid?.() !== 0)('reserves run ids machine-wide: a second runs folder cannot take a live run\'s id; down or gone, it can', () => {
    const id = `t${randomBytes(3).toString('hex')}`;
    const first = Ledger.create(root(), id, 'netns', 'f');
    expect(runIdTaken(id)).toBe(true);
    expect(indexedRuns().map((r) => r.runDir)).toContain(first.runDir);
    const other = root();
    expect(() => Ledger.create(other, id, 'netns', 'f')).toThrow(`run id ${id} is taken by the run in ${first.runDir}`);
    expect(existsSync(join(other, id))).toBe(false);
    first.markDown();
    expect(existsSync(join(RUN_INDEX, id))).toBe(false);
    const second = Ledger.create(other, id, 'netns', 'f');
    // Its folder deleted without a down (a test's temp dir): the entry is stale and taken over.
    rmSync(other, { recursive: true, force: true });
    expect(indexedRuns().map((r) => r.runId)).not.toContain(id);
    const third = Ledger.create(root(), id, 'netns', 'f');
    expect(third.runDir).not.toBe(second.runDir);
    third.markDown();
  });
});
