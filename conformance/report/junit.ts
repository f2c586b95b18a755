// JUnit XML from a run summary, for CI systems: one <testsuite> per fixture, one <testcase>
// per case x speaker x peer. Failed -> <failure>, broken (the harness failed) -> <error>,
// skipped -> <skipped>; a flaky pass keeps passing but carries <flakyFailure> (the Surefire
// element Jenkins and GitLab understand) and a `flaky` property.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeXml as x, escapeXmlAttribute as attr } from './markup.ts';
import { computeTotals, type CaseResult, type RunSummary } from './summary.ts';

export const JUNIT_FILE = 'junit.xml';

export function junitCaseName(c: CaseResult): string {
  return `${c.id} [${c.speaker} vs ${c.peer}]`;
}

function property(name: string, value: unknown, indent: string): string {
  return `${indent}<property name="${attr(name)}" value="${attr(value)}"/>`;
}

function seconds(s: number): string {
  return s.toFixed(3);
}

function testcase(c: CaseResult): string[] {
  const out = [`    <testcase name="${attr(junitCaseName(c))}" classname="${attr(c.fixture)}" time="${seconds(c.durationS)}">`];
  out.push('      <properties>');
  out.push(property('speaker', c.speaker, '        '), property('peer', c.peer, '        '), property('seed', c.seed, '        '));
  for (const ref of c.rfc) out.push(property('rfc', ref, '        '));
  out.push(property('flaky', c.flaky, '        '));
  for (const [k, v] of Object.entries(c.measurements)) out.push(property(`measurement.${k}`, v, '        '));
  out.push('      </properties>');
  const reason = c.reason || c.status;
  if (c.status === 'failed') out.push(`      <failure message="${attr(reason)}" type="failed">${x(reason)}</failure>`);
  if (c.status === 'broken') out.push(`      <error message="${attr(reason)}" type="broken">harness failure, not a verdict on the speaker: ${x(reason)}</error>`);
  if (c.status === 'skipped') out.push(`      <skipped message="${attr(reason)}"/>`);
  if (c.flaky) out.push(`      <flakyFailure message="${attr(c.reason || 'passed only on its automatic retry')}" type="flaky"/>`);
  if (c.artifacts.length > 0) {
    // [[ATTACHMENT|path]] is the convention of the Jenkins attachments plugin and GitLab.
    out.push(`      <system-out>${c.artifacts.map((a) => x(`[[ATTACHMENT|${a}]]`)).join('\n')}</system-out>`);
  }
  out.push('    </testcase>');
  return out;
}

function counts(cases: readonly CaseResult[]): string {
  const t = computeTotals(cases);
  const time = cases.reduce((s, c) => s + c.durationS, 0);
  return `tests="${cases.length}" failures="${t.failed}" errors="${t.broken}" skipped="${t.skipped}" time="${seconds(time)}"`;
}

export function renderJunit(summary: RunSummary): string {
  const byFixture = new Map<string, CaseResult[]>();
  for (const c of summary.cases) byFixture.set(c.fixture, [...(byFixture.get(c.fixture) ?? []), c]);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="peerproof ${attr(summary.version)}" ${counts(summary.cases)} timestamp="${attr(summary.startedAt)}">`,
  ];
  for (const [fixture, cases] of byFixture) {
    lines.push(`  <testsuite name="${attr(fixture)}" ${counts(cases)} timestamp="${attr(summary.startedAt)}">`);
    lines.push('    <properties>');
    for (const [k, v] of Object.entries(summary.host)) lines.push(property(`host.${k}`, v, '      '));
    lines.push('    </properties>');
    for (const c of cases) lines.push(...testcase(c));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

export async function writeJunit(dir: string, summary: RunSummary): Promise<string> {
  const file = join(dir, JUNIT_FILE);
  await writeFile(file, renderJunit(summary));
  return file;
}
