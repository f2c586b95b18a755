// fault.link-down: a redundant fabric link goes down; the router at its far end drops every
// route learned over it within a bound, every other router keeps all its expected routes (over
// the remaining paths), and once the link is up again sessions and routes all come back.
import { expect } from 'vitest';
import { pollUntil, timedWait } from '../checks/captured.ts';
import { nodeInterfaces } from '../checks/sessions.ts';
import type { Lab } from '../lab/lab.ts';
import { routerKindOf } from '../lab/model.ts';
import { defineCase } from './harness.ts';

const WITHDRAW_BOUND_S = 5; // hold time 3 s; link loss is usually seen at once
const HEAL_BOUND_MS = 30_000;

/** A link between two fabric routers whose ends each have another router link (redundant). */
function redundantFabricLink(lab: Lab) {
  const isRouter = (n: string) => {
    const spec = lab.spec(n);
    return spec.kind !== 'speaker' && routerKindOf(spec) !== null;
  };
  const fabric = lab.topology.links.filter((l) => isRouter(l.a.node) && isRouter(l.b.node));
  const degree = (n: string) => fabric.filter((l) => l.a.node === n || l.b.node === n).length;
  return fabric.find((l) => degree(l.a.node) > 1 && degree(l.b.node) > 1);
}

defineCase('fault.link-down', {
  async run({ lab, measure, skip }) {
    const link = redundantFabricLink(lab);
    if (!link) return skip('no redundant link between two fabric routers in this fixture');
    const [down, far] = [link.a, link.b];
    const downAddress = nodeInterfaces(lab.spec(down.node))[down.ifname]?.[0]?.split('/')[0];
    if (!downAddress) return skip(`${down.node}:${down.ifname} has no address to recognise its routes by`);
    measure('link', `${down.node}:${down.ifname} - ${far.node}:${far.ifname}`);
    const viaLink = async () => (await lab.node(far.node).rib()).filter((r) => r.nexthops.includes(downAddress)).map((r) => r.prefix);
    // The routes over the link, once present (a previous attempt may have just healed it).
    const { value: before } = await pollUntil(viaLink, (routes) => routes.length > 0, 10_000);
    measure('routesOverLink', before.length);
    expect(before.length, `${far.node} learns routes from ${down.node} over the link`).toBeGreaterThan(0);
    const others = lab.defaultRouteExpectations().filter((e) => e.node !== down.node && e.node !== far.node);
    const cutAt = Date.now();
    const cut = await lab.node(down.node).exec(['ip', 'link', 'set', down.ifname, 'down']);
    if (cut.code !== 0) throw new Error(`ip link set ${down.ifname} down on ${down.node}: ${cut.stderr.trim()}`);
    let healed = false;
    try {
      const { value: left, met } = await pollUntil(viaLink, (routes) => routes.length === 0, WITHDRAW_BOUND_S * 1000);
      measure('withdrawS', Number(((Date.now() - cutAt) / 1000).toFixed(2)));
      expect(met, `${far.node} still routes ${left.join(', ')} via ${downAddress} ${WITHDRAW_BOUND_S} s after the link went down`).toBe(true);
      // Everyone else keeps every expected route over the remaining paths.
      await timedWait(() => lab.waitForRoutes(others, { timeoutMs: 5_000 }));
      measure('otherRoutersChecked', new Set(others.map((e) => e.node)).size);
    } finally {
      await lab.node(down.node).exec(['ip', 'link', 'set', down.ifname, 'up']);
      const healStart = Date.now();
      await timedWait(async () => {
        await lab.waitForSessions({ timeoutMs: HEAL_BOUND_MS });
        await lab.waitForRoutes(undefined, { timeoutMs: HEAL_BOUND_MS });
      });
      // Sessions are up; the routes over the link follow within the bound.
      healed = (await pollUntil(viaLink, (routes) => before.every((p) => routes.includes(p)), 10_000)).met;
      measure('healS', Number(((Date.now() - healStart) / 1000).toFixed(2)));
    }
    expect(healed, `${far.node} learns the routes over the link again once it is up`).toBe(true);
  },
});
