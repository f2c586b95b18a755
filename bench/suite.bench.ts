// The whole conformance suite over the seed fixtures x speakers {reference, frr, gobgp} against
// FRR, as `peerproof run` runs it (as root; 2 cores shared). Prints the total and every case's
// seconds, and the anchor measured in the same run: the time spent waiting on protocol timers
// (labs reaching Established + routes installed, and the cases' waits on the wire), as a share
// of the total. Target: the whole run under 10 minutes, most of it such waits.
//   npx tsx bench/suite.bench.ts [--speaker NAME ...] [--peer NAME ...] [--report DIR]
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listFixtures, parseSpeakerSpec, runSuite } from '../conformance/cases/runner.ts';
import type { DaemonKindName } from '../conformance/lab/model.ts';

const TARGET_S = 600;

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
console.log('\nper case (seconds, cases that ran):');
for (const c of [...timings.perCase].sort((a, b) => b.seconds - a.seconds)) console.log(`  ${c.seconds.toFixed(1).padStart(6)}  ${c.key}`);
console.log('\nwhere the time went:');
console.log(`  lab build + teardown      ${timings.labS.toFixed(1).padStart(7)} s`);
console.log(`  readiness waits (timers)  ${timings.readyWaitS.toFixed(1).padStart(7)} s`);
console.log(`  vitest runs (cases)       ${timings.casesS.toFixed(1).padStart(7)} s   of which waits on the wire ${timings.caseWaitS.toFixed(1)} s`);
console.log(`  report + rest             ${(total - timings.labS - timings.readyWaitS - timings.casesS).toFixed(1).padStart(7)} s`);
console.log(`\ntotal ${total.toFixed(1)} s (target < ${TARGET_S} s: ${total < TARGET_S ? 'met' : 'MISSED'})`);
console.log(`anchor: protocol waits ${waits.toFixed(1)} s; ratio total / waits = ${(total / Math.max(waits, 0.001)).toFixed(2)} (1.00 would be all waiting; harness share ${(((total - waits) / total) * 100).toFixed(0)} %)`);
