// The whole conformance suite over the seed fixtures x speakers {reference, frr, gobgp} against
// FRR, as `peerproof run` runs it (as root; 2 cores shared). Prints the total and every case's
// seconds, and the anchor measured in the same run: the time spent waiting on protocol timers
// (labs reaching Established + routes installed, and the cases' waits on the wire), as a share
// of the total. Target (issue 21): under 180 s, at least 85 % of it such waits.
//   npx tsx bench/suite.bench.ts [--speaker NAME ...] [--peer NAME ...] [--report DIR]
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listFixtures, parseSpeakerSpec, runSuite } from '../conformance/cases/runner.ts';
import type { DaemonKindName } from '../conformance/lab/model.ts';

const TARGET_S = 180;
const WAIT_SHARE_TARGET = 0.85;

const { values } = parseArgs({
  options: {
    speaker: { type: 'string', multiple: true, default: ['reference', 'frr', 'gobgp'] },
    peer: { type: 'string', multiple: true, default: ['frr'] },
    report: { type: 'string' },
  },
});
const reportDir = values.report ?? mkdtempSync(join(tmpdir(), 'pp-suite-bench-'));
mkdirSync(reportDir, { recursive: true });
chmodSync(reportDir, 0o755); // FRR (user frr) must reach the run folders below it

const outcome = await runSuite({
  fixtures: listFixtures(),
  speakers: values.speaker!.map(parseSpeakerSpec),
  peers: values.peer! as DaemonKindName[],
  reportDir,
  allure: false,
  log: () => undefined,
});
const { summary, timings } = outcome;
const total = summary.durationS;
const waits = timings.readyWaitS + timings.caseWaitS;

console.log(`suite: ${summary.cases.length} results, ${timings.combos} labs (fixture x speaker x peer), report ${reportDir}`);
console.log(`totals: ${JSON.stringify(summary.totals)}  flaky: ${summary.cases.filter((c) => c.flaky).length}`);
console.log('\nper case (seconds, cases that ran: total = waiting on the protocol + decoding captures + other case work):');
for (const c of [...timings.perCase].sort((a, b) => b.seconds - a.seconds)) {
  const other = Math.max(0, c.seconds - c.waitS - c.decodeS);
  console.log(`  ${c.seconds.toFixed(1).padStart(6)} = wait ${c.waitS.toFixed(1).padStart(5)} + decode ${c.decodeS.toFixed(1).padStart(4)} + other ${other.toFixed(1).padStart(5)}  ${c.key}`);
}
const caseBodiesS = timings.casesS - timings.vitestS;
const caseOtherS = Math.max(0, caseBodiesS - timings.caseWaitS - timings.caseDecodeS);
const rest = total - timings.labS - timings.readyWaitS - timings.readyReadS - timings.casesS;
const row = (label: string, seconds: number, kind: 'wait' | 'harness') => console.log(`  ${label.padEnd(52)} ${seconds.toFixed(1).padStart(7)} s  ${kind}`);
console.log('\nwhere the time went:');
row('lab build (namespaces, links, daemons, captures)', timings.labS - timings.labStopS, 'harness');
row('lab teardown', timings.labStopS, 'harness');
row('readiness: sessions Established, routes installed', timings.readyWaitS, 'wait');
row('readiness: the last reads (that saw the lab ready)', timings.readyReadS, 'harness');
row('vitest start-up, module loading, collection, close', timings.vitestS, 'harness');
row('cases: waits on the wire / router state / timers', timings.caseWaitS, 'wait');
row('cases: reading + decoding captures', timings.caseDecodeS, 'harness');
row('cases: other work (ip/vtysh/status reads, traffic,', caseOtherS, 'harness');
console.log('     kill/restart, the last read of each poll)');
row('report + rest', rest, 'harness');
const waitShare = waits / Math.max(total, 0.001);
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
console.log(`\ntotal ${total.toFixed(1)} s (target < ${TARGET_S} s: ${verdict(total < TARGET_S)})`);
console.log(`anchor: protocol waits ${waits.toFixed(1)} s; ratio total / waits = ${(total / Math.max(waits, 0.001)).toFixed(2)} (1.00 would be all waiting)`);
console.log(`protocol waits ${(waitShare * 100).toFixed(0)} % of the total (target >= ${WAIT_SHARE_TARGET * 100} %: ${verdict(waitShare >= WAIT_SHARE_TARGET)})`);
