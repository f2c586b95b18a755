import { Address4, Address6 } from 'ip-address';
import type { LabNode } from './model.ts';

// containerlab `exec:` lines, read once: the fixture validator, the lab's bring-up, the checks
// (which address does a node carry, which gateway does a host use) and the speaker mapping all
// go through parseExecLine. containerlab runs a node's exec lines in order after its links are
// up; the lab does the same, after the fixture's own addresses (an address given both ways is
// added once).
//
// Forms (what containerlab users write for addresses and routes):
//   ip [-4|-6] a|addr|address add CIDR dev IF [nodad]
//   ip [-4|-6] r|ro|route add|replace PREFIX|default [via GW] [dev IF] [metric N] [onlink]
//   ip [-4|-6] link set [dev] IF [up|down] [mtu N] [address MAC]
//   sysctl [-w] [-q] KEY=VALUE

export type ExecCommand =
  | { type: 'addr'; family: 4 | 6; cidr: string; dev: string }
  | { type: 'route'; family: 4 | 6; action: 'add' | 'replace'; to: string; via?: string; dev?: string; metric?: number; onlink?: boolean }
  | { type: 'link'; dev: string; state?: 'up' | 'down'; mtu?: number; mac?: string }
  | { type: 'sysctl'; key: string; value: string };

export type ExecParse = { ok: true; command: ExecCommand } | { ok: false; error: string };

const FORMS =
  'ip [-4|-6] addr add CIDR dev IF, ip [-4|-6] route add|replace PREFIX|default [via GW] [dev IF] [metric N], ip link set [dev] IF up|down|mtu N|address MAC, sysctl KEY=VALUE';

function familyOf(text: string): 4 | 6 | null {
  const bare = text.split('/')[0]!;
  if (Address4.isValid(bare) && !bare.includes(':')) return 4;
  if (Address6.isValid(bare)) return 6;
  return null;
}

function isCidr(text: string): boolean {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || len === undefined || !/^\d{1,3}$/.test(len)) return false;
  const family = familyOf(addr!);
  return family !== null && Number(len) <= (family === 4 ? 32 : 128);
}

/** An address in CIDR form with the address part in canonical spelling (IPv6 compressed, lower case). */
export function canonicalCidr(cidr: string): string {
  const [addr, len] = cidr.split('/');
  if (familyOf(addr!) === 6) return `${new Address6(addr!).correctForm()}${len !== undefined ? `/${len}` : ''}`;
  return cidr;
}

const is = (word: string | undefined, ...forms: string[]) => word !== undefined && forms.includes(word);

/** Parses one exec line into what it does, or says what is wrong with it and which forms run. */
export function parseExecLine(line: string): ExecParse {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const fail = (why: string): ExecParse => ({ ok: false, error: `"${line.trim()}": ${why}` });
  const tool = words.shift();
  if (tool === 'sysctl') {
    const rest = words.filter((w) => w !== '-w' && w !== '-q');
    const m = rest.length === 1 ? /^([A-Za-z0-9_.\/-]+)=(.*)$/.exec(rest[0]!) : null;
    if (!m) return fail('expected sysctl [-w] KEY=VALUE (one setting per line)');
    return { ok: true, command: { type: 'sysctl', key: m[1]!, value: m[2]! } };
  }
  if (tool !== 'ip') return fail(`only ip and sysctl commands run in lab nodes; supported: ${FORMS}`);
  let forced: 4 | 6 | undefined;
  while (words[0]?.startsWith('-')) {
    const option = words.shift()!;
    if (option === '-4') forced = 4;
    else if (option === '-6') forced = 6;
    else return fail(`ip option "${option}" is not supported (only -4 and -6)`);
  }
  const object = words.shift();
  const checkFamily = (family: 4 | 6, what: string): string | null =>
    forced !== undefined && forced !== family ? `${what} is IPv${family} but the line says -${forced}` : null;

  if (is(object, 'a', 'ad', 'addr', 'address')) {
    if (!is(words.shift(), 'add', 'a')) return fail('only "addr add" is supported for addresses');
    const cidr = words.shift();
    if (!cidr || !isCidr(cidr)) return fail(`expected an address in CIDR form after "add" (got ${cidr ? `"${cidr}"` : 'nothing'})`);
    let dev: string | undefined;
    while (words.length > 0) {
      const w = words.shift()!;
      if (w === 'dev') dev = words.shift();
      else if (w === 'nodad') continue;
      else return fail(`unexpected "${w}" (expected: dev IF [nodad])`);
    }
    if (!dev) return fail('expected "dev IF" (which interface gets the address)');
    const family = familyOf(cidr)!;
    const wrong = checkFamily(family, cidr);
    if (wrong) return fail(wrong);
    return { ok: true, command: { type: 'addr', family, cidr, dev } };
  }

  if (is(object, 'r', 'ro', 'rou', 'route')) {
    const action = words.shift();
    if (!is(action, 'add', 'a', 'replace', 'r', 'repl')) return fail('only "route add" and "route replace" are supported');
    const to = words.shift();
    if (!to || (to !== 'default' && !isCidr(to) && familyOf(to) === null)) return fail(`expected a prefix or "default" (got ${to ? `"${to}"` : 'nothing'})`);
    const route: Extract<ExecCommand, { type: 'route' }> = { type: 'route', family: 4, action: is(action, 'add', 'a') ? 'add' : 'replace', to };
    while (words.length > 0) {
      const w = words.shift()!;
      const value = () => words.shift();
      if (w === 'via') {
        let via = value();
        if (via === 'inet' || via === 'inet6') via = value();
        if (!via || familyOf(via) === null || via.includes('/')) return fail(`expected a gateway address after "via" (got ${via ? `"${via}"` : 'nothing'})`);
        route.via = via;
      } else if (w === 'dev') {
        const dev = value();
        if (!dev) return fail('expected an interface after "dev"');
        route.dev = dev;
      } else if (w === 'metric' || w === 'preference') {
        const m = value();
        if (!m || !/^\d+$/.test(m)) return fail(`expected a number after "${w}"`);
        route.metric = Number(m);
      } else if (w === 'onlink') route.onlink = true;
      else return fail(`unexpected "${w}" (expected: via GW, dev IF, metric N, onlink)`);
    }
    if (!route.via && !route.dev) return fail('a route needs "via GW" or "dev IF"');
    const prefixFamily = to === 'default' ? undefined : familyOf(to)!;
    const viaFamily = route.via ? familyOf(route.via)! : undefined;
    if (forced !== undefined && prefixFamily !== undefined && forced !== prefixFamily) return fail(`${to} is IPv${prefixFamily} but the line says -${forced}`);
    route.family = prefixFamily ?? forced ?? viaFamily ?? 4;
    if (to !== 'default' && !to.includes('/')) route.to = `${to}/${route.family === 4 ? 32 : 128}`;
    // An IPv4 route may use an IPv6 gateway (RFC 5549 / `via inet6`), never the other way round.
    if (viaFamily !== undefined && viaFamily !== route.family && !(route.family === 4 && viaFamily === 6))
      return fail(`gateway ${route.via} is IPv${viaFamily}, the route is IPv${route.family}`);
    return { ok: true, command: route };
  }

  if (is(object, 'l', 'link')) {
    if (!is(words.shift(), 'set', 's')) return fail('only "link set" is supported');
    if (words[0] === 'dev') words.shift();
    const dev = words.shift();
    if (!dev) return fail('expected an interface after "link set"');
    const link: Extract<ExecCommand, { type: 'link' }> = { type: 'link', dev };
    while (words.length > 0) {
      const w = words.shift()!;
      if (w === 'up' || w === 'down') link.state = w;
      else if (w === 'mtu') {
        const m = words.shift();
        if (!m || !/^\d+$/.test(m) || Number(m) < 68 || Number(m) > 65535) return fail('expected an MTU 68-65535 after "mtu"');
        link.mtu = Number(m);
      } else if (w === 'address' || w === 'addr') {
        const mac = words.shift();
        if (!mac || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) return fail('expected a MAC address (aa:bb:cc:dd:ee:ff) after "address"');
        link.mac = mac.toLowerCase();
      } else return fail(`unexpected "${w}" (expected: up, down, mtu N, address MAC)`);
    }
    if (!link.state && link.mtu === undefined && link.mac === undefined) return fail('expected up, down, mtu N or address MAC');
    return { ok: true, command: link };
  }
  return fail(`"ip ${object ?? ''}" is not supported; supported: ${FORMS}`);
}

/** The argv that runs a command inside a node (IPv6 addresses without DAD, as the lab adds its own). */
export function execArgv(c: ExecCommand): string[] {
  switch (c.type) {
    case 'addr':
      return ['ip', `-${c.family}`, 'addr', 'add', c.cidr, 'dev', c.dev, ...(c.family === 6 ? ['nodad'] : [])];
    case 'route': {
      const viaInet6 = c.via && c.family === 4 && familyOf(c.via) === 6;
      return [
        'ip', `-${c.family}`, 'route', c.action, c.to,
        ...(c.via ? ['via', ...(viaInet6 ? ['inet6'] : []), c.via] : []),
        ...(c.dev ? ['dev', c.dev] : []),
        ...(c.metric !== undefined ? ['metric', String(c.metric)] : []),
        ...(c.onlink ? ['onlink'] : []),
      ];
    }
    case 'link':
      return ['ip', 'link', 'set', 'dev', c.dev, ...(c.mac ? ['address', c.mac] : []), ...(c.mtu !== undefined ? ['mtu', String(c.mtu)] : []), ...(c.state ? [c.state] : [])];
    case 'sysctl':
      return ['sysctl', '-q', '-w', `${c.key}=${c.value}`];
  }
}

/** The node's exec lines that parse, in order (the validator reports the others). */
export function execCommands(node: Pick<LabNode, 'exec'>): ExecCommand[] {
  return node.exec.flatMap((line) => {
    const parsed = parseExecLine(line);
    return parsed.ok ? [parsed.command] : [];
  });
}

/**
 * What the lab runs for a node's exec lines, in order: an address the fixture already gives
 * the same interface (`interfaces` / `loopback`), or an earlier exec line gave, is skipped.
 * A line that does not parse stops the plan (a topology built in code is not validated first).
 */
export function execPlan(node: Pick<LabNode, 'name' | 'exec' | 'interfaces' | 'loopback'>): ExecCommand[] {
  for (const line of node.exec) {
    const parsed = parseExecLine(line);
    if (!parsed.ok) throw new Error(`node ${node.name}: exec ${parsed.error}`);
  }
  const seen = new Set<string>();
  for (const [ifname, addrs] of Object.entries(node.interfaces)) for (const a of addrs) seen.add(`${ifname} ${canonicalCidr(a)}`);
  for (const a of node.loopback) seen.add(`lo ${canonicalCidr(a)}`);
  return execCommands(node).filter((c) => {
    if (c.type !== 'addr') return true;
    const key = `${c.dev} ${canonicalCidr(c.cidr)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Interface -> addresses (CIDR) of a node: the fixture's `interfaces`, `loopback` as lo, and its exec lines, each once. */
export function nodeAddresses(node: Pick<LabNode, 'exec' | 'interfaces' | 'loopback'>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (ifname: string, cidr: string) => {
    const list = (out[ifname] ??= []);
    if (!list.some((x) => canonicalCidr(x) === canonicalCidr(cidr))) list.push(cidr);
  };
  for (const [ifname, addrs] of Object.entries(node.interfaces)) for (const a of addrs) add(ifname, a);
  for (const a of node.loopback) add('lo', a);
  for (const c of execCommands(node)) if (c.type === 'addr') add(c.dev, c.cidr);
  return out;
}

/** The default gateway an exec line sets for a family (`ip route add|replace default via GW`). */
export function execDefaultGateway(node: Pick<LabNode, 'exec'>, family: 4 | 6 = 4): string | undefined {
  let gateway: string | undefined;
  for (const c of execCommands(node)) if (c.type === 'route' && c.to === 'default' && c.family === family && c.via) gateway = c.via;
  return gateway;
}
