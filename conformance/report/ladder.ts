// Ladder (sequence) diagrams of the BGP messages of a case, drawn as inline SVG from decoded
// captures: the JSON Lines of `peerproof decode` (shared contract decode-jsonl.md) or plain
// {ts, src, dst, type, summary} objects.
import { escapeXml as x } from './markup.ts';

export interface LadderMessage {
  ts: number;
  src: string;
  dst: string;
  type: string;
  summary: string;
  /** The decoder's error for a message that failed to parse. */
  error?: string;
}

export interface LadderParse {
  messages: LadderMessage[];
  /** Lines that were not a message object, as "source:line: problem". */
  problems: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const NOTIFICATION_CODES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'FSM Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const CEASE_SUBCODES: Record<number, string> = {
  1: 'Maximum Number of Prefixes Reached',
  2: 'Administrative Shutdown',
  3: 'Peer De-configured',
  4: 'Administrative Reset',
  5: 'Connection Rejected',
  6: 'Other Configuration Change',
  7: 'Connection Collision Resolution',
  8: 'Out of Resources',
  9: 'Hard Reset',
};

const FAMILIES: Record<string, string> = { '1/1': 'ipv4', '2/1': 'ipv6', '1/2': 'ipv4-mc', '2/2': 'ipv6-mc' };
const family = (afi: unknown, safi: unknown) => FAMILIES[`${String(afi)}/${String(safi)}`] ?? `afi ${String(afi)}/safi ${String(safi)}`;

function prefixes(routes: unknown, limit = 3): string[] {
  if (!Array.isArray(routes)) return [];
  return routes.filter(isObj).map((r) => (r.pathId !== undefined ? `${String(r.prefix)} id ${String(r.pathId)}` : String(r.prefix))).slice(0, limit);
}

function countOf(routes: unknown): number {
  return Array.isArray(routes) ? routes.length : 0;
}

function listed(routes: unknown, sign: string): string {
  const n = countOf(routes);
  if (n === 0) return '';
  const shown = prefixes(routes);
  return `${sign}${shown.join(', ')}${n > shown.length ? ` (+${n - shown.length} more)` : ''}`;
}

function summarizeOpen(open: Obj): string {
  const caps = Array.isArray(open.capabilities) ? open.capabilities.filter(isObj) : [];
  const capNames = caps.map((c) => {
    if (c.code === 1) return `mp ${family(c.afi, c.safi)}`;
    if (c.code === 69 && Array.isArray(c.entries)) return `add-path ${c.entries.filter(isObj).map((e) => `${family(e.afi, e.safi)} ${String(e.mode)}`).join(' ')}`;
    return typeof c.name === 'string' ? c.name : `cap ${String(c.code)}`;
  });
  const as = open.as4 ?? open.myAs;
  return `AS ${String(as)}, hold ${String(open.holdTime)}s, id ${String(open.bgpId)}${capNames.length ? `; ${capNames.join(', ')}` : ''}`;
}

function summarizeUpdate(update: Obj): string {
  const attrs = isObj(update.attributes) ? update.attributes : {};
  const mpReach = isObj(attrs.mpReach) ? attrs.mpReach : undefined;
  const mpUnreach = isObj(attrs.mpUnreach) ? attrs.mpUnreach : undefined;
  const announced = [...(Array.isArray(update.nlri) ? update.nlri : []), ...(Array.isArray(mpReach?.nlri) ? mpReach.nlri : [])];
  const withdrawn = [...(Array.isArray(update.withdrawn) ? update.withdrawn : []), ...(Array.isArray(mpUnreach?.withdrawn) ? mpUnreach.withdrawn : [])];
  if (announced.length === 0 && withdrawn.length === 0) {
    if (mpUnreach) return `End-of-RIB ${family(mpUnreach.afi, mpUnreach.safi)}`;
    return Object.keys(attrs).length === 0 ? 'End-of-RIB ipv4' : 'no prefixes';
  }
  const parts = [listed(announced, '+'), listed(withdrawn, '-')].filter(Boolean);
  const nextHop = attrs.nextHop ?? (Array.isArray(mpReach?.nextHops) ? mpReach.nextHops.join(' ') : undefined);
  if (announced.length > 0 && nextHop !== undefined) parts.push(`nh ${String(nextHop)}`);
  if (announced.length > 0 && Array.isArray(attrs.asPath)) {
    const path = attrs.asPath.filter(isObj).map((seg) => {
      const asns = Array.isArray(seg.asns) ? seg.asns.join(' ') : '';
      return seg.type === 'set' ? `{${asns}}` : asns;
    });
    parts.push(`path ${path.join(' ').trim() || '(empty)'}`);
  }
  return parts.join('; ');
}

function summarizeNotification(n: Obj): string {
  const code = Number(n.code);
  const sub = Number(n.subcode);
  const name = NOTIFICATION_CODES[code] ?? `code ${code}`;
  const subName = code === 6 ? CEASE_SUBCODES[sub] : undefined;
  return `${name} / ${subName ?? `subcode ${sub}`}${typeof n.data === 'string' && n.data ? ` data ${n.data}` : ''}`;
}

/** One line saying what a decoded message carried. */
export function summarizeDecoded(m: Obj): string {
  if (typeof m.summary === 'string') return m.summary;
  if (typeof m.error === 'string') return m.error;
  if (m.type === 'OPEN' && isObj(m.open)) return summarizeOpen(m.open);
  if (m.type === 'UPDATE' && isObj(m.update)) return summarizeUpdate(m.update);
  if (m.type === 'NOTIFICATION' && isObj(m.notification)) return summarizeNotification(m.notification);
  if (m.type === 'ROUTE-REFRESH' && isObj(m.routeRefresh)) return family(m.routeRefresh.afi, m.routeRefresh.safi);
  return '';
}

/** Accepts a decoded object; returns null with a reason when it is not a message. */
export function toLadderMessage(m: unknown): LadderMessage | string {
  if (!isObj(m)) return 'not a JSON object';
  if (typeof m.ts !== 'number' || !Number.isFinite(m.ts)) return 'field ts: expected a number of seconds';
  for (const k of ['src', 'dst', 'type'] as const) if (typeof m[k] !== 'string' || m[k] === '') return `field ${k}: expected a non-empty string`;
  const message: LadderMessage = { ts: m.ts, src: m.src as string, dst: m.dst as string, type: m.type as string, summary: summarizeDecoded(m) };
  if (typeof m.error === 'string') message.error = m.error;
  return message;
}

export function parseLadderJsonl(text: string, source = 'decoded capture'): LadderParse {
  const messages: LadderMessage[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${source}:${i + 1}: not JSON`);
      return;
    }
    const m = toLadderMessage(value);
    if (typeof m === 'string') problems.push(`${source}:${i + 1}: ${m}`);
    else messages.push(m);
  });
  return { messages, problems };
}

/** "10.0.1.10:179" -> "10.0.1.10"; "[2001:db8::1]:179" -> "2001:db8::1". */
export function hostOf(endpoint: string): string {
  const v6 = endpoint.match(/^\[(.*)\]:\d+$/);
  if (v6) return v6[1]!;
  const v4 = endpoint.match(/^(.*):\d+$/);
  return v4 ? v4[1]! : endpoint;
}

export interface LadderOptions {
  /** Node names by IP address, shown above the address. */
  names?: Record<string, string>;
  /** Rows drawn at most; the rest is counted in a note. */
  maxMessages?: number;
}

const TYPE_CLASS: Record<string, string> = {
  OPEN: 'open',
  UPDATE: 'update',
  NOTIFICATION: 'notification',
  KEEPALIVE: 'keepalive',
  'ROUTE-REFRESH': 'refresh',
};

// Per class because markers cannot take their colour from the line in every browser.
const ARROW_COLOURS: Record<string, string> = {
  open: '#1f5fbf',
  update: '#18794e',
  notification: '#c62828',
  keepalive: '#9e9e9e',
  refresh: '#6a1b9a',
  unknown: '#6a1b9a',
  error: '#c62828',
};

const COLUMN_WIDTH = 240;
const DETAILS_WIDTH = 760; // the column right of the lifelines that says what each message carried
const GUTTER = 96;
const HEAD = 64;
const ROW = 30;
const CHAR_WIDTH = 6.4; // of the 11px monospace labels

function clip(text: string, width: number): string {
  const max = Math.max(8, Math.floor(width / CHAR_WIDTH));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The SVG of a ladder: one lifeline per IP address (ports differ between the two TCP
 * directions of a session, the routers do not), one arrow per message in capture order, the
 * time since the first message on the left.
 */
export function renderLadderSvg(all: readonly LadderMessage[], options: LadderOptions = {}): string {
  const maxMessages = options.maxMessages ?? 400;
  const messages = [...all].sort((a, b) => a.ts - b.ts).slice(0, maxMessages);
  const hosts: string[] = [];
  for (const m of messages) for (const h of [hostOf(m.src), hostOf(m.dst)]) if (!hosts.includes(h)) hosts.push(h);
  const detailsX = GUTTER + Math.max(hosts.length, 2) * COLUMN_WIDTH + 8;
  const width = detailsX + DETAILS_WIDTH;
  const height = HEAD + messages.length * ROW + (all.length > messages.length ? ROW : 0) + 16;
  const xOf = (h: string) => GUTTER + hosts.indexOf(h) * COLUMN_WIDTH + COLUMN_WIDTH / 2;
  const t0 = messages[0]?.ts ?? 0;

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="BGP message ladder">`,
    `<defs>${Object.entries(ARROW_COLOURS).map(([cls, colour]) => `<marker id="arrow-${cls}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`).join('')}</defs>`,
    `<text x="8" y="${HEAD - 10}" class="gutter-head">time (s)</text>`,
    `<text x="${detailsX}" y="${HEAD - 10}" class="gutter-head">what the message carried</text>`,
  ];
  for (const h of hosts) {
    const cx = xOf(h);
    const name = options.names?.[h];
    out.push(`<g class="lifeline" data-host="${x(h)}">`);
    out.push(`<rect x="${cx - 110}" y="6" width="220" height="${name ? 40 : 28}" rx="4"/>`);
    if (name) out.push(`<text x="${cx}" y="22" class="node-name">${x(name)}</text><text x="${cx}" y="38" class="node-addr">${x(h)}</text>`);
    else out.push(`<text x="${cx}" y="25" class="node-addr">${x(h)}</text>`);
    out.push(`<line x1="${cx}" y1="${name ? 46 : 34}" x2="${cx}" y2="${height - 8}"/></g>`);
  }
  messages.forEach((m, i) => {
    const y = HEAD + i * ROW + 18;
    const x1 = xOf(hostOf(m.src));
    const x2 = xOf(hostOf(m.dst));
    const cls = m.error ? 'error' : (TYPE_CLASS[m.type] ?? 'unknown');
    const details = m.error ? `decode error: ${m.error}` : m.summary;
    const title = `${m.src} → ${m.dst} at ${m.ts.toFixed(6)}: ${m.type}${details ? ` ${details}` : ''}`;
    out.push(`<g class="msg ${cls}" data-type="${x(m.type)}"><title>${x(title)}</title>`);
    out.push(`<text x="${GUTTER - 10}" y="${y + 4}" class="time">+${(m.ts - t0).toFixed(3)}</text>`);
    if (x1 === x2) {
      out.push(`<path d="M${x1},${y - 6} h40 v12 h-38" marker-end="url(#arrow-${cls})"/>`);
      out.push(`<text x="${x1 + 46}" y="${y + 4}" class="label" text-anchor="start">${x(m.type)}</text>`);
    } else {
      out.push(`<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" marker-end="url(#arrow-${cls})"/>`);
      out.push(`<text x="${(x1 + x2) / 2}" y="${y - 5}" class="label">${x(clip(m.type, Math.abs(x2 - x1) - 12))}</text>`);
    }
    if (details) out.push(`<text x="${detailsX}" y="${y + 4}" class="details">${x(clip(details, DETAILS_WIDTH - 8))}</text>`);
    out.push('</g>');
  });
  if (all.length > messages.length) {
    out.push(`<text x="${GUTTER}" y="${HEAD + messages.length * ROW + 18}" class="more">… ${all.length - messages.length} more messages not drawn (see the decoded capture)</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Styles for the ladder, inlined by the page that embeds it. */
export const LADDER_CSS = `
svg.ladder { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px; background: #fff; }
svg.ladder .lifeline rect { fill: #eef2f7; stroke: #5b6b7f; }
svg.ladder .lifeline line { stroke: #9aa7b5; stroke-dasharray: 4 4; }
svg.ladder .node-name { text-anchor: middle; font-weight: bold; font-size: 12px; }
svg.ladder .node-addr { text-anchor: middle; font-size: 12px; }
svg.ladder .gutter-head, svg.ladder .more { fill: #555; }
svg.ladder .time { text-anchor: end; fill: #555; }
svg.ladder .label { text-anchor: middle; font-weight: 600; }
svg.ladder .details { fill: #1d2630; }
svg.ladder .msg line, svg.ladder .msg path { stroke-width: 1.6; fill: none; }
svg.ladder .open line, svg.ladder .open path { stroke: #1f5fbf; } svg.ladder .open .label { fill: #1f5fbf; }
svg.ladder .update line, svg.ladder .update path { stroke: #18794e; } svg.ladder .update .label { fill: #18794e; }
svg.ladder .notification line, svg.ladder .notification path { stroke: #c62828; } svg.ladder .notification .label { fill: #c62828; font-weight: bold; }
svg.ladder .keepalive line, svg.ladder .keepalive path { stroke: #9e9e9e; } svg.ladder .keepalive .label { fill: #777; }
svg.ladder .refresh line, svg.ladder .refresh path, svg.ladder .unknown line { stroke: #6a1b9a; } svg.ladder .refresh .label, svg.ladder .unknown .label { fill: #6a1b9a; }
svg.ladder .error line, svg.ladder .error path { stroke: #c62828; stroke-dasharray: 6 3; } svg.ladder .error .label { fill: #c62828; }
`;
