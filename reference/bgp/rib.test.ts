import { describe, expect, it } from 'vitest';
import { AttributeStore, type RouteAttributes } from './attributes.ts';
import { compareCandidates, type Candidate, type PathSource } from './decision.ts';
import { FamilyRib, LOCAL_SOURCE, SourceRegistry } from './rib.ts';
import { ipv4Key, parseIpv4 } from './prefix.ts';
import { PrefixTable } from './prefix-table.ts';

const key = (text: string): number => {
  const [addr, len] = text.split('/');
  return ipv4Key(parseIpv4(addr!)!, Number(len));
};

function peer(address: string, peerAs: number, routerId: number, ebgp = true): PathSource {
  return { local: false, ebgp, peerAs, routerId, address };
}

function attrs(over: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 'igp', asPath: [{ type: 'sequence', asns: [65002] }], nextHop: '10.0.0.2', ...over };
}

describe('decision process', () => {
  const store = new AttributeStore();
  const candidate = (a: RouteAttributes, source: PathSource, pathId = 0): Candidate => ({
    fields: store.decisionFields(store.intern(a)),
    source,
    pathId,
  });
  const p1 = peer('10.0.0.2', 65002, 2);
  const p2 = peer('10.0.0.3', 65002, 3);

  it.each([
    ['local-pref', attrs({ localPref: 200 }), attrs()],
    ['as-path-length', attrs(), attrs({ asPath: [{ type: 'sequence', asns: [65002, 65003] }] })],
    ['origin', attrs(), attrs({ origin: 'incomplete' })],
    ['med', attrs({ med: 5 }), attrs({ med: 10 })],
    ['router-id', attrs(), attrs()],
  ])('prefers by %s', (step, better, worse) => {
    const verdict = compareCandidates(candidate(better, p1), candidate(worse, p2));
    expect(verdict.step).toBe(step);
    expect(verdict.order).toBeLessThan(0);
    expect(compareCandidates(candidate(worse, p2), candidate(better, p1)).order).toBeGreaterThan(0);
  });

  it('counts an AS_SET as one AS', () => {
    const withSet = attrs({ asPath: [{ type: 'sequence', asns: [65002] }, { type: 'set', asns: [1, 2, 3] }] });
    const longer = attrs({ asPath: [{ type: 'sequence', asns: [65002, 65009, 65010] }] });
    expect(compareCandidates(candidate(withSet, p2), candidate(longer, p1)).step).toBe('as-path-length');
  });

  it('compares MED only between routes from the same neighbour AS unless told to', () => {
    const a = attrs({ med: 50 });
    const b = attrs({ med: 10, asPath: [{ type: 'sequence', asns: [65009] }] });
    expect(compareCandidates(candidate(a, p1), candidate(b, p2)).step).toBe('router-id');
    expect(compareCandidates(candidate(a, p1), candidate(b, p2), { alwaysCompareMed: true }).step).toBe('med');
  });

  it('prefers eBGP over iBGP, then lower router id, then lower peer address, then path id', () => {
    expect(compareCandidates(candidate(attrs(), peer('10.0.0.9', 65001, 1, false)), candidate(attrs(), p2)).step).toBe('ebgp-over-ibgp');
    const sameId = peer('10.0.0.4', 65002, 2);
    const verdict = compareCandidates(candidate(attrs(), sameId), candidate(attrs(), p1));
    expect(verdict).toEqual({ order: expect.any(Number), step: 'peer-address' });
    expect(verdict.order).toBeGreaterThan(0);
    expect(compareCandidates(candidate(attrs(), p1, 1), candidate(attrs(), p1, 2)).step).toBe('path-id');
  });

  it('prefers a locally originated route over a learned one with equal local-pref', () => {
    const local: PathSource = { local: true, ebgp: false, peerAs: 0, routerId: 0, address: '0.0.0.0' };
    expect(compareCandidates(candidate({ origin: 'igp' }, local), candidate(attrs(), p1)).step).toBe('locally-originated');
  });
});

describe('FamilyRib', () => {
  function setup() {
    const store = new AttributeStore();
    const sources = new SourceRegistry();
    const a = sources.add(peer('10.0.0.2', 65002, 2));
    const b = sources.add(peer('10.0.0.3', 65003, 3));
    return { store, sources, rib: new FamilyRib(store, sources, {}, 4), a, b };
  }

  it('keeps the best path first and falls back when it is withdrawn', () => {
    const { store, rib, a, b } = setup();
    const short = store.intern(attrs());
    const long = store.intern(attrs({ asPath: [{ type: 'sequence', asns: [65003, 1] }] }));
    const k = key('192.0.2.0/24');
    expect(rib.update(k, b, 0, long)).toBe(true);
    expect(rib.update(k, a, 0, short)).toBe(true);
    expect(rib.pathSource(rib.bestPath(k))).toBe(a);
    expect(rib.update(k, a, 0, short)).toBe(false);
    expect(rib.withdraw(k, a, 0)).toBe(true);
    expect(rib.pathSource(rib.bestPath(k))).toBe(b);
    expect(rib.withdraw(k, b, 0)).toBe(true);
    expect(rib.bestPath(k)).toBe(-1);
    expect(rib.prefixCount).toBe(0);
    store.release(short);
    store.release(long);
    expect(store.size).toBe(0);
  });

  it('holds several ADD-PATH ids of one peer for one prefix and builds the multipath set', () => {
    const { store, rib, a, b } = setup();
    const id = store.intern(attrs());
    const other = store.intern(attrs({ asPath: [{ type: 'sequence', asns: [65003] }] }));
    const k = key('10.0.0.1/32');
    rib.update(k, a, 1, id);
    rib.update(k, a, 2, id);
    rib.update(k, b, 0, other);
    expect(rib.sortedPaths(k).map((p) => [rib.pathSource(p), rib.pathIdOf(p)])).toEqual([[a, 1], [a, 2], [b, 0]]);
    expect(rib.multipath(k)).toHaveLength(2);
    rib.options.multipathRelax = true;
    expect(rib.multipath(k)).toHaveLength(3);
    expect(rib.pathsFrom(a)).toBe(2);
  });

  it('tells ADD-PATH ids apart when the first non-zero id arrives after id-0 paths, in update and updateMany', () => {
    const { store, rib, a, b } = setup();
    const id = store.intern(attrs());
    const ks = Array.from({ length: 10 }, (_, i) => ipv4Key(i * 256, 24));
    for (const k of ks) rib.update(k, a, 0, id); // grows past the initial 4 slots with id 0 only
    rib.update(ks[0]!, a, 7, id);
    rib.updateMany(new Float64Array(ks.slice(1, 4)), new Uint32Array([0, 9, 3]), 3, b, id);
    rib.updateMany(new Float64Array(ks.slice(4)), new Uint32Array(6), 6, b, id);
    const ids = (k: number) => rib.sortedPaths(k).map((p) => [rib.pathSource(p), rib.pathIdOf(p)]).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    expect(ids(ks[0]!)).toEqual([[a, 0], [a, 7]]);
    expect(ids(ks[2]!)).toEqual([[a, 0], [b, 9]]);
    expect(ids(ks[3]!)).toEqual([[a, 0], [b, 3]]);
    expect(ids(ks[9]!)).toEqual([[a, 0], [b, 0]]);
    expect(rib.withdraw(ks[0]!, a, 0)).toBe(true);
    expect(rib.withdraw(ks[2]!, b, 0)).toBe(false);
    expect(rib.withdraw(ks[2]!, b, 9)).toBe(true);
    rib.update(ks[2]!, b, 0, id); // a released slot that held id 9
    expect(ids(ks[0]!)).toEqual([[a, 7]]);
    expect(ids(ks[2]!)).toEqual([[a, 0], [b, 0]]);
  });

  it('marks a peer stale for graceful restart and sweeps only what was not refreshed', () => {
    const { store, rib, a, b } = setup();
    const id = store.intern(attrs());
    for (let i = 0; i < 100; i++) rib.update(ipv4Key(i * 256, 24), a, 0, id);
    rib.update(key('10.9.0.0/16'), b, 0, id);
    expect(rib.markStale(a)).toBe(100);
    for (let i = 0; i < 50; i++) rib.update(ipv4Key(i * 256, 24), a, 0, id);
    // New paths after the mark (in slots the stale flags were not made for: the columns grow) are not stale.
    const fresh = Array.from({ length: 200 }, (_, i) => ipv4Key((1000 + i) * 256, 24));
    rib.updateMany(new Float64Array(fresh), new Uint32Array(fresh.length), fresh.length, a, id);
    expect(fresh.filter((k) => rib.isStale(rib.bestPath(k)))).toEqual([]);
    expect(rib.isStale(rib.bestPath(ipv4Key(99 * 256, 24)))).toBe(true);
    const changed: number[] = [];
    expect(rib.removeSource(a, true, (k) => changed.push(k))).toBe(50);
    expect(changed).toHaveLength(50);
    expect(rib.pathsFrom(a)).toBe(250);
    expect(rib.prefixCount).toBe(251);
    expect(store.refCount(id)).toBe(1 + 251);
  });

  it('keeps local routes apart from peers', () => {
    const { store, rib, a } = setup();
    const local = store.intern({ origin: 'igp', nextHop: '10.0.1.10' });
    rib.update(key('10.0.0.1/32'), LOCAL_SOURCE, 0, local);
    rib.update(key('10.0.0.1/32'), a, 0, store.intern(attrs()));
    expect(rib.pathSource(rib.bestPath(key('10.0.0.1/32')))).toBe(LOCAL_SOURCE);
    expect(rib.removeSource(a, false)).toBe(1);
  });
});

describe('FamilyRib path order', () => {
  const asPath = (as: number, length: number) => [{ type: 'sequence' as const, asns: Array.from({ length }, (_, i) => as + i) }];

  it.each([
    ['one MED per prefix', {}, () => 0],
    ['MEDs that differ, compared across ASes', { alwaysCompareMed: true }, (r: () => number) => r() % 3],
  ])('keeps the head ahead of every other path through announcements, replacements and withdrawals (%s)', (_, options, medOf) => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    const store = new AttributeStore();
    const sources = new SourceRegistry();
    const peers = Array.from({ length: 12 }, (_, i) => sources.add(peer(`10.0.0.${10 + i}`, 65010 + (i % 4), 1 + (random() % 5), i % 3 !== 0)));
    const rib = new FamilyRib(store, sources, options, 4);
    const prefixes = [key('10.1.0.0/24'), key('10.2.0.0/24'), key('10.3.0.0/24')];
    for (let step = 0; step < 3000; step++) {
      const k = prefixes[random() % prefixes.length]!;
      const source = peers[random() % peers.length]!;
      const pathId = random() % 2;
      if (random() % 4 === 0) {
        rib.withdraw(k, source, pathId);
        continue;
      }
      const id = store.intern(attrs({ localPref: 100 + (random() % 2), origin: random() % 2 ? 'igp' : 'egp', med: medOf(random), asPath: asPath(65010 + (source % 4), 1 + (random() % 2)) }));
      rib.update(k, source, pathId, id);
      store.release(id);
    }
    const candidate = (p: number): Candidate => ({ fields: store.decisionFields(rib.pathAttributes(p)), source: sources.get(rib.pathSource(p)), pathId: rib.pathIdOf(p) });
    let compared = 0;
    for (const k of prefixes) {
      const [head, ...rest] = rib.sortedPaths(k);
      for (const other of rest) {
        expect(compareCandidates(candidate(head!), candidate(other), options).order).toBeLessThan(0);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
  });

  it('says whether a change may have moved the best path', () => {
    const store = new AttributeStore();
    const sources = new SourceRegistry();
    const [a, b, c] = [2, 3, 4].map((n) => sources.add(peer(`10.0.0.${n}`, 65000 + n, n)));
    const rib = new FamilyRib(store, sources, {}, 4);
    const k = key('10.8.0.0/24');
    const id = store.intern(attrs());
    const better = store.intern(attrs({ localPref: 200 }));
    const moved = () => rib.bestMayHaveChanged;
    rib.update(k, b, 0, id);
    expect(moved()).toBe(true);
    rib.update(k, c, 0, id);
    expect(moved()).toBe(false); // behind b (higher router id)
    rib.update(k, a, 0, id);
    expect(moved()).toBe(true);
    expect(rib.pathSource(rib.bestPath(k))).toBe(a);
    rib.withdraw(k, c, 0);
    expect(moved()).toBe(false);
    rib.update(k, b, 0, better);
    expect(moved()).toBe(true);
    expect(rib.pathSource(rib.bestPath(k))).toBe(b);
    rib.update(k, c, 0, better);
    expect(moved()).toBe(false); // ties with b on local-pref, behind it on router id
    rib.update(k, a, 0, better);
    expect(moved()).toBe(true); // a replaced behind the head, and now ahead of it
    expect(rib.pathSource(rib.bestPath(k))).toBe(a);
  });

  it('knows while every attribute set interned has had one MED', () => {
    const store = new AttributeStore();
    store.release(store.intern(attrs()));
    store.intern(attrs({ med: 0, localPref: 300 }));
    expect(store.medsVary).toBe(false);
    store.release(store.intern(attrs({ med: 7 })));
    expect(store.medsVary).toBe(true); // for good, also once that set is gone
  });

  it('keeps a head that another path beats once the MEDs that made it best are gone, and picks as before after that', () => {
    // x beats h (router id, other AS), y beats x (router id), h beats y (MED, same AS): a cycle.
    const store = new AttributeStore();
    const sources = new SourceRegistry();
    const x = sources.add(peer('10.0.0.2', 65002, 2));
    const y = sources.add(peer('10.0.0.3', 65001, 1));
    const h = sources.add(peer('10.0.0.4', 65001, 3));
    const p = sources.add(peer('10.0.0.5', 65003, 9));
    const rib = new FamilyRib(store, sources, {}, 4);
    const k = key('10.9.0.0/24');
    const announce = (source: number, as: number, med: number) => rib.update(k, source, 0, store.intern(attrs({ med, asPath: asPath(as, 1) })));
    announce(x, 65002, 5);
    announce(h, 65001, 5);
    announce(y, 65001, 9);
    expect(rib.pathSource(rib.bestPath(k))).toBe(h);
    rib.withdraw(k, y, 0);
    expect(rib.pathSource(rib.bestPath(k))).toBe(h);
    // The scan over p, h, x that picked the best before picks x; h alone would keep h.
    announce(p, 65003, 5);
    expect(rib.pathSource(rib.bestPath(k))).toBe(x);
  });
});

describe('PrefixTable', () => {
  it('agrees with a Map through random inserts and deletes', () => {
    const table = new PrefixTable();
    const model = new Map<number, number>();
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20000; i++) {
      const k = ipv4Key(random() % 5000 * 256, 24);
      const op = random() % 4;
      if (op === 0) expect(table.delete(k)).toBe(model.delete(k));
      else if (op === 1) {
        expect(table.insertIfAbsent(k, i)).toBe(model.get(k) ?? -1);
        if (!model.has(k)) model.set(k, i);
      } else {
        table.set(k, i);
        model.set(k, i);
      }
    }
    expect(table.size).toBe(model.size);
    for (const [k, v] of model) expect(table.get(k)).toBe(v);
    expect([...table.keySnapshot()].sort()).toEqual([...model.keys()].sort());
  });

  it('keeps keys above 2^32 (IPv4 keys reach 2^38) and their values', () => {
    const table = new PrefixTable();
    const keys = [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 0xffffffff * 64 + 32, 2 ** 52 + 3];
    keys.forEach((k, i) => table.set(k, i));
    keys.forEach((k, i) => expect(table.get(k)).toBe(i));
    expect([...table.keySnapshot()].sort((a, b) => a - b)).toEqual(keys);
    expect(table.delete(2 ** 32)).toBe(true);
    expect(table.get(2 ** 32)).toBe(-1);
    expect(table.get(0xffffffff * 64 + 32)).toBe(5);
  });

  it('insertAbsentRun stores the absent keys and lists the present ones, also repeats within the batch', () => {
    const table = new PrefixTable();
    table.set(key('10.0.1.0/24'), 99);
    const batch = new Float64Array([key('10.0.0.0/24'), key('10.0.1.0/24'), key('10.0.2.0/24'), key('10.0.0.0/24')]);
    const present = new Int32Array(4);
    expect(table.insertAbsentRun(batch, 4, 10, present)).toBe(2);
    expect([...present.subarray(0, 2)]).toEqual([1, 3]);
    expect(table.get(key('10.0.0.0/24'))).toBe(10);
    expect(table.get(key('10.0.1.0/24'))).toBe(99);
    expect(table.get(key('10.0.2.0/24'))).toBe(12);
    expect(table.size).toBe(3);
    // A batch far larger than the table grows it once, and every key stays findable.
    const many = new Float64Array(5000).map((_, i) => ipv4Key((i * 2654435761) >>> 0, 32));
    expect(table.insertAbsentRun(many, many.length, 1000, new Int32Array(5000))).toBe(0);
    for (let i = 0; i < many.length; i++) expect(table.get(many[i]!)).toBe(1000 + i);
    expect(table.size).toBe(5003);
  });
});

describe('FamilyRib.updateMany', () => {
  it('ends in the same RIB as update() per prefix, with the same changes reported', () => {
    const build = () => {
      const store = new AttributeStore();
      const sources = new SourceRegistry();
      const a = sources.add(peer('10.0.0.2', 65002, 2));
      const b = sources.add(peer('10.0.0.3', 65003, 3));
      return { store, sources, a, b, rib: new FamilyRib(store, sources, {}, 4) };
    };
    const one = build();
    const bulk = build();
    // Known prefixes (from b, and from a with other attributes), repeats, ADD-PATH ids, growth.
    const batch = [key('10.0.0.0/24'), key('10.0.1.0/24'), key('10.0.0.0/24'), ...Array.from({ length: 300 }, (_, i) => ipv4Key((i + 1) * 256, 24))];
    const pathIds = batch.map((_, i) => (i === 2 ? 5 : 0));
    const setUp = (s: ReturnType<typeof build>) => {
      const other = s.store.intern(attrs({ med: 5 }));
      const older = s.store.intern(attrs({ med: 9 }));
      s.rib.update(key('10.0.0.0/24'), s.b, 0, other);
      s.rib.update(key('10.0.1.0/24'), s.a, 0, older);
      s.store.release(other);
      s.store.release(older);
      return s.store.intern(attrs());
    };
    const idOne = setUp(one);
    const idBulk = setUp(bulk);
    const changedOne: number[] = [];
    batch.forEach((k, i) => one.rib.update(k, one.a, pathIds[i]!, idOne) && changedOne.push(k));
    const changedBulk: number[] = [];
    bulk.rib.updateMany(new Float64Array(batch), new Uint32Array(pathIds), batch.length, bulk.a, idBulk, (k) => changedBulk.push(k));

    expect(changedBulk).toEqual(changedOne);
    expect(bulk.rib.prefixCount).toBe(one.rib.prefixCount);
    expect(bulk.rib.pathsFrom(bulk.a)).toBe(one.rib.pathsFrom(one.a));
    expect(bulk.rib.pathsFrom(bulk.b)).toBe(1);
    expect(bulk.store.refCount(idBulk)).toBe(one.store.refCount(idOne));
    const view = (s: ReturnType<typeof build>) =>
      [...s.rib.sortedPrefixKeys()].map((k) => s.rib.sortedPaths(k).map((p) => [s.rib.pathSource(p), s.rib.pathIdOf(p), s.store.get(s.rib.pathAttributes(p)).med ?? null]));
    expect(view(bulk)).toEqual(view(one));
    // The block slots of the known prefixes were given back: withdrawing everything leaves nothing.
    for (const k of bulk.rib.sortedPrefixKeys()) for (const p of bulk.rib.sortedPaths(k)) bulk.rib.withdraw(k, bulk.rib.pathSource(p), bulk.rib.pathIdOf(p));
    expect(bulk.rib.prefixCount).toBe(0);
    expect(bulk.store.refCount(idBulk)).toBe(1);
  });
});
