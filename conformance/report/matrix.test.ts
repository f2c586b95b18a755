import { describe, expect, it } from 'vitest';
import { parseLadderJsonl } from './ladder.ts';
import { casePageName, describeArtifact, displayStatus, MATRIX_FILE, renderCasePage, renderMatrix, renderMatrixPage } from './matrix.ts';
import { caseKey } from './summary.ts';
import { sampleCurrent, sampleDecodedJsonl } from './testdata/samples.ts';
import { withBaseline } from './gate.ts';
import { sampleBaseline } from './testdata/samples.ts';

const summary = sampleCurrent();
const html = renderMatrixPage(summary);

function attrValues(text: string, attr: string): string[] {
  return [...text.matchAll(new RegExp(`${attr}="([^"]*)"`, 'g'))].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

describe('matrix page with clause results', () => {
  it('shows a known deviation apart from new failures, with its reason and reference, and describes clause tests', () => {
    const base = sampleCurrent();
    const clause = { ...base.cases[0]!, id: 'bgp.open.unsupported-version', fixture: 'clause-lab', speaker: 'bird', peer: 'tester', rfc: ['RFC 4271 6.2'], status: 'failed' as const, reason: 'data 0400', flaky: false };
    const known = { ...clause, deviation: { reason: 'host byte order', reference: 'https://example.org/bird' } };
    const fresh = { ...clause, id: 'bgp.header.bad-type', speaker: 'gobgp' };
    const s = { ...base, cases: [known, fresh], totals: { passed: 0, failed: 2, skipped: 0, broken: 0 } };
    const page = renderMatrixPage(s);
    expect(displayStatus(known)).toBe('deviation');
    expect(displayStatus(fresh)).toBe('failed');
    expect(page).toContain('data-total="failed"><div class="n">1</div>failed (new)');
    expect(page).toContain('data-total="deviation"><div class="n">1</div>failed (known deviations)');
    expect(page).toContain('known deviation: host byte order (<a href="https://example.org/bird">reference</a>)');
    expect(page).toMatch(/data-case="bgp.open.unsupported-version"><code>bgp.open.unsupported-version<\/code><div class="desc">an OPEN with version 3/);
    expect(renderCasePage(known, s)).toContain('<p id="deviation"><b>Known deviation:</b> host byte order');
  });
});

describe('matrix page', () => {
  it('shows every result once, with its status (flaky as its own state)', () => {
    const keys = attrValues(html, 'data-key');
    expect(keys.sort()).toEqual(summary.cases.map(caseKey).sort());
    for (const c of summary.cases) {
      expect(html).toContain(`data-key="${caseKey(c)}" data-status="${displayStatus(c)}"`);
    }
    expect(html).toContain('data-status="flaky"');
  });

  it('has features down (catalogue order) and speaker x peer across', () => {
    const features = attrValues(html, 'data-case');
    expect(features[0]).toBe('session.establish');
    expect(features).toHaveLength(new Set(summary.cases.map((c) => c.id)).size);
    const speakers = [...html.matchAll(/class="speaker">speaker: ([a-z]+)</g)].map((m) => m[1]);
    expect(speakers).toEqual(['reference', 'frr', 'gobgp', 'bird']);
    const peers = [...html.matchAll(/class="peer">peer: ([a-z]+)</g)].map((m) => m[1]);
    expect(peers).toEqual(['frr', 'gobgp', 'gobgp', 'frr', 'frr', 'gobgp']);
  });

  it('shows totals, host versions, a legend, measured figures and relative artifact links', () => {
    for (const [status, n] of Object.entries(summary.totals)) expect(html).toContain(`data-total="${status}"><div class="n">${n}</div>`);
    expect(html).toContain('data-total="flaky"><div class="n">1</div>');
    for (const v of ['6.18.44-fc-v669', '8.4.4', '3.10.0', '2.0.12']) expect(html).toContain(`>${v}</td>`);
    expect(html).toContain('<dl class="legend">');
    expect(html).toContain('maxDeviation <b>0.043</b>');
    expect(html).toContain('flows <b>1,000</b>');
    expect(html).toContain('href="ecmp.spread/seed-000-cilium-two-subnets/reference-frr/pcaps/router-eth1.pcap"');
  });

  it('names each artifact by node and interface, grouped per node', () => {
    expect(describeArtifact('runs/f272d7/pcaps/leaf0-eth1.pcap')).toEqual({ node: 'leaf0', label: 'eth1 pcap' });
    expect(describeArtifact('runs/f272d7/pcaps/k8s-node-1-eth2.pcapng')).toEqual({ node: 'k8s-node-1', label: 'eth2 pcap' });
    expect(describeArtifact('runs/f272d7/nodes/spine1/bgpd.log')).toEqual({ node: 'spine1', label: 'bgpd.log' });
    expect(describeArtifact('runs/f272d7/topology.json')).toEqual({ node: 'run', label: 'topology.json' });
    const c = { ...summary.cases[0]!, artifacts: ['runs/x/topology.json', 'runs/x/nodes/spine1/bgpd.log', 'runs/x/pcaps/leaf0-eth1.pcap', 'runs/x/nodes/leaf0/zebra.log'] };
    const cell = renderMatrixPage({ ...summary, cases: [c] });
    const groups = [...cell.matchAll(/<span class="node-artifacts"><span class="node">([^<]+)<\/span> (.*?)<\/span>/g)].map((m) => [m[1], [...m[2]!.matchAll(/>([^<]+)<\/a>/g)].map((a) => a[1])]);
    expect(groups).toEqual([
      ['leaf0', ['eth1 pcap', 'zebra.log']],
      ['spine1', ['bgpd.log']],
      ['run', ['topology.json']],
    ]);
    expect(cell).toContain('title="leaf0 eth1 pcap"');
  });

  it('is self-contained: no scripts, no external assets', () => {
    for (const page of renderMatrix({ summary })) {
      expect(page.content).not.toMatch(/<script|<link |<img |@import|url\(http/);
      const external = attrValues(page.content, '(?:src|href)').filter((u) => /^[a-z]+:/i.test(u));
      expect(external, page.path).toEqual([]);
    }
  });

  it('lists regressions when the run was gated', () => {
    const gated = renderMatrixPage(withBaseline(summary, sampleBaseline()));
    expect(gated).toContain('<table id="regressions">');
    expect(gated.match(/<tr><td><code>/g)).toHaveLength(2);
    expect(html).not.toContain('regressions');
  });
});

describe('case pages', () => {
  it('one per result, linked from the matrix', () => {
    const files = renderMatrix({ summary });
    expect(files[0]!.path).toBe(MATRIX_FILE);
    expect(files).toHaveLength(summary.cases.length + 1);
    expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
    for (const c of summary.cases) expect(html).toContain(`href="cases/${casePageName(c)}"`);
  });

  it('shows clauses with their level, measurements, artifacts and the ladder', () => {
    const c = summary.cases.find((x) => x.id === 'session.establish' && x.speaker === 'reference' && x.fixture.startsWith('seed-000'))!;
    const { messages, problems } = parseLadderJsonl(sampleDecodedJsonl());
    const page = renderCasePage(c, summary, { messages, problems, sources: [c.artifacts[1]!] });
    expect(page).toContain('<td>RFC 6793 3</td><td>MUST</td>');
    expect(page).toContain('href="../session.establish/seed-000-cilium-two-subnets/reference-frr/pcaps/router-eth1.pcap"');
    expect(page.match(/<g class="msg /g)).toHaveLength(messages.length);
    expect(page).toContain('href="../matrix.html"');
  });

  it('marks NEGATIVE clauses and says when there is no ladder', () => {
    const c = summary.cases.find((x) => x.id === 'negative.malformed-update' && x.status === 'failed')!;
    const page = renderCasePage(c, summary);
    expect(page).toContain('<td>RFC 7606 2</td><td>MUST</td><td>NEGATIVE</td>');
    expect(page).toContain('id="no-ladder"');
    expect(page).toContain('session reset (NOTIFICATION 3/1)');
  });
});
