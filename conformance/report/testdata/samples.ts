// Realistic run summaries and a decoded capture for the report tests: the case ids, seeds and
// fixtures of the catalogue, the addresses and ASNs of seed 000 (router AS 65100, nodes AS 65000,
// LB pool 192.0.2.0/24).
import { CATALOG, catalogEntry, rfcRefs } from '../../cases/catalog.ts';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildSummary, writeSummary, type CaseResult, type CaseStatus, type RunSummary } from '../summary.ts';

export const SAMPLE_HOST = { kernel: '6.18.44-fc-v669', frr: '8.4.4', gobgp: '3.10.0', bird: '2.0.12' };

interface Spec {
  id: string;
  speaker: string;
  peer: string;
  status: CaseStatus;
  reason?: string;
  fixture?: string;
  flaky?: boolean;
  measurements?: CaseResult['measurements'];
  artifacts?: string[];
}

function result(spec: Spec, index: number): CaseResult {
  const entry = catalogEntry(spec.id);
  const fixture = spec.fixture ?? entry.fixture;
  const base = `${spec.id}/${fixture}/${spec.speaker}-${spec.peer}`;
  return {
    id: spec.id,
    fixture,
    speaker: spec.speaker,
    peer: spec.peer,
    status: spec.status,
    reason: spec.reason ?? '',
    rfc: rfcRefs(spec.id),
    seed: entry.seed,
    durationS: Math.round((2 + ((index * 7919) % 97) / 10) * 10) / 10,
    flaky: spec.flaky ?? false,
    measurements: spec.measurements ?? {},
    artifacts: spec.artifacts ?? (spec.status === 'skipped' ? [] : [`${base}/pcaps/router-eth1.pcap`, `${base}/logs/router-bgpd.log`, `${base}/configs/router-frr.conf`]),
  };
}

const NO_L2 = 'GoBGP has no L2 announcer';

/** The current run: every catalogued case for the reference speaker against FRR, plus third-party speakers. */
export function currentSpecs(): Spec[] {
  const specs: Spec[] = CATALOG.map((e) => ({ id: e.id, speaker: 'reference', peer: 'frr', status: 'passed' as CaseStatus }));
  const set = (id: string, patch: Partial<Spec>) => Object.assign(specs.find((s) => s.id === id && s.speaker === 'reference' && s.peer === 'frr')!, patch);
  set('ecmp.spread', { measurements: { flows: 1000, nextHops: 2, maxDeviation: 0.043, bound: 0.1 } });
  set('l2.failover', { measurements: { failoverS: 2.81, leaseS: 15 } });
  set('lb.withdraw', { status: 'failed', reason: 'router 10.0.5.1 still holds 20.0.10.7/32 9.0 s after the service was deleted (MRAI 0 s)' });
  set('fault.peer-kill', { flaky: true, reason: 'passed on retry; first attempt: End-of-RIB not seen within 30 s' });
  set('session.establish', { artifacts: ['session.establish/seed-000-cilium-two-subnets/reference-frr/pcaps/router-eth1.pcap', 'session.establish/seed-000-cilium-two-subnets/reference-frr/pcaps/router-eth1.jsonl', 'session.establish/seed-000-cilium-two-subnets/reference-frr/logs/router-bgpd.log'] });
  set('dsr.return-path', { status: 'broken', reason: 'namespace pp-c2-4f1a could not be created: File exists' });
  specs.push(
    { id: 'session.establish', speaker: 'reference', peer: 'gobgp', status: 'passed' },
    { id: 'session.establish', speaker: 'frr', peer: 'gobgp', status: 'passed' },
    { id: 'session.establish', speaker: 'gobgp', peer: 'frr', status: 'passed' },
    { id: 'session.establish', speaker: 'bird', peer: 'frr', status: 'passed' },
    { id: 'session.establish', speaker: 'reference', peer: 'frr', status: 'passed', fixture: 'seed-004-anthos-floating' },
    { id: 'ecmp.spread', speaker: 'gobgp', peer: 'frr', status: 'passed', measurements: { flows: 1000, nextHops: 2, maxDeviation: 0.061, bound: 0.1 } },
    { id: 'ecmp.spread', speaker: 'bird', peer: 'frr', status: 'failed', reason: 'route 192.0.2.10/32 on router has 1 next hop, expected 2', measurements: { flows: 1000, nextHops: 1, maxDeviation: 1, bound: 0.1 } },
    { id: 'l2.arp-leader', speaker: 'gobgp', peer: 'frr', status: 'skipped', reason: NO_L2 },
    { id: 'l2.failover', speaker: 'gobgp', peer: 'frr', status: 'skipped', reason: NO_L2 },
    {
      id: 'addpath.multi-nexthop', speaker: 'gobgp', peer: 'frr', status: 'passed', measurements: { paths: 2 },
      artifacts: ['addpath.multi-nexthop/seed-004-anthos-floating/gobgp-frr/pcaps/frr-gobgp-as4-addpath.pcap', 'addpath.multi-nexthop/seed-004-anthos-floating/gobgp-frr/logs/gobgpd.log'],
    },
    {
      id: 'addpath.multi-nexthop', speaker: 'bird', peer: 'gobgp', status: 'passed', measurements: { paths: 2 },
      artifacts: ['addpath.multi-nexthop/seed-004-anthos-floating/bird-gobgp/pcaps/gobgp-bird-ipv6-addpath.pcapng', 'addpath.multi-nexthop/seed-004-anthos-floating/bird-gobgp/configs/bird.conf'],
    },
    {
      id: 'fault.peer-kill', speaker: 'bird', peer: 'frr', status: 'passed', measurements: { holdTimeS: 3, notificationAfterS: 3.0 },
      artifacts: ['fault.peer-kill/seed-002-spine-leaf/bird-frr/pcaps/frr-bird-cooked-holdtimer.pcap', 'fault.peer-kill/seed-002-spine-leaf/bird-frr/logs/router-bgpd.log'],
    },
    { id: 'negative.malformed-update', speaker: 'frr', peer: 'gobgp', status: 'passed' },
    { id: 'negative.malformed-update', speaker: 'bird', peer: 'gobgp', status: 'failed', reason: 'session reset (NOTIFICATION 3/1) where RFC 7606 asks for treat-as-withdraw' },
    { id: 'update.encoding', speaker: 'gobgp', peer: 'frr', status: 'passed' },
    { id: 'calico.borrowed-ip', speaker: 'bird', peer: 'frr', status: 'passed' },
  );
  return specs;
}

export function sampleCurrent(): RunSummary {
  return buildSummary({
    version: '0.1.0',
    startedAt: new Date('2026-11-21T22:10:00.000Z'),
    durationS: 412.7,
    host: SAMPLE_HOST,
    cases: currentSpecs().map(result),
  });
}

/**
 * The baseline: lb.withdraw and dsr.return-path passed (so both regress now: failed and
 * broken), bird's ecmp.spread and malformed-update already failed (no regression),
 * l2 cases skipped, and one case that the current run no longer has.
 */
export function sampleBaseline(): RunSummary {
  const specs = currentSpecs()
    .filter((s) => !(s.id === 'calico.borrowed-ip' && s.speaker === 'bird'))
    .map((s) => {
      if (s.speaker === 'reference' && s.peer === 'frr' && (s.id === 'lb.withdraw' || s.id === 'dsr.return-path')) {
        return { ...s, status: 'passed' as CaseStatus, reason: '' };
      }
      return s;
    });
  specs.push({ id: 'fault.link-down', speaker: 'frr', peer: 'gobgp', status: 'passed' });
  return buildSummary({
    version: '0.1.0',
    startedAt: new Date('2026-11-20T22:10:00.000Z'),
    durationS: 398.2,
    host: SAMPLE_HOST,
    cases: specs.map(result),
  });
}

/**
 * A decoded capture (decode-jsonl contract) of session.establish on seed 000: node1 10.0.1.10
 * (AS 65000, the reference speaker) and the FRR router 10.0.1.1 (AS 65100).
 */
export function sampleDecodedJsonl(): string {
  const node = '10.0.1.10';
  const router = '10.0.1.1';
  const caps = (asn: number) => [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
    { code: 2, name: 'route-refresh' },
    { code: 65, name: 'as4', asn },
    { code: 64, name: 'graceful-restart', restarting: false, notification: true, restartTime: 120, families: [] },
  ];
  const messages = [
    { ts: 1763763000.101204, src: `${node}:40412`, dst: `${router}:179`, type: 'OPEN', length: 59, open: { version: 4, myAs: 65000, holdTime: 9, bgpId: node, as4: 65000, capabilities: caps(65000) } },
    { ts: 1763763000.103871, src: `${router}:179`, dst: `${node}:40412`, type: 'OPEN', length: 63, open: { version: 4, myAs: 65100, holdTime: 9, bgpId: '192.168.121.16', as4: 65100, capabilities: caps(65100) } },
    { ts: 1763763000.104102, src: `${node}:40412`, dst: `${router}:179`, type: 'KEEPALIVE', length: 19 },
    { ts: 1763763000.105557, src: `${router}:179`, dst: `${node}:40412`, type: 'KEEPALIVE', length: 19 },
    {
      ts: 1763763000.212430, src: `${node}:40412`, dst: `${router}:179`, type: 'UPDATE', length: 55,
      update: { withdrawn: [], nlri: [{ prefix: '192.0.2.10/32' }, { prefix: '192.0.2.11/32' }], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65000] }], nextHop: node } },
    },
    { ts: 1763763000.212911, src: `${node}:40412`, dst: `${router}:179`, type: 'UPDATE', length: 23, update: { withdrawn: [], nlri: [], attributes: {} } },
    {
      ts: 1763763000.215377, src: `${router}:179`, dst: `${node}:40412`, type: 'UPDATE', length: 52,
      update: { withdrawn: [], nlri: [{ prefix: '10.0.2.0/24' }], attributes: { origin: 'incomplete', asPath: [{ type: 'sequence', asns: [65100] }], nextHop: router, med: 0 } },
    },
    { ts: 1763763000.215802, src: `${router}:179`, dst: `${node}:40412`, type: 'UPDATE', length: 23, update: { withdrawn: [], nlri: [], attributes: {} } },
    { ts: 1763763003.104981, src: `${node}:40412`, dst: `${router}:179`, type: 'KEEPALIVE', length: 19 },
    { ts: 1763763004.981330, src: `${node}:40412`, dst: `${router}:179`, type: 'UPDATE', length: 27, update: { withdrawn: [{ prefix: '192.0.2.11/32' }], nlri: [], attributes: {} } },
    { ts: 1763763006.002114, src: `${router}:179`, dst: `${node}:40412`, type: 'NOTIFICATION', length: 21, notification: { code: 6, subcode: 2, data: '' } },
  ];
  return `${messages.map((m) => JSON.stringify(m)).join('\n')}\n`;
}

const GOLDEN_CAPTURES = new URL('../../../pcaps/', import.meta.url);

/** A classic pcap with its global header and no packets (Ethernet, microseconds). */
function emptyPcap(): Uint8Array {
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b2c3d4, true);
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, 262_144, true);
  header.setUint32(20, 1, true);
  return new Uint8Array(header.buffer);
}

/**
 * A report dir as a run leaves it: summary.json plus every artifact it names. Captures named
 * like a golden capture of pcaps/ (real FRR/GoBGP/BIRD sessions) are copies of it; other
 * captures hold no packets.
 */
export async function writeSampleReport(dir: string, summary: RunSummary = sampleCurrent()): Promise<string> {
  await writeSummary(dir, summary);
  for (const c of summary.cases) {
    for (const a of c.artifacts) {
      const path = join(dir, a);
      await mkdir(dirname(path), { recursive: true });
      if (a.endsWith('.jsonl')) await writeFile(path, sampleDecodedJsonl());
      else if (/\.pcap(ng)?$/.test(a)) {
        const golden = new URL(basename(a), GOLDEN_CAPTURES);
        await copyFile(golden, path).catch(async () => writeFile(path, emptyPcap()));
      } else await writeFile(path, `artifact ${a}\n`);
    }
  }
  return dir;
}
