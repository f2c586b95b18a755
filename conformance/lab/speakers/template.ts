// Config templates for third-party speakers: the user's own config file with `{{...}}` holes that
// the lab fills per speaker node (its ASN, router id, neighbours, announced prefixes, addresses).
// A small Mustache subset, strict: `{{name}}`, `{{#list}}...{{/list}}` (repeat per item, or once
// when the value is true/non-empty), `{{^name}}...{{/name}}` (when false/empty), `{{.}}` (the
// item itself). An unknown name is an error naming the template's file and line, so a typo never
// renders a silently empty config.
import { addPathDirections, neighborFamilies, type LabNode, type LabTopology } from '../model.ts';

export class TemplateError extends Error {}

type Value = string | number | boolean | Scope | Value[];
interface Scope {
  [name: string]: Value;
}

type Part = { text: string } | { name: string; line: number } | { section: string; inverted: boolean; line: number; body: Part[] };

function parse(text: string, file: string): Part[] {
  const root: Part[] = [];
  const stack: Array<{ name: string; line: number; body: Part[] }> = [];
  let body = root;
  let last = 0;
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/\{\{\s*([#^/]?)\s*([\w.-]+)\s*\}\}/g)) {
    const line = lineAt(m.index);
    // A tag alone on its line (a section marker) takes its line ending with it.
    let end = m.index + m[0].length;
    let start = m.index;
    if (m[1]) {
      const lineStart = text.lastIndexOf('\n', m.index - 1) + 1;
      const newline = text.indexOf('\n', end);
      const lineEnd = newline === -1 ? text.length : newline;
      if (text.slice(lineStart, m.index).trim() === '' && text.slice(end, lineEnd).trim() === '') {
        start = lineStart;
        end = newline === -1 ? lineEnd : newline + 1;
      }
    }
    if (start > last) body.push({ text: text.slice(last, start) });
    last = end;
    const [, sigil, name] = m as unknown as [string, string, string];
    if (sigil === '#' || sigil === '^') {
      const section = { section: name, inverted: sigil === '^', line, body: [] as Part[] };
      body.push(section);
      stack.push({ name, line, body });
      body = section.body;
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open || open.name !== name) throw new TemplateError(`${file}:${line}: {{/${name}}} closes ${open ? `{{#${open.name}}} of line ${open.line}` : 'no open section'}`);
      body = open.body;
    } else body.push({ name, line });
  }
  if (stack.length > 0) throw new TemplateError(`${file}:${stack.at(-1)!.line}: {{#${stack.at(-1)!.name}}} is never closed`);
  if (last < text.length) body.push({ text: text.slice(last) });
  return root;
}

function lookup(scopes: Value[], name: string, line: number, file: string): Value {
  if (name === '.') return scopes.at(-1)!;
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i];
    if (typeof s === 'object' && !Array.isArray(s) && name in s) return s[name]!;
  }
  const known = new Set(scopes.flatMap((s) => (typeof s === 'object' && !Array.isArray(s) ? Object.keys(s) : [])));
  throw new TemplateError(`${file}:${line}: {{${name}}} is not a template variable here (known: ${[...known].sort().join(', ')})`);
}

const truthy = (v: Value) => (Array.isArray(v) ? v.length > 0 : v !== false && v !== '' && v !== 0);

function render(parts: Part[], scopes: Value[], file: string): string {
  let out = '';
  for (const part of parts) {
    if ('text' in part) out += part.text;
    else if ('name' in part) {
      const v = lookup(scopes, part.name, part.line, file);
      if (typeof v === 'object') throw new TemplateError(`${file}:${part.line}: {{${part.name}}} is a list or mapping; use {{#${part.name}}}...{{/${part.name}}}`);
      out += v === false ? '' : String(v);
    } else {
      const v = lookup(scopes, part.section, part.line, file);
      if (part.inverted) {
        if (!truthy(v)) out += render(part.body, scopes, file);
      } else if (Array.isArray(v)) for (const item of v) out += render(part.body, [...scopes, item], file);
      else if (truthy(v)) out += render(part.body, typeof v === 'object' ? [...scopes, v] : scopes, file);
    }
  }
  return out;
}

export function renderTemplate(text: string, variables: Scope, file: string): string {
  return render(parse(text, file), [variables], file);
}

const bare = (cidr: string) => cidr.split('/')[0]!;

/** What a template may use for one speaker node (documented in speakers/README.md). */
export function nodeVariables(node: LabNode, topology: LabTopology): Scope {
  const links = new Set(topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node.name).map((e) => e.ifname));
  const interfaces = [...new Set([...links, ...Object.keys(node.interfaces)])].sort().map((name) => ({
    name,
    addresses: (node.interfaces[name] ?? []).map((cidr) => ({ cidr, address: bare(cidr), ipv6: cidr.includes(':') })),
  }));
  return {
    node: node.name,
    asn: node.asn ?? 0,
    routerId: node.routerId ?? false,
    neighbors: node.neighbors.map((n, index) => {
      const families = neighborFamilies(n);
      const { send, receive } = addPathDirections(n);
      return {
        index,
        address: n.address,
        peerAsn: n.asn,
        ebgp: n.asn !== node.asn,
        ipv6: n.address.includes(':'),
        multihop: n.multihop ?? false,
        // The session's address families (an IPv6 unicast family may ride an IPv4 session).
        families: families.map((name) => ({ name, afi: name.split('-')[0]! })),
        ipv4Unicast: families.includes('ipv4-unicast'),
        ipv6Unicast: families.includes('ipv6-unicast'),
        // ADD-PATH (RFC 7911) offered to this neighbour, per direction; `addPath` is both ways.
        addPath: send && receive,
        addPathSend: send,
        addPathReceive: receive,
        extendedNexthop: n.extendedNexthop === true,
        updateSource: n.updateSource ?? false,
      };
    }),
    announce: node.announce.map((prefix) => ({ prefix, ipv6: prefix.includes(':') })),
    loopback: node.loopback.map((cidr) => ({ cidr, address: bare(cidr) })),
    interfaces,
    routes: node.routes.map((r) => ({ to: r.to, via: r.via ?? false, dev: r.dev ?? false })),
  };
}
