import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../lab/teardown.ts';
import { DAEMON_KINDS, isDaemonKind, type DaemonKindName } from '../lab/model.ts';
import { daemonsFor, fieldFixtures, summarise, type FieldResult } from './field/matrix.ts';
import { runReplayFixture } from './run.ts';

// Replays every fixtures/field-* against real FRR 8.4.4, GoBGP 3.10.0, BIRD 2.0.12 and OpenBGPD
// 7.7 and pins TODAY's behaviour of each (docs/field-results.md is generated from this run's
// results). A changed verdict means a daemon (or the replay) changed: look at the run, then update
// the table. PP_FIELD_DAEMONS=openbgpd (a comma list) replays against those daemons only; the
// results doc then keeps the other daemons' rows from its previous version.

type Verdict = 'pass' | 'bug-present' | 'fail';
const P: Verdict = 'pass';
const B: Verdict = 'bug-present';

const today: Record<string, Partial<Record<DaemonKindName, Verdict>>> = {
  // OpenBGPD 7.7 offers no ADD-PATH receive by default (like GoBGP and BIRD): path ids towards it are misparsed
  // in IPv4 like theirs, and reset the session with 3/9 in IPv6 (MP_REACH), as FRR does. It has no RFC 8950: an
  // IPv4 MP_REACH with an IPv6 next hop resets the session (3/9), where the other three keep it.
  // FRR offers ADD-PATH receive by default, so path ids from a "send"/"both" speaker are legal towards it.
  'field-addpath-ipv4-played-send-peer-default': { frr: P, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-send-peer-addpath': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-addpath-ipv4-played-receive-peer-default': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-receive-peer-addpath': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-both-peer-default': { frr: P, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-both-peer-addpath': { frr: P, gobgp: P, bird: P, openbgpd: P },
  // A speaker that offered no ADD-PATH at all but sends path ids: wrong towards everyone.
  'field-addpath-ipv4-played-none-peer-default': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-none-peer-addpath': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-none-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-none-peer-default': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-none-peer-addpath': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-none-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  // A peer that offers send only (FRR disable-addpath-rx, GoBGP send-max without receive, BIRD add paths tx):
  // path ids towards it are always wrong.
  'field-addpath-ipv4-played-send-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-receive-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv4-played-both-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-send-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-receive-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-both-peer-send-only': { frr: B, gobgp: B, bird: B, openbgpd: B },
  // IPv6 (MP_REACH over the IPv4 session): FRR resets with 3/9, BIRD with 3/1, GoBGP drops the route silently.
  'field-addpath-ipv6-played-send-peer-default': { frr: P, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-send-peer-addpath': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-addpath-ipv6-played-receive-peer-default': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-receive-peer-addpath': { frr: B, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-both-peer-default': { frr: P, gobgp: B, bird: B, openbgpd: B },
  'field-addpath-ipv6-played-both-peer-addpath': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-frr-ebgp-requires-policy': { frr: B, gobgp: P, bird: P, openbgpd: P },
  'field-as4-path-4octet-on-2octet-session': { frr: B, gobgp: P, bird: B, openbgpd: B },
  'field-as4-trans-as4path-boundary': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-as4-open-65536-truncated': { frr: B, gobgp: P, bird: P, openbgpd: B },
  'field-as4-trans-for-mappable-asn': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-gr-eor-before-routes': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-gr-restarting-eor-before-routes': { frr: P, gobgp: P, bird: P, openbgpd: P },
  'field-extended-nexthop-one-side': { frr: P, gobgp: P, bird: P, openbgpd: B },
  // Only the receiving side (BIRD) offers it: BIRD still keeps the session and drops the route.
  'field-extended-nexthop-peer-side': { bird: P },
  // Over an IPv6 session (RFC 8950 as IPv6-only fabrics run it): nobody resets; FRR installs the route whoever
  // offered the capability, GoBGP stores it, BIRD treats it as withdrawn unless both offered it.
  'field-extended-nexthop-ipv6-one-side': { frr: P, gobgp: P, bird: P, openbgpd: B },
  'field-extended-nexthop-ipv6-peer-side': { frr: P, bird: P },
  // The healthy control: both offer it, FRR and BIRD install 10.94.5.0/24 via inet6 fd00:90::1 (RIB and kernel).
  'field-extended-nexthop-ipv6-both-sides': { frr: P, bird: P },
  // FRR and BIRD keep 10.95.1.0/24 unusable (FRR: a path without "valid", 'inaccessible'); GoBGP
  // and OpenBGPD show it usable in their RIB, though neither installs it in the kernel.
  'field-nexthop-not-connected': { frr: B, gobgp: P, bird: B, openbgpd: P },
};

const root = resolve(import.meta.dirname, '../../fixtures');
const daemons: DaemonKindName[] = (process.env.PP_FIELD_DAEMONS ?? DAEMON_KINDS.join(','))
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is DaemonKindName => {
    if (!isDaemonKind(d)) throw new Error(`PP_FIELD_DAEMONS: "${d}" is not one of ${DAEMON_KINDS.join(', ')}`);
    return true;
  });
const results: FieldResult[] = [];
let runsRoot = '';

beforeAll(() => {
  runsRoot = mkdtempSync(join(tmpdir(), 'pp-field-'));
  chmodSync(runsRoot, 0o755); // FRR runs as user frr
});

afterAll(() => {
  const out = resolve(import.meta.dirname, '../../reports');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'field-results.json'), JSON.stringify({ generatedAt: new Date().toISOString().slice(0, 16) + 'Z', daemons, results }, null, 1) + '\n');
  rmSync(runsRoot, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('field fixtures replayed against real daemons', () => {
  const fixtures = fieldFixtures(root);

  it('every field fixture has a pinned verdict per daemon it runs against', () => {
    for (const dir of fixtures) {
      const name = dir.split('/').pop()!;
      expect(Object.keys(today[name] ?? {}).sort(), name).toEqual(daemonsFor(dir).sort());
    }
  });

  for (const dir of fixtures) {
    const name = dir.split('/').pop()!;
    for (const against of daemonsFor(dir, daemons)) {
      it(`${name} against ${against}`, async () => {
        const run = await runReplayFixture(dir, { against, runsRoot });
        const result = summarise(run);
        results.push(result);
        // The replay itself worked: the session was attempted, everything was sent or cut short by the peer.
        expect(run.observation.events.some((e) => e.kind === 'sent' && e.type === 'OPEN')).toBe(true);
        expect(run.observation.events.some((e) => e.kind === 'done')).toBe(true);
        expect(run.observation.events.filter((e) => e.kind === 'error')).toEqual([]);
        expect(run.capture !== null && existsSync(run.capture)).toBe(true);
        expect(leftovers(run.runDir)).toEqual({ namespaces: [], pids: [] });
        expect(result.verdict, `${name}/${against}: ${result.observed}`).toBe(today[name]?.[against]);
      });
    }
  }
});
