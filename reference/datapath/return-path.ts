// The backend's way back to the clients that bypasses the load-balancer node: every packet
// sourced from the VIP is routed by a table of its own to the return gateway.
import { requireInterfaceName, requireIpv4 } from './fields.ts';
import { DatapathError, type Step } from './programmer.ts';

export interface ReturnPathConfig {
  vip: string;
  /** The router that reaches the clients without passing the load-balancer node. */
  returnGateway: string;
  returnInterface: string;
  /** Routing table and rule priority for the return path; must not be used by anything else. */
  table: number;
  rulePriority: number;
}

export function renderReturnPath(config: ReturnPathConfig): Step[] {
  requireIpv4(config.vip, 'vip');
  requireIpv4(config.returnGateway, 'returnGateway');
  requireInterfaceName(config.returnInterface, 'returnInterface');
  if (!Number.isInteger(config.table) || config.table < 1 || config.table > 252) {
    throw new DatapathError(`table: ${config.table} is not a free routing table number (1-252; 253-255 are the kernel's)`);
  }
  if (!Number.isInteger(config.rulePriority) || config.rulePriority < 1 || config.rulePriority > 32765) {
    throw new DatapathError(`rulePriority: ${config.rulePriority} must be between 1 and 32765 (0, 32766, 32767 are the kernel's)`);
  }
  const table = String(config.table);
  const priority = String(config.rulePriority);
  return [
    {
      kind: 'command',
      description: `return route via ${config.returnGateway} in table ${table}`,
      apply: ['ip', 'route', 'replace', 'default', 'via', config.returnGateway, 'dev', config.returnInterface, 'table', table],
      remove: ['ip', 'route', 'del', 'default', 'via', config.returnGateway, 'dev', config.returnInterface, 'table', table],
    },
    {
      kind: 'command',
      description: `rule from ${config.vip} lookup ${table}`,
      apply: ['ip', 'rule', 'add', 'priority', priority, 'from', config.vip, 'lookup', table],
      remove: ['ip', 'rule', 'del', 'priority', priority, 'from', config.vip, 'lookup', table],
      present: { show: ['ip', 'rule', 'show', 'priority', priority], contains: `from ${config.vip} lookup ${table}` },
    },
  ];
}
