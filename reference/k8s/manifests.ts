import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments, parseDocument, isAlias, isCollection, isMap, isNode, isScalar, visit, type Document } from 'yaml';
import { formatIssue, report, type CheckContext, type FieldPath, type InputIssue } from './schema.ts';
import type { UnsupportedFeature } from './model.ts';

// Reading a cluster folder: every *.yaml / *.yml file (recursively, sorted), every document in
// it, each object with what is needed to point at its lines when something is wrong.

export interface Manifest {
  file: string; // as shown to the user (relative to the folder's parent when possible)
  apiVersion: string;
  group: string; // "" for core
  version: string;
  kind: string;
  name: string;
  namespace?: string;
  /** "Kind/name" or "Kind/namespace/name" */
  ref: string;
  value: Record<string, unknown>;
  line: number;
  ctx: CheckContext;
}

export class ClusterInputError extends Error {
  constructor(readonly issues: InputIssue[]) {
    super(`${issues.length} problem(s) in the cluster objects:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
  }
}

function locator(doc: Document, lineCounter: LineCounter, lineOffset = 0): (path: FieldPath) => { line: number; column: number } {
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + lineOffset, column: pos.col };
  };
  // A field is shown where its key is written; list items and documents where they start.
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const last = path[depth - 1];
      if (depth > 0 && typeof last === 'string') {
        const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
        const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === last) : undefined;
        if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
        continue;
      }
      const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
    return { line: 1 + lineOffset, column: 1 };
  };
}

/** Offset of the first key that is a list or mapping (JSON has no such keys), or null. */
function firstComplexKey(doc: Document): number | null {
  let found: number | null = null;
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key) || isAlias(pair.key)) {
        found = isNode(pair.key) && pair.key.range ? pair.key.range[0] : 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const full = join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.ya?ml$/i.test(entry)) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** `cilium-values.yaml`, `values.yaml`: Helm values of a chart, not Kubernetes objects. */
const HELM_VALUES_FILE = /(?:^|\/)(?:([A-Za-z0-9_.]+)-)?values\.ya?ml$/;

export const HELM_VALUES_KIND = 'HelmValues';

/** Parses YAML text into manifests; syntax errors and objects without apiVersion/kind/metadata.name become issues. */
export function parseManifests(text: string, file: string, issues: InputIssue[], unsupported: UnsupportedFeature[]): Manifest[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const out: Manifest[] = [];
  const helmChart = HELM_VALUES_FILE.exec(file)?.[1] ?? (HELM_VALUES_FILE.test(file) ? 'values' : null);
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const pos = lineCounter.linePos(error.pos[0]);
        issues.push({ file, line: pos.line, column: pos.col, object: '(document)', path: '', message: `YAML syntax: ${error.message.split('\n')[0]}` });
      }
      continue;
    }
    const complexKey = firstComplexKey(doc);
    if (complexKey !== null) {
      const pos = lineCounter.linePos(complexKey);
      issues.push({ file, line: pos.line, column: pos.col, object: '(document)', path: '', message: 'mapping keys must be plain names, not lists or mappings' });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const locate = locator(doc, lineCounter);
    const ctx: CheckContext = { file, object: '(document)', locate, issues, unsupported };
    if (helmChart !== null && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>).kind === undefined) {
      ctx.object = `${HELM_VALUES_KIND}/${helmChart}`;
      const values = value as Record<string, unknown>;
      out.push({ file, apiVersion: 'helm/values', group: 'helm', version: 'values', kind: HELM_VALUES_KIND, name: helmChart, ref: ctx.object, value: values, line: locate([]).line, ctx });
      continue;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      report(ctx, [], 'expected a Kubernetes object (a mapping with apiVersion, kind, metadata)');
      continue;
    }
    const object = value as Record<string, unknown>;
    if (object.kind === 'List' && Array.isArray(object.items)) {
      report(ctx, ['items'], 'kind List is not supported: write one document per object (--- between them)');
      continue;
    }
    const metadata = object.metadata as Record<string, unknown> | undefined;
    const missing = ['apiVersion', 'kind'].filter((k) => typeof object[k] !== 'string');
    if (missing.length > 0 || typeof metadata?.name !== 'string') {
      if (missing.length > 0) report(ctx, [], `missing or non-string ${missing.join(' and ')}`);
      else report(ctx, ['metadata', 'name'], 'expected metadata.name (a string)');
      continue;
    }
    const apiVersion = object.apiVersion as string;
    const slash = apiVersion.indexOf('/');
    const kind = object.kind as string;
    const name = metadata.name;
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
    const ref = namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
    ctx.object = ref;
    out.push({
      file,
      apiVersion,
      group: slash < 0 ? '' : apiVersion.slice(0, slash),
      version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
      kind,
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ref,
      value: object,
      line: locate([]).line,
      ctx,
    });
  }
  return out;
}

/**
 * A context for YAML embedded in a string field (a ConfigMap's `config.yaml: |`): lines point
 * into the outer file, paths are prefixed with the outer field.
 */
export function embeddedYaml(outer: Manifest, outerPath: FieldPath, text: string): { value: unknown; ctx: CheckContext } | null {
  const outerLine = outer.ctx.locate(outerPath).line;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  // A block scalar (`key: |`) starts on the line after the key.
  const lineOffset = outerLine;
  const ctx: CheckContext = {
    ...outer.ctx,
    locate: locator(doc, lineCounter, lineOffset),
    pathPrefix: outerPath.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '['),
  };
  const complexKey = doc.errors.length === 0 ? firstComplexKey(doc) : null;
  if (complexKey !== null) {
    outer.ctx.issues.push({
      file: outer.file,
      line: lineCounter.linePos(complexKey).line + lineOffset,
      column: lineCounter.linePos(complexKey).col,
      object: outer.ref,
      path: ctx.pathPrefix!,
      message: 'mapping keys in the embedded document must be plain names, not lists or mappings',
    });
    return null;
  }
  if (doc.errors.length > 0) {
    const pos = lineCounter.linePos(doc.errors[0]!.pos[0]);
    outer.ctx.issues.push({
      file: outer.file,
      line: pos.line + lineOffset,
      column: pos.col,
      object: outer.ref,
      path: ctx.pathPrefix!,
      message: `YAML syntax in embedded document: ${doc.errors[0]!.message.split('\n')[0]}`,
    });
    return null;
  }
  return { value: doc.toJS({ maxAliasCount: 100 }), ctx };
}

export function readClusterFolder(dir: string, issues: InputIssue[], unsupported: UnsupportedFeature[]): Manifest[] {
  const files = yamlFilesUnder(dir);
  const base = join(dir, '..');
  const out: Manifest[] = [];
  for (const path of files) out.push(...parseManifests(readFileSync(path, 'utf8'), relative(base, path) || path, issues, unsupported));
  return out;
}
