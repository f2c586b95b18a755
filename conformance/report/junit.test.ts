import { describe, expect, it } from 'vitest';
import { renderJunit } from './junit.ts';
import { sampleCurrent } from './testdata/samples.ts';

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#\d+|[a-z]+);/g, (_, e: string) => (e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : ENTITIES[e]!));
}

/** A strict little XML reader: enough to prove the JUnit file well-formed and read it back. */
function parseXml(xml: string): El {
  const decl = xml.match(/^<\?xml [^?]*\?>\s*/);
  if (!decl) throw new Error('no XML declaration');
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  token.lastIndex = decl[0].length;
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const m = token.exec(xml);
    if (!m) throw new Error(`malformed XML at offset ${at}: ${JSON.stringify(xml.slice(at, at + 40))}`);
    const [, close, name, attrText, selfClose, text] = m;
    const top = stack[stack.length - 1]!;
    if (text !== undefined) {
      if (/&(?!(#\d+|amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bare & in text at ${at}`);
      top.text += unescape(text);
    } else if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}> at ${at}`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([A-Za-z][\w.-]*)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        if (/&(?!(#\d+|amp|lt|gt|quot|apos);)/.test(a[2]!)) throw new Error(`bare & in attribute ${a[1]}`);
        attrs[a[1]!] = unescape(a[2]!);
      }
      const el: El = { name: name!, attrs, children: [], text: '' };
      top.children.push(el);
      if (!selfClose) stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  const elements = root.children;
  if (elements.length !== 1) throw new Error('not exactly one root element');
  return elements[0]!;
}

const all = (el: El, name: string): El[] => [...el.children.filter((c) => c.name === name), ...el.children.flatMap((c) => all(c, name))];
const child = (el: El, name: string) => el.children.find((c) => c.name === name);
const props = (el: El) => (child(el, 'properties')?.children ?? []).map((p) => [p.attrs.name!, p.attrs.value!] as const);

describe('renderJunit', () => {
  const summary = sampleCurrent();
  const root = parseXml(renderJunit(summary));

  it('has totals on the root and one suite per fixture', () => {
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '31', failures: '3', errors: '1', skipped: '2' });
    const suites = all(root, 'testsuite');
    expect(suites.map((s) => s.attrs.name).sort()).toEqual([...new Set(summary.cases.map((c) => c.fixture))].sort());
    const seed3 = suites.find((s) => s.attrs.name === 'seed-003-rack-lb')!;
    const inSeed3 = summary.cases.filter((c) => c.fixture === 'seed-003-rack-lb');
    expect(seed3.attrs.tests).toBe(String(inSeed3.length));
    expect(props(seed3)).toEqual([['host.kernel', '6.18.44-fc-v669'], ['host.frr', '8.4.4'], ['host.gobgp', '3.10.0'], ['host.bird', '2.0.12']]);
  });

  it('has one testcase per case x speaker x peer with the right outcome element', () => {
    const testcases = all(root, 'testcase');
    expect(testcases).toHaveLength(summary.cases.length);
    for (const c of summary.cases) {
      const tc = testcases.find((t) => t.attrs.name === `${c.id} [${c.speaker} vs ${c.peer}]` && t.attrs.classname === c.fixture);
      expect(tc, `${c.id} ${c.fixture} ${c.speaker} ${c.peer}`).toBeDefined();
      const outcome = tc!.children.filter((e) => e.name !== 'properties' && e.name !== 'system-out').map((e) => e.name);
      const expected = { passed: [], failed: ['failure'], broken: ['error'], skipped: ['skipped'] }[c.status];
      expect(outcome).toEqual(c.flaky ? [...expected, 'flakyFailure'] : expected);
      if (c.status !== 'passed') expect(tc!.children.find((e) => e.name === outcome[0])!.attrs.message).toBe(c.reason);
      expect(props(tc!).filter(([k]) => k === 'rfc').map(([, v]) => v)).toEqual(c.rfc);
      expect(Number(tc!.attrs.time)).toBeCloseTo(c.durationS, 3);
    }
  });

  it('carries seed, flaky and measurements as properties and artifacts as attachments', () => {
    const ecmp = all(root, 'testcase').find((t) => t.attrs.name === 'ecmp.spread [reference vs frr]')!;
    expect(Object.fromEntries(props(ecmp))).toMatchObject({
      seed: '000_78588fca90e7e5ab.txt',
      flaky: 'false',
      'measurement.flows': '1000',
      'measurement.maxDeviation': '0.043',
    });
    expect(child(ecmp, 'system-out')!.text).toContain('[[ATTACHMENT|ecmp.spread/seed-000-cilium-two-subnets/reference-frr/pcaps/router-eth1.pcap]]');
    const flaky = all(root, 'testcase').find((t) => t.attrs.name === 'fault.peer-kill [reference vs frr]')!;
    expect(Object.fromEntries(props(flaky)).flaky).toBe('true');
    expect(child(flaky, 'flakyFailure')!.attrs.message).toContain('passed on retry');
  });

  it('escapes everything, including markup, quotes, newlines and control bytes from daemons', () => {
    const nasty = sampleCurrent();
    const c = nasty.cases.find((x) => x.status === 'failed')!;
    c.reason = `bgpd said <NOTIFICATION 3/1> & "quoted" 'single' \u0001\u001b[0m`;
    c.measurements = { 'a"b<c': 'x&y\nz' };
    c.fixture = 'seed-<000>&"';
    const back = parseXml(renderJunit(nasty));
    const tc = all(back, 'testcase').find((t) => t.attrs.classname === 'seed-<000>&"')!;
    expect(child(tc, 'failure')!.attrs.message).toBe(`bgpd said <NOTIFICATION 3/1> & "quoted" 'single' \uFFFD\uFFFD[0m`);
    expect(Object.fromEntries(props(tc))['measurement.a"b<c']).toBe('x&y\nz');
    expect(all(back, 'testsuite').some((s) => s.attrs.name === 'seed-<000>&"')).toBe(true);
  });
});
