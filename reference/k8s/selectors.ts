import type { LabelRequirement, Labels, Selector, SelectorExpression } from './model.ts';

export const EVERYTHING: Selector = { type: 'everything' };
export const NOTHING: Selector = { type: 'nothing' };

export function labelSelector(matchLabels: Labels = {}, matchExpressions: LabelRequirement[] = []): Selector {
  return { type: 'labels', matchLabels, matchExpressions };
}

export function matchesSelector(selector: Selector, labels: Labels): boolean {
  switch (selector.type) {
    case 'everything':
      return true;
    case 'nothing':
      return false;
    case 'labels':
      for (const key in selector.matchLabels) if (labels[key] !== selector.matchLabels[key]) return false;
      for (const requirement of selector.matchExpressions) if (!matchesRequirement(requirement, labels)) return false;
      return true;
    case 'expression':
      return evaluate(selector.expression, labels);
  }
}

function matchesRequirement(requirement: LabelRequirement, labels: Labels): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'In':
      return present && requirement.values.includes(value!);
    case 'NotIn':
      return !present || !requirement.values.includes(value!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

function evaluate(expression: SelectorExpression, labels: Labels): boolean {
  switch (expression.op) {
    case 'all':
      return true;
    case 'has':
      return Object.hasOwn(labels, expression.key);
    case '==':
      return Object.hasOwn(labels, expression.key) && labels[expression.key] === expression.value;
    case '!=':
      return !Object.hasOwn(labels, expression.key) || labels[expression.key] !== expression.value;
    case 'in':
      return Object.hasOwn(labels, expression.key) && expression.values.includes(labels[expression.key]!);
    case 'not in':
      return !Object.hasOwn(labels, expression.key) || !expression.values.includes(labels[expression.key]!);
    case '!':
      return !evaluate(expression.operand, labels);
    case '&&':
      return expression.operands.every((o) => evaluate(o, labels));
    case '||':
      return expression.operands.some((o) => evaluate(o, labels));
  }
}

export class SelectorSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly column: number,
    expected: string,
  ) {
    super(`selector "${source}": expected ${expected} at column ${column + 1}`);
  }
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

const PUNCTUATION = ['&&', '||', '==', '!=', '!', '(', ')', '{', '}', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const close = source.indexOf(ch, i + 1);
      if (close < 0) throw new SelectorSyntaxError(source, i, `a closing ${ch}`);
      tokens.push({ kind: 'string', text: source.slice(i + 1, close), at: i });
      i = close + 1;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (punct) {
      tokens.push({ kind: 'punct', text: punct, at: i });
      i += punct.length;
      continue;
    }
    const word = /^[A-Za-z0-9_./-]+/.exec(source.slice(i));
    if (!word) throw new SelectorSyntaxError(source, i, 'a label key, a quoted value or an operator');
    tokens.push({ kind: 'word', text: word[0], at: i });
    i += word[0].length;
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

/**
 * Parses the part of Calico's selector language the seeds and fixtures use: all(), has(k),
 * k == 'v', k != 'v', k in {'a','b'}, k not in {...}, !, &&, || and parentheses.
 * An empty selector means all(), as in Calico.
 */
export function parseCalicoSelector(source: string): Selector {
  if (source.trim() === '') return { type: 'expression', source, expression: { op: 'all' } };
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const take = (): Token => tokens[pos++]!;
  const expectPunct = (text: string): void => {
    const token = take();
    if (token.kind !== 'punct' || token.text !== text) throw new SelectorSyntaxError(source, token.at, `"${text}"`);
  };
  const isPunct = (text: string): boolean => peek().kind === 'punct' && peek().text === text;

  /** operand (op operand)*, one level of the grammar: a lone operand stands for itself. */
  const parseChain = (op: '||' | '&&', operand: () => SelectorExpression): SelectorExpression => {
    const operands = [operand()];
    while (isPunct(op)) {
      take();
      operands.push(operand());
    }
    return operands.length === 1 ? operands[0]! : { op, operands };
  };
  const parseOr = (): SelectorExpression => parseChain('||', parseAnd);
  const parseAnd = (): SelectorExpression => parseChain('&&', parseUnary);
  const parseValues = (): string[] => {
    expectPunct('{');
    const values: string[] = [];
    if (isPunct('}')) {
      take();
      return values;
    }
    for (;;) {
      const value = take();
      if (value.kind !== 'string') throw new SelectorSyntaxError(source, value.at, 'a quoted value');
      values.push(value.text);
      if (isPunct(',')) {
        take();
        continue;
      }
      expectPunct('}');
      return values;
    }
  };
  const parseUnary = (): SelectorExpression => {
    const token = peek();
    if (token.kind === 'punct' && token.text === '!') {
      take();
      return { op: '!', operand: parseUnary() };
    }
    if (token.kind === 'punct' && token.text === '(') {
      take();
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    if (token.kind !== 'word') throw new SelectorSyntaxError(source, token.at, 'a label key, all(), has(...), "!" or "("');
    take();
    if ((token.text === 'all' || token.text === 'has') && isPunct('(')) {
      take();
      if (token.text === 'all') {
        expectPunct(')');
        return { op: 'all' };
      }
      const key = take();
      if (key.kind !== 'word') throw new SelectorSyntaxError(source, key.at, 'a label key');
      expectPunct(')');
      return { op: 'has', key: key.text };
    }
    const operator = take();
    if (operator.kind === 'punct' && (operator.text === '==' || operator.text === '!=')) {
      const value = take();
      if (value.kind !== 'string') throw new SelectorSyntaxError(source, value.at, 'a quoted value');
      return { op: operator.text, key: token.text, value: value.text };
    }
    if (operator.kind === 'word' && operator.text === 'in') return { op: 'in', key: token.text, values: parseValues() };
    if (operator.kind === 'word' && operator.text === 'not') {
      const inWord = take();
      if (inWord.kind !== 'word' || inWord.text !== 'in') throw new SelectorSyntaxError(source, inWord.at, '"in" after "not"');
      return { op: 'not in', key: token.text, values: parseValues() };
    }
    throw new SelectorSyntaxError(source, operator.at, '==, !=, in or not in');
  };

  const expression = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') throw new SelectorSyntaxError(source, rest.at, '&&, || or the end of the selector');
  return { type: 'expression', source, expression };
}

/** A selector matching when any of the given label selectors matches (MetalLB's lists of selectors). */
export function anyOf(selectors: Selector[]): Selector {
  if (selectors.length === 0) return EVERYTHING;
  if (selectors.length === 1) return selectors[0]!;
  const operands: SelectorExpression[] = selectors.map(toExpression);
  return { type: 'expression', source: '(any of the listed selectors)', expression: { op: '||', operands } };
}

function toExpression(selector: Selector): SelectorExpression {
  switch (selector.type) {
    case 'everything':
      return { op: 'all' };
    case 'nothing':
      return { op: '!', operand: { op: 'all' } };
    case 'expression':
      return selector.expression;
    case 'labels': {
      const operands: SelectorExpression[] = Object.entries(selector.matchLabels).map(([key, value]) => ({ op: '==', key, value }));
      for (const r of selector.matchExpressions) {
        if (r.operator === 'In') operands.push({ op: 'in', key: r.key, values: r.values });
        else if (r.operator === 'NotIn') operands.push({ op: 'not in', key: r.key, values: r.values });
        else if (r.operator === 'Exists') operands.push({ op: 'has', key: r.key });
        else operands.push({ op: '!', operand: { op: 'has', key: r.key } });
      }
      return operands.length === 0 ? { op: 'all' } : { op: '&&', operands };
    }
  }
}
