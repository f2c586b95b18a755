// Direct server return from kernel parts only (this kernel has no IPVS and no IPIP/GRE), in the
// classic "direct routing" shape:
//
//   load-balancer node: a /32 route for the VIP via the backend(s). The client's packets are
//     forwarded unchanged (source = client, destination = VIP); only the Ethernet header changes.
//   backend node:       the VIP on `lo`, hidden from ARP (arp_ignore=1, arp_announce=2), so it
//     accepts the forwarded packets and answers from the VIP; a policy rule sends every packet
//     from the VIP to the return gateway, straight to the client and never back through the
//     load-balancer node; reverse-path filtering is loosened on the interfaces the forwarded
//     packets arrive on (the route back to the client leaves by another one).
//
// The connection-tracked alternative (DNAT on the load-balancer) cannot work: the load-balancer
// never sees the SYN-ACK, so its conntrack entry never confirms and TCP breaks.
//
// The other shape that works here, rewriting addresses statelessly with nftables as seed 003's
// capture shows (client -> pod IP on the way in), is in address-rewrite.ts.
import { requireInterfaceName, requireIpv4 } from './fields.ts';
import { DatapathError, type Step } from './programmer.ts';
import { renderReturnPath, type ReturnPathConfig } from './return-path.ts';

export interface DirectRoutingLoadBalancerConfig {
  vip: string;
  /** Next hops, each on a directly connected subnet; several make an ECMP route. */
  backends: string[];
}

export interface DirectRoutingBackendConfig extends ReturnPathConfig {
  /** Interfaces the forwarded client packets arrive on. */
  ingressInterfaces: string[];
}

export function renderDirectRoutingLoadBalancer(config: DirectRoutingLoadBalancerConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  if (config.backends.length === 0) throw new DatapathError('backends: at least one backend is needed');
  config.backends.forEach((backend, i) => requireIpv4(backend, `backends[${i}]`));
  const nextHops = config.backends.length === 1 ? ['via', config.backends[0]] : config.backends.flatMap((b) => ['nexthop', 'via', b]);
  return [
    { kind: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' },
    {
      kind: 'command',
      description: `route ${config.vip}/32 to ${config.backends.join(', ')}`,
      apply: ['ip', 'route', 'replace', `${config.vip}/32`, ...nextHops],
      remove: ['ip', 'route', 'del', `${config.vip}/32`],
    },
  ];
}

export function renderDirectRoutingBackend(config: DirectRoutingBackendConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  config.ingressInterfaces.forEach((name, i) => requireInterfaceName(name, `ingressInterfaces[${i}]`));
  return [
    { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
    { kind: 'sysctl', key: 'net.ipv4.conf.all.arp_announce', value: '2' },
    ...config.ingressInterfaces.map((name): Step => ({ kind: 'sysctl', key: `net.ipv4.conf.${name}.rp_filter`, value: '2' })),
    {
      kind: 'command',
      description: `${config.vip}/32 on lo`,
      apply: ['ip', 'addr', 'replace', `${config.vip}/32`, 'dev', 'lo'],
      remove: ['ip', 'addr', 'del', `${config.vip}/32`, 'dev', 'lo'],
    },
    ...renderReturnPath(config),
  ];
}

