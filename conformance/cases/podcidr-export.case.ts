// podcidr.export: every router the speaker peers with learns each prefix the node announces
// (its PodCIDR, and VIPs), with the node's own address as next hop.
import { expect } from 'vitest';
import { timedWait } from '../checks/captured.ts';
import { speakerSessions } from '../checks/sessions.ts';
import { defineCase } from './harness.ts';

defineCase('podcidr.export', {
  async run({ lab, measure }) {
    const sessions = speakerSessions(lab.topology).filter((s) => s.peerNode && lab.node(s.peerNode).spec.kind !== 'speaker');
    const expectations = sessions.flatMap((s) => lab.spec(s.speakerNode).announce.map((prefix) => ({ ...s, prefix })));
    expect(expectations.length, 'speaker nodes announce at least one prefix').toBeGreaterThan(0);
    const problems: string[] = [];
    let learned = 0;
    // Routes are already expected at bring-up; this bounded wait covers a peer still converging.
    await timedWait(() =>
      lab.waitForRoutes(
        expectations.map((e) => ({ node: e.peerNode!, prefix: e.prefix, table: 'rib' as const })),
        { timeoutMs: 10_000 },
      ),
    ).catch(() => undefined);
    const ribs = new Map<string, Awaited<ReturnType<ReturnType<typeof lab.node>['rib']>>>();
    for (const e of expectations) {
      if (!ribs.has(e.peerNode!)) ribs.set(e.peerNode!, await lab.node(e.peerNode!).rib());
      const route = ribs.get(e.peerNode!)!.find((r) => r.prefix === e.prefix);
      if (!route) problems.push(`${e.peerNode} has no route for ${e.prefix} (announced by ${e.speakerNode})`);
      else if (!e.multihop && !route.nexthops.includes(e.speakerAddress))
        problems.push(`${e.peerNode}: ${e.prefix} next hops ${route.nexthops.join(', ') || 'none'}, expected ${e.speakerAddress} (${e.speakerNode}) among them`);
      else learned++;
    }
    measure('routesExpected', expectations.length);
    measure('routesLearned', learned);
    expect(problems, problems.join('; ')).toEqual([]);
  },
});
