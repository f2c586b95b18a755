import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The CLI refuses before touching anything: outside a lab node's namespace (this test runs in
// the machine's own), and on a bad --connect-retry.

const bin = fileURLToPath(new URL('../../../bin/peerproof.js', import.meta.url));
const cluster = fileURLToPath(new URL('../../../fixtures/seed-001-calico-rr/cluster', import.meta.url));

function agent(...args: string[]) {
  return spawnSync(process.execPath, [bin, 'agent', '--cluster', cluster, '--node', 'worker01', '--state-dir', '/nonexistent/state', ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('peerproof agent (CLI guards)', () => {
  it("refuses to run in a namespace it cannot tell from the machine's own", () => {
    const r = agent();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not inside a lab node's network namespace.*--any-namespace/s);
  });

  it('rejects a connect-retry that is not a whole number of seconds', () => {
    const r = agent('--any-namespace', '--connect-retry', '0.5');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--connect-retry must be a whole number of seconds 1..3600, got 0.5');
  });
});
