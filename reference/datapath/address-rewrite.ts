// Direct server return by stateless address rewriting with nftables, the shape of seed 003's
// capture: the client's packets reach the backend addressed to the backend (pod) itself, and
// the replies leave the backend with the VIP as source, straight to the client.
//
//   load-balancer node: in prerouting, before routing and connection tracking (`notrack`), the
//     destination VIP becomes the backend address (several backends: a hash of the client's
//     address and port picks one, so a connection stays on one backend with no state kept).
//   backend node:       in a `route` output chain the reply's source becomes the VIP; changing
//     the source in such a chain makes the kernel route the packet again, so the policy rule
//     for the VIP sends it by the return gateway, bypassing the load-balancer node.
//
// Connection-tracked DNAT cannot do this: the load-balancer never sees the SYN-ACK.
// TCP only; every reply from the backend address and the service ports is rewritten, including
// replies to clients that reached the backend directly.
import { requireInterfaceName, requireIpv4 } from './fields.ts';
import { DatapathError, type Step } from './programmer.ts';
import { renderReturnPath, type ReturnPathConfig } from './return-path.ts';

export interface RewriteLoadBalancerConfig {
  /** Names the nftables table (peerproof_dsr_<name>): one per service. */
  name: string;
  vip: string;
  ports: number[];
  backends: string[];
}

export interface RewriteBackendConfig extends ReturnPathConfig {
  name: string;
  /** The backend's own address, the one the load-balancer node rewrites the VIP to. */
  backendAddress: string;
  ports: number[];
  /** Interfaces the client packets arrive on; reverse-path filtering is loosened there. */
  ingressInterfaces: string[];
}

function tableName(name: string): string {
  if (!/^[a-z0-9_]{1,40}$/.test(name)) throw new DatapathError(`name: "${name}" must be 1-40 lowercase letters, digits or _`);
  return `peerproof_dsr_${name}`;
}

function portSet(ports: number[]): string {
  if (ports.length === 0) throw new DatapathError('ports: at least one port is needed');
  ports.forEach((port, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatapathError(`ports[${i}]: ${port} is not a TCP port`);
  });
  return `{ ${ports.join(', ')} }`;
}

export function renderRewriteLoadBalancer(config: RewriteLoadBalancerConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  if (config.backends.length === 0) throw new DatapathError('backends: at least one backend is needed');
  config.backends.forEach((backend, i) => requireIpv4(backend, `backends[${i}]`));
  const destination =
    config.backends.length === 1
      ? config.backends[0]
      : `jhash ip saddr . tcp sport mod ${config.backends.length} map { ${config.backends.map((b, i) => `${i} : ${b}`).join(', ')} }`;
  return [
    { kind: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' },
    {
      kind: 'nft-table',
      family: 'ip',
      name: tableName(config.name),
      body: [
        '  chain prerouting {',
        '    type filter hook prerouting priority raw; policy accept;',
        `    ip daddr ${config.vip} tcp dport ${portSet(config.ports)} notrack ip daddr set ${destination}`,
        '  }',
      ].join('\n'),
    },
  ];
}

export function renderRewriteBackend(config: RewriteBackendConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  requireIpv4(config.backendAddress, 'backendAddress');
  config.ingressInterfaces.forEach((name, i) => requireInterfaceName(name, `ingressInterfaces[${i}]`));
  return [
    ...config.ingressInterfaces.map((name): Step => ({ kind: 'sysctl', key: `net.ipv4.conf.${name}.rp_filter`, value: '2' })),
    {
      kind: 'nft-table',
      family: 'ip',
      name: tableName(config.name),
      body: [
        '  chain output {',
        '    type route hook output priority mangle; policy accept;',
        `    ip saddr ${config.backendAddress} tcp sport ${portSet(config.ports)} ip saddr set ${config.vip}`,
        '  }',
      ].join('\n'),
    },
    ...renderReturnPath(config),
  ];
}
