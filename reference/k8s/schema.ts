// A small typed schema for Kubernetes objects read from YAML: it checks types and unknown
// fields, records every problem with file, line, object and field path, and records fields we
// accept but do not implement in the `unsupported` list. Types of the checked value are inferred
// from the schema, so translators read typed data.

import { canonicalIp, parseCidr } from '../ipam/address.ts';
import type { UnsupportedFeature } from './model.ts';

export type FieldPath = Array<string | number>;

export interface InputIssue {
  file: string;
  line: number;
  column: number;
  object: string;
  path: string;
  message: string;
}

/** Everything a check needs to report where a problem is. */
export interface CheckContext {
  file: string;
  object: string;
  /** Line and column (1-based) of the node at a path; the nearest existing ancestor if absent. */
  locate(path: FieldPath): { line: number; column: number };
  /** Prefix for paths of values embedded in a string (a ConfigMap's config.yaml). */
  pathPrefix?: string;
  issues: InputIssue[];
  unsupported: UnsupportedFeature[];
}

export const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

export interface Schema<T> {
  readonly expected: string;
  check(value: unknown, path: FieldPath, ctx: CheckContext): T | Invalid;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export function formatPath(path: FieldPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? part : `.${part}`;
  return text;
}

export function report(ctx: CheckContext, path: FieldPath, message: string): void {
  const { line, column } = ctx.locate(path);
  const local = formatPath(path);
  const full = ctx.pathPrefix ? `${ctx.pathPrefix}${local ? `.${local}` : ''}` : local;
  ctx.issues.push({ file: ctx.file, line, column, object: ctx.object, path: full, message });
}

export function formatIssue(issue: InputIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.object}: ${issue.path || '(object)'}: ${issue.message}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function mismatch(ctx: CheckContext, path: FieldPath, expected: string, value: unknown): Invalid {
  report(ctx, path, `expected ${expected}, got ${describe(value)}`);
  return INVALID;
}

function scalar<T>(expected: string, accept: (value: unknown) => value is T): Schema<T> {
  return {
    expected,
    check: (value, path, ctx) => (accept(value) ? value : mismatch(ctx, path, expected, value)),
  };
}

export const str = (): Schema<string> => scalar('a string', (v): v is string => typeof v === 'string');
export const bool = (): Schema<boolean> => scalar('a boolean (true/false)', (v): v is boolean => typeof v === 'boolean');

export function int(min: number, max: number, what = 'an integer'): Schema<number> {
  const expected = `${what} ${min}..${max}`;
  return scalar(expected, (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
}

export const asn = (): Schema<number> => int(1, 4294967295, 'an AS number');
export const port = (): Schema<number> => int(1, 65535, 'a port');

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return scalar(expected, (v): v is T => typeof v === 'string' && (values as readonly string[]).includes(v));
}

/** An IP address; returns its canonical text. */
export function ip(): Schema<string> {
  return {
    expected: 'an IP address',
    check: (value, path, ctx) => {
      const canonical = typeof value === 'string' ? canonicalIp(value.trim()) : null;
      return canonical ?? mismatch(ctx, path, 'an IP address', value);
    },
  };
}

export function cidr(): Schema<string> {
  return {
    expected: 'a CIDR (address/prefix)',
    check: (value, path, ctx) => (typeof value === 'string' && parseCidr(value.trim()) ? value.trim() : mismatch(ctx, path, 'a CIDR (address/prefix)', value)),
  };
}

/** Integer or string (Kubernetes IntOrString). */
export function intOrString(): Schema<number | string> {
  return scalar('an integer or a string', (v): v is number | string => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)));
}

/** A string that `parse` accepts (null: rejected), as what `parse` made of it; the error quotes the value as JSON. */
export function parsedString<T>(expected: string, parse: (text: string) => T | null): Schema<T> {
  return {
    expected,
    check: (value, path, ctx) => {
      const parsed = typeof value === 'string' ? parse(value) : null;
      if (parsed !== null) return parsed;
      report(ctx, path, `expected ${expected}, got ${JSON.stringify(value)}`);
      return INVALID;
    },
  };
}

/** A value whose content we do not read (status, unrelated metadata). */
export function anything(): Schema<unknown> {
  return { expected: 'anything', check: (value) => value };
}

export function list<T>(item: Schema<T>): Schema<T[]> {
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    check: (value, path, ctx) => {
      if (value === null) return [];
      if (!Array.isArray(value)) return mismatch(ctx, path, expected, value);
      const out: T[] = [];
      let ok = true;
      value.forEach((element, i) => {
        const checked = item.check(element, [...path, i], ctx);
        if (checked === INVALID) ok = false;
        else out.push(checked);
      });
      return ok ? out : INVALID;
    },
  };
}

/** A mapping of arbitrary keys to values of one schema (labels, annotations, ConfigMap data). */
export function record<T>(valueSchema: Schema<T>): Schema<Record<string, T>> {
  const expected = `a mapping of names to ${valueSchema.expected}`;
  return {
    expected,
    check: (value, path, ctx) => {
      if (value === null) return {};
      if (typeof value !== 'object' || Array.isArray(value)) return mismatch(ctx, path, expected, value);
      const out: Record<string, T> = {};
      let ok = true;
      for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
        const checked = valueSchema.check(element, [...path, key], ctx);
        if (checked === INVALID) ok = false;
        else out[key] = checked;
      }
      return ok ? out : INVALID;
    },
  };
}

const UNSUPPORTED = Symbol('unsupported');

/**
 * A valid field of the CRD that peerproof does not implement. Its presence is recorded in the
 * model's `unsupported` list with the path; the value is not read.
 */
export function unsupported(feature: string): Schema<undefined> & { [UNSUPPORTED]: true } {
  return {
    [UNSUPPORTED]: true,
    expected: 'anything',
    check: (value, path, ctx) => {
      if (value !== null && value !== undefined && value !== false) noteUnsupported(ctx, path, feature);
      return undefined;
    },
  };
}

export function noteUnsupported(ctx: CheckContext, path: FieldPath, feature: string): void {
  const local = formatPath(path);
  ctx.unsupported.push({
    file: ctx.file,
    line: ctx.locate(path).line,
    object: ctx.object,
    path: ctx.pathPrefix ? `${ctx.pathPrefix}.${local}` : local,
    feature,
  });
}

type Shape = Record<string, Schema<unknown>>;
export type ObjectOf<S extends Shape> = { [K in keyof S]?: Infer<S[K]> };

/** A mapping with known fields; unknown fields and missing required ones are errors. */
export function obj<S extends Shape>(shape: S, required: Array<keyof S & string> = []): Schema<ObjectOf<S>> {
  return mapping(shape, required, null);
}

/**
 * A mapping where fields outside `shape` are valid but not implemented (Helm values: hundreds
 * of keys); each is listed as unsupported with `feature`.
 */
export function looseObj<S extends Shape>(shape: S, feature: string): Schema<ObjectOf<S>> {
  return mapping(shape, [], feature);
}

function mapping<S extends Shape>(shape: S, required: Array<keyof S & string>, unknownFeature: string | null): Schema<ObjectOf<S>> {
  const known = Object.keys(shape);
  const expected = 'a mapping';
  return {
    expected,
    check: (value, path, ctx) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return mismatch(ctx, path, expected, value);
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const [key, element] of Object.entries(input)) {
        const field = shape[key];
        if (!field) {
          if (unknownFeature !== null) {
            noteUnsupported(ctx, [...path, key], unknownFeature);
            continue;
          }
          report(ctx, [...path, key], `unknown field "${key}" (known fields here: ${known.join(', ')})`);
          ok = false;
          continue;
        }
        if (element === null && !(UNSUPPORTED in field)) continue; // `key:` with no value = absent
        const checked = field.check(element, [...path, key], ctx);
        if (checked === INVALID) ok = false;
        else if (checked !== undefined) out[key] = checked;
      }
      for (const key of required) {
        if (input[key] === undefined || input[key] === null) {
          report(ctx, [...path, key], `missing required field "${key}" (${shape[key]!.expected})`);
          ok = false;
        }
      }
      return ok ? (out as ObjectOf<S>) : INVALID;
    },
  };
}

/** Kubernetes metav1.LabelSelector. */
export const labelSelectorSchema = obj({
  matchLabels: record(str()),
  matchExpressions: list(
    obj({ key: str(), operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const), values: list(str()) }, ['key', 'operator']),
  ),
});

export const metadataSchema = obj(
  {
    name: str(),
    namespace: str(),
    labels: record(str()),
    annotations: record(str()),
    uid: anything(),
    resourceVersion: anything(),
    generation: anything(),
    creationTimestamp: anything(),
    generateName: anything(),
    ownerReferences: anything(),
    finalizers: anything(),
    managedFields: anything(),
    deletionTimestamp: anything(),
    deletionGracePeriodSeconds: anything(),
    selfLink: anything(),
  },
  ['name'],
);
