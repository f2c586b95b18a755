// `peerproof preflight --peer ADDRESS`: one BGP session from this node to a real top-of-rack with
// the reference speaker, what it negotiated, a test prefix advertised and proven accepted (see
// reference/bgp/preflight.ts for the method), withdrawn and closed with Cease on exit or Ctrl-C.
import { Option, type Command } from 'commander';
import type { FamilyName } from '../../../reference/bgp/config.ts';
import type { NegotiatedReport, PreflightEvent, PreflightResult } from '../../../reference/bgp/preflight.ts';
import { textTable } from '../../report/gate.ts';

interface Flags {
  peer?: string;
  peerAs?: string;
  localAs?: string;
  localAddress?: string;
  routerId?: string;
  port: string;
  holdTime: string;
  multihop?: string;
  password?: string;
  family?: string[];
  addPath: 'both' | 'send' | 'receive' | 'off';
  prefix?: string[];
  nextHop?: string;
  observer?: string;
  observerAs?: string;
  timeout: string;
  watch?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').filter(Boolean)];

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`${flag} "${text}": expected an integer from ${min} to ${max}`);
  return n;
}

function negotiatedText(r: NegotiatedReport): string {
  const addPath = r.addPath.map((a) => `${a.family}: ${a.send && a.receive ? 'send and receive' : a.send ? 'we send' : a.receive ? 'we receive' : 'no'}`).join('; ');
  return [
    `negotiated (peer router id ${r.peerRouterId}, AS ${r.peerAs}, our address ${r.local}):`,
    `  hold time    ours ${r.holdTime.ours} s, peer's ${r.holdTime.peers} s -> ${r.holdTime.negotiated} s (keepalive ${r.holdTime.keepalive} s)`,
    `  4-octet AS   ${r.as4 ? 'yes' : 'no: 2-octet AS peer (we send AS_TRANS and AS4_PATH)'}`,
    `  families     ${r.families.join(', ')}`,
    `  ADD-PATH     ${addPath || 'no'}`,
    `  TTL          ${r.ttl.inUse}${r.ttl.inUse !== r.ttl.configured ? ` (configured ${r.ttl.configured})` : ''}, ${r.ttl.control}`,
    '',
    textTable(['capability', 'ours', "peer's", 'in use'], r.capabilities.map((c) => [c.capability, c.ours, c.peers, c.inUse]))
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  ].join('\n');
}

function routeText(r: { asPath: string; nextHop?: string; communities?: string[]; largeCommunities?: string[] }): string {
  const parts = [`AS path ${r.asPath || '(empty)'}`];
  if (r.nextHop) parts.push(`next hop ${r.nextHop}`);
  if (r.communities) parts.push(`communities ${r.communities.join(' ')}`);
  if (r.largeCommunities) parts.push(`large communities ${r.largeCommunities.join(' ')}`);
  return parts.join(', ');
}

/** One line per event; debug events (UPDATEs, End-of-RIB, speaker log) only when watching. */
function eventText(e: PreflightEvent, watch: boolean): string | null {
  switch (e.event) {
    case 'log':
      return watch ? `${e.session}: ${e.level} ${e.message}` : null;
    case 'update':
      if (!watch) return null;
      return [
        `${e.session}: UPDATE from the peer`,
        e.announced.length > 0 ? ` announce ${e.announced.join(' ')} (${routeText(e.attributes!)})` : '',
        e.withdrawn.length > 0 ? ` withdraw ${e.withdrawn.join(' ')}` : '',
      ].join('');
    case 'end-of-rib':
      return watch ? `${e.session}: End-of-RIB ${e.family} from the peer` : null;
    case 'established':
      return `${e.session}: Established from ${e.local}, peer router id ${e.peerRouterId}, hold time ${e.holdTime} s`;
    case 'down':
      return `${e.session}: session down: ${e.reason}`;
    case 'negotiated':
      return negotiatedText(e.report);
    case 'advertised':
      return `advertised ${e.prefixes.join(' ')}`;
    case 'accepted':
      return `ACCEPTED ${e.prefix}: the peer sent it to our ${e.via === 'observer' ? 'observer session' : 'session'} ${e.afterS.toFixed(2)} s after we advertised it (${routeText(e.route)})`;
    case 'not-accepted':
      return `NOT ACCEPTED ${e.prefix}: ${e.reason}`;
    case 'withdrawn':
      return `withdrew ${e.prefixes.join(' ')}${e.confirmed ? ' (the peer withdrew it from us too)' : ''}`;
    case 'closed':
      return `closed: sent ${e.notification}`;
    case 'watching':
      return 'watching the session (every UPDATE and state change below); Ctrl-C withdraws and closes';
  }
}

function resultText(r: PreflightResult): string {
  if (!r.established) return `FAILED: no session with the peer: ${r.failure}`;
  const lines = [`received ${r.receivedPrefixes} prefix${r.receivedPrefixes === 1 ? '' : 'es'} from the peer`];
  if (r.observer && !r.observer.established) lines.push(`observer session: not up (${r.observer.failure})`);
  const rejected = r.prefixes.filter((p) => !p.accepted);
  lines.push(
    r.exitCode === 0
      ? `OK: session up${r.prefixes.length > 0 ? `, ${r.prefixes.length} prefix${r.prefixes.length === 1 ? '' : 'es'} accepted by the peer` : ''}`
      : `FAILED: ${rejected.length} of ${r.prefixes.length} prefixes not shown accepted: ${rejected.map((p) => p.prefix).join(' ')}`,
  );
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('preflight')
    .description(
      'from this node, open a BGP session to a real peer (top-of-rack) with the reference speaker, print what was negotiated, ' +
        'advertise --prefix and show whether the peer accepted it (via an --observer session), then withdraw and close with Cease',
    )
    .option('--peer <address>', 'the peer to test (required: preflight never picks one)')
    .option('--peer-as <asn>', "the peer's AS (required)")
    .option('--local-as <asn>', 'our AS (required)')
    .option('--local-address <address>', 'our source address for the session (default: the kernel picks)')
    .option('--router-id <id>', 'our BGP identifier (default: --local-address if IPv4, else the first IPv4 address of this host)')
    .option('--port <port>', "the peer's BGP port", '179')
    .option('--hold-time <seconds>', 'hold time we offer (0 or >= 3)', '90')
    .option('--multihop <ttl>', 'IP TTL of our packets (eBGP multihop); default 1 for eBGP, 255 for iBGP')
    .option('--password <secret>', 'TCP MD5 (RFC 2385): NOT SUPPORTED, preflight refuses to run with it (Node cannot set TCP_MD5SIG)')
    .addOption(new Option('--family <name>', 'families to offer: ipv4-unicast, ipv6-unicast; repeatable (default both)').argParser(collect))
    .addOption(new Option('--add-path <mode>', 'ADD-PATH we offer for every family').choices(['both', 'send', 'receive', 'off']).default('both'))
    .addOption(new Option('--prefix <prefix>', 'test prefix or VIP (/32, /128) to advertise and check; repeatable').argParser(collect))
    .option('--next-hop <address>', 'next hop of the test prefixes (default: our session address)')
    .option('--observer <address>', 'second local address: a session from it, which advertises nothing, shows whether the peer passes the test prefix on (the peer must know it as a neighbour)')
    .option('--observer-as <asn>', "the observer session's AS (default --local-as; use another when the peer does sender-side AS loop detection)")
    .option('--timeout <seconds>', 'how long to wait for the session, and then for the proof of acceptance', '30')
    .option('--watch', 'after the checks, keep the session up and print every event until Ctrl-C (then withdraw and close)')
    .option('--json', 'one JSON object per event and a final {"event":"result"} line')
    .action(async (flags: Flags) => {
      if (!flags.peer) throw new Error('preflight: --peer ADDRESS is required (the top-of-rack to test; preflight never picks a peer by itself)');
      if (flags.password !== undefined) {
        throw new Error(
          'preflight: --password (TCP MD5, RFC 2385) is not supported: the reference speaker has no TCP MD5 (Node cannot set TCP_MD5SIG on its sockets); test against a neighbour without a password',
        );
      }
      const peerAs = integer('--peer-as', flags.peerAs, 1, 4294967295);
      const localAs = integer('--local-as', flags.localAs, 1, 4294967295);
      if (peerAs === undefined || localAs === undefined) throw new Error('preflight: --peer-as ASN and --local-as ASN are required');
      const families = flags.family?.map((f) => {
        if (f !== 'ipv4-unicast' && f !== 'ipv6-unicast') throw new Error(`--family "${f}": expected ipv4-unicast or ipv6-unicast`);
        return f as FamilyName;
      });
      const holdTime = integer('--hold-time', flags.holdTime, 0, 65535)!;
      if (holdTime === 1 || holdTime === 2) throw new Error('--hold-time: 0 or at least 3 seconds (RFC 4271 4.2)');
      const timeoutS = Number(flags.timeout);
      if (!(timeoutS > 0)) throw new Error(`--timeout "${flags.timeout}": expected seconds > 0`);
      const { Preflight } = await import('../../../reference/bgp/preflight.ts');
      let preflight: InstanceType<typeof Preflight> | null = null;
      const emit = (event: PreflightEvent) => {
        const t = Number((preflight?.elapsedS() ?? 0).toFixed(3));
        if (flags.json) process.stdout.write(`${JSON.stringify({ t, ...event })}\n`);
        else {
          const text = eventText(event, flags.watch === true);
          if (text !== null) process.stdout.write(event.event === 'negotiated' ? `${text}\n` : `+${t.toFixed(2)}s ${text}\n`);
        }
      };
      preflight = new Preflight(
        {
          peer: flags.peer,
          peerAs,
          localAs,
          peerPort: integer('--port', flags.port, 1, 65535),
          localAddress: flags.localAddress,
          routerId: flags.routerId,
          holdTime,
          multihop: integer('--multihop', flags.multihop, 1, 255),
          families,
          addPath: flags.addPath,
          prefixes: flags.prefix,
          nextHop: flags.nextHop,
          observer: flags.observer ? { address: flags.observer, asn: integer('--observer-as', flags.observerAs, 1, 4294967295) } : undefined,
          timeoutMs: timeoutS * 1000,
          watch: flags.watch,
        },
        emit,
      );
      let interrupts = 0;
      const onSignal = () => {
        interrupts += 1;
        if (interrupts > 1) process.exit(130); // a second Ctrl-C: no waiting for the withdrawal
        preflight!.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const result = await preflight.run();
        if (flags.json) process.stdout.write(`${JSON.stringify({ t: preflight.elapsedS(), event: 'result', ...result })}\n`);
        else process.stdout.write(`${resultText(result)}\n`);
        process.exitCode = result.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
