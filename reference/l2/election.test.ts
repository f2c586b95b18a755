import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileLeaseStore, LeaseFormatError } from './lease-store.ts';
import { LeaderElector, validateTiming, type ElectionTiming } from './election.ts';
import { tempDirs } from '../testing/temp-dirs.ts';

const TIMING: ElectionTiming = { leaseDurationMs: 600, renewIntervalMs: 200, retryIntervalMs: 100 };
const tempDir = tempDirs();

function freshStore(pruneAfterMs?: number): FileLeaseStore {
  return new FileLeaseStore(tempDir('peerproof-lease-'), pruneAfterMs);
}

describe('FileLeaseStore', () => {
  const spec = { holderIdentity: 'node-a', leaseDurationSeconds: 1, acquireTime: null, renewTime: null, leaseTransitions: 0 };

  it('lets exactly one writer win from a given version', () => {
    const store = freshStore();
    expect(store.read('svc')).toBeNull();
    expect(store.compareAndSwap('svc', 0, spec)).toBe(1);
    expect(store.compareAndSwap('svc', 0, { ...spec, holderIdentity: 'node-b' })).toBeNull();
    expect(store.compareAndSwap('svc', 1, { ...spec, holderIdentity: 'node-b' })).toBe(2);
    const current = store.read('svc')!;
    expect(current.version).toBe(2);
    expect(current.lease).toMatchObject({ kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', metadata: { name: 'svc', resourceVersion: '2' } });
    expect(current.lease.spec.holderIdentity).toBe('node-b');
  });

  it('prunes old versions, keeping the last few, and leaves no temporary files', () => {
    const store = freshStore(0);
    for (let v = 0; v < 20; v++) store.compareAndSwap('svc', v, spec);
    const files = readdirSync(join(store.directory, 'svc'));
    expect(files.length).toBeLessThanOrEqual(4);
    expect(files.every((f) => /^\d{12}\.json$/.test(f))).toBe(true);
    expect(store.read('svc')!.version).toBe(20);
  });

  it('keeps recent versions so that a version number is never written twice', () => {
    const store = freshStore();
    for (let v = 0; v < 20; v++) store.compareAndSwap('svc', v, spec);
    expect(readdirSync(join(store.directory, 'svc'))).toHaveLength(20);
    expect(store.compareAndSwap('svc', 3, spec)).toBeNull(); // a writer that read version 3 long ago
  });

  it('names the file and field of a damaged lease', () => {
    const store = freshStore();
    mkdirSync(join(store.directory, 'svc'));
    const file = join(store.directory, 'svc', '000000000001.json');
    writeFileSync(file, JSON.stringify({ kind: 'Lease', spec: { ...spec, leaseDurationSeconds: 'ten' } }));
    expect(() => store.read('svc')).toThrow(LeaseFormatError);
    expect(() => store.read('svc')).toThrow(`${file}: lease field spec.leaseDurationSeconds is not a positive number`);
    writeFileSync(file, '{"kind": "Lea');
    expect(() => store.read('svc')).toThrow(/svc\/000000000001\.json: lease field \(document\) is not JSON/);
  });

  it('rejects lease names that are not object names', () => {
    expect(() => freshStore().read('../etc')).toThrow(/not a Kubernetes object name/);
  });

  it('loses no update when processes race on the same lease', async () => {
    const store = freshStore();
    const moduleUrl = new URL('./lease-store.ts', import.meta.url).href;
    // Each process bumps a counter held in leaseTransitions with a read / compare-and-swap loop.
    const script = `
      const { FileLeaseStore } = await import(${JSON.stringify(moduleUrl)});
      const store = new FileLeaseStore(${JSON.stringify(store.directory)});
      for (let done = 0; done < 40;) {
        const current = store.read('counter');
        const count = current ? current.lease.spec.leaseTransitions : 0;
        const spec = { holderIdentity: null, leaseDurationSeconds: 1, acquireTime: null, renewTime: null, leaseTransitions: count + 1 };
        if (store.compareAndSwap('counter', current ? current.version : 0, spec) !== null) done++;
      }`;
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
    const runs = [0, 1, 2].map(
      () =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { stdio: 'inherit' });
          child.on('exit', (code) => resolve(code ?? -1));
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    const final = store.read('counter')!;
    expect(final.lease.spec.leaseTransitions).toBe(120);
    expect(final.version).toBe(120);
  });
});

describe('LeaderElector', () => {
  function candidates(store: FileLeaseStore, clock: { now: number }, ...names: string[]) {
    return names.map((name) => new LeaderElector(store, 'svc', name, TIMING, () => clock.now));
  }

  it('gives the lease to the first candidate and keeps it there while it renews', () => {
    const store = freshStore();
    const clock = { now: 1_000_000 };
    const [a, b] = candidates(store, clock, 'node-a', 'node-b');
    expect(a.step()).toEqual({ leader: true, holder: 'node-a', acquired: true, lost: false });
    for (let i = 0; i < 10; i++) {
      clock.now += TIMING.renewIntervalMs;
      expect(b.step()).toMatchObject({ leader: false, holder: 'node-a' });
      expect(a.step()).toEqual({ leader: true, holder: 'node-a', acquired: false, lost: false });
    }
    const spec = store.read('svc')!.lease.spec;
    expect(spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 0.6, leaseTransitions: 0 });
    expect(Date.parse(spec.renewTime!)).toBe(clock.now);
  });

  it('lets another candidate take over only after renewTime + duration', () => {
    const store = freshStore();
    const clock = { now: 1_000_000 };
    const [a, b] = candidates(store, clock, 'node-a', 'node-b');
    a.step();
    clock.now += TIMING.leaseDurationMs - 1;
    expect(b.step().leader).toBe(false);
    expect(a.isLeader()).toBe(true);
    clock.now += 1;
    expect(a.isLeader()).toBe(false); // a stopped renewing: it must stop answering on its own
    expect(b.step()).toEqual({ leader: true, holder: 'node-b', acquired: true, lost: false });
    expect(a.step()).toEqual({ leader: false, holder: 'node-b', acquired: false, lost: true });
    expect(store.read('svc')!.lease.spec.leaseTransitions).toBe(1);
  });

  it('hands over at once after a release', () => {
    const store = freshStore();
    const clock = { now: 1_000_000 };
    const [a, b] = candidates(store, clock, 'node-a', 'node-b');
    a.step();
    a.release();
    expect(a.isLeader()).toBe(false);
    expect(b.step()).toMatchObject({ leader: true, acquired: true });
  });

  it('never has two leaders whatever the order of steps', () => {
    const store = freshStore();
    const clock = { now: 1_000_000 };
    const electors = candidates(store, clock, 'n1', 'n2', 'n3');
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      clock.now += Math.floor(random() * 300);
      electors[Math.floor(random() * 3)].step();
      expect(electors.filter((e) => e.isLeader()).length).toBeLessThanOrEqual(1);
    }
  });

  it('refuses timings that cannot hold a lease', () => {
    expect(() => validateTiming({ leaseDurationMs: 500, renewIntervalMs: 500, retryIntervalMs: 100 })).toThrow(/renew interval/);
    expect(() => validateTiming({ leaseDurationMs: 500, renewIntervalMs: -1, retryIntervalMs: 100 })).toThrow(/renewIntervalMs/);
  });
});
