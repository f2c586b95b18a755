import { describe, expect, it } from 'vitest';
import { anyOf, labelSelector, matchesSelector, parseCalicoSelector, SelectorSyntaxError, EVERYTHING, NOTHING } from './selectors.ts';

describe('label selectors', () => {
  const labels = { rack: 'rack0', 'advertise-bgp': 'true', tier: 'gold' };
  it('matchLabels and every matchExpressions operator', () => {
    expect(matchesSelector(labelSelector({ rack: 'rack0' }), labels)).toBe(true);
    expect(matchesSelector(labelSelector({ rack: 'rack1' }), labels)).toBe(false);
    const expr = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', key: string, values: string[] = []) => labelSelector({}, [{ key, operator, values }]);
    expect(matchesSelector(expr('In', 'tier', ['gold', 'silver']), labels)).toBe(true);
    expect(matchesSelector(expr('In', 'missing', ['x']), labels)).toBe(false);
    expect(matchesSelector(expr('NotIn', 'tier', ['gold']), labels)).toBe(false);
    expect(matchesSelector(expr('NotIn', 'missing', ['x']), labels)).toBe(true);
    expect(matchesSelector(expr('Exists', 'rack'), labels)).toBe(true);
    expect(matchesSelector(expr('DoesNotExist', 'rack'), labels)).toBe(false);
    expect(matchesSelector(labelSelector(), labels)).toBe(true);
    expect(matchesSelector(EVERYTHING, {})).toBe(true);
    expect(matchesSelector(NOTHING, labels)).toBe(false);
  });
  it('anyOf ORs label selectors (MetalLB lists)', () => {
    const either = anyOf([labelSelector({ tier: 'silver' }), labelSelector({}, [{ key: 'rack', operator: 'In', values: ['rack0'] }])]);
    expect(matchesSelector(either, labels)).toBe(true);
    expect(matchesSelector(either, { tier: 'bronze' })).toBe(false);
    expect(anyOf([])).toEqual(EVERYTHING);
  });
});

describe('Calico selector expressions', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ["rr-group == 'rr1'", { 'rr-group': 'rr1' }, true],
    ["rr-group == 'rr1'", { 'rr-group': 'rr2' }, false],
    ['rr-group == "rr1"', {}, false],
    ["rr-group != 'rr1'", {}, true],
    ["rr-group != 'rr1'", { 'rr-group': 'rr1' }, false],
    ['all()', {}, true],
    ['has(zone)', { zone: 'a' }, true],
    ['!has(zone)', { zone: 'a' }, false],
    ["zone in {'a', 'b'}", { zone: 'b' }, true],
    ["zone not in {'a', 'b'}", { zone: 'c' }, true],
    ["zone not in {'a'}", {}, true],
    ["has(zone) && zone == 'a' || role == 'rr'", { role: 'rr' }, true],
    ["has(zone) && (zone == 'a' || role == 'rr')", { role: 'rr' }, false],
    ["!(kubernetes.io/os == 'windows')", { 'kubernetes.io/os': 'linux' }, true],
    ['', { anything: 'x' }, true],
  ];
  it.each(cases)('%s on %j -> %s', (source, labels, expected) => {
    expect(matchesSelector(parseCalicoSelector(source), labels)).toBe(expected);
  });
  it('reports syntax errors with the column', () => {
    expect(() => parseCalicoSelector("rr-group = 'rr1'")).toThrow(SelectorSyntaxError);
    expect(() => parseCalicoSelector("rr-group == rr1")).toThrow(/expected a quoted value at column 13/);
    expect(() => parseCalicoSelector("has(zone")).toThrow(/expected "\)"/);
    expect(() => parseCalicoSelector("a == 'x' b == 'y'")).toThrow(/&&, \|\| or the end/);
    expect(() => parseCalicoSelector("a == 'x")).toThrow(/closing '/);
    expect(() => parseCalicoSelector('a contains "x"')).toThrow(/==, !=, in or not in/);
  });
});
