// The interop matrix: a static HTML page (no server, no external assets) with features (case
// ids) down and speakers x peers across, each cell the status of every fixture it ran on with
// the measured figures and links to the artifacts; and one page per case result with its
// details and the ladder of its BGP messages. Written beside summary.json so the artifact
// paths of the contract (relative to the report dir) work as links.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { CATALOG, type CatalogEntry } from '../cases/catalog.ts';
import { CLAUSES } from '../clauses/index.ts';
import { escapeHtml as h, hrefFor } from './markup.ts';
import { LADDER_CSS, renderLadderSvg } from './ladder.ts';
import { loadLadders, type CaseLadder } from './ladder-sources.ts';
import { caseKey, CASE_STATUSES, isKnownDeviation, STATUS_SEVERITY, type CaseResult, type CaseStatus, type RunSummary } from './summary.ts';

export const MATRIX_FILE = 'matrix.html';

/** A scenario case's catalogue entry, or a clause test described the same way (its one clause). */
function describedCase(id: string): CatalogEntry | undefined {
  const entry = CATALOG.find((e) => e.id === id);
  if (entry) return entry;
  const clause = CLAUSES.find((c) => c.id === id);
  return clause && { id, description: clause.title, seed: 'none', fixture: 'clause-lab', clauses: [{ ref: clause.rfc, level: clause.level, checks: clause.title, negative: clause.negative }] };
}
export const CASE_PAGES_DIR = 'cases';

/** What a cell or a result shows: a flaky pass and a known deviation are states of their own on the page. */
export type DisplayStatus = CaseStatus | 'flaky' | 'deviation';

export function displayStatus(c: CaseResult): DisplayStatus {
  if (isKnownDeviation(c)) return 'deviation';
  return c.status === 'passed' && c.flaky ? 'flaky' : c.status;
}

const SYMBOL: Record<DisplayStatus, string> = { passed: '✔', flaky: '≈', failed: '✘', deviation: '≠', broken: '⚠', skipped: '–' };

const MEANING: Record<DisplayStatus, string> = {
  passed: 'passed: the behaviour held on the wire and in router state',
  flaky: 'flaky: passed only on its one automatic retry (not green)',
  failed: 'failed: the speaker or peer did not behave as the RFC or the fixture requires',
  deviation: "known deviation: failed as the speaker's deviations file lists (reason and public reference on the result); counted failed, the gate passes it while it does not change",
  broken: 'broken: the harness itself failed (daemon, namespace); no verdict on the speaker',
  skipped: 'skipped: the speaker lacks the feature or the fixture does not apply',
};

function worst(results: readonly CaseResult[]): DisplayStatus {
  let pick = results[0]!;
  for (const r of results) {
    const rank = (c: CaseResult) => STATUS_SEVERITY[c.status] * 2 + (c.flaky ? 1 : 0) - (isKnownDeviation(c) ? 1 : 0);
    if (rank(r) > rank(pick)) pick = r;
  }
  return displayStatus(pick);
}

/** A file name for a case result's page, unique per key and readable. */
export function casePageName(c: CaseResult): string {
  const slug = [c.id, c.fixture, c.speaker, c.peer].join('--').replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${slug}.html`;
}

function artifactKind(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.pcap' || ext === '.pcapng') return 'pcap';
  if (ext === '.jsonl') return 'decoded';
  if (ext === '.log') return 'log';
  if (['.conf', '.toml', '.yaml', '.yml', '.cfg'].includes(ext)) return 'config';
  return ext.slice(1) || 'file';
}

function formatFigure(v: number | string | boolean): string {
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 10_000) / 10_000);
}

function figures(c: CaseResult): string {
  const entries = Object.entries(c.measurements);
  if (entries.length === 0) return '';
  return `<span class="figures">${entries.map(([k, v]) => `${h(k)} <b>${h(formatFigure(v))}</b>`).join(' · ')}</span>`;
}

/**
 * Which node an artifact belongs to and what it is, as a network engineer names it: node `leaf0`,
 * `eth1 pcap` (pcaps/leaf0-eth1.pcap) or `bgpd.log` (nodes/leaf0/bgpd.log). Files of the
 * whole run (topology.json) belong to `run`.
 */
export function describeArtifact(path: string): { node: string; label: string } {
  const parts = path.split('/');
  const file = parts.at(-1)!;
  const nodes = parts.lastIndexOf('nodes');
  if (nodes >= 0 && nodes + 2 < parts.length) return { node: parts[nodes + 1]!, label: parts.slice(nodes + 2).join('/') };
  if (parts.at(-2) === 'pcaps' && artifactKind(path) === 'pcap') {
    const base = file.replace(/\.pcap(ng)?$/i, '');
    const dash = base.lastIndexOf('-');
    if (dash > 0) return { node: base.slice(0, dash), label: `${base.slice(dash + 1)} pcap` };
  }
  return { node: 'run', label: file };
}

/** Artifacts grouped per node (nodes by name, the run's own files last), pcaps first within a node. */
function artifactsByNode(paths: readonly string[]): Array<[string, Array<{ path: string; label: string }>]> {
  const groups = new Map<string, Array<{ path: string; label: string }>>();
  for (const path of paths) {
    const { node, label } = describeArtifact(path);
    groups.set(node, [...(groups.get(node) ?? []), { path, label }]);
  }
  const pcapFirst = (a: { path: string }) => (artifactKind(a.path) === 'pcap' ? 0 : 1);
  return [...groups.entries()]
    .sort(([a], [b]) => Number(a === 'run') - Number(b === 'run') || a.localeCompare(b, 'en', { numeric: true }))
    .map(([node, items]) => [node, items.sort((x, y) => pcapFirst(x) - pcapFirst(y) || x.label.localeCompare(y.label))]);
}

function artifactLinks(c: CaseResult, prefix: string): string {
  if (c.artifacts.length === 0) return '';
  const groups = artifactsByNode(c.artifacts).map(
    ([node, items]) =>
      `<span class="node-artifacts"><span class="node">${h(node)}</span> ${items.map((a) => `<a href="${h(prefix + hrefFor(a.path))}" title="${h(`${node} ${a.label}`)}">${h(a.label)}</a>`).join(' ')}</span>`,
  );
  return `<span class="artifacts">${groups.join('')}</span>`;
}

function shortFixture(fixture: string): string {
  const m = fixture.match(/^(seed-\d+)/);
  return m ? m[1]! : fixture;
}

export interface MatrixInput {
  summary: RunSummary;
  /** Ladders by caseKey; cases without one say so on their page. */
  ladders?: Map<string, CaseLadder>;
}

const PAGE_CSS = `
:root { --passed: #2e7d32; --flaky: #b26a00; --failed: #c62828; --deviation: #ad5a00; --broken: #6a1b9a; --skipped: #757575; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1d2630; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #556; margin-bottom: 16px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d5dbe2; padding: 6px 8px; vertical-align: top; text-align: left; }
th { background: #f3f5f8; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #d5dbe2; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card .n { font-size: 26px; font-weight: 600; }
.card.passed .n { color: var(--passed); } .card.failed .n { color: var(--failed); }
.card.deviation .n { color: var(--deviation); } .card.broken .n { color: var(--broken); } .card.skipped .n { color: var(--skipped); } .card.flaky .n { color: var(--flaky); }
.status { display: inline-block; padding: 1px 7px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; white-space: nowrap; }
.status.passed { background: var(--passed); } .status.flaky { background: var(--flaky); }
.status.failed { background: var(--failed); } .status.deviation { background: var(--deviation); } .status.broken { background: var(--broken); } .status.skipped { background: var(--skipped); }
table.matrix td.cell { min-width: 150px; }
table.matrix td.cell.passed { background: #edf7ee; } table.matrix td.cell.flaky { background: #fff4e0; }
table.matrix td.cell.failed { background: #fdecec; } table.matrix td.cell.deviation { background: #fbf0e4; } table.matrix td.cell.broken { background: #f4ebf8; }
table.matrix td.cell.skipped { background: #f5f5f5; } table.matrix td.empty { background: #fafafa; color: #aaa; text-align: center; }
.result { margin: 2px 0 6px; } .result > a.status { text-decoration: none; }
.figures { display: block; font-size: 12px; color: #333; } .artifacts { display: block; font-size: 12px; }
.artifacts a { margin-right: 6px; } .node-artifacts { display: block; } .node-artifacts .node { font-weight: 600; margin-right: 4px; } .reason { display: block; font-size: 12px; color: #444; max-width: 260px; }
.feature code { font-weight: 600; } .feature .rfc { font-size: 12px; color: #556; } .feature .desc { font-size: 12px; color: #333; max-width: 320px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
dl.legend dd { margin: 0; }
.note { color: #555; font-style: italic; }
.ladder-wrap { overflow-x: auto; border: 1px solid #d5dbe2; padding: 6px; }
`;

function page(title: string, body: string, extraCss = ''): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title>`,
    `<style>${PAGE_CSS}${extraCss}</style>`,
    '</head><body>',
    body,
    '</body></html>',
    '',
  ].join('\n');
}

function hostTable(s: RunSummary): string {
  const rows = [
    ['Linux kernel', s.host.kernel],
    ['FRR (bgpd)', s.host.frr],
    ['GoBGP (gobgpd)', s.host.gobgp],
    ['BIRD', s.host.bird],
    ...(s.host.openbgpd ? [['OpenBGPD (bgpd)', s.host.openbgpd]] : []),
    ['peerproof', s.version],
  ];
  return `<table class="host">${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td data-host="${h(k)}">${h(v)}</td></tr>`).join('')}</table>`;
}

function totalsCards(s: RunSummary): string {
  const flaky = s.cases.filter((c) => c.flaky).length;
  const deviations = s.cases.filter(isKnownDeviation).length;
  const cards = CASE_STATUSES.map((st) =>
    st === 'failed' && deviations > 0
      ? `<div class="card failed" data-total="failed"><div class="n">${s.totals.failed - deviations}</div>failed (new)</div><div class="card deviation" data-total="deviation"><div class="n">${deviations}</div>failed (known deviations)</div>`
      : `<div class="card ${st}" data-total="${st}"><div class="n">${s.totals[st]}</div>${st}</div>`,
  );
  cards.push(`<div class="card flaky" data-total="flaky"><div class="n">${flaky}</div>flaky (of the passed)</div>`);
  cards.push(`<div class="card" data-total="all"><div class="n">${s.cases.length}</div>results</div>`);
  return `<div class="cards totals">${cards.join('')}</div>`;
}

function legend(): string {
  const items = (Object.keys(MEANING) as DisplayStatus[]).map(
    (st) => `<dt><span class="status ${st}">${SYMBOL[st]} ${st}</span></dt><dd>${h(MEANING[st].split(': ')[1]!)}</dd>`,
  );
  return [
    `<dl class="legend">${items.join('')}</dl>`,
    '<p class="note">Each cell lists the fixtures the case ran on (seed-NNN = fixture of seed article NNN). ',
    'Links: pcap = raw capture (Wireshark), decoded = BGP messages as JSON lines, log = daemon log, config = rendered daemon configuration. ',
    'A cell shows its worst result; click a result for its page with the RFC clauses and the ladder of BGP messages.</p>',
  ].join('');
}

function regressionsSection(s: RunSummary): string {
  if (s.regressions === undefined) return '';
  if (s.regressions.length === 0) return '<h2>Regressions against the baseline</h2><p class="none" id="regressions">none</p>';
  const rows = s.regressions.map(
    (r) => `<tr><td><code>${h(r.id)}</code></td><td>${h(r.fixture)}</td><td>${h(r.speaker)}</td><td>${h(r.peer)}</td><td><span class="status ${r.was}">${r.was}</span></td><td><span class="status ${r.now}">${r.now}</span></td></tr>`,
  );
  return `<h2>Regressions against the baseline</h2><table id="regressions"><tr><th>case</th><th>fixture</th><th>speaker</th><th>peer</th><th>was</th><th>now</th></tr>${rows.join('')}</table>`;
}

function orderBy<T>(values: Iterable<T>, preferred: readonly T[]): T[] {
  const all = [...new Set(values)];
  const known = preferred.filter((p) => all.includes(p));
  return [...known, ...all.filter((v) => !preferred.includes(v)).sort()];
}

const SPEAKER_ORDER = ['reference', 'frr', 'gobgp', 'bird', 'openbgpd'];
const PEER_ORDER = ['frr', 'gobgp', 'bird', 'openbgpd'];

function resultLine(c: CaseResult): string {
  const st = displayStatus(c);
  return [
    `<div class="result" data-key="${h(caseKey(c))}" data-status="${st}">`,
    `<a class="status ${st}" href="${CASE_PAGES_DIR}/${hrefFor(casePageName(c))}" title="${h(`${c.fixture}: ${st}${c.reason ? ` (${c.reason})` : ''}`)}">${SYMBOL[st]} ${h(shortFixture(c.fixture))}</a>`,
    c.status !== 'passed' && c.reason ? `<span class="reason">${h(c.reason)}</span>` : '',
    c.deviation ? `<span class="reason deviation">known deviation: ${h(c.deviation.reason)} (<a href="${h(c.deviation.reference)}">reference</a>)</span>` : '',
    figures(c),
    artifactLinks(c, ''),
    '</div>',
  ].join('');
}

export function renderMatrixPage(summary: RunSummary): string {
  const catalogOrder = [...CATALOG.map((e) => e.id), ...CLAUSES.map((c) => c.id)];
  const ids = orderBy(summary.cases.map((c) => c.id), catalogOrder);
  const speakers = orderBy(summary.cases.map((c) => c.speaker), SPEAKER_ORDER);
  const peersOf = new Map(speakers.map((sp) => [sp, orderBy(summary.cases.filter((c) => c.speaker === sp).map((c) => c.peer), PEER_ORDER)]));
  const columns = speakers.flatMap((sp) => peersOf.get(sp)!.map((peer) => ({ speaker: sp, peer })));

  const head1 = speakers.map((sp) => `<th colspan="${peersOf.get(sp)!.length}" class="speaker">speaker: ${h(sp)}</th>`).join('');
  const head2 = columns.map((col) => `<th class="peer">peer: ${h(col.peer)}</th>`).join('');
  const rows = ids.map((id) => {
    const entry = describedCase(id);
    const rfc = [...new Set(summary.cases.filter((c) => c.id === id).flatMap((c) => c.rfc))];
    const feature = [
      `<th class="feature" data-case="${h(id)}"><code>${h(id)}</code>`,
      entry ? `<div class="desc">${h(entry.description)}</div>` : '',
      rfc.length ? `<div class="rfc">${h(rfc.join(', '))}</div>` : '',
      '</th>',
    ].join('');
    const cells = columns.map((col) => {
      const results = summary.cases.filter((c) => c.id === id && c.speaker === col.speaker && c.peer === col.peer);
      if (results.length === 0) return '<td class="empty" title="not run">·</td>';
      results.sort((a, b) => a.fixture.localeCompare(b.fixture));
      return `<td class="cell ${worst(results)}">${results.map(resultLine).join('')}</td>`;
    });
    return `<tr>${feature}${cells.join('')}</tr>`;
  });

  const s = summary;
  const body = [
    '<h1>peerproof interop matrix</h1>',
    `<div class="meta">run started <time>${h(s.startedAt)}</time>, took ${h(formatFigure(s.durationS))} s · peerproof ${h(s.version)} · summary: <a href="summary.json">summary.json</a></div>`,
    '<h2>Totals</h2>',
    totalsCards(s),
    regressionsSection(s),
    '<h2>Matrix: features × speaker under test × fabric peer</h2>',
    `<table class="matrix"><thead><tr><th rowspan="2">feature (case id)</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '<h2>Legend</h2>',
    legend(),
    '<h2>Host</h2>',
    hostTable(s),
  ].join('\n');
  return page(`peerproof matrix ${s.startedAt}`, body);
}

export function renderCasePage(c: CaseResult, summary: RunSummary, ladder?: CaseLadder): string {
  const st = displayStatus(c);
  const entry = describedCase(c.id);
  const clauseRows = c.rfc.map((ref) => {
    const known = entry?.clauses.filter((cl) => cl.ref === ref) ?? [];
    if (known.length === 0) return `<tr><td>${h(ref)}</td><td></td><td></td><td></td></tr>`;
    return known.map((cl) => `<tr><td>${h(ref)}</td><td>${cl.level}</td><td>${cl.negative ? 'NEGATIVE' : ''}</td><td>${h(cl.checks)}</td></tr>`).join('');
  });
  const measurements = Object.entries(c.measurements).map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(formatFigure(v))}</td></tr>`);
  const artifacts = artifactsByNode(c.artifacts).map(
    ([node, items]) => `<li><b>${h(node)}</b> ${items.map((a) => `<a href="../${hrefFor(a.path)}" title="${h(a.path)}">${h(a.label)}</a>`).join(' · ')}</li>`,
  );

  let ladderHtml: string;
  if (ladder && ladder.messages.length > 0) {
    ladderHtml = [
      `<p class="note">Read from ${ladder.sources.map((src) => `<a href="../${hrefFor(src)}">${h(basename(src))}</a>`).join(', ')}; ${ladder.messages.length} messages; times in seconds since the first.</p>`,
      `<div class="ladder-wrap">${renderLadderSvg(ladder.messages)}</div>`,
    ].join('');
  } else {
    ladderHtml = '<p class="note" id="no-ladder">No BGP messages in this case\'s captures (no .pcap, .pcapng or decoded .jsonl artifact with BGP on it), so no ladder.</p>';
  }
  if (ladder && ladder.problems.length > 0) {
    ladderHtml += `<details><summary>${ladder.problems.length} unreadable lines in the decoded capture</summary><ul>${ladder.problems.slice(0, 50).map((p) => `<li>${h(p)}</li>`).join('')}</ul></details>`;
  }

  const body = [
    `<p><a href="../${MATRIX_FILE}">← interop matrix</a></p>`,
    `<h1><code>${h(c.id)}</code> <span class="status ${st}" id="status">${SYMBOL[st]} ${st}</span></h1>`,
    `<div class="meta">fixture <b>${h(c.fixture)}</b> · speaker under test <b>${h(c.speaker)}</b> · fabric peer <b>${h(c.peer)}</b> · ${h(formatFigure(c.durationS))} s · seed article ${h(c.seed)}</div>`,
    entry ? `<p>${h(entry.description)}</p>` : '',
    c.reason ? `<p><b>${st === 'passed' ? 'Note' : 'Reason'}:</b> ${h(c.reason)}</p>` : '',
    c.flaky ? `<p class="note">${h(MEANING.flaky)}.</p>` : '',
    c.deviation ? `<p id="deviation"><b>Known deviation:</b> ${h(c.deviation.reason)} · <a href="${h(c.deviation.reference)}">${h(c.deviation.reference)}</a></p>` : '',
    '<h2>RFC clauses checked</h2>',
    clauseRows.length ? `<table><tr><th>clause</th><th>level</th><th></th><th>what is checked</th></tr>${clauseRows.join('')}</table>` : '<p class="note">none listed</p>',
    '<h2>Measurements</h2>',
    measurements.length ? `<table class="measurements">${measurements.join('')}</table>` : '<p class="note">none</p>',
    '<h2>Artifacts</h2>',
    artifacts.length ? `<ul class="artifact-list">${artifacts.join('')}</ul>` : '<p class="note">none</p>',
    '<h2>BGP messages (ladder)</h2>',
    ladderHtml,
    '<h2>Host</h2>',
    hostTable(summary),
  ].join('\n');
  return page(`${c.id} · ${c.fixture} · ${c.speaker} vs ${c.peer}`, body, LADDER_CSS);
}

export interface RenderedFile {
  path: string;
  content: string;
}

export function renderMatrix(input: MatrixInput): RenderedFile[] {
  const files: RenderedFile[] = [{ path: MATRIX_FILE, content: renderMatrixPage(input.summary) }];
  for (const c of input.summary.cases) {
    files.push({ path: `${CASE_PAGES_DIR}/${casePageName(c)}`, content: renderCasePage(c, input.summary, input.ladders?.get(caseKey(c))) });
  }
  return files;
}

/** Writes matrix.html and cases/*.html into the report dir; returns the matrix path. */
export async function writeMatrix(dir: string, summary: RunSummary): Promise<string> {
  const files = renderMatrix({ summary, ladders: await loadLadders(dir, summary) });
  for (const f of files) {
    const path = join(dir, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
  }
  return join(dir, MATRIX_FILE);
}
