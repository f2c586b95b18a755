// DSR for the services of a node (Cilium loadBalancer.mode=dsr) with reference/datapath's
// address-rewrite shape, which works across routed hops (the load-balancer node and the backend
// need not share a subnet): the node receiving a VIP's traffic rewrites the destination to a
// backend; a node hosting a backend rewrites the replies' source to the VIP and sends them by
// its default gateway, straight to the client.
import { spawnSync } from 'node:child_process';
import { renderRewriteBackend, renderRewriteLoadBalancer } from '../datapath/address-rewrite.ts';
import type { Step } from '../datapath/programmer.ts';
import type { DesiredDsr } from './desired.ts';

export interface ReturnRoute {
  gateway: string;
  dev: string;
}

/** The namespace's IPv4 default route, the return path of DSR replies. */
export function defaultRoute(): ReturnRoute | null {
  const result = spawnSync('ip', ['-j', '-4', 'route', 'show', 'default'], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  try {
    const [route] = JSON.parse(result.stdout) as Array<{ gateway?: string; dev?: string }>;
    return route?.gateway && route.dev ? { gateway: route.gateway, dev: route.dev } : null;
  } catch {
    return null;
  }
}

/** Tables 100.. and rule priorities 1000.. in the order of `services` (one per VIP). */
export function dsrSteps(services: DesiredDsr[], returnRoute: ReturnRoute | null, problems: string[]): Step[] {
  const steps: Step[] = [];
  services.forEach((dsr, index) => {
    try {
      if (dsr.backends) steps.push(...renderRewriteLoadBalancer({ name: `${dsr.name}_lb`, vip: dsr.vip, ports: dsr.ports, backends: dsr.backends }));
      if (dsr.localBackends.length === 0) return;
      if (!returnRoute) {
        problems.push(`${dsr.service}: no IPv4 default route on this node, so DSR replies from ${dsr.vip} have no return path`);
        return;
      }
      dsr.localBackends.forEach((backendAddress, j) => {
        steps.push(
          ...renderRewriteBackend({
            name: `${dsr.name}_be${j}`,
            vip: dsr.vip,
            backendAddress,
            ports: dsr.ports,
            ingressInterfaces: [returnRoute.dev],
            returnGateway: returnRoute.gateway,
            returnInterface: returnRoute.dev,
            table: 100 + index,
            rulePriority: 1000 + index,
          }),
        );
      });
    } catch (err) {
      problems.push(`${dsr.service}: DSR not set up: ${(err as Error).message}`);
    }
  });
  return steps;
}
